#include "dr/archive/archive_index.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <mutex>
#include <thread>

#include "dr/jobs/parallel_for.h"
#include "engine/dr_seam.h"
#include "wal/wal_format.h"
#include "wal/wal_frame.h"

namespace ark::dr {
namespace {

using nlohmann::json;

constexpr uint64_t kMaxLsn = std::numeric_limits<uint64_t>::max();

Status Bad(const std::string& where, const std::string& what) {
  return Status::Corruption(fmt::format("{}: {}", where, what));
}

Result<uint64_t> U64(const json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer() || (!it->is_number_unsigned() && it->get<int64_t>() < 0)) {
    return Bad(where, fmt::format("'{}' must be an unsigned integer", key));
  }
  return it->get<uint64_t>();
}

Result<std::string> Str(const json& j, const char* key, const std::string& where, bool required = true) {
  auto it = j.find(key);
  if (it == j.end()) {
    if (!required) return std::string();
    return Bad(where, fmt::format("'{}' is missing", key));
  }
  if (!it->is_string()) return Bad(where, fmt::format("'{}' must be a string", key));
  return it->get<std::string>();
}

bool IsHex64(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

Status CheckVersion(const json& j, const std::string& where, uint32_t* out) {
  ARK_ASSIGN_OR_RETURN(uint64_t v, U64(j, "formatVersion", where));
  if (v == 0) return Bad(where, "formatVersion 0");
  if (v > kArchiveFormatVersion) {
    return Status::NotSupported(fmt::format("{}: archive format version {} is newer than this Ark reads ({})", where,
                                            v, kArchiveFormatVersion));
  }
  *out = static_cast<uint32_t>(v);
  return Status::OK();
}

// Parses "wal/<16 hex>/<20 dec>-<20 dec>.json" or "wal/<16 hex>/epoch.json".
struct ParsedKey {
  bool is_epoch = false;
  uint64_t epoch = 0, first = 0, last = 0;
};
std::optional<ParsedKey> ParseKey(const std::string& key) {
  const std::string prefix = kArchivePrefix;
  if (key.rfind(prefix, 0) != 0) return std::nullopt;
  std::string rest = key.substr(prefix.size());
  if (rest.size() < 17 || rest[16] != '/') return std::nullopt;
  std::string hex = rest.substr(0, 16);
  if (hex.find_first_not_of("0123456789abcdef") != std::string::npos) return std::nullopt;
  ParsedKey p;
  p.epoch = std::stoull(hex, nullptr, 16);
  std::string name = rest.substr(17);
  if (name == "epoch.json") {
    p.is_epoch = true;
    return p;
  }
  if (name.size() != 20 + 1 + 20 + 5 || name[20] != '-' || name.substr(41) != ".json") return std::nullopt;
  std::string a = name.substr(0, 20), b = name.substr(21, 20);
  if (a.find_first_not_of("0123456789") != std::string::npos || b.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  try {
    p.first = std::stoull(a);
    p.last = std::stoull(b);
  } catch (...) {
    return std::nullopt;
  }
  return p;
}

}  // namespace

std::string ArchiveRangeKey(uint64_t epoch, uint64_t first_lsn, uint64_t last_lsn) {
  return fmt::format("{}{:016x}/{:020}-{:020}.json", kArchivePrefix, epoch, first_lsn, last_lsn);
}

std::string ArchiveEpochKey(uint64_t epoch) { return fmt::format("{}{:016x}/epoch.json", kArchivePrefix, epoch); }

json ArchiveRangeToJson(const ArchiveRange& r) {
  return json{{"formatVersion", r.format_version},
              {"epoch", r.epoch},
              {"firstLsn", r.first_lsn},
              {"lastLsn", r.last_lsn},
              {"firstMicros", r.first_micros},
              {"lastMicros", r.last_micros},
              {"segment", {{"hash", r.segment.hash}, {"size", r.segment.size}, {"storedSize", r.segment.stored_size}}},
              {"files", r.files},
              {"archivedMicros", r.archived_micros},
              {"source", r.source}};
}

Result<ArchiveRange> ArchiveRangeFromJson(const json& j, const std::string& where) {
  if (!j.is_object()) return Bad(where, "not a JSON object");
  ArchiveRange r;
  ARK_RETURN_IF_ERROR(CheckVersion(j, where, &r.format_version));
  ARK_ASSIGN_OR_RETURN(r.epoch, U64(j, "epoch", where));
  ARK_ASSIGN_OR_RETURN(r.first_lsn, U64(j, "firstLsn", where));
  ARK_ASSIGN_OR_RETURN(r.last_lsn, U64(j, "lastLsn", where));
  if (r.first_lsn == 0 || r.last_lsn < r.first_lsn) {
    return Bad(where, fmt::format("lsns {}..{} are not a range", r.first_lsn, r.last_lsn));
  }
  ARK_ASSIGN_OR_RETURN(r.first_micros, U64(j, "firstMicros", where));
  ARK_ASSIGN_OR_RETURN(r.last_micros, U64(j, "lastMicros", where));
  ARK_ASSIGN_OR_RETURN(r.archived_micros, U64(j, "archivedMicros", where));
  ARK_ASSIGN_OR_RETURN(r.source, Str(j, "source", where, false));
  auto seg = j.find("segment");
  if (seg == j.end() || !seg->is_object()) return Bad(where, "'segment' must be an object");
  r.segment.kind = "wal-range";
  ARK_ASSIGN_OR_RETURN(r.segment.hash, Str(*seg, "hash", where + " segment"));
  if (!IsHex64(r.segment.hash)) return Bad(where, "segment.hash is not a SHA-256 hex digest");
  ARK_ASSIGN_OR_RETURN(r.segment.size, U64(*seg, "size", where + " segment"));
  ARK_ASSIGN_OR_RETURN(r.segment.stored_size, U64(*seg, "storedSize", where + " segment"));
  auto files = j.find("files");
  if (files == j.end() || !files->is_array()) return Bad(where, "'files' must be an array");
  for (const auto& f : *files) {
    if (!f.is_string() || !IsHex64(f.get<std::string>())) return Bad(where, "'files' must hold SHA-256 hex digests");
    r.files.push_back(f.get<std::string>());
  }
  return r;
}

json ArchiveEpochToJson(const ArchiveEpoch& e) {
  json history = json::array();
  for (const auto& h : e.history) history.push_back({{"epoch", h.epoch}, {"first", h.first.ToString()}});
  return json{{"formatVersion", e.format_version},
              {"epoch", e.epoch},
              {"history", history},
              {"createdMicros", e.created_micros},
              {"origin", e.origin}};
}

Result<ArchiveEpoch> ArchiveEpochFromJson(const json& j, const std::string& where) {
  if (!j.is_object()) return Bad(where, "not a JSON object");
  ArchiveEpoch e;
  ARK_RETURN_IF_ERROR(CheckVersion(j, where, &e.format_version));
  ARK_ASSIGN_OR_RETURN(e.epoch, U64(j, "epoch", where));
  ARK_ASSIGN_OR_RETURN(e.created_micros, U64(j, "createdMicros", where));
  ARK_ASSIGN_OR_RETURN(e.origin, Str(j, "origin", where, false));
  auto h = j.find("history");
  if (h == j.end() || !h->is_array() || h->empty()) return Bad(where, "'history' must be a non-empty array");
  for (const auto& item : *h) {
    if (!item.is_object()) return Bad(where, "'history' entries must be objects");
    EpochStart s;
    ARK_ASSIGN_OR_RETURN(s.epoch, U64(item, "epoch", where + " history"));
    ARK_ASSIGN_OR_RETURN(std::string first, Str(item, "first", where + " history"));
    auto p = Position::Parse(first);
    if (!p.ok() || p->epoch != s.epoch) return Bad(where, fmt::format("history entry '{}' is not a position of epoch {}", first, s.epoch));
    s.first = *p;
    if (!e.history.empty() && (s.epoch <= e.history.back().epoch || s.first.lsn <= e.history.back().first.lsn)) {
      return Bad(where, "history is not in increasing epoch and lsn order");
    }
    e.history.push_back(s);
  }
  if (e.history.back().epoch != e.epoch) {
    return Bad(where, fmt::format("history ends with epoch {}, not {}", e.history.back().epoch, e.epoch));
  }
  return e;
}

std::string ArchiveGap::ToString() const {
  return fmt::format("records {}/{}..{}/{} of epoch {}", epoch, first_lsn, epoch, last_lsn, epoch);
}

bool EpochSpanOnHistory(const std::vector<EpochStart>& history, uint64_t epoch, uint64_t* lo, uint64_t* hi) {
  for (size_t i = 0; i < history.size(); ++i) {
    if (history[i].epoch != epoch) continue;
    *lo = i == 0 ? 0 : history[i].first.lsn;
    *hi = i + 1 < history.size() ? history[i + 1].first.lsn - 1 : kMaxLsn;
    return true;
  }
  return false;
}

Result<std::vector<WalRecord>> DecodeArchivedRecords(std::string_view blob, const std::string& where) {
  std::vector<WalRecord> out;
  size_t off = 0;
  while (off < blob.size()) {
    WalFrameHeader header;
    if (blob.size() - off < wal_format::kFrameHeaderSize || !DecodeWalFrameHeader(blob.data() + off, &header) ||
        blob.size() - off - wal_format::kFrameHeaderSize < header.payload_length) {
      return Status::Corruption(fmt::format("{}: bad WAL frame at byte {}", where, off));
    }
    const size_t len = wal_format::kFrameHeaderSize + header.payload_length;
    ARK_ASSIGN_OR_RETURN(WalRecord r, DecodeFramedRecord(blob.substr(off, len), fmt::format("{} byte {}", where, off)));
    out.push_back(std::move(r));
    off += len;
  }
  return out;
}

bool SameRecord(const WalRecord& a, const WalRecord& b) {
  return a.position == b.position && a.timestamp_micros == b.timestamp_micros && a.op == b.op &&
         a.collection_id == b.collection_id && a.body == b.body;
}

std::string HistoryToString(const std::vector<EpochStart>& history) {
  std::string out;
  for (const auto& h : history) {
    if (!out.empty()) out += " -> ";
    out += fmt::format("{}@{}", h.epoch, h.first.ToString());
  }
  return out.empty() ? "(empty)" : out;
}

Result<ArchiveIndex> ArchiveIndex::Load(Repository* repo, int parallelism) {
  ARK_ASSIGN_OR_RETURN(auto objects, repo->store()->ListAll(kArchivePrefix));
  std::vector<std::pair<std::string, ParsedKey>> keys;
  for (const auto& o : objects) {
    if (auto p = ParseKey(o.key)) keys.emplace_back(o.key, *p);
  }
  ArchiveIndex index;
  std::mutex mu;
  ARK_RETURN_IF_ERROR(ParallelFor(keys.size(), parallelism, nullptr, [&](size_t i) -> Status {
    const std::string& key = keys[i].first;
    const ParsedKey& parsed = keys[i].second;
    const std::string where = fmt::format("{}/{}", repo->store()->Describe(), key);
    auto doc = repo->GetDocument(key);
    if (!doc.ok()) {
      if (doc.status().IsNotFound()) return Status::OK();  // removed by a prune since the listing
      return doc.status();
    }
    if (parsed.is_epoch) {
      ARK_ASSIGN_OR_RETURN(ArchiveEpoch e, ArchiveEpochFromJson(*doc, where));
      if (e.epoch != parsed.epoch) return Bad(where, fmt::format("the document is of epoch {}", e.epoch));
      std::lock_guard<std::mutex> lock(mu);
      index.AddEpoch(std::move(e));
      return Status::OK();
    }
    ARK_ASSIGN_OR_RETURN(ArchiveRange r, ArchiveRangeFromJson(*doc, where));
    if (r.epoch != parsed.epoch || r.first_lsn != parsed.first || r.last_lsn != parsed.last) {
      return Bad(where, fmt::format("the document describes {}..{}", r.first().ToString(), r.last().ToString()));
    }
    std::lock_guard<std::mutex> lock(mu);
    index.AddRange(std::move(r));
    return Status::OK();
  }));
  return index;
}

void ArchiveIndex::AddRange(ArchiveRange r) {
  auto& m = ranges_[r.epoch];
  m[r.first_lsn] = std::move(r);
}

void ArchiveIndex::AddEpoch(ArchiveEpoch e) { epochs_[e.epoch] = std::move(e); }

std::vector<ArchiveRange> ArchiveIndex::AllRanges() const {
  std::vector<ArchiveRange> out;
  for (const auto& [epoch, m] : ranges_) {
    for (const auto& [first, r] : m) out.push_back(r);
  }
  return out;
}

uint64_t ArchiveIndex::MaxEpoch() const {
  uint64_t e = 0;
  if (!ranges_.empty()) e = ranges_.rbegin()->first;
  if (!epochs_.empty()) e = std::max(e, epochs_.rbegin()->first);
  return e;
}

Result<std::vector<EpochStart>> ArchiveIndex::HistoryOf(uint64_t epoch) const {
  if (auto it = epochs_.find(epoch); it != epochs_.end()) return it->second.history;
  auto it = ranges_.find(epoch);
  if (it == ranges_.end() || it->second.empty()) {
    return Status::NotFound(fmt::format("the archive holds nothing of epoch {}", epoch));
  }
  return std::vector<EpochStart>{{epoch, it->second.begin()->second.first()}};
}

std::vector<ArchiveIndex::Piece> ArchiveIndex::ContiguousAfter(Position after, const std::vector<EpochStart>& history,
                                                                std::optional<ArchiveGap>* gap) const {
  std::vector<Piece> out;
  if (gap != nullptr) gap->reset();
  uint64_t n = after.lsn + 1;
  for (size_t hi_index = 0; hi_index < history.size(); ++hi_index) {
    const uint64_t epoch = history[hi_index].epoch;
    uint64_t lo = 0, hi = 0;
    EpochSpanOnHistory(history, epoch, &lo, &hi);
    if (n > hi) continue;  // this epoch's part of the history is behind us
    if (n < lo) return out;  // cannot happen for a position on the history
    auto eit = ranges_.find(epoch);
    while (n <= hi) {
      const ArchiveRange* r = nullptr;
      if (eit != ranges_.end()) {
        auto it = eit->second.upper_bound(n);
        if (it != eit->second.begin()) {
          --it;
          if (it->second.last_lsn >= n) r = &it->second;
        }
      }
      if (r == nullptr) {
        // Missing: is there anything later on the history? Then it is a gap.
        if (gap != nullptr) {
          std::optional<uint64_t> next_first;
          if (eit != ranges_.end()) {
            auto it = eit->second.upper_bound(n);
            if (it != eit->second.end() && it->first <= hi) next_first = it->first;
          }
          if (next_first) {
            *gap = ArchiveGap{epoch, n, *next_first - 1};
          } else {
            // The rest of this epoch's span is missing; a later epoch's range
            // on the history makes it a gap up to that epoch's start.
            for (size_t j = hi_index + 1; j < history.size(); ++j) {
              auto later = ranges_.find(history[j].epoch);
              if (later != ranges_.end() && !later->second.empty()) {
                *gap = ArchiveGap{epoch, n, history[hi_index + 1].first.lsn - 1};
                break;
              }
            }
          }
        }
        return out;
      }
      Piece p;
      p.range = *r;
      p.use_first = n;
      p.use_last = std::min(r->last_lsn, hi);
      out.push_back(p);
      if (p.use_last == kMaxLsn) return out;
      n = p.use_last + 1;
    }
  }
  return out;
}

std::vector<ArchiveGap> ArchiveIndex::Gaps(const std::vector<EpochStart>& history) const {
  std::vector<ArchiveGap> gaps;
  // Start at the first archived record on the history.
  std::optional<uint64_t> start;
  for (const auto& h : history) {
    uint64_t lo = 0, hi = 0;
    EpochSpanOnHistory(history, h.epoch, &lo, &hi);
    auto eit = ranges_.find(h.epoch);
    if (eit == ranges_.end()) continue;
    for (const auto& [first, r] : eit->second) {
      if (r.last_lsn < lo || first > hi) continue;
      start = std::max(first, lo);
      break;
    }
    if (start) break;
  }
  if (!start) return gaps;
  Position after{0, *start - 1};
  for (;;) {
    std::optional<ArchiveGap> gap;
    auto pieces = ContiguousAfter(after, history, &gap);
    if (!gap) break;
    gaps.push_back(*gap);
    after.lsn = gap->last_lsn;
    (void)pieces;
  }
  return gaps;
}

Position ArchiveIndex::EndOnHistory(const std::vector<EpochStart>& history) const {
  Position end;
  for (const auto& h : history) {
    uint64_t lo = 0, hi = 0;
    EpochSpanOnHistory(history, h.epoch, &lo, &hi);
    auto eit = ranges_.find(h.epoch);
    if (eit == ranges_.end()) continue;
    for (const auto& [first, r] : eit->second) {
      if (r.last_lsn < lo || first > hi) continue;
      Position p{h.epoch, std::min(r.last_lsn, hi)};
      if (p.lsn > end.lsn) end = p;
    }
  }
  return end;
}

}  // namespace ark::dr
