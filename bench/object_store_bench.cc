// Object store throughput: one large object and many small ones, uploaded
// and downloaded through Ark's ObjectStore, beside a baseline measured in the
// same run (`cp` + `sync FILE` for the local backend; the AWS SDK for
// JavaScript against the same s3rver is run by bench/object_store_bench.sh).
//
//   object_store_bench --dir SCRATCH [--s3 s3://bucket/prefix?endpoint=...]
//                      [--size-mib 1024] [--small-count 10000] [--small-size 4096]
//                      [--threads 8]
//
// Prints one Markdown table row per measurement. Credentials for --s3 come
// from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "storage/env.h"
#include "storage/object_store.h"
#include "storage/object_store_url.h"

namespace ark {
namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void Die(const Status& s, const char* what) {
  std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  std::exit(1);
}

void Row(const std::string& backend, const std::string& what, const std::string& method,
         double bytes, double seconds, size_t objects) {
  std::string rate = objects > 1 ? std::to_string(static_cast<long>(objects / seconds)) : "";
  std::printf("| %s | %s | %s | %.2f | %.1f | %s |\n", backend.c_str(), what.c_str(),
              method.c_str(), seconds, bytes / seconds / (1 << 20), rate.c_str());
  std::fflush(stdout);
}

double Shell(const std::string& cmd) {
  double t0 = Now();
  if (std::system(cmd.c_str()) != 0) {
    std::fprintf(stderr, "command failed: %s\n", cmd.c_str());
    std::exit(1);
  }
  return Now() - t0;
}

class FileReader final : public ObjectReader {
 public:
  explicit FileReader(std::unique_ptr<RandomAccessFile> f) : f_(std::move(f)) {}
  Result<size_t> Read(char* buf, size_t n) override {
    std::string_view got;
    ARK_RETURN_IF_ERROR(f_->Read(off_, n, &got, buf));
    if (got.data() != buf && !got.empty()) std::memmove(buf, got.data(), got.size());
    off_ += got.size();
    return got.size();
  }

 private:
  std::unique_ptr<RandomAccessFile> f_;
  uint64_t off_ = 0;
};

class FileWriter final : public ObjectWriter {
 public:
  explicit FileWriter(std::unique_ptr<WritableFile> f) : f_(std::move(f)) {}
  Status Write(std::string_view d) override { return f_->Append(d); }
  Status Finish() {
    ARK_RETURN_IF_ERROR(f_->Fsync());
    return f_->Close();
  }

 private:
  std::unique_ptr<WritableFile> f_;
};

// Runs fn(i) for i in [0, n) on `threads` threads.
template <typename Fn>
void Parallel(size_t n, int threads, Fn fn) {
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (size_t i; (i = next.fetch_add(1)) < n;) fn(i);
    });
  }
  for (auto& th : pool) th.join();
}

void BenchLarge(ObjectStore* store, const std::string& backend, const std::string& src,
                const std::string& dst, uint64_t size) {
  Env* env = Env::Default();
  double t0 = Now();
  {
    auto f = env->NewRandomAccessFile(src);
    if (!f.ok()) Die(f.status(), "open source");
    FileReader reader(std::move(*f));
    Status s = store->PutStream("large/object.bin", &reader);
    if (!s.ok()) Die(s, "put large");
  }
  Row(backend, "1 object upload", "Ark ObjectStore", static_cast<double>(size), Now() - t0, 1);
  t0 = Now();
  {
    auto f = env->NewWritableFile(dst);
    if (!f.ok()) Die(f.status(), "open destination");
    FileWriter writer(std::move(*f));
    Status s = store->GetStream("large/object.bin", &writer);
    if (s.ok()) s = writer.Finish();
    if (!s.ok()) Die(s, "get large");
  }
  Row(backend, "1 object download", "Ark ObjectStore", static_cast<double>(size), Now() - t0, 1);
  (void)env->RemoveFile(dst);
}

