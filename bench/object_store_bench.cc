// Object store throughput: one large object and many small ones, uploaded
// and downloaded through Ark's ObjectStore, beside a baseline measured in the
// same run (`cp` + `sync FILE` and `cp -r` + `sync -f` for the local backend;
// the AWS SDK for JavaScript against the same s3rver is run by
// bench/object_store_bench.sh).
//
//   object_store_bench --dir SCRATCH [--s3 s3://bucket/prefix?endpoint=...]
//                      [--size-mib 1024] [--small-count 10000] [--small-size 4096]
//                      [--threads 8] [--repeat 1]
//
// The local measurements run --repeat times, baseline and Ark back to back
// in each round (so a busy machine slows both alike), and each row reports
// the median. Before each measurement the filesystem is synced (untimed). Prints one Markdown table row per measurement. Credentials
// for --s3 come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
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

void Check(const Status& s, const char* what) {
  if (!s.ok()) Die(s, what);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// Seconds per named measurement, one entry per round.
using Timings = std::map<std::string, std::vector<double>>;

// The scratch directory; before each measurement its filesystem is synced
// (untimed) so that no one pays for the previous contender's write-back.
std::string g_settle_dir;

template <typename Fn>
void Time(Timings* t, const std::string& name, Fn fn) {
  if (!g_settle_dir.empty()) Shell("sync -f '" + g_settle_dir + "'");
  double t0 = Now();
  fn();
  (*t)[name].push_back(Now() - t0);
}

void PutStreamFromFile(ObjectStore* store, const std::string& key, const std::string& src) {
  auto f = Env::Default()->NewRandomAccessFile(src);
  if (!f.ok()) Die(f.status(), "open source");
  FileReader reader(std::move(*f));
  Check(store->PutStream(key, &reader), "put large (stream)");
}

void GetStreamToFile(ObjectStore* store, const std::string& key, const std::string& dst) {
  auto f = Env::Default()->NewWritableFile(dst);
  if (!f.ok()) Die(f.status(), "open destination");
  FileWriter writer(std::move(*f));
  Status s = store->GetStream(key, &writer);
  if (s.ok()) s = writer.Finish();
  Check(s, "get large (stream)");
}

// Large object: PutFile/GetFile (the backup and restore path: files on
// disk) and PutStream/GetStream through 1 MiB buffers. `local`: also the
// `cp` baseline.
void BenchLarge(ObjectStore* store, const std::string& dir, Timings* t, bool local) {
  Env* env = Env::Default();
  const std::string src = dir + "/large.src", out = dir + "/large.out";
  if (local) {
    Time(t, "large cp", [&] { Shell("cp '" + src + "' '" + dir + "/large.cp' && sync '" + dir + "/large.cp'"); });
    (void)env->RemoveFile(dir + "/large.cp");
  }
  Time(t, "large PutFile", [&] { Check(store->PutFile("large/file.bin", src), "put large (file)"); });
  Time(t, "large GetFile", [&] { Check(store->GetFile("large/file.bin", out), "get large (file)"); });
  (void)env->RemoveFile(out);
  Check(store->Delete("large/file.bin"), "delete large");
  Time(t, "large PutStream", [&] { PutStreamFromFile(store, "large/stream.bin", src); });
  Time(t, "large GetStream", [&] { GetStreamToFile(store, "large/stream.bin", out); });
  (void)env->RemoveFile(out);
  Check(store->Delete("large/stream.bin"), "delete large");
}

// Small objects: Put from `threads` threads (each durable on its own), and
// (local only) one PutBatch from memory and one from the source files; Get
// from threads. Nothing is deleted: ext4 skips inodes freed in the last
// minute(s) when it allocates new ones, which made whichever contender ran
// right after a mass delete pay for it. Every round writes new names
// (`round`); the scratch directory goes at the end.
void BenchSmall(ObjectStore* store, const std::string& dir, size_t count, int threads, int round,
                Timings* t, bool local) {
  const std::string src_dir = dir + "/small-src";
  const std::string prefix = "small/r" + std::to_string(round) + "/";
  Env* env = Env::Default();
  std::vector<std::string> data(count), keys(count);
  for (size_t i = 0; i < count; ++i) {
    Check(env->ReadFileToString(src_dir + "/" + std::to_string(i), &data[i]), "read small source");
  }
  if (local) {
    Time(t, "small cp", [&] {
      const std::string dst = dir + "/small.cp." + std::to_string(round);
      Shell("cp -r '" + src_dir + "' '" + dst + "' && sync -f '" + dst + "'");
    });
  }
  std::atomic<int> failures{0};
  for (size_t i = 0; i < count; ++i) keys[i] = prefix + "put/" + std::to_string(i);
  Time(t, "small Put", [&] {
    Parallel(count, threads, [&](size_t i) {
      if (!store->Put(keys[i], data[i]).ok()) ++failures;
    });
  });
  Time(t, "small Get", [&] {
    Parallel(count, threads, [&](size_t i) {
      auto got = store->Get(keys[i]);
      if (!got.ok() || *got != data[i]) ++failures;
    });
  });
  if (local) {  // PutBatch is one call: only the local store has a batched path
    std::vector<PutItem> from_memory(count), from_files(count);
    for (size_t i = 0; i < count; ++i) {
      from_memory[i] = {prefix + "batch-mem/" + std::to_string(i), data[i], ""};
      from_files[i] = {prefix + "batch-file/" + std::to_string(i), {},
                       src_dir + "/" + std::to_string(i)};
    }
    Time(t, "small PutBatch mem", [&] { Check(store->PutBatch(from_memory), "put batch (memory)"); });
    Time(t, "small PutBatch file", [&] { Check(store->PutBatch(from_files), "put batch (files)"); });
    for (size_t i = 0; i < count; ++i) {
      auto got = store->Get(from_files[i].key);
      if (!got.ok() || *got != data[i]) ++failures;
    }
  }
  if (failures.load() != 0) {
    std::fprintf(stderr, "%d small-object operations failed\n", failures.load());
    std::exit(1);
  }
}

void Report(const std::string& backend, const Timings& t, uint64_t size, size_t count,
            size_t small_size, int threads, int rounds) {
  const std::string n = std::to_string(count);
  const std::string med = rounds > 1 ? " (median of " + std::to_string(rounds) + ")" : "";
  struct RowSpec { const char* name; std::string what, method; bool large; };
  const std::vector<RowSpec> rows = {
      {"large cp", "1 object copy", "`cp` + `sync FILE`", true},
      {"large PutFile", "1 object upload", "Ark PutFile", true},
      {"large PutStream", "1 object upload", "Ark PutStream (1 MiB reads)", true},
      {"large GetFile", "1 object download", "Ark GetFile", true},
      {"large GetStream", "1 object download", "Ark GetStream (1 MiB writes)", true},
      {"small cp", n + " objects copy", "`cp -r` + `sync -f`", false},
      {"small PutBatch mem", n + " objects upload", "Ark PutBatch (from memory)", false},
      {"small PutBatch file", n + " objects upload", "Ark PutBatch (from files)", false},
      {"small Put", n + " objects upload", "Ark Put x " + std::to_string(threads) + " threads", false},
      {"small Get", n + " objects download", "Ark Get x " + std::to_string(threads) + " threads", false},
  };
  for (const auto& r : rows) {
    auto it = t.find(r.name);
    if (it == t.end()) continue;
    Row(backend, r.what, r.method + med, r.large ? static_cast<double>(size)
                                                 : static_cast<double>(count * small_size),
        Median(it->second), r.large ? 1 : count);
  }
}

}  // namespace
}  // namespace ark

