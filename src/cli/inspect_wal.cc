// `ark inspect wal PATH [--json]`: dump a WAL segment file or a WAL directory.
//
// Prints each segment header, then one line per record (position, time,
// operation, collection, body size, offset), then the torn tail if any.
// Damage that is not a torn tail is reported with file and offset and the
// command exits 1, after printing everything readable before it.
#include <cstdio>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/command_registry.h"
#include "engine/file_change.h"
#include "engine/wal_codec.h"
#include "storage/env.h"
#include "wal/wal_format.h"
#include "wal/wal_reader.h"

namespace ark::cli {
namespace {

std::string IsoTime(uint64_t micros) {
  time_t secs = static_cast<time_t>(micros / 1'000'000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof(buf) - n, ".%06uZ", static_cast<unsigned>(micros % 1'000'000));
  return buf;
}

class WalDumper {
 public:
  explicit WalDumper(bool json) : json_(json) {}

  Status Run(const std::string& path) {
    ARK_ASSIGN_OR_RETURN(auto reader, WalReader::Open(Env::Default(), path, 0));
    if (reader->files().empty()) return Status::NotFound("no WAL segment files in " + path);
    WalRecord record;
    const WalSegmentReader* current = nullptr;
    while (true) {
      auto got = reader->Next(&record);
      if (reader->segment() != nullptr && reader->segment() != current) {
        current = reader->segment();
        BeginSegment(*current);
      }
      if (!got.ok()) return got.status();
      if (!*got) break;
      Record(record, reader->record_offset(), reader->framed_bytes().size());
    }
    if (reader->torn_tail()) TornTail(*reader);
    return Status::OK();
  }

  void Finish(const Status& status) {
    if (!json_) return;
    nlohmann::json out = {{"segments", segments_}};
    if (!status.ok()) {
      out["error"] = {{"code", std::string(StatusCodeName(status.code()))},
                      {"message", status.message()}};
    }
    std::printf("%s\n", out.dump(2).c_str());
  }

 private:
  void BeginSegment(const WalSegmentReader& seg) {
    const auto& h = seg.header();
    if (json_) {
      segments_.push_back({{"path", seg.path()},
                           {"version", h.version},
                           {"epoch", h.epoch},
                           {"first_lsn", h.first_lsn},
                           {"size", seg.file_size()},
                           {"records", nlohmann::json::array()},
                           {"torn_tail", nullptr}});
      return;
    }
    std::printf("segment %s\n  version %u  epoch %llu  first lsn %llu  size %llu bytes\n",
                seg.path().c_str(), h.version, static_cast<unsigned long long>(h.epoch),
                static_cast<unsigned long long>(h.first_lsn),
                static_cast<unsigned long long>(seg.file_size()));
  }

  void Record(const WalRecord& r, uint64_t offset, size_t frame_size) {
    if (json_) {
      segments_.back()["records"].push_back(
          {{"epoch", r.position.epoch},
           {"lsn", r.position.lsn},
           {"offset", offset},
           {"frame_size", frame_size},
           {"timestamp_micros", r.timestamp_micros},
           {"time", IsoTime(r.timestamp_micros)},
           {"op", r.op},
           {"op_name", std::string(EngineOpName(r.op))},
           {"collection_id", r.collection_id},
           {"body_size", r.body.size()}});
      if (r.op == kOpFileChange) segments_.back()["records"].back()["file_change"] = FileChangeJson(r);
      return;
    }
    std::printf("  %-12s %s  %-17s collection %-6llu body %8zu bytes  @%llu\n",
                r.position.ToString().c_str(), IsoTime(r.timestamp_micros).c_str(),
                std::string(EngineOpName(r.op)).c_str(),
                static_cast<unsigned long long>(r.collection_id), r.body.size(),
                static_cast<unsigned long long>(offset));
    if (r.op == kOpFileChange) {
      // The files a manifest change adds and removes, by SHA-256.
      nlohmann::json j = FileChangeJson(r);
      if (j.contains("error")) {
        std::printf("      %s\n", j["error"].get<std::string>().c_str());
        return;
      }
      std::printf("      %s\n", j["kind"].get<std::string>().c_str());
      for (const auto& f : j["added"]) std::printf("      + %s\n", f.get<std::string>().c_str());
      for (const auto& f : j["removed"]) std::printf("      - %s\n", f.get<std::string>().c_str());
    }
  }

  static nlohmann::json FileChangeJson(const WalRecord& r) {
    auto change = DecodeFileChange(r.body, r.position);
    if (!change.ok()) return {{"error", change.status().ToString()}};
    return {{"kind", std::string(FileChangeKindName(change->kind))},
            {"added", change->Added()},
            {"removed", change->Removed()}};
  }

  void TornTail(const WalReader& reader) {
    const WalSegmentReader* seg = reader.segment();
    uint64_t dropped = seg->file_size() - reader.torn_tail_offset();
    if (json_) {
      segments_.back()["torn_tail"] = {{"offset", reader.torn_tail_offset()},
                                       {"bytes", dropped},
                                       {"reason", reader.torn_tail_reason()}};
      return;
    }
    std::printf("  torn tail at offset %llu: %s (%llu bytes; recovery truncates them)\n",
                static_cast<unsigned long long>(reader.torn_tail_offset()),
                reader.torn_tail_reason().c_str(), static_cast<unsigned long long>(dropped));
  }

  bool json_;
  nlohmann::json segments_ = nlohmann::json::array();
};

}  // namespace
}  // namespace ark::cli

ARK_CLI_INSPECT(wal) {
  auto* cmd = inspect.add_subcommand("wal", "Dump a WAL segment file or WAL directory");
  auto path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  cmd->add_option("PATH", *path, "a WAL segment file (*.wal) or a WAL directory")->required();
  cmd->add_flag("--json", *json, "print JSON instead of text");
  cmd->callback([path, json] {
    ark::cli::WalDumper dumper(*json);
    ark::Status s = dumper.Run(*path);
    dumper.Finish(s);
    if (!s.ok()) ark::cli::Fail(s);
  });
}
