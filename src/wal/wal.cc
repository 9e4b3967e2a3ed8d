// Wal implementation: recovery, group commit, rotation, retention.
//
// Group commit (LevelDB writer queue / PostgreSQL XLogFlush): Append() frames
// the record into buffer_ under mu_. WaitDurable() callers whose position is
// not yet durable compete to be the leader; the leader swaps buffer_ out,
// releases mu_, writes the whole batch with one Append() and syncs once, then
// publishes durable_ and wakes every waiter. Appends arriving meanwhile go to
// the fresh buffer_ and are picked up by the next leader.
//
// A failed round (write or sync) is rolled back before it is reported: the
// leader cuts the segment file back to committed_size_ (its size after the
// last successful round) and fsyncs, so the failed batch cannot be replayed.
// After a failed fdatasync the kernel may have dropped the dirty pages, so
// nothing past committed_size_ can be trusted either way; bytes before it
// were made durable (or, in kNone mode, written and acknowledged) by earlier
// rounds and are kept. The log stays failed (sticky) even when the cut
// works: the engine above applied the failed records to memory.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

#include "wal/wal.h"
#include "wal/wal_format.h"
#include "wal/wal_frame.h"
#include "wal/wal_reader.h"
#include "wal/wal_slot_file.h"

namespace ark {
namespace {

using namespace wal_format;

// A retained segment: WalSegmentInfo (path, epoch, first lsn, and the size
// after the last completed round, which tail readers read below and slots
// count).
using Segment = WalSegmentInfo;

std::string SlotFloorName(const std::string& slot) { return "slot/" + slot; }

// Records framed but not yet written: one group-commit batch.
// The bytes of a batch of frames: grows without zero-filling (a frame is
// written in full right after its room is made), keeps its capacity.
class FrameBuffer {
 public:
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  char* data() { return data_.get(); }
  void clear() { size_ = 0; }
  // Room for n more bytes at the end; returns where they start.
  char* Extend(size_t n) {
    if (size_ + n > capacity_) {
      size_t cap = std::max(size_ + n, capacity_ * 2);
      auto bigger = std::make_unique_for_overwrite<char[]>(cap);
      if (size_ > 0) std::memcpy(bigger.get(), data_.get(), size_);
      data_ = std::move(bigger);
      capacity_ = cap;
    }
    char* at = data_.get() + size_;
    size_ += n;
    return at;
  }
  std::string_view view() const { return {data_.get(), size_}; }

 private:
  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

struct Batch {
  FrameBuffer data;
  std::vector<size_t> frames;  // offset of each frame in data
  Position first;
  Position last;
  bool empty() const { return frames.empty(); }
  void Clear() {
    data.clear();
    frames.clear();
  }
};

class WalImpl final : public Wal, public WalTailSource {
 public:
  WalImpl(Env* env, std::string dir, const WalOptions& options)
      : env_(env), dir_(std::move(dir)), options_(options) {}
  ~WalImpl() override {
    if (!file_) return;
    // A cut that failed when the round failed: one more try (the disk may be
    // back, e.g. space freed before a clean restart).
    if (cut_pending_) (void)CutBackToCommitted();
    (void)file_->Close();
  }

  Status Recover();
  // Open only, before Recover: reads <dir>/SLOTS.
  Status LoadSlots();
  // Open only, after Recover: installs the slots' retain floors and
  // invalidates a slot whose WAL is already gone.
  Status InstallSlots();

  Result<Position> Append(WalOp op, uint64_t collection_id, std::string_view body) override;
  Result<Position> AppendInPlace(WalOp op, uint64_t collection_id, size_t body_size,
                                 const std::function<void(char* body)>& fill) override;
  Status WaitDurable(Position upto) override { return SyncUpTo(upto.lsn, false); }
  Position LastPosition() const override {
    std::lock_guard<std::mutex> l(mu_);
    return last_;
  }
  Position DurablePosition() const override {
    std::lock_guard<std::mutex> l(mu_);
    return durable_;
  }
  uint64_t DurableLsn() const override { return durable_lsn_.load(std::memory_order_acquire); }
  Status Error() const override {  // also WalTailSource::Error
    std::lock_guard<std::mutex> l(mu_);
    return error_;
  }
  uint64_t CurrentEpoch() const override {
    std::lock_guard<std::mutex> l(mu_);
    return epoch_;
  }
  Result<Position> StartEpoch(uint64_t epoch) override {
    return AppendFirstOfEpoch(epoch, 0, env_->WallMicros(),
                              static_cast<uint16_t>(WalOp::kEpochStart), 0, {}, true);
  }
  Status Replay(Position after, const std::function<Status(const WalRecord&)>& fn) const override;
  Position WaitForDurableAfter(Position after, uint64_t timeout_micros) const override;
  void SetRetainFloor(const std::string& name, Position from) override {
    std::lock_guard<std::mutex> l(mu_);
    floors_[name] = from;
  }
  void ClearRetainFloor(const std::string& name) override {
    std::lock_guard<std::mutex> l(mu_);
    floors_.erase(name);
  }
  Status RemoveObsoleteSegments(Position checkpoint) override;
  std::vector<std::string> SegmentFiles() const override {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<std::string> paths;
    for (const auto& s : segments_) paths.push_back(s.path);
    return paths;
  }
  uint64_t OldestRetainedLsn() const override {
    std::lock_guard<std::mutex> l(mu_);
    return segments_.front().first_lsn;
  }
  WalStats Stats() const override {
    std::lock_guard<std::mutex> l(mu_);
    return stats_;
  }
  Status Flush() override {
    uint64_t target;
    {
      std::lock_guard<std::mutex> l(mu_);
      target = last_.lsn;
    }
    ARK_RETURN_IF_ERROR(SyncUpTo(target, true));
    return PersistSlotsIfDirty();
  }

