// Reading WAL segments record by record, telling a torn tail from corruption.
//
// WalSegmentReader reads one segment file; WalReader reads a WAL directory
// (or one file) across segments from a position. Both return Corruption
// naming the file and the byte offset for damage; they never skip a damaged
// record. Used by Wal::Open (recovery), Wal::Replay, `ark inspect wal`, and
// later archiving / streaming, which can take the exact framed bytes of each
// record (framed_bytes()) and ship them unchanged.
//
// Torn tail vs corruption (docs/formats/wal.md, "Recovery"): damage in the
// LAST segment is a torn tail (Next() returns false, torn_tail() is true,
// valid_end() is where recovery truncates) unless a valid frame after the
// damage proves the damaged bytes had been synced (its sync_base_lsn reaches
// the lsn the damaged record would carry); then it is Corruption. Damage in
// any other segment is always Corruption.
//
// Thread-safety: a reader object is used by one thread at a time. Readers
// only read; several may run at once, also while a Wal appends to the files
// (a reader sees the file size at the moment it opens the segment).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "storage/env.h"
#include "wal/wal_frame.h"
#include "wal/wal_record.h"

namespace ark {

class WalSegmentReader {
 public:
  // is_last: damage may be a torn tail (see above) instead of Corruption.
  // A segment shorter than its header is Corruption here; Wal::Open treats a
  // torn header of the last segment itself.
  static Result<std::unique_ptr<WalSegmentReader>> Open(Env* env, const std::string& path,
                                                        bool is_last);

  // Reads the next record into *record: true if one was read, false at the
  // end of the segment (a clean end, or a torn tail in the last segment).
  Result<bool> Next(WalRecord* record);

  const WalSegmentHeader& header() const { return header_; }
  const std::string& path() const { return path_; }
  uint64_t file_size() const { return file_size_; }
  // Offset and exact bytes (frame header + payload) of the record last
  // returned by Next(); the bytes stay valid until the next call.
  uint64_t record_offset() const { return record_offset_; }
  std::string_view framed_bytes() const { return framed_; }
  // Offset just past the last good record (the header size if none).
  uint64_t valid_end() const { return valid_end_; }
  // lsn the next record must carry.
  uint64_t next_lsn() const { return next_lsn_; }
  bool torn_tail() const { return torn_tail_; }
  const std::string& torn_tail_reason() const { return torn_reason_; }

 private:
  WalSegmentReader(std::unique_ptr<RandomAccessFile> file, std::string path, uint64_t size,
                   bool is_last);
  // Makes bytes [offset, offset + n) available; returns a pointer into the
  // read-ahead buffer or nullptr on an I/O error (status in *s).
  const char* Fetch(uint64_t offset, size_t n, Status* s);
  // Damage at `offset`: a torn tail (returns false) or Corruption.
  Result<bool> Damage(uint64_t offset, const std::string& reason);
  Status Corrupt(uint64_t offset, const std::string& reason) const;

  std::unique_ptr<RandomAccessFile> file_;
  std::string path_;
  uint64_t file_size_;
  bool is_last_;
  WalSegmentHeader header_;
  std::string buffer_;      // read-ahead window
  uint64_t buffer_start_ = 0;
  uint64_t valid_end_ = 0;
  uint64_t record_offset_ = 0;
  uint64_t next_lsn_ = 0;
  std::string_view framed_;
  bool torn_tail_ = false;
  std::string torn_reason_;
};

// Paths of the segment files in a WAL directory, oldest first. Files whose
// names are not segment names are ignored.
Result<std::vector<std::string>> ListWalSegments(Env* env, const std::string& dir);

class WalReader {
 public:
  // `path` is a WAL directory or a single segment file. Records with
  // lsn <= after_lsn are skipped (whole segments by name when possible).
  // The newest segment is read as the last one (torn tail tolerated).
  static Result<std::unique_ptr<WalReader>> Open(Env* env, const std::string& path,
                                                 uint64_t after_lsn = 0);

  // Same as WalSegmentReader::Next, across segments; checks that lsns are
  // contiguous from one segment to the next and epochs never go down.
  Result<bool> Next(WalRecord* record);

  // The segment being read (nullptr before the first / after the last).
  const WalSegmentReader* segment() const { return segment_.get(); }
  const std::vector<std::string>& files() const { return files_; }
  uint64_t record_offset() const { return segment_ ? segment_->record_offset() : 0; }
  std::string_view framed_bytes() const {
    return segment_ ? segment_->framed_bytes() : std::string_view();
  }
  // The torn tail found at the end, if any: file, offset, reason.
  bool torn_tail() const { return torn_tail_; }
  const std::string& torn_tail_file() const { return torn_file_; }
  uint64_t torn_tail_offset() const { return torn_offset_; }
  const std::string& torn_tail_reason() const { return torn_reason_; }

 private:
  WalReader(Env* env, std::vector<std::string> files, uint64_t after_lsn)
      : env_(env), files_(std::move(files)), after_lsn_(after_lsn) {}
  Status OpenSegment(size_t index);

  Env* env_;
  std::vector<std::string> files_;
  uint64_t after_lsn_;
  size_t next_index_ = 0;
  std::unique_ptr<WalSegmentReader> segment_;
  bool have_previous_ = false;
  uint64_t previous_epoch_ = 0;
  uint64_t expected_lsn_ = 0;
  bool torn_tail_ = false;
  std::string torn_file_;
  uint64_t torn_offset_ = 0;
  std::string torn_reason_;
};

}  // namespace ark
