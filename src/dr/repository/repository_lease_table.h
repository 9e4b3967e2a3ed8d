// RepositoryLeaseTable: a backup repository's locks/ prefix as a LeaseTable
// (dr/lease/lease.h), so that a backup and a prune hold leases on the
// repository with the generic primitive:
//
//   RepositoryLeaseTable table(repo);
//   ARK_ASSIGN_OR_RETURN(auto lease, Lease::Acquire(&table, repo->env(),
//                        {"backup", {"prune"}, "backup nightly-1", ttl}));
//
// Thread-safety: as Repository's (every method from any thread).
#pragma once

#include <string>
#include <vector>

#include "dr/lease/lease.h"
#include "dr/repository/repository.h"

namespace ark::dr {

class RepositoryLeaseTable final : public LeaseTable {
 public:
  // `repo` must outlive the table.
  explicit RepositoryLeaseTable(Repository* repo) : repo_(repo) {}

  Status PutLease(const LeaseRecord& lease) override { return repo_->PutLease(lease); }
  Status DeleteLease(const std::string& owner) override { return repo_->DeleteLease(owner); }
  Result<std::vector<LeaseRecord>> ListLeases() override { return repo_->ListLeases(); }
  std::string Describe() const override { return repo_->store()->Describe(); }

 private:
  Repository* const repo_;
};

}  // namespace ark::dr
