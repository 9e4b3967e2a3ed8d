// WalTailReader implementation. Contract: wal_tail_reader.h.
//
// Why its own reading code instead of WalSegmentReader: that reader decides
// "torn tail or corruption" for recovery and fixes its view of the file size
// at open. A tail reader reads a file that is still growing, and only below
// the size the Wal published after a completed round, where every byte was
// written and synced before it was published: any damage there is
// Corruption, there is no torn tail to tolerate.
#include "wal/wal_tail_reader.h"

#include <algorithm>

#include "core/coding.h"
#include "core/hash.h"
#include "wal/wal_format.h"
#include "wal/wal_frame.h"

namespace ark {
namespace {

using namespace wal_format;

constexpr size_t kReadAhead = 1 << 20;
// Longer timeouts are capped (a day): keeps deadlines and chrono durations
// from overflowing when a caller passes UINT64_MAX for "forever".
constexpr uint64_t kMaxTimeoutMicros = 86'400'000'000ull;

uint64_t Deadline(Env* env, uint64_t timeout_micros) {
  return env->NowMicros() + std::min(timeout_micros, kMaxTimeoutMicros);
}

// A verified record in the read-ahead buffer, not yet consumed.
struct FrameView {
  std::string_view framed;  // frame header + payload
  uint64_t epoch = 0;
  uint64_t lsn = 0;
};

class TailReaderImpl final : public WalTailReader {
 public:
  TailReaderImpl(Env* env, const WalTailSource* source, Position after, uint64_t start_lsn,
                 std::vector<EpochStart> history, std::string slot)
      : env_(env),
        source_(source),
        position_(after),
        start_lsn_(start_lsn),
        next_lsn_(start_lsn),
        history_(std::move(history)),
        slot_(std::move(slot)) {}

  Result<bool> Next(WalRecord* record, std::string* framed, uint64_t timeout_micros) override;
  Result<size_t> ReadBatch(std::string* out, size_t max_bytes, uint64_t timeout_micros) override;
  Position position() const override { return position_; }

 private:
  // Loads the next record to return (skipping those before start_lsn_),
  // waiting until the deadline for it to become durable. False on timeout.
  Result<bool> Ready(uint64_t deadline, FrameView* frame);
  // Requires next_lsn_ <= the durable lsn: loads and verifies the record
  // carrying next_lsn_ (opening or switching segments), without consuming it.
  Status LoadNext(FrameView* frame);
  Status OpenSegment(const WalSegmentInfo& info, bool first);
  // Makes bytes [offset, offset + n) of the current segment available.
  Result<const char*> Fetch(uint64_t offset, size_t n);
  Status CheckHistory(const FrameView& frame);
  void Consume(const FrameView& frame);
  Status Corrupt(uint64_t offset, const std::string& reason) const {
    return Status::Corruption(segment_.path + " offset " + std::to_string(offset) + ": " + reason);
  }

  Env* const env_;
  const WalTailSource* const source_;
  Position position_;        // last record returned
  const uint64_t start_lsn_;  // records below it are skipped
  uint64_t next_lsn_;        // lsn the next record in the file must carry
  std::vector<EpochStart> history_;
  const std::string slot_;
  uint64_t seen_slot_generation_ = UINT64_MAX;  // forces a check at the first call