  Result<std::unique_ptr<WalTailReader>> OpenTailReader(Position after,
                                                        std::vector<EpochStart> history,
                                                        std::string slot) const override;

  Status CreateSlot(const std::string& name, Position restart,
                    uint64_t max_retained_bytes) override;
  Status AdvanceSlot(const std::string& name, Position restart) override;
  Status DropSlot(const std::string& name) override;
  std::vector<WalSlotInfo> ListSlots() const override;
  Result<WalSlotInfo> GetSlot(const std::string& name) const override;
  Result<std::vector<std::string>> EnforceSlotBounds() override;

  Result<Position> AppendReplicated(const WalRecord& record) override;

  // WalTailSource (DurableLsn and Error are shared with Wal).
  Result<WalSegmentInfo> FindSegment(uint64_t lsn) const override;
  uint64_t WaitForTail(uint64_t after_lsn, uint64_t slot_generation,
                       uint64_t timeout_micros) const override;
  uint64_t SlotGeneration() const override {
    return slot_generation_.load(std::memory_order_acquire);
  }
  Status CheckSlot(const std::string& name) const override {
    std::lock_guard<std::mutex> l(mu_);
    return CheckSlotLocked(name);
  }

 private:
  // mu_ held: frames one record at `pos` into buffer_.
  void BufferLocked(Position pos, uint64_t timestamp_micros, uint16_t op, uint64_t collection_id,
                    std::string_view body);
  // mu_ held: the same, with `fill` writing the body_size bytes of the body
  // into buffer_ (no copy of a caller's body).
  void BufferInPlaceLocked(Position pos, uint64_t timestamp_micros, uint16_t op,
                           uint64_t collection_id, size_t body_size,
                           const std::function<void(char*)>& fill);
  // Appends the first record of epoch `epoch` (> current; InvalidArgument
  // otherwise) after writing out the records buffered for the old epoch, so
  // that the next round rotates to a new segment for it. `required_lsn`: 0,
  // or the lsn the record must get (FailedPrecondition otherwise). With
  // `wait`, also makes it durable.
  Result<Position> AppendFirstOfEpoch(uint64_t epoch, uint64_t required_lsn,
                                      uint64_t timestamp_micros, uint16_t op,
                                      uint64_t collection_id, std::string_view body, bool wait);
  // mu_ held: publishes a completed round (durable position, the current
  // segment's size, statistics).
  void PublishRoundLocked(const Batch& batch, uint64_t sync_micros);

  // ---- slots ----
  Status CheckSlotLocked(const std::string& name) const;
  // mu_ held: bytes of the segments holding lsns >= floor_lsn.
  uint64_t RetainedBytesLocked(uint64_t floor_lsn) const;
  WalSlotInfo SlotInfoLocked(const WalSlotInfo& slot) const;
  // mu_ held: marks `slot` invalidated and releases its floor.
  void InvalidateLocked(WalSlotInfo* slot, std::string reason);
  // slots_file_mu_ held: writes every slot to <dir>/SLOTS.
  Status PersistSlots();
  Status PersistSlotsIfDirty();
  Status AheadOfLogLocked(Position p) const;

  // Makes every record up to `lsn` durable (written, in kNone mode). With
  // `force`, also leads one round that syncs even in kNone mode.
  Status SyncUpTo(uint64_t lsn, bool force);
  // Leader only: writes `batch` (rotating first if needed) and syncs.
  Status WriteBatch(Batch* batch, uint64_t sync_base, bool sync, uint64_t* sync_micros);
  // Leader only, after WriteBatch failed with `failure`: cuts the failed
  // batch off the segment file and returns the error to make sticky (it says
  // whether the cut worked).
  Status RollBack(const Status& failure);
  // Truncates file_ to committed_size_ (if longer) and fsyncs it.
  Status CutBackToCommitted();
  // mu_ held.
  void SetDurableLocked(Position p) {
    durable_ = p;
    durable_lsn_.store(p.lsn, std::memory_order_release);
  }
  // Leader or Open only: creates, syncs and switches to a new segment.
  Status CreateSegment(uint64_t epoch, uint64_t first_lsn);
  // Open only: drops a last segment whose creation never completed.
  Status DropIncompleteLastSegment(std::vector<std::string>* files, bool* recreate,
                                   SegmentName* recreate_name);

  Env* const env_;
  const std::string dir_;
  const WalOptions options_;

