#include "storage/fault_injecting_store.h"

#include <chrono>
#include <thread>

namespace ark {
namespace {

// Yields `data` but breaks after `limit` bytes: a stream cut midway.
class TornReader final : public ObjectReader {
 public:
  TornReader(ObjectReader* base, uint64_t limit) : base_(base), limit_(limit) {}
  Result<size_t> Read(char* buf, size_t n) override {
    if (pos_ >= limit_) return Status::Unavailable("injected fault: connection dropped mid-upload");
    ARK_ASSIGN_OR_RETURN(size_t got, base_->Read(buf, std::min<uint64_t>(n, limit_ - pos_)));
    if (got == 0) {
      return Status::Unavailable("injected fault: connection dropped mid-upload");
    }
    pos_ += got;
    return got;
  }

 private:
  ObjectReader* base_;
  uint64_t limit_;
  uint64_t pos_ = 0;
};

}  // namespace

void FaultInjectingStore::FailNext(uint32_t ops, int count, Status status, PutFailure put_failure) {
  std::lock_guard<std::mutex> lock(mu_);
  next_ops_ = ops;
  next_count_ = count;
  status_ = std::move(status);
  put_failure_ = put_failure;
}

void FaultInjectingStore::FailRandomly(uint32_t ops, double probability, uint64_t seed,
                                       Status status, PutFailure put_failure) {
  std::lock_guard<std::mutex> lock(mu_);
  random_ops_ = ops;
  probability_ = probability;
  rng_.seed(seed);
  status_ = std::move(status);
  put_failure_ = put_failure;
}

void FaultInjectingStore::Hang(uint32_t ops, int millis) {
  std::lock_guard<std::mutex> lock(mu_);
  hang_ops_ = ops;
  hang_millis_ = millis;
}

void FaultInjectingStore::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  next_ops_ = random_ops_ = hang_ops_ = 0;
  next_count_ = 0;
  probability_ = 0;
  short_read_fraction_ = 1.0;
  corrupt_reads_ = false;
}

FaultInjectingStore::Decision FaultInjectingStore::Decide(Op op, const std::string& what) {
  Decision d;
  int hang = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if ((hang_ops_ & op) != 0) {
      hang = hang_millis_;
    } else if ((next_ops_ & op) != 0 && next_count_ > 0) {
      --next_count_;
      d.fail = true;
    } else if ((random_ops_ & op) != 0 &&
               std::uniform_real_distribution<double>(0, 1)(rng_) < probability_) {
      d.fail = true;
    }
    if (d.fail) {
      d.status = Status(status_.code(), status_.message() + " (" + what + ")");
      d.put_failure = put_failure_;
      if (d.put_failure == PutFailure::kRandom) {
        d.put_failure = static_cast<PutFailure>(std::uniform_int_distribution<int>(0, 2)(rng_));
      }
    }
  }
  if (hang > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(hang));
    d.fail = true;
    d.status = Status::TimedOut("injected hang of " + std::to_string(hang) + " ms (" + what + ")");
    d.put_failure = PutFailure::kBefore;
  }
  if (d.fail) ++injected_;
  return d;
}

Status FaultInjectingStore::Put(const std::string& key, std::string_view data,
                                const PutOptions& options) {
  StringObjectReader reader(data);
  return PutStream(key, &reader, options);
}

Status FaultInjectingStore::PutStream(const std::string& key, ObjectReader* reader,
                                      const PutOptions& options) {
  Decision d = Decide(kPut, "put " + key);
  if (!d.fail) return base_->PutStream(key, reader, options);
  switch (d.put_failure) {
    case PutFailure::kAfter: {
      Status s = base_->PutStream(key, reader, options);
      return s.ok() ? d.status : s;
    }
    case PutFailure::kTorn: {
      // Break somewhere in the first 64 KiB (or at 0 for tiny objects): the
      // base store must not publish what it received.
      uint64_t limit;
      {
        std::lock_guard<std::mutex> lock(mu_);
        limit = std::uniform_int_distribution<uint64_t>(0, 64 << 10)(rng_);
      }
      TornReader torn(reader, limit);
      Status s = base_->PutStream(key, &torn, options);
      // If the object was shorter than the limit the put completed: still
      // report the injected failure (the caller cannot tell).
      return s.ok() ? d.status : s;
    }
    default:
      return d.status;
  }
}

Status FaultInjectingStore::GetStream(const std::string& key, ObjectWriter* writer,
                                      std::optional<ByteRange> range) {
  Decision d = Decide(kGet, "get " + key);
  if (d.fail) return d.status;
  double keep = short_read_fraction_.load();
  bool corrupt = corrupt_reads_.load();
  if (keep >= 1.0 && !corrupt) return base_->GetStream(key, writer, range);
  StringObjectWriter buffer;
  ARK_RETURN_IF_ERROR(base_->GetStream(key, &buffer, range));
  std::string& data = buffer.data();
  if (keep < 1.0 && !data.empty()) {
    data.resize(static_cast<size_t>(static_cast<double>(data.size()) * std::max(keep, 0.0)));
    ++injected_;
  }
  if (corrupt && !data.empty()) {
    data[data.size() / 2] = static_cast<char>(data[data.size() / 2] ^ 0x5a);
    ++injected_;
  }
  return writer->Write(data);
}

Result<ObjectInfo> FaultInjectingStore::Head(const std::string& key) {
  Decision d = Decide(kHead, "head " + key);
  if (d.fail) return d.status;
  return base_->Head(key);
}

Result<ListPage> FaultInjectingStore::List(const ListOptions& options) {
  Decision d = Decide(kList, "list " + options.prefix);
  if (d.fail) return d.status;
  return base_->List(options);
}

Status FaultInjectingStore::Delete(const std::string& key) {
  Decision d = Decide(kDelete, "delete " + key);
  if (d.fail) return d.status;
  return base_->Delete(key);
}

Status FaultInjectingStore::DeleteMany(const std::vector<std::string>& keys) {
  Decision d = Decide(kDelete, "delete " + std::to_string(keys.size()) + " keys");
  if (d.fail) return d.status;
  return base_->DeleteMany(keys);
}

}  // namespace ark
