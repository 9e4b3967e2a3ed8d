#include "wal/wal_reader.h"

#include <algorithm>

#include "core/coding.h"
#include "core/hash.h"

namespace ark {

using namespace wal_format;

namespace {
constexpr size_t kReadAhead = 1 << 20;

bool AllZero(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == 0; });
}
}  // namespace

WalSegmentReader::WalSegmentReader(std::unique_ptr<RandomAccessFile> file, std::string path,
                                   uint64_t size, bool is_last)
    : file_(std::move(file)), path_(std::move(path)), file_size_(size), is_last_(is_last) {}

Result<std::unique_ptr<WalSegmentReader>> WalSegmentReader::Open(Env* env, const std::string& path,
                                                                 bool is_last) {
  ARK_ASSIGN_OR_RETURN(auto file, env->NewRandomAccessFile(path));
  ARK_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  std::unique_ptr<WalSegmentReader> r(
      new WalSegmentReader(std::move(file), path, size, is_last));
  Status s;
  const char* p = r->Fetch(0, std::min<uint64_t>(size, kSegmentHeaderSize), &s);
  if (p == nullptr) return s;
  ARK_ASSIGN_OR_RETURN(r->header_, DecodeWalSegmentHeader(
                                       std::string_view(p, std::min<uint64_t>(size, kSegmentHeaderSize)), path));
  if (auto name = ParseSegmentFileName(BaseName(path))) {
    if (name->epoch != r->header_.epoch || name->first_lsn != r->header_.first_lsn) {
      return Status::Corruption(path + " offset 16: header says epoch " +
                                std::to_string(r->header_.epoch) + " first lsn " +
                                std::to_string(r->header_.first_lsn) +
                                " but the file name says epoch " + std::to_string(name->epoch) +
                                " first lsn " + std::to_string(name->first_lsn));
    }
  }
  r->valid_end_ = kSegmentHeaderSize;
  r->next_lsn_ = r->header_.first_lsn;
  return r;
}

const char* WalSegmentReader::Fetch(uint64_t offset, size_t n, Status* s) {
  if (offset >= buffer_start_ && offset + n <= buffer_start_ + buffer_.size()) {
    return buffer_.data() + (offset - buffer_start_);
  }
  size_t want = static_cast<size_t>(
      std::min<uint64_t>(std::max<size_t>(n, kReadAhead), file_size_ - offset));
  buffer_.resize(want);
  std::string_view got;
  *s = file_->Read(offset, want, &got, buffer_.data());
  if (!s->ok()) return nullptr;
  if (got.size() < n) {
    *s = Status::IOError(path_ + " offset " + std::to_string(offset) + ": short read (" +
                         std::to_string(got.size()) + " of " + std::to_string(n) +
                         " bytes); was the file truncated while being read?");
    return nullptr;
  }
  if (got.data() != buffer_.data()) std::copy(got.begin(), got.end(), buffer_.begin());
  buffer_.resize(got.size());
  buffer_start_ = offset;
  return buffer_.data();
}

Status WalSegmentReader::Corrupt(uint64_t offset, const std::string& reason) const {
  return Status::Corruption(path_ + " offset " + std::to_string(offset) + ": " + reason);
}

Result<bool> WalSegmentReader::Damage(uint64_t offset, const std::string& reason) {
  if (!is_last_) return Corrupt(offset, reason + " (not in the last segment)");
  // Look for a valid frame after the damage that proves the damaged record
  // had been made durable before it was written.
  std::string rest(static_cast<size_t>(file_size_ - offset), '\0');
  std::string_view got;
  ARK_RETURN_IF_ERROR(file_->Read(offset, rest.size(), &got, rest.data()));
  for (size_t p = 1; p + kFrameHeaderSize <= got.size();) {
    WalFrameHeader fh;
    if (DecodeWalFrameHeader(got.data() + p, &fh) &&
        p + kFrameHeaderSize + fh.payload_length <= got.size() &&
        Xxh3_64(got.data() + p + kFrameHeaderSize, fh.payload_length) == fh.payload_check) {
      if (fh.sync_base_lsn >= next_lsn_) {
        return Corrupt(offset, reason + "; the valid record at offset " +
                                   std::to_string(offset + p) + " was written after lsn " +
                                   std::to_string(fh.sync_base_lsn) +
                                   " was durable, so this is not a torn write");
      }
      p += kFrameHeaderSize + fh.payload_length;
    } else {
      ++p;
    }
  }
  torn_tail_ = true;
  torn_reason_ = reason;
  return false;
}