  mutable std::mutex mu_;
  // Signalled when a leader finishes, so waiters re-check durable_ / error_.
  mutable std::condition_variable cv_;
  // The kBatched leader waits on this for its window (never signalled).
  std::condition_variable batch_cv_;
  Status error_;                       // GUARDED_BY(mu_); sticky
  uint64_t epoch_ = 0;                 // GUARDED_BY(mu_)
  uint64_t next_lsn_ = 1;              // GUARDED_BY(mu_)
  Position last_;                      // GUARDED_BY(mu_) last assigned
  Position durable_;                   // GUARDED_BY(mu_)
  std::atomic<uint64_t> durable_lsn_{0};  // durable_.lsn, written under mu_, read without
  Batch buffer_;                       // GUARDED_BY(mu_)
  Batch spare_;                        // GUARDED_BY(mu_) empty, keeps capacity for reuse
  bool leader_active_ = false;         // GUARDED_BY(mu_)
  std::vector<Segment> segments_;      // GUARDED_BY(mu_) oldest first
  std::map<std::string, Position> floors_;  // GUARDED_BY(mu_)
  WalStats stats_;                     // GUARDED_BY(mu_)
  std::mutex remove_mu_;               // serialises RemoveObsoleteSegments; before slots_file_mu_
  std::map<std::string, WalSlotInfo> slots_;  // GUARDED_BY(mu_) retained_bytes unused
  bool slots_dirty_ = false;           // GUARDED_BY(mu_) AdvanceSlot moved one, not yet persisted
  // Serialises slot changes that rewrite <dir>/SLOTS with the write itself,
  // so the file never goes back to an older state. Taken before mu_.
  std::mutex slots_file_mu_;
  // Grows when a slot is invalidated or dropped (tail readers bound to a
  // slot re-check it only then). Written under mu_.
  std::atomic<uint64_t> slot_generation_{0};

