// FaultInjectingStore: wraps an ObjectStore and makes chosen calls misbehave,
// so tests can prove that callers (and the stores themselves) never expose a
// partial object and always either succeed or report an error.
//
// Faults, each limited to a set of operations (kPut | kGet | ...):
//   - fail: return an error. For puts, in one of three ways: before the base
//     store sees the call, after it completed (the caller cannot know the put
//     happened: a lost reply), or torn (the base store receives a stream that
//     breaks midway, as a dropped connection would).
//   - hang: sleep for a while and then fail with TimedOut (a server that
//     stops answering, past the client's timeout).
//   - short reads: a get delivers only part of the bytes and reports OK.
//   - corrupt reads: a get delivers the bytes with one of them flipped.
// A fault applies to the next N matching calls (FailNext) or to each with a
// probability from a seeded generator (FailRandomly), so runs are repeatable.
//
// Thread-safe. The base store is not owned and must outlive the wrapper.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>

#include "storage/object_store.h"

namespace ark {

class FaultInjectingStore final : public ObjectStore {
 public:
  enum Op : uint32_t {
    kPut = 1,      // Put, PutStream
    kGet = 2,      // GetStream (and Get, GetRange)
    kHead = 4,
    kList = 8,
    kDelete = 16,  // Delete, DeleteMany
    kAll = 31,
  };
  enum class PutFailure { kBefore, kAfter, kTorn, kRandom };

  explicit FaultInjectingStore(ObjectStore* base) : base_(base) {}

  // Fails the next `count` calls matching `ops` with `status`.
  void FailNext(uint32_t ops, int count, Status status = Status::Unavailable("injected fault"),
                PutFailure put_failure = PutFailure::kBefore);
  // Fails each call matching `ops` with probability `probability`.
  void FailRandomly(uint32_t ops, double probability, uint64_t seed,
                    Status status = Status::Unavailable("injected fault"),
                    PutFailure put_failure = PutFailure::kRandom);
  // Calls matching `ops` sleep `millis` and then fail with TimedOut.
  void Hang(uint32_t ops, int millis);
  // Gets deliver at most `keep_fraction` of their bytes and report OK.
  void ShortReads(double keep_fraction) { short_read_fraction_ = keep_fraction; }
  // Gets deliver their bytes with one byte flipped.
  void CorruptReads(bool on) { corrupt_reads_ = on; }
  // Removes every fault.
  void Clear();

  // Faults injected so far.
  uint64_t injected() const { return injected_.load(); }

  std::string Describe() const override { return "fault-injecting(" + base_->Describe() + ")"; }
  Status Put(const std::string& key, std::string_view data, const PutOptions& options = {}) override;
  Status PutStream(const std::string& key, ObjectReader* reader,
                   const PutOptions& options = {}) override;
  Status GetStream(const std::string& key, ObjectWriter* writer,
                   std::optional<ByteRange> range = std::nullopt) override;
  Result<ObjectInfo> Head(const std::string& key) override;
  Result<ListPage> List(const ListOptions& options) override;
  Status Delete(const std::string& key) override;
  Status DeleteMany(const std::vector<std::string>& keys) override;
  bool SupportsPutIfAbsent() const override { return base_->SupportsPutIfAbsent(); }

 private:
  struct Decision {
    bool fail = false;
    Status status;
    PutFailure put_failure = PutFailure::kBefore;
  };
  // Whether (and how) this call fails; sleeps first if a hang applies.
  Decision Decide(Op op, const std::string& what);

  ObjectStore* const base_;
  std::mutex mu_;
  uint32_t next_ops_ = 0;          // guarded by mu_
  int next_count_ = 0;             // guarded by mu_
  uint32_t random_ops_ = 0;        // guarded by mu_
  double probability_ = 0;         // guarded by mu_
  Status status_;                  // guarded by mu_
  PutFailure put_failure_ = PutFailure::kBefore;  // guarded by mu_
  std::mt19937_64 rng_;            // guarded by mu_
  uint32_t hang_ops_ = 0;          // guarded by mu_
  int hang_millis_ = 0;            // guarded by mu_
  std::atomic<double> short_read_fraction_{1.0};
  std::atomic<bool> corrupt_reads_{false};
  std::atomic<uint64_t> injected_{0};
};

}  // namespace ark