void BenchSmall(ObjectStore* store, const std::string& backend, const std::string& src_dir,
                size_t count, size_t size, int threads) {
  std::vector<std::string> data(count);
  Env* env = Env::Default();
  for (size_t i = 0; i < count; ++i) {
    if (!env->ReadFileToString(src_dir + "/" + std::to_string(i), &data[i]).ok()) std::exit(1);
  }
  std::atomic<int> failures{0};
  double t0 = Now();
  Parallel(count, threads, [&](size_t i) {
    if (!store->Put("small/" + std::to_string(i), data[i]).ok()) ++failures;
  });
  Row(backend, std::to_string(count) + " objects upload", "Ark ObjectStore",
      static_cast<double>(count * size), Now() - t0, count);
  t0 = Now();
  Parallel(count, threads, [&](size_t i) {
    auto got = store->Get("small/" + std::to_string(i));
    if (!got.ok() || *got != data[i]) ++failures;
  });
  Row(backend, std::to_string(count) + " objects download", "Ark ObjectStore",
      static_cast<double>(count * size), Now() - t0, count);
  if (failures.load() != 0) {
    std::fprintf(stderr, "%d small-object operations failed\n", failures.load());
    std::exit(1);
  }
}

}  // namespace
}  // namespace ark

int main(int argc, char** argv) {
  using namespace ark;
  std::string dir, s3_url;
  uint64_t size_mib = 1024;
  size_t small_count = 10000, small_size = 4096;
  int threads = 8;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--dir") dir = v;
    else if (a == "--s3") s3_url = v;
    else if (a == "--size-mib") size_mib = std::stoull(v);
    else if (a == "--small-count") small_count = std::stoull(v);
    else if (a == "--small-size") small_size = std::stoull(v);
    else if (a == "--threads") threads = std::stoi(v);
    else { std::fprintf(stderr, "unknown option %s\n", a.c_str()); return 2; }
  }
  if (dir.empty()) {
    std::fprintf(stderr, "usage: object_store_bench --dir SCRATCH [--s3 URL] ...\n");
    return 2;
  }
  Env* env = Env::Default();
  (void)env->RemoveAll(dir);
  if (!env->CreateDirs(dir + "/small-src").ok()) return 1;
  const uint64_t size = size_mib << 20;
  const std::string src = dir + "/large.src";

  // Inputs (not timed): one large random file, many small ones.
  {
    auto f = env->NewWritableFile(src);
    if (!f.ok()) Die(f.status(), "create source");
    std::mt19937_64 rng(1);
    std::string block(8 << 20, '\0');
    for (uint64_t done = 0; done < size; done += block.size()) {
      for (size_t i = 0; i + 8 <= block.size(); i += 8) {
        uint64_t v = rng();
        std::memcpy(block.data() + i, &v, 8);
      }
      if (!(*f)->Append(std::string_view(block.data(), std::min<uint64_t>(block.size(), size - done))).ok()) return 1;
    }
    if (!(*f)->Fsync().ok() || !(*f)->Close().ok()) return 1;
    std::mt19937_64 small_rng(2);
    for (size_t i = 0; i < small_count; ++i) {
      std::string s(small_size, '\0');
      for (auto& c : s) c = static_cast<char>(small_rng());
      if (!env->WriteFileAtomic(dir + "/small-src/" + std::to_string(i), s).ok()) return 1;
    }
    Shell("sync -f '" + dir + "'");
  }

  std::printf("| backend | data | method | seconds | MiB/s | objects/s |\n");
  std::printf("|---|---|---|---|---|---|\n");
  // Baselines: cp of the same data, then sync of the copy.
  double t = Shell("cp '" + src + "' '" + dir + "/large.cp' && sync '" + dir + "/large.cp'");
  Row("local", "1 object copy", "cp + sync FILE", static_cast<double>(size), t, 1);
  (void)env->RemoveFile(dir + "/large.cp");
  t = Shell("cp -r '" + dir + "/small-src' '" + dir + "/small.cp' && sync -f '" + dir + "/small.cp'");
  Row("local", std::to_string(small_count) + " objects copy", "cp -r + sync -f",
      static_cast<double>(small_count * small_size), t, small_count);
  (void)env->RemoveAll(dir + "/small.cp");

  {
    auto store = OpenObjectStore(dir + "/store");
    if (!store.ok()) Die(store.status(), "open local store");
    BenchLarge(store->get(), "local", src, dir + "/large.out", size);
    BenchSmall(store->get(), "local", dir + "/small-src", small_count, small_size, threads);
  }
  if (!s3_url.empty()) {
    auto store = OpenObjectStore(s3_url);
    if (!store.ok()) Die(store.status(), "open S3 store");
    BenchLarge(store->get(), "s3rver", src, dir + "/large.out", size);
    BenchSmall(store->get(), "s3rver", dir + "/small-src", small_count, small_size, threads);
  }
  return 0;
}