  // Owned by the leader (leader_active_ == true) or by Open.
  std::unique_ptr<WritableFile> file_;
  uint64_t file_epoch_ = 0;
  // Size of file_ after its last successful round (or creation / recovery):
  // every byte below it belongs to an acknowledged record or the header.
  uint64_t committed_size_ = 0;
  bool cut_pending_ = false;  // a failed round's bytes may still be past committed_size_
};

Status WalImpl::CreateSegment(uint64_t epoch, uint64_t first_lsn) {
  std::string path = JoinPath(dir_, SegmentFileName(epoch, first_lsn));
  ARK_ASSIGN_OR_RETURN(auto f, env_->NewWritableFile(path));
  ARK_RETURN_IF_ERROR(f->Append(EncodeWalSegmentHeader(epoch, first_lsn)));
  ARK_RETURN_IF_ERROR(f->Sync());
  ARK_RETURN_IF_ERROR(env_->SyncDir(dir_));
  file_ = std::move(f);
  file_epoch_ = epoch;
  committed_size_ = file_->Size();
  std::lock_guard<std::mutex> l(mu_);
  segments_.push_back({path, epoch, first_lsn, committed_size_});
  ++stats_.segments_created;
  return Status::OK();
}

Status WalImpl::DropIncompleteLastSegment(std::vector<std::string>* files, bool* recreate,
                                          SegmentName* recreate_name) {
  const std::string last = files->back();
  SegmentName name = *ParseSegmentFileName(BaseName(last));
  ARK_ASSIGN_OR_RETURN(uint64_t size, env_->GetFileSize(last));
  bool incomplete = size < kSegmentHeaderSize;
  if (!incomplete) {
    ARK_ASSIGN_OR_RETURN(auto f, env_->NewRandomAccessFile(last));
    char scratch[kSegmentHeaderSize];
    std::string_view got;
    ARK_RETURN_IF_ERROR(f->Read(0, kSegmentHeaderSize, &got, scratch));
    bool zero = std::all_of(got.begin(), got.end(), [](char c) { return c == 0; });
    // A header never written (zero-filled), or a new epoch whose first record
    // (kEpochStart) never became durable: StartEpoch did not succeed.
    bool empty_new_epoch = false;
    if (!zero && size == kSegmentHeaderSize && files->size() > 1) {
      auto prev = ParseSegmentFileName(BaseName((*files)[files->size() - 2]));
      empty_new_epoch = prev->epoch < name.epoch;
    }
    incomplete = zero || empty_new_epoch;
  }
  if (!incomplete) return Status::OK();
  ARK_RETURN_IF_ERROR(env_->RemoveFile(last));
  ARK_RETURN_IF_ERROR(env_->SyncDir(dir_));
  files->pop_back();
  if (files->empty()) {
    *recreate = true;
    *recreate_name = name;
  }
  return Status::OK();
}

Status WalImpl::Recover() {
  ARK_RETURN_IF_ERROR(env_->CreateDirs(dir_));
  ARK_ASSIGN_OR_RETURN(auto files, ListWalSegments(env_, dir_));
  bool recreate = files.empty();
  SegmentName fresh{options_.initial_epoch, std::max<uint64_t>(options_.initial_lsn, 1)};
  if (!files.empty()) ARK_RETURN_IF_ERROR(DropIncompleteLastSegment(&files, &recreate, &fresh));
  if (recreate) {
    ARK_RETURN_IF_ERROR(CreateSegment(fresh.epoch, fresh.first_lsn));
    epoch_ = fresh.epoch;
    next_lsn_ = fresh.first_lsn;
    last_ = {fresh.epoch, fresh.first_lsn - 1};
    SetDurableLocked(last_);
    return Status::OK();
  }

  // Scan: every segment (verify_on_open) or the last one only.
  std::unique_ptr<WalReader> reader;
  if (options_.verify_on_open) {
    ARK_ASSIGN_OR_RETURN(reader, WalReader::Open(env_, dir_, 0));
  } else {
    ARK_ASSIGN_OR_RETURN(reader, WalReader::Open(env_, files.back(), 0));
    for (size_t i = 0; i + 1 < files.size(); ++i) {
      ARK_ASSIGN_OR_RETURN(auto seg, WalSegmentReader::Open(env_, files[i], false));
    }
  }
  WalRecord record;
  while (true) {
    ARK_ASSIGN_OR_RETURN(bool got, reader->Next(&record));
    if (!got) break;
  }
  const WalSegmentReader* tail = reader->segment();
  const std::string& last_path = files.back();
  if (tail == nullptr || tail->path() != last_path) {
    return Status::Internal("WAL recovery did not reach the last segment " + last_path);
  }
  if (tail->next_lsn() == tail->header().first_lsn && files.size() > 1 &&
      ParseSegmentFileName(BaseName(files[files.size() - 2]))->epoch < tail->header().epoch) {
    // A new epoch whose kEpochStart record was torn: StartEpoch never
    // succeeded, so the epoch did not start. Drop the segment and recover again.
    ARK_RETURN_IF_ERROR(env_->RemoveFile(last_path));
    ARK_RETURN_IF_ERROR(env_->SyncDir(dir_));
    return Recover();
  }
  if (reader->torn_tail()) {
    ARK_RETURN_IF_ERROR(env_->TruncateFile(last_path, tail->valid_end()));
  }
  ARK_ASSIGN_OR_RETURN(file_, env_->NewAppendableFile(last_path));
  if (reader->torn_tail()) ARK_RETURN_IF_ERROR(file_->Sync());
  file_epoch_ = tail->header().epoch;
  committed_size_ = file_->Size();

  for (const auto& f : files) {
    auto name = ParseSegmentFileName(BaseName(f));
    uint64_t size = committed_size_;
    if (f != last_path) {
      ARK_ASSIGN_OR_RETURN(size, env_->GetFileSize(f));
    }
    segments_.push_back({f, name->epoch, name->first_lsn, size});
  }
  epoch_ = file_epoch_;
  next_lsn_ = tail->next_lsn();
  last_ = {epoch_, next_lsn_ - 1};
  SetDurableLocked(last_);
  return Status::OK();
}

Result<Position> WalImpl::Append(WalOp op, uint64_t collection_id, std::string_view body) {
  return AppendInPlace(op, collection_id, body.size(), [&](char* dst) {
    if (!body.empty()) std::memcpy(dst, body.data(), body.size());
  });
}

Result<Position> WalImpl::AppendInPlace(WalOp op, uint64_t collection_id, size_t body_size,
                                        const std::function<void(char*)>& fill) {
  if (body_size > kMaxBodySize) {
    return Status::InvalidArgument("WAL record body of " + std::to_string(body_size) +
                                   " bytes exceeds the limit of " + std::to_string(kMaxBodySize) +
                                   " bytes");
  }
  uint64_t now = env_->WallMicros();
  std::lock_guard<std::mutex> l(mu_);
  if (!error_.ok()) return error_;
  Position pos{epoch_, next_lsn_};
  BufferInPlaceLocked(pos, now, static_cast<uint16_t>(op), collection_id, body_size, fill);
  return pos;
}

void WalImpl::BufferLocked(Position pos, uint64_t timestamp_micros, uint16_t op,
                           uint64_t collection_id, std::string_view body) {
  BufferInPlaceLocked(pos, timestamp_micros, op, collection_id, body.size(), [&](char* dst) {
    if (!body.empty()) std::memcpy(dst, body.data(), body.size());
  });
}

void WalImpl::BufferInPlaceLocked(Position pos, uint64_t timestamp_micros, uint16_t op,
                                  uint64_t collection_id, size_t body_size,
                                  const std::function<void(char*)>& fill) {
  if (buffer_.empty()) buffer_.first = pos;
  buffer_.frames.push_back(buffer_.data.size());
  char* frame = buffer_.data.Extend(WalFrameSize(body_size));
  if (body_size > 0) fill(frame + kWalFrameBodyOffset);
  FinishWalFrame(frame, pos, timestamp_micros, op, collection_id, body_size);
  buffer_.last = pos;
  last_ = pos;
  next_lsn_ = pos.lsn + 1;
  ++stats_.records_appended;
}

Result<Position> WalImpl::AppendReplicated(const WalRecord& record) {
  if (record.body.size() > kMaxBodySize) {
    return Status::InvalidArgument("replicated WAL record " + record.position.ToString() +
                                   ": body of " + std::to_string(record.body.size()) +
                                   " bytes exceeds the limit of " + std::to_string(kMaxBodySize) +
                                   " bytes");
  }
  const Position pos = record.position;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!error_.ok()) return error_;
    if (pos.lsn != next_lsn_) {
      return Status::FailedPrecondition("replicated WAL record " + pos.ToString() +
                                        ": expected lsn " + std::to_string(next_lsn_) +
                                        ", got " + std::to_string(pos.lsn));
    }
    if (pos.epoch < epoch_) {
      return Status::FailedPrecondition("replicated WAL record " + pos.ToString() +
                                        ": epoch " + std::to_string(pos.epoch) +
                                        " is older than this log's epoch " +
                                        std::to_string(epoch_));
    }
    if (pos.epoch == epoch_) {
      BufferLocked(pos, record.timestamp_micros, record.op, record.collection_id, record.body);
      return pos;
    }
  }
  return AppendFirstOfEpoch(pos.epoch, pos.lsn, record.timestamp_micros, record.op,
                            record.collection_id, record.body, false);
}

Status WalImpl::WriteBatch(Batch* batch, uint64_t sync_base, bool sync, uint64_t* sync_micros) {
  *sync_micros = 0;
  if (!batch->empty()) {
    bool new_epoch = batch->first.epoch != file_epoch_;
    bool full = file_->Size() >= options_.segment_size_bytes && file_->Size() > kSegmentHeaderSize;
    if (new_epoch || full) {
      // The old segment is complete and durable before the new one exists.
      ARK_RETURN_IF_ERROR(file_->Sync());
      ARK_RETURN_IF_ERROR(file_->Close());
      ARK_RETURN_IF_ERROR(CreateSegment(batch->first.epoch, batch->first.lsn));
    }
    for (size_t off : batch->frames) SetWalFrameSyncBase(batch->data.data() + off, sync_base);
    ARK_RETURN_IF_ERROR(file_->Append(batch->data.view()));
  }
  if (sync) {
    uint64_t t0 = env_->NowMicros();
    ARK_RETURN_IF_ERROR(file_->Sync());
    *sync_micros = env_->NowMicros() - t0 + 1;  // +1: count a sync even if under 1 us
  }
  committed_size_ = file_->Size();
  return Status::OK();
}

Status WalImpl::CutBackToCommitted() {
  const std::string& path = file_->path();
  ARK_ASSIGN_OR_RETURN(uint64_t size, env_->GetFileSize(path));
  if (size > committed_size_) {
    ARK_RETURN_IF_ERROR(env_->TruncateFile(path, committed_size_));
    // fsync, not fdatasync: the new size is what must reach the disk.
    ARK_RETURN_IF_ERROR(file_->Fsync());
  }
  cut_pending_ = false;
  return Status::OK();
}

Status WalImpl::RollBack(const Status& failure) {
  // Whatever of the batch reached the file (a short write; or all of it, with
  // the fdatasync failing) was never acknowledged: cut it off so that no
  // reopen replays it.
  cut_pending_ = true;
  Status cut = CutBackToCommitted();
  const std::string where = file_->path() + " at offset " + std::to_string(committed_size_);
  if (cut.ok()) {
    return failure.WithContext("WAL write failed (nothing of it is in the log: cut back to " + where +
                               "); the log refuses writes until reopened");
  }
  return failure.WithContext(
      "WAL write failed, and cutting it off the log (back to " + where + ") failed too (" +
      cut.ToString() +
      "): the outcome of the refused writes is unknown, they may be replayed when the log is "
      "reopened; the log refuses writes until reopened");
}

Status WalImpl::SyncUpTo(uint64_t lsn, bool force) {
  std::unique_lock<std::mutex> l(mu_);
  if (lsn > last_.lsn) {
    return Status::InvalidArgument("WaitDurable for lsn " + std::to_string(lsn) +
                                   " beyond the last assigned lsn " + std::to_string(last_.lsn));
  }
  bool need_forced_round = force;
  while (true) {
    if (!error_.ok()) return error_;
    if (durable_.lsn >= lsn && !need_forced_round) return Status::OK();
    if (leader_active_) {
      cv_.wait(l);
      continue;
    }
    leader_active_ = true;
    if (options_.sync_mode == WalSyncMode::kBatched && !force) {
      auto deadline = std::chrono::steady_clock::now() +
                      std::chrono::microseconds(options_.batch_window_micros);
      while (std::chrono::steady_clock::now() < deadline) batch_cv_.wait_until(l, deadline);
    }
    Batch batch;
    std::swap(batch, buffer_);
    std::swap(buffer_, spare_);  // appends continue into recycled capacity
    uint64_t sync_base = durable_.lsn;
    bool sync = force || (!batch.empty() && options_.sync_mode != WalSyncMode::kNone);
    l.unlock();
    uint64_t sync_micros = 0;
    Status s = WriteBatch(&batch, sync_base, sync, &sync_micros);
    if (!s.ok()) s = RollBack(s);  // still the leader: nobody else touches file_
    l.lock();
    leader_active_ = false;
    if (!s.ok()) {
      if (error_.ok()) error_ = s;
    } else {
      PublishRoundLocked(batch, sync_micros);
      need_forced_round = false;
      // Keep the larger allocation for the next swap: multi-MB batches would
      // otherwise regrow (and page-fault) from scratch every time.
      if (batch.data.capacity() > spare_.data.capacity()) {
        batch.Clear();
        std::swap(batch, spare_);
      }
    }
    cv_.notify_all();
  }
}

void WalImpl::PublishRoundLocked(const Batch& batch, uint64_t sync_micros) {
  if (!batch.empty()) {
    // The size first: a tail reader that sees the new durable lsn must find
    // the bytes of its records below the published size.
    segments_.back().size = committed_size_;
    SetDurableLocked(batch.last);
    stats_.bytes_written += batch.data.size();
    ++stats_.write_batches;
  }
  if (sync_micros > 0) {
    ++stats_.syncs;
    stats_.sync_micros_total += sync_micros - 1;
  }
}

Result<Position> WalImpl::AppendFirstOfEpoch(uint64_t epoch, uint64_t required_lsn,
                                             uint64_t timestamp_micros, uint16_t op,
                                             uint64_t collection_id, std::string_view body,
                                             bool wait) {
  std::unique_lock<std::mutex> l(mu_);
  while (leader_active_ && error_.ok()) cv_.wait(l);
  if (!error_.ok()) return error_;
  if (epoch <= epoch_) {
    return Status::InvalidArgument("starting epoch " + std::to_string(epoch) +
                                   ": must be greater than the current epoch " +
                                   std::to_string(epoch_));
  }
  if (required_lsn != 0 && required_lsn != next_lsn_) {
    return Status::FailedPrecondition("first record of epoch " + std::to_string(epoch) +
                                      ": expected lsn " + std::to_string(next_lsn_) + ", got " +
                                      std::to_string(required_lsn));
  }
  leader_active_ = true;
  Batch old;
  std::swap(old, buffer_);
  uint64_t sync_base = durable_.lsn;
  epoch_ = epoch;
  Position pos{epoch, next_lsn_};
  BufferLocked(pos, timestamp_micros, op, collection_id, body);
  l.unlock();
  // Old-epoch records go to the old segment; the next leader sees the new
  // epoch in its batch and rotates before writing this record.
  uint64_t sync_micros = 0;
  Status s = WriteBatch(&old, sync_base, !old.empty(), &sync_micros);
  if (!s.ok()) s = RollBack(s);
  l.lock();
  leader_active_ = false;
  if (!s.ok()) {
    if (error_.ok()) error_ = s;
  } else {
    PublishRoundLocked(old, sync_micros);
  }
  cv_.notify_all();
  l.unlock();
  if (wait) ARK_RETURN_IF_ERROR(SyncUpTo(pos.lsn, options_.sync_mode == WalSyncMode::kNone));
  return pos;
}

Status WalImpl::Replay(Position after,
                       const std::function<Status(const WalRecord&)>& fn) const {
  Position durable;
  uint64_t oldest;
  {
    std::lock_guard<std::mutex> l(mu_);
    durable = durable_;
    oldest = segments_.front().first_lsn;
  }
  if (after.lsn >= durable.lsn) return Status::OK();
  if (after.lsn + 1 < oldest) {
    return Status::NotFound("WAL records after lsn " + std::to_string(after.lsn) +
                            " were removed: the oldest segment in " + dir_ + " starts at lsn " +
                            std::to_string(oldest));
  }
  ARK_ASSIGN_OR_RETURN(auto reader, WalReader::Open(env_, dir_, after.lsn));
  WalRecord record;
  uint64_t seen = after.lsn;
  while (seen < durable.lsn) {
    ARK_ASSIGN_OR_RETURN(bool got, reader->Next(&record));
    if (!got) break;
    seen = record.position.lsn;
    ARK_RETURN_IF_ERROR(fn(record));
  }
  if (seen < durable.lsn) {
    return Status::Corruption("WAL in " + dir_ + " ends at lsn " + std::to_string(seen) +
                              " but lsn " + std::to_string(durable.lsn) + " is durable");
  }
  return Status::OK();
}

Position WalImpl::WaitForDurableAfter(Position after, uint64_t timeout_micros) const {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait_for(l, std::chrono::microseconds(timeout_micros),
               [&] { return durable_.lsn > after.lsn || !error_.ok(); });
  return durable_;
}

Status WalImpl::RemoveObsoleteSegments(Position checkpoint) {
  std::lock_guard<std::mutex> serial(remove_mu_);
  // Slots first: an over-bound slot must not hold the space, and a slot
  // position advanced in memory must be on disk before the WAL below it goes
  // (else a crash would bring back a slot whose WAL is gone).
  ARK_RETURN_IF_ERROR(EnforceSlotBounds().status());
  ARK_RETURN_IF_ERROR(PersistSlotsIfDirty());
  std::vector<std::string> doomed;
  {
    std::lock_guard<std::mutex> l(mu_);
    uint64_t limit = checkpoint.lsn;
    for (const auto& [name, floor] : floors_) limit = std::min(limit, floor.lsn);
    // Segment i holds lsns [first_i, first_{i+1}); the last one is never removed.
    for (size_t i = 0; i + 1 < segments_.size() && segments_[i + 1].first_lsn <= limit; ++i) {
      doomed.push_back(segments_[i].path);
    }
  }
  for (const auto& path : doomed) {  // oldest first: a crash leaves a contiguous suffix
    ARK_RETURN_IF_ERROR(env_->RemoveFile(path));
    std::lock_guard<std::mutex> l(mu_);
    segments_.erase(segments_.begin());
  }
  if (!doomed.empty()) ARK_RETURN_IF_ERROR(env_->SyncDir(dir_));
  return Status::OK();
}

// ---- Tail reading ----

Status WalImpl::AheadOfLogLocked(Position p) const {
  if (p.lsn <= last_.lsn) return Status::OK();
  return Status::FailedPrecondition("position " + p.ToString() + " is ahead of this log, which ends at " +
                                    last_.ToString());
}

Result<std::unique_ptr<WalTailReader>> WalImpl::OpenTailReader(Position after,
                                                               std::vector<EpochStart> history,
                                                               std::string slot) const {
  const bool from_start = after == Position{};
  if (!from_start) ARK_RETURN_IF_ERROR(CheckPositionOnHistory(after, history));
  uint64_t start_lsn;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!slot.empty()) ARK_RETURN_IF_ERROR(CheckSlotLocked(slot));
    const Segment& oldest = segments_.front();
    if (from_start) {
      start_lsn = oldest.first_lsn;
    } else {
      ARK_RETURN_IF_ERROR(AheadOfLogLocked(after));
      if (after.lsn + 1 < oldest.first_lsn) {
        return Status::NotFound("WAL records after " + after.ToString() +
                                " were removed: the oldest retained record is lsn " +
                                std::to_string(oldest.first_lsn) + " (" + oldest.path + ")");
      }
      start_lsn = after.lsn + 1;
    }
  }
  return NewWalTailReader(env_, this, after, start_lsn, std::move(history), std::move(slot));
}

