#include "engine/dr_seam.h"

#include <fmt/format.h>

#include "core/hash.h"
#include "engine/manifest_format.h"
#include "wal/wal_format.h"
#include "wal/wal_frame.h"

namespace ark {

namespace mf = manifest_format;

Result<ConsistentCut> DrSeam::GetConsistentCut(const std::string& pin_name, uint64_t ttl_micros) {
  return db_->GetConsistentCut(pin_name, ttl_micros);
}

Status DrSeam::ReleasePin(const std::string& name) { return db_->ReleasePin(name); }

Status DrSeam::CreateSlot(const std::string& name, Position restart, uint64_t max_retained_bytes) {
  return db_->wal()->CreateSlot(name, restart, max_retained_bytes);
}

Status DrSeam::AdvanceSlot(const std::string& name, Position restart) {
  return db_->wal()->AdvanceSlot(name, restart);
}

Status DrSeam::DropSlot(const std::string& name) { return db_->wal()->DropSlot(name); }

std::vector<WalSlotInfo> DrSeam::ListSlots() const { return db_->wal()->ListSlots(); }

Result<WalSlotInfo> DrSeam::GetSlot(const std::string& name) const { return db_->wal()->GetSlot(name); }

Position DrSeam::LastPosition() const { return db_->wal()->LastPosition(); }

Position DrSeam::DurablePosition() const { return db_->wal()->DurablePosition(); }
uint64_t DrSeam::OldestRetainedLsn() const { return db_->wal()->OldestRetainedLsn(); }

Result<std::unique_ptr<WalTailReader>> DrSeam::OpenTailReader(Position after, const std::string& slot) const {
  return db_->wal()->OpenTailReader(after, db_->EpochHistory(), slot);
}

Status DrSeam::ReadRecords(Position after, Position upto,
                           const std::function<Status(const WalRecord&, std::string_view)>& fn) const {
  if (upto.lsn <= after.lsn) return Status::OK();
  if (upto.lsn > db_->wal()->DurablePosition().lsn) {
    return Status::InvalidArgument(fmt::format("ReadRecords up to {}: only {} is durable", upto.ToString(),
                                               db_->wal()->DurablePosition().ToString()));
  }
  ARK_ASSIGN_OR_RETURN(auto reader, OpenTailReader(after));
  WalRecord record;
  std::string framed;
  while (reader->position().lsn < upto.lsn) {
    ARK_ASSIGN_OR_RETURN(bool got, reader->Next(&record, &framed, /*timeout_micros=*/0));
    if (!got) {
      return Status::Internal(fmt::format("the WAL ended at {} before the durable position {}",
                                          reader->position().ToString(), upto.ToString()));
    }
    ARK_RETURN_IF_ERROR(fn(record, framed));
  }
  return Status::OK();
}

Status DrSeam::FlushWal() { return db_->wal()->Flush(); }

Result<std::unique_ptr<RandomAccessFile>> DrSeam::OpenFile(const std::string& sha256_hex) const {
  return db_->OpenFileByHash(sha256_hex);
}

Result<uint64_t> DrSeam::FileSize(const std::string& sha256_hex) const {
  ARK_ASSIGN_OR_RETURN(auto file, db_->OpenFileByHash(sha256_hex));
  return file->Size();
}

Result<Position> DrSeam::AppendReplicated(std::string_view framed) {
  ARK_ASSIGN_OR_RETURN(WalRecord record, DecodeFramedRecord(framed, "replicated record"));
  return db_->AppendReplicated(record);
}

Result<WalRecord> DecodeFramedRecord(std::string_view framed, const std::string& where) {
  using namespace wal_format;
  if (framed.size() < kFrameHeaderSize) {
    return Status::Corruption(fmt::format("{}: {} bytes, shorter than a frame header", where, framed.size()));
  }
  WalFrameHeader header;
  if (!DecodeWalFrameHeader(framed.data(), &header)) {
    return Status::Corruption(fmt::format("{}: frame header checksum mismatch or bad field", where));
  }
  if (framed.size() != kFrameHeaderSize + header.payload_length) {
    return Status::Corruption(fmt::format("{}: {} bytes, the frame says {}", where, framed.size(),
                                          kFrameHeaderSize + header.payload_length));
  }
  std::string_view payload = framed.substr(kFrameHeaderSize);
  if (Xxh3_64(payload.data(), payload.size()) != header.payload_check) {
    return Status::Corruption(fmt::format("{}: payload checksum mismatch", where));
  }
  WalRecord record;
  if (!DecodeWalPayload(payload, &record)) return Status::Corruption(fmt::format("{}: payload too short", where));
  return record;
}

// ---- new data directories ------------------------------------------------------------

Status DrSeam::PrepareDirectory(Env* env, const std::string& dir) {
  ARK_RETURN_IF_ERROR(env->CreateDirs(JoinPath(dir, mf::kFilesDir)));
  return env->SyncDir(dir);
}

std::string DrSeam::FileDestination(const std::string& dir, const std::string& sha256_hex) {
  return JoinPath(JoinPath(dir, mf::kFilesDir), sha256_hex);
}

Status DrSeam::SeedDirectory(Env* env, const std::string& dir, const Manifest& manifest,
                             const std::vector<WalRecord>& tail) {
  if (!tail.empty() && tail.front().position.lsn != manifest.checkpoint.lsn + 1) {
    return Status::InvalidArgument(fmt::format("the WAL tail starts at {}, not right after the checkpoint {}",
                                               tail.front().position.ToString(), manifest.checkpoint.ToString()));
  }
  for (const auto& file : manifest.LiveFiles()) {
    if (!env->FileExists(FileDestination(dir, file))) {
      return Status::FailedPrecondition(fmt::format("{}: file {} named by the manifest is not in place", dir, file));
    }
  }
  ARK_RETURN_IF_ERROR(env->SyncDir(JoinPath(dir, mf::kFilesDir)));
  // The WAL: a new log starting right after the checkpoint, in the epoch of
  // its first record (or the manifest's), filled through the replicated
  // append so every record keeps its position and timestamp.
  WalOptions options;
  options.initial_epoch = tail.empty() ? std::max<uint64_t>(manifest.CurrentEpoch(), 1) : tail.front().position.epoch;
  options.initial_lsn = manifest.checkpoint.lsn + 1;
  {
    ARK_ASSIGN_OR_RETURN(auto wal, Wal::Open(env, JoinPath(dir, mf::kWalDir), options));
    for (const auto& record : tail) ARK_RETURN_IF_ERROR(wal->AppendReplicated(record).status());
    ARK_RETURN_IF_ERROR(wal->Flush());
  }
  // The manifest last: CURRENT is the commit point of the restore.
  return CommitManifest(env, dir, manifest);
}

}  // namespace ark
