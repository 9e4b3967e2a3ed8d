// `ark archive status|verify` (docs/archive.md): what the WAL archive of a
// repository holds, the window each backup can be restored to, and a full
// check of a window. The archiving itself runs inside `ark serve`.
#include <cstdio>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/command_registry.h"
#include "cli/progress_display.h"
#include "cli/time_format.h"
#include "dr/archive/pitr.h"
#include "dr/repository/repository_open.h"
#include "storage/env.h"

namespace ark::cli {
namespace {

struct ArchiveArgs {
  std::string repo;
  std::string key_file;
  std::string passphrase_file;
  uint64_t epoch = 0;
  std::string from;
  std::string to;
  bool quick = false;
  bool json = false;
  bool quiet = false;
};

Result<dr::OpenedRepository> Open(const ArchiveArgs& a) {
  ARK_ASSIGN_OR_RETURN(dr::EncryptionKey key, dr::KeyFromOptions(Env::Default(), a.key_file, a.passphrase_file));
  return dr::OpenRepositoryUrl(Env::Default(), a.repo, key, /*create=*/false);
}

nlohmann::json HistoryJson(const std::vector<EpochStart>& history) {
  nlohmann::json h = nlohmann::json::array();
  for (const auto& e : history) h.push_back({{"epoch", e.epoch}, {"first", e.first.ToString()}});
  return h;
}

Status ShowStatus(const ArchiveArgs& a) {
  ARK_ASSIGN_OR_RETURN(auto repo, Open(a));
  ARK_ASSIGN_OR_RETURN(dr::ArchiveStatusReport s, dr::GetArchiveStatus(repo.repo.get(), a.epoch));
  if (a.json) {
    nlohmann::json gaps = nlohmann::json::array();
    for (const auto& g : s.gaps) {
      gaps.push_back({{"epoch", g.epoch}, {"firstLsn", g.first_lsn}, {"lastLsn", g.last_lsn}});
    }
    nlohmann::json windows = nlohmann::json::array();
    for (const auto& w : s.windows) {
      windows.push_back({{"backup", w.backup}, {"from", w.from.ToString()}, {"fromMicros", w.from_micros},
                         {"to", w.to.ToString()}, {"toMicros", w.to_micros}});
    }
    std::printf("%s\n", nlohmann::json{{"epoch", s.epoch},
                                       {"history", HistoryJson(s.history)},
                                       {"first", s.first.ToString()},
                                       {"firstMicros", s.first_micros},
                                       {"last", s.last.ToString()},
                                       {"lastMicros", s.last_micros},
                                       {"ranges", s.ranges},
                                       {"records", s.records},
                                       {"bytes", s.bytes},
                                       {"storedBytes", s.stored_bytes},
                                       {"gaps", gaps},
                                       {"windows", windows},
                                       {"notes", s.notes}}
                            .dump(2)
                            .c_str());
    return Status::OK();
  }
  if (s.epoch == 0) {
    std::printf("no archived WAL in %s\n", repo.store->Describe().c_str());
    for (const auto& n : s.notes) std::printf("note: %s\n", n.c_str());
    return Status::OK();
  }
  std::printf("epoch       %llu (history %s)\n", static_cast<unsigned long long>(s.epoch),
              dr::HistoryToString(s.history).c_str());
  std::printf("archived    %s (%s) .. %s (%s)\n", s.first.ToString().c_str(), IsoTime(s.first_micros).c_str(),
              s.last.ToString().c_str(), IsoTime(s.last_micros).c_str());
  std::printf("size        %llu records in %llu ranges, %s (%s stored)\n", static_cast<unsigned long long>(s.records),
              static_cast<unsigned long long>(s.ranges), ProgressDisplay::Bytes(static_cast<double>(s.bytes)).c_str(),
              ProgressDisplay::Bytes(static_cast<double>(s.stored_bytes)).c_str());
  if (s.gaps.empty()) {
    std::printf("gaps        none\n");
  } else {
    for (const auto& g : s.gaps) std::printf("gap         %s are not archived\n", g.ToString().c_str());
  }
  std::printf("restore windows (a point-in-time restore can reach any point in one):\n");
  if (s.windows.empty()) std::printf("  none: no backup on this history\n");
  for (const auto& w : s.windows) {
    std::printf("  %-28s %s (%s) .. %s (%s)\n", w.backup.c_str(), w.from.ToString().c_str(),
                IsoTime(w.from_micros).c_str(), w.to.ToString().c_str(), IsoTime(w.to_micros).c_str());
  }
  for (const auto& n : s.notes) std::printf("note: %s\n", n.c_str());
  return Status::OK();
}

Status Verify(const ArchiveArgs& a) {
  Position from, to;
  if (!a.from.empty()) {
    auto p = Position::Parse(a.from);
    if (!p.ok()) return Status::InvalidArgument(fmt::format("--from '{}' is not a position EPOCH/LSN", a.from));
    from = *p;
  }
  if (!a.to.empty()) {
    auto p = Position::Parse(a.to);
    if (!p.ok()) return Status::InvalidArgument(fmt::format("--to '{}' is not a position EPOCH/LSN", a.to));
    to = *p;
  }
  ARK_ASSIGN_OR_RETURN(auto repo, Open(a));
  dr::Progress progress;
  Result<dr::ArchiveVerifyReport> r = Status::OK();
  {
    ProgressDisplay display(&progress, "archive verify", a.quiet || a.json);
    r = dr::VerifyArchive(repo.repo.get(), a.epoch, from, to, a.quick, &progress);
  }
  if (!r.ok()) return r.status();
  if (a.json) {
    std::printf("%s\n", nlohmann::json{{"ranges", r->ranges}, {"records", r->records}, {"bytes", r->bytes},
                                       {"files", r->files}, {"problems", r->problems}}
                            .dump(2)
                            .c_str());
    return Status::OK();
  }
  std::printf("the WAL archive is intact: %llu ranges, %llu records (%s) read and checked, contiguous; %llu files %s\n",
              static_cast<unsigned long long>(r->ranges), static_cast<unsigned long long>(r->records),
              ProgressDisplay::Bytes(static_cast<double>(r->bytes)).c_str(),
              static_cast<unsigned long long>(r->files),
              a.quick ? "present (quick: contents not read)" : "read and their SHA-256 checked");
  return Status::OK();
}

void AddRepoFlags(CLI::App* cmd, ArchiveArgs* a) {
  cmd->add_option("--repo", a->repo, "Repository: a directory, file:///path or s3://bucket/prefix?endpoint=...")
      ->required();
  cmd->add_option("--key-file", a->key_file, "Encryption key: 32 raw bytes or 64 hex characters");
  cmd->add_option("--passphrase-file", a->passphrase_file,
                  "Encryption passphrase (first line; or set ARK_BACKUP_PASSPHRASE)");
  cmd->add_option("--epoch", a->epoch, "The history to report (default: the newest with archived WAL)");
}

}  // namespace
}  // namespace ark::cli

ARK_CLI_COMMAND(archive) {
  using namespace ark::cli;
  auto* cmd = app.add_subcommand("archive", "Inspect and verify the WAL archive of a backup repository");
  cmd->require_subcommand(1);
  auto a = std::make_shared<ArchiveArgs>();
  auto* status = cmd->add_subcommand("status", "What is archived, its gaps, and each backup's restore window");
  AddRepoFlags(status, a.get());
  status->add_flag("--json", a->json, "JSON output");
  status->callback([a] {
    if (auto s = ShowStatus(*a); !s.ok()) Fail(s);
  });
  auto* verify = cmd->add_subcommand("verify", "Read every archived range and check continuity and checksums");
  AddRepoFlags(verify, a.get());
  verify->add_option("--from", a->from, "Only ranges reaching this position or later");
  verify->add_option("--to", a->to, "Only ranges starting at this position or earlier");
  verify->add_flag("--quick", a->quick, "Check only that the files the ranges name are present");
  verify->add_flag("--json", a->json, "JSON output");
  verify->add_flag("-q,--quiet", a->quiet, "No progress display");
  verify->callback([a] {
    if (auto s = Verify(*a); !s.ok()) Fail(s);
  });
}