Result<WalSegmentInfo> WalImpl::FindSegment(uint64_t lsn) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = std::upper_bound(segments_.begin(), segments_.end(), lsn,
                             [](uint64_t v, const Segment& s) { return v < s.first_lsn; });
  if (it == segments_.begin()) {
    return Status::NotFound("WAL record lsn " + std::to_string(lsn) +
                            " was removed: the oldest retained record is lsn " +
                            std::to_string(segments_.front().first_lsn) + " (" +
                            segments_.front().path + ")");
  }
  return *(it - 1);
}

uint64_t WalImpl::WaitForTail(uint64_t after_lsn, uint64_t slot_generation,
                              uint64_t timeout_micros) const {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait_for(l, std::chrono::microseconds(timeout_micros), [&] {
    return durable_.lsn > after_lsn || !error_.ok() ||
           slot_generation_.load(std::memory_order_relaxed) != slot_generation;
  });
  return durable_.lsn;
}

// ---- Slots ----

Status WalImpl::LoadSlots() {
  ARK_ASSIGN_OR_RETURN(auto slots, ReadWalSlotsFile(env_, dir_));
  std::lock_guard<std::mutex> l(mu_);
  for (auto& slot : slots) {
    std::string name = slot.name;
    slots_[name] = std::move(slot);
  }
  return Status::OK();
}