  std::unique_ptr<RandomAccessFile> file_;  // current segment, kept open
  WalSegmentInfo segment_;                  // its size: what may be read
  uint64_t offset_ = 0;                     // of the record carrying next_lsn_
  std::string buffer_;                      // read-ahead window
  uint64_t buffer_start_ = 0;
};

Status TailReaderImpl::OpenSegment(const WalSegmentInfo& info, bool first) {
  const uint64_t previous_epoch = segment_.epoch;
  ARK_ASSIGN_OR_RETURN(auto file, env_->NewRandomAccessFile(info.path));
  char scratch[kSegmentHeaderSize];
  std::string_view got;
  ARK_RETURN_IF_ERROR(file->Read(0, kSegmentHeaderSize, &got, scratch));
  ARK_ASSIGN_OR_RETURN(WalSegmentHeader header, DecodeWalSegmentHeader(got, info.path));
  if (header.epoch != info.epoch || header.first_lsn != info.first_lsn) {
    return Status::Corruption(info.path + " offset 16: header says epoch " +
                              std::to_string(header.epoch) + " first lsn " +
                              std::to_string(header.first_lsn) + ", the log expects epoch " +
                              std::to_string(info.epoch) + " first lsn " +
                              std::to_string(info.first_lsn));
  }
  if (!first) {
    if (header.first_lsn != next_lsn_) {
      return Status::Corruption(info.path + " offset 24: segment starts at lsn " +
                                std::to_string(header.first_lsn) + " but the previous segment " +
                                segment_.path + " ends before lsn " + std::to_string(next_lsn_) +
                                " (records missing)");
    }
    if (header.epoch < previous_epoch) {
      return Status::Corruption(info.path + " offset 16: epoch " + std::to_string(header.epoch) +
                                " is lower than the previous segment's " +
                                std::to_string(previous_epoch));
    }
  }
  file_ = std::move(file);
  segment_ = info;
  offset_ = kSegmentHeaderSize;
  next_lsn_ = header.first_lsn;
  buffer_.clear();
  buffer_start_ = 0;
  return Status::OK();
}

Result<const char*> TailReaderImpl::Fetch(uint64_t offset, size_t n) {
  if (offset >= buffer_start_ && offset + n <= buffer_start_ + buffer_.size()) {
    return buffer_.data() + (offset - buffer_start_);
  }
  // Never past segment_.size: bytes beyond it may be a write in flight.
  size_t want = static_cast<size_t>(
      std::min<uint64_t>(std::max<size_t>(n, kReadAhead), segment_.size - offset));
  buffer_.resize(want);
  std::string_view got;
  ARK_RETURN_IF_ERROR(file_->Read(offset, want, &got, buffer_.data()));
  if (got.size() < n) {
    return Status::IOError(segment_.path + " offset " + std::to_string(offset) +
                           ": short read (" + std::to_string(got.size()) + " of " +
                           std::to_string(n) + " bytes) below the durable end " +
                           std::to_string(segment_.size) + "; was the file truncated?");
  }
  if (got.data() != buffer_.data()) std::copy(got.begin(), got.end(), buffer_.begin());
  buffer_.resize(got.size());
  buffer_start_ = offset;
  return buffer_.data();
}

Status TailReaderImpl::LoadNext(FrameView* frame) {
  if (file_ == nullptr || offset_ >= segment_.size) {
    ARK_ASSIGN_OR_RETURN(WalSegmentInfo info, source_->FindSegment(next_lsn_));
    if (file_ != nullptr && info.path == segment_.path) {
      segment_.size = info.size;  // the segment grew
    } else {
      ARK_RETURN_IF_ERROR(OpenSegment(info, file_ == nullptr));
    }
    if (offset_ >= segment_.size) {
      return Corrupt(offset_, "lsn " + std::to_string(next_lsn_) +
                                  " is durable but the segment ends here (" +
                                  std::to_string(segment_.size) + " bytes)");
    }
  }
  const uint64_t o = offset_;
  if (segment_.size - o < kFrameHeaderSize) {
    return Corrupt(o, "incomplete frame header below the durable end " +
                          std::to_string(segment_.size));
  }
  ARK_ASSIGN_OR_RETURN(const char* p, Fetch(o, kFrameHeaderSize));
  WalFrameHeader fh;
  if (!DecodeWalFrameHeader(p, &fh)) return Corrupt(o, "bad frame header");
  if (fh.payload_length > segment_.size - o - kFrameHeaderSize) {
    return Corrupt(o, "record of " + std::to_string(fh.payload_length) +
                          " payload bytes runs past the durable end " +
                          std::to_string(segment_.size));
  }
  ARK_ASSIGN_OR_RETURN(p, Fetch(o, kFrameHeaderSize + fh.payload_length));
  const char* payload = p + kFrameHeaderSize;
  if (Xxh3_64(payload, fh.payload_length) != fh.payload_check) {
    return Corrupt(o, "record payload checksum mismatch");
  }
  frame->framed = std::string_view(p, kFrameHeaderSize + fh.payload_length);
  frame->epoch = DecodeFixed64(payload);
  frame->lsn = DecodeFixed64(payload + 8);
  if (frame->epoch != segment_.epoch) {
    return Corrupt(o, "record epoch " + std::to_string(frame->epoch) +
                          " differs from the segment epoch " + std::to_string(segment_.epoch));
  }
  if (frame->lsn != next_lsn_) {
    return Corrupt(o, "record lsn " + std::to_string(frame->lsn) + ", expected " +
                          std::to_string(next_lsn_));
  }
  return Status::OK();
}

Status TailReaderImpl::CheckHistory(const FrameView& frame) {
  if (history_.empty() || frame.lsn < history_.front().first.lsn) return Status::OK();
  auto it = std::find_if(history_.rbegin(), history_.rend(),
                         [&](const EpochStart& e) { return e.first.lsn <= frame.lsn; });
  if (frame.epoch == it->epoch) return Status::OK();
  if (it == history_.rbegin() && frame.epoch > it->epoch) {
    // An epoch started after the history was taken (StartEpoch, or a
    // replicated promotion): this record is its first.
    history_.push_back({frame.epoch, {frame.epoch, frame.lsn}});
    return Status::OK();
  }
  return Status::FailedPrecondition(
      segment_.path + " offset " + std::to_string(offset_) + ": record " +
      Position{frame.epoch, frame.lsn}.ToString() + " is not on this database's history, " +
      "which says lsn " + std::to_string(frame.lsn) + " belongs to epoch " +
      std::to_string(it->epoch) + " (began at " + it->first.ToString() + ")");
}

void TailReaderImpl::Consume(const FrameView& frame) {
  offset_ += frame.framed.size();
  ++next_lsn_;
  if (frame.lsn >= start_lsn_) position_ = {frame.epoch, frame.lsn};
}

Result<bool> TailReaderImpl::Ready(uint64_t deadline, FrameView* frame) {
  while (true) {
    uint64_t generation = source_->SlotGeneration();
    if (!slot_.empty() && generation != seen_slot_generation_) {
      ARK_RETURN_IF_ERROR(source_->CheckSlot(slot_).WithContext("WAL tail reader"));
      seen_slot_generation_ = generation;
    }
    uint64_t durable = source_->DurableLsn();
    while (next_lsn_ <= durable) {
      ARK_RETURN_IF_ERROR(LoadNext(frame));
      if (frame->lsn >= start_lsn_) {
        ARK_RETURN_IF_ERROR(CheckHistory(*frame));
        return true;
      }
      Consume(*frame);  // at or before `after`: skipped
    }
    Status error = source_->Error();
    if (!error.ok()) return error;  // nothing more will become durable
    uint64_t now = env_->NowMicros();
    if (now >= deadline) return false;
    source_->WaitForTail(next_lsn_ - 1, generation, deadline - now);
  }
}

Result<bool> TailReaderImpl::Next(WalRecord* record, std::string* framed,
                                  uint64_t timeout_micros) {
  FrameView frame;
  ARK_ASSIGN_OR_RETURN(bool ready, Ready(Deadline(env_, timeout_micros), &frame));
  if (!ready) return false;
  if (!DecodeWalPayload(frame.framed.substr(kFrameHeaderSize), record)) {
    return Corrupt(offset_, "record payload too short");
  }
  framed->assign(frame.framed.data(), frame.framed.size());
  Consume(frame);
  return true;
}

Result<size_t> TailReaderImpl::ReadBatch(std::string* out, size_t max_bytes,
                                         uint64_t timeout_micros) {
  FrameView frame;
  ARK_ASSIGN_OR_RETURN(bool ready, Ready(Deadline(env_, timeout_micros), &frame));
  if (!ready) return size_t{0};
  size_t count = 0;
  size_t bytes = 0;
  while (true) {
    out->append(frame.framed.data(), frame.framed.size());
    bytes += frame.framed.size();
    ++count;
    Consume(frame);
    if (bytes >= max_bytes || next_lsn_ > source_->DurableLsn()) break;
    // An error past the first record ends the batch; the next call, which
    // starts at that record, returns it.
    if (!LoadNext(&frame).ok() || !CheckHistory(frame).ok()) break;
    if (bytes + frame.framed.size() > max_bytes) break;
  }
  return count;
}

}  // namespace

Status CheckPositionOnHistory(Position p, const std::vector<EpochStart>& history) {
  for (size_t i = 1; i < history.size(); ++i) {
    if (history[i].epoch <= history[i - 1].epoch ||
        history[i].first.lsn <= history[i - 1].first.lsn) {
      return Status::InvalidArgument("epoch history is not in order: epoch " +
                                     std::to_string(history[i].epoch) + " at " +
                                     history[i].first.ToString() + " follows epoch " +
                                     std::to_string(history[i - 1].epoch) + " at " +
                                     history[i - 1].first.ToString());
    }
  }
  if (history.empty()) return Status::OK();
  auto it = std::find_if(history.begin(), history.end(),
                         [&](const EpochStart& e) { return e.epoch == p.epoch; });
  if (it == history.end()) {
    std::string epochs;
    for (const auto& e : history) {
      epochs += (epochs.empty() ? "" : ", ") + std::to_string(e.epoch) + " from " +
                e.first.ToString();
    }
    return Status::FailedPrecondition("position " + p.ToString() +
                                      " is not on this database's history: it has no epoch " +
                                      std::to_string(p.epoch) + " (epochs: " + epochs + ")");
  }
  if (p.lsn + 1 < it->first.lsn) {
    return Status::FailedPrecondition("position " + p.ToString() +
                                      " is not on this database's history: epoch " +
                                      std::to_string(it->epoch) + " began at " +
                                      it->first.ToString());
  }
  auto next = it + 1;
  if (next != history.end() && p.lsn >= next->first.lsn) {
    return Status::FailedPrecondition(
        "position " + p.ToString() + " is on a forked history: epoch " +
        std::to_string(next->epoch) + " began at " + next->first.ToString() + ", so epoch " +
        std::to_string(p.epoch) + " ends at lsn " + std::to_string(next->first.lsn - 1));
  }
  return Status::OK();
}

std::unique_ptr<WalTailReader> NewWalTailReader(Env* env, const WalTailSource* source,
                                                Position after, uint64_t start_lsn,
                                                std::vector<EpochStart> history,
                                                std::string slot) {
  return std::make_unique<TailReaderImpl>(env, source, after, start_lsn, std::move(history),
                                          std::move(slot));
}

}  // namespace ark