Result<bool> WalSegmentReader::Next(WalRecord* record) {
  framed_ = {};
  if (torn_tail_) return false;
  const uint64_t o = valid_end_;
  if (o >= file_size_) return false;
  const uint64_t remaining = file_size_ - o;
  Status s;
  if (remaining < kFrameHeaderSize) {
    const char* p = Fetch(o, remaining, &s);
    if (p == nullptr) return s;
    return Damage(o, std::string(AllZero(std::string_view(p, remaining)) ? "zero-filled" : "incomplete") +
                         " frame header (" + std::to_string(remaining) + " bytes at the end)");
  }
  const char* p = Fetch(o, kFrameHeaderSize, &s);
  if (p == nullptr) return s;
  WalFrameHeader fh;
  if (!DecodeWalFrameHeader(p, &fh)) {
    if (AllZero(std::string_view(p, kFrameHeaderSize))) return Damage(o, "zero-filled frame header");
    uint32_t len = DecodeFixed32(p);
    if (len > kMaxPayloadSize) {
      return Damage(o, "bad frame header (length field " + std::to_string(len) +
                           " exceeds the limit " + std::to_string(kMaxPayloadSize) + ")");
    }
    return Damage(o, "bad frame header checksum");
  }
  if (fh.payload_length > remaining - kFrameHeaderSize) {
    // The header is intact, so the length is trustworthy: the write was cut.
    std::string reason = "incomplete record: the frame holds " +
                         std::to_string(fh.payload_length) + " payload bytes, only " +
                         std::to_string(remaining - kFrameHeaderSize) + " remain";
    if (!is_last_) return Corrupt(o, reason + " (not in the last segment)");
    torn_tail_ = true;
    torn_reason_ = reason;
    return false;
  }
  p = Fetch(o, kFrameHeaderSize + fh.payload_length, &s);
  if (p == nullptr) return s;
  std::string_view payload(p + kFrameHeaderSize, fh.payload_length);
  if (Xxh3_64(payload.data(), payload.size()) != fh.payload_check) {
    return Damage(o, "record payload checksum mismatch");
  }
  // From here on the bytes are checksummed: a bad value is corruption (or a
  // writer bug), never a torn write.
  if (!DecodeWalPayload(payload, record)) return Corrupt(o, "record payload too short");
  if (record->position.epoch != header_.epoch) {
    return Corrupt(o, "record epoch " + std::to_string(record->position.epoch) +
                          " differs from the segment epoch " + std::to_string(header_.epoch));
  }
  if (record->position.lsn != next_lsn_) {
    return Corrupt(o, "record lsn " + std::to_string(record->position.lsn) + ", expected " +
                          std::to_string(next_lsn_));
  }
  framed_ = std::string_view(p, kFrameHeaderSize + fh.payload_length);
  record_offset_ = o;
  valid_end_ = o + kFrameHeaderSize + fh.payload_length;
  ++next_lsn_;
  return true;
}

Result<std::vector<std::string>> ListWalSegments(Env* env, const std::string& dir) {
  ARK_ASSIGN_OR_RETURN(auto names, env->ListDir(dir));
  std::vector<std::string> paths;
  for (const auto& n : names) {
    if (ParseSegmentFileName(n)) paths.push_back(JoinPath(dir, n));
  }
  return paths;  // ListDir sorts; segment names sort by (epoch, first lsn)
}

Result<std::unique_ptr<WalReader>> WalReader::Open(Env* env, const std::string& path,
                                                   uint64_t after_lsn) {
  std::vector<std::string> files;
  if (ParseSegmentFileName(BaseName(path)) || !env->ListDir(path).ok()) {
    if (!env->FileExists(path)) return Status::NotFound("no WAL file or directory " + path);
    files.push_back(path);
  } else {
    ARK_ASSIGN_OR_RETURN(files, ListWalSegments(env, path));
    // Skip segments whose records all lie at or before after_lsn.
    size_t skip = 0;
    while (skip + 1 < files.size()) {
      auto next = ParseSegmentFileName(BaseName(files[skip + 1]));
      if (next->first_lsn > after_lsn + 1) break;
      ++skip;
    }
    files.erase(files.begin(), files.begin() + static_cast<ptrdiff_t>(skip));
  }
  return std::unique_ptr<WalReader>(new WalReader(env, std::move(files), after_lsn));
}

Status WalReader::OpenSegment(size_t index) {
  bool is_last = index + 1 == files_.size();
  ARK_ASSIGN_OR_RETURN(auto seg, WalSegmentReader::Open(env_, files_[index], is_last));
  const auto& h = seg->header();
  if (have_previous_) {
    if (h.epoch < previous_epoch_) {
      return Status::Corruption(files_[index] + " offset 16: epoch " + std::to_string(h.epoch) +
                                " is lower than the previous segment's " +
                                std::to_string(previous_epoch_));
    }
    if (h.first_lsn != expected_lsn_) {
      return Status::Corruption(files_[index] + " offset 24: segment starts at lsn " +
                                std::to_string(h.first_lsn) + " but the previous segment " +
                                files_[index - 1] + " ends before lsn " +
                                std::to_string(expected_lsn_) + " (records missing)");
    }
  }
  segment_ = std::move(seg);
  return Status::OK();
}

Result<bool> WalReader::Next(WalRecord* record) {
  while (true) {
    if (segment_ == nullptr) {
      if (next_index_ >= files_.size()) return false;
      ARK_RETURN_IF_ERROR(OpenSegment(next_index_++));
    }
    ARK_ASSIGN_OR_RETURN(bool got, segment_->Next(record));
    if (got) {
      if (record->position.lsn <= after_lsn_) continue;
      return true;
    }
    if (segment_->torn_tail()) {
      torn_tail_ = true;
      torn_file_ = segment_->path();
      torn_offset_ = segment_->valid_end();
      torn_reason_ = segment_->torn_tail_reason();
    }
    have_previous_ = true;
    previous_epoch_ = segment_->header().epoch;
    expected_lsn_ = segment_->next_lsn();
    if (next_index_ >= files_.size()) return false;  // keep the last segment for queries
    segment_.reset();
  }
}

}  // namespace ark