Status WalImpl::InstallSlots() {
  std::lock_guard<std::mutex> file_lock(slots_file_mu_);
  bool changed = false;
  {
    std::lock_guard<std::mutex> l(mu_);
    const Segment& oldest = segments_.front();
    for (auto& [name, slot] : slots_) {
      if (slot.invalidated) continue;
      if (slot.restart.lsn + 1 < oldest.first_lsn) {
        // Only if someone removed WAL files by hand: say so instead of
        // pretending to hold what is gone.
        InvalidateLocked(&slot, "the WAL after slot '" + name + "' position " +
                                    slot.restart.ToString() +
                                    " is gone: the oldest segment " + oldest.path +
                                    " starts at lsn " + std::to_string(oldest.first_lsn));
        changed = true;
        continue;
      }
      floors_[SlotFloorName(name)] = {slot.restart.epoch, slot.restart.lsn + 1};
    }
  }
  return changed ? PersistSlots() : Status::OK();
}

Status WalImpl::CheckSlotLocked(const std::string& name) const {
  auto it = slots_.find(name);
  if (it == slots_.end()) return Status::NotFound("no WAL slot '" + name + "' in " + dir_);
  if (it->second.invalidated) {
    return Status::FailedPrecondition("WAL slot '" + name +
                                      "' is invalidated: " + it->second.invalidated_reason);
  }
  return Status::OK();
}