int main(int argc, char** argv) {
  using namespace ark;
  std::string dir, s3_url;
  uint64_t size_mib = 1024;
  size_t small_count = 10000, small_size = 4096;
  int threads = 8, repeat = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--dir") dir = v;
    else if (a == "--s3") s3_url = v;
    else if (a == "--size-mib") size_mib = std::stoull(v);
    else if (a == "--small-count") small_count = std::stoull(v);
    else if (a == "--small-size") small_size = std::stoull(v);
    else if (a == "--threads") threads = std::stoi(v);
    else if (a == "--repeat") repeat = std::max(1, std::stoi(v));
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

  g_settle_dir = dir;
  std::printf("| backend | data | method | seconds | MiB/s | objects/s |\n");
  std::printf("|---|---|---|---|---|---|\n");
  {
    auto store = OpenObjectStore(dir + "/store");
    if (!store.ok()) Die(store.status(), "open local store");
    Timings t;
    for (int r = 0; r < repeat; ++r) {
      BenchLarge(store->get(), dir, &t, /*local=*/true);
      BenchSmall(store->get(), dir, small_count, threads, r, &t, /*local=*/true);
    }
    Report("local", t, size, small_count, small_size, threads, repeat);
  }
  if (!s3_url.empty()) {
    auto store = OpenObjectStore(s3_url);
    if (!store.ok()) Die(store.status(), "open S3 store");
    Timings t;
    BenchLarge(store->get(), dir, &t, /*local=*/false);
    BenchSmall(store->get(), dir, small_count, threads, 0, &t, /*local=*/false);
    Report("s3rver", t, size, small_count, small_size, threads, 1);
  }
  return 0;
}