uint64_t WalImpl::RetainedBytesLocked(uint64_t floor_lsn) const {
  // Segment i (lsns [first_i, first_{i+1})) is held while it has an lsn >=
  // the floor: the same rule RemoveObsoleteSegments applies.
  uint64_t bytes = 0;
  for (size_t i = 0; i < segments_.size(); ++i) {
    if (i + 1 == segments_.size() || segments_[i + 1].first_lsn > floor_lsn) {
      bytes += segments_[i].size;
    }
  }
  return bytes;
}

WalSlotInfo WalImpl::SlotInfoLocked(const WalSlotInfo& slot) const {
  WalSlotInfo info = slot;
  info.retained_bytes = slot.invalidated ? 0 : RetainedBytesLocked(slot.restart.lsn + 1);
  return info;
}

void WalImpl::InvalidateLocked(WalSlotInfo* slot, std::string reason) {
  slot->invalidated = true;
  slot->invalidated_reason = std::move(reason);
  slot->invalidated_micros = env_->WallMicros();
  floors_.erase(SlotFloorName(slot->name));
  ++stats_.slots_invalidated;
  slot_generation_.fetch_add(1, std::memory_order_release);
  cv_.notify_all();  // tail readers bound to it stop waiting
}

Status WalImpl::PersistSlots() {
  std::vector<WalSlotInfo> slots;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [name, slot] : slots_) slots.push_back(slot);
    slots_dirty_ = false;
  }
  Status s = WriteWalSlotsFile(env_, dir_, slots);
  if (!s.ok()) {
    std::lock_guard<std::mutex> l(mu_);
    slots_dirty_ = true;  // the next RemoveObsoleteSegments / Flush tries again
  }
  return s.WithContext("writing the WAL slots file in " + dir_);
}

Status WalImpl::PersistSlotsIfDirty() {
  std::lock_guard<std::mutex> file_lock(slots_file_mu_);
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!slots_dirty_) return Status::OK();
  }
  return PersistSlots();
}

Status WalImpl::CreateSlot(const std::string& name, Position restart,
                           uint64_t max_retained_bytes) {
  if (!IsValidWalSlotName(name)) {
    return Status::InvalidArgument("bad WAL slot name '" + name +
                                   "': use 1 to 64 characters of A-Z a-z 0-9 . _ -");
  }
  std::lock_guard<std::mutex> file_lock(slots_file_mu_);
  {
    std::lock_guard<std::mutex> l(mu_);
    if (slots_.count(name) != 0) {
      return Status::AlreadyExists("WAL slot '" + name + "' already exists in " + dir_);
    }
    ARK_RETURN_IF_ERROR(AheadOfLogLocked(restart));
    const Segment& oldest = segments_.front();
    if (restart.lsn + 1 < oldest.first_lsn) {
      return Status::NotFound("cannot create WAL slot '" + name + "' at " + restart.ToString() +
                              ": the records after it were removed; the oldest retained record "
                              "is lsn " + std::to_string(oldest.first_lsn));
    }
    WalSlotInfo slot;
    slot.name = name;
    slot.restart = restart;
    slot.max_retained_bytes = max_retained_bytes;
    slots_[name] = slot;
    // The floor holds from now on, before the file is written: a concurrent
    // RemoveObsoleteSegments cannot take what the slot is about to promise.
    floors_[SlotFloorName(name)] = {restart.epoch, restart.lsn + 1};
  }
  Status s = PersistSlots();
  if (!s.ok()) {
    std::lock_guard<std::mutex> l(mu_);
    slots_.erase(name);
    floors_.erase(SlotFloorName(name));
  }
  return s;
}

Status WalImpl::AdvanceSlot(const std::string& name, Position restart) {
  std::lock_guard<std::mutex> l(mu_);
  ARK_RETURN_IF_ERROR(CheckSlotLocked(name));
  ARK_RETURN_IF_ERROR(AheadOfLogLocked(restart));
  WalSlotInfo& slot = slots_[name];
  if (restart.lsn <= slot.restart.lsn) return Status::OK();  // only forward
  slot.restart = restart;
  floors_[SlotFloorName(name)] = {restart.epoch, restart.lsn + 1};
  slots_dirty_ = true;  // persisted before any WAL below it is removed
  return Status::OK();
}

Status WalImpl::DropSlot(const std::string& name) {
  std::lock_guard<std::mutex> file_lock(slots_file_mu_);
  {
    std::lock_guard<std::mutex> l(mu_);
    if (slots_.erase(name) == 0) return Status::NotFound("no WAL slot '" + name + "' in " + dir_);
    floors_.erase(SlotFloorName(name));
    slot_generation_.fetch_add(1, std::memory_order_release);
    cv_.notify_all();
  }
  return PersistSlots();
}

std::vector<WalSlotInfo> WalImpl::ListSlots() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<WalSlotInfo> out;
  for (const auto& [name, slot] : slots_) out.push_back(SlotInfoLocked(slot));
  return out;
}

Result<WalSlotInfo> WalImpl::GetSlot(const std::string& name) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = slots_.find(name);
  if (it == slots_.end()) return Status::NotFound("no WAL slot '" + name + "' in " + dir_);
  return SlotInfoLocked(it->second);
}

Result<std::vector<std::string>> WalImpl::EnforceSlotBounds() {
  std::lock_guard<std::mutex> file_lock(slots_file_mu_);
  std::vector<std::string> invalidated;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& [name, slot] : slots_) {
      if (slot.invalidated || slot.max_retained_bytes == 0) continue;
      uint64_t held = RetainedBytesLocked(slot.restart.lsn + 1);
      if (held <= slot.max_retained_bytes) continue;
      InvalidateLocked(&slot, "slot '" + name + "' held " + std::to_string(held) +
                                  " bytes of WAL, more than its bound of " +
                                  std::to_string(slot.max_retained_bytes));
      invalidated.push_back(name);
    }
  }
  if (!invalidated.empty()) ARK_RETURN_IF_ERROR(PersistSlots());
  return invalidated;
}

}  // namespace

Result<std::unique_ptr<Wal>> Wal::Open(Env* env, const std::string& dir,
                                       const WalOptions& options) {
  auto wal = std::make_unique<WalImpl>(env, dir, options);
  // Slots before anything can be removed: they are retain floors.
  ARK_RETURN_IF_ERROR(wal->LoadSlots().WithContext("opening WAL " + dir));
  ARK_RETURN_IF_ERROR(wal->Recover().WithContext("opening WAL " + dir));
  ARK_RETURN_IF_ERROR(wal->InstallSlots().WithContext("opening WAL " + dir));
  return std::unique_ptr<Wal>(std::move(wal));
}

}  // namespace ark
