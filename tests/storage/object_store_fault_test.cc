// Fault injection against every backend: under injected failures each call
// either succeeds or reports an error, and no partial object ever becomes
// visible as complete. Also checks FaultInjectingStore's own faults.
#include <chrono>
#include <map>
#include <set>

#include "core/coding.h"
#include "core/hash.h"
#include "storage/env.h"
#include "storage/fault_injecting_store.h"
#include "storage/object_store_test_util.h"

namespace ark::testing {
namespace {

// A self-verifying value: 8-byte length, 8-byte XXH3 of the payload, payload.
std::string MakeValue(size_t payload_size, uint64_t seed) {
  std::string payload = RandomBytes(payload_size, seed);
  std::string v(16, '\0');
  uint64_t n = payload.size(), h = Xxh3_64(payload);
  std::memcpy(v.data(), &n, 8);
  std::memcpy(v.data() + 8, &h, 8);
  return v + payload;
}

bool IsCompleteValue(const std::string& v) {
  if (v.size() < 16) return false;
  uint64_t n, h;
  std::memcpy(&n, v.data(), 8);
  std::memcpy(&h, v.data() + 8, 8);
  return n == v.size() - 16 && h == Xxh3_64(v.data() + 16, n);
}

class ObjectStoreFaults : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "s3" && S3TestsSkipped()) GTEST_SKIP() << "ARK_SKIP_S3 is set";
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(name.begin(), name.end(), '/', '-');
    auto store = OpenTestStore(GetParam(), "faults-" + name, &dir_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    base_ = std::move(*store);
    faulty_ = std::make_unique<FaultInjectingStore>(base_.get());
  }

  TempDir dir_;
  std::unique_ptr<ObjectStore> base_;
  std::unique_ptr<FaultInjectingStore> faulty_;
};

TEST_P(ObjectStoreFaults, RandomFailuresNeverExposeAPartialObject) {
  constexpr const char* kAbsent = "<absent>";
  faulty_->FailRandomly(FaultInjectingStore::kAll, 0.35, /*seed=*/42);
  std::mt19937_64 rng(7);
  // Per key: every state the store may legitimately be in after the calls so far.
  std::map<std::string, std::set<std::string>> possible;
  int ok_calls = 0, failed_calls = 0;
  for (int i = 0; i < 120; ++i) {
    std::string key = "k/" + std::to_string(rng() % 6);
    if (!possible.count(key)) possible[key] = {kAbsent};
    int action = static_cast<int>(rng() % 5);
    if (action <= 1) {
      // Mostly small values; some above the multipart threshold on S3.
      size_t size = (i % 17 == 0) ? (9u << 20) + (rng() % 1000) : rng() % 200'000;
      std::string value = MakeValue(size, static_cast<uint64_t>(i));
      Status s = (i % 2 == 0) ? faulty_->Put(key, value)
                              : [&] {
                                  ChunkedReader reader(value, 100'000);
                                  return faulty_->PutStream(key, &reader);
                                }();
      if (s.ok()) {
        possible[key] = {value};
        ++ok_calls;
      } else {
        possible[key].insert(value);  // a failed put may still have happened (lost reply)
        ++failed_calls;
      }
    } else if (action == 2) {
      Status s = faulty_->Delete(key);
      if (s.ok()) {
        possible[key] = {kAbsent};
      } else {
        possible[key].insert(kAbsent);
      }
      s.ok() ? ++ok_calls : ++failed_calls;
    } else if (action == 3) {
      auto got = faulty_->Get(key);
      if (got.ok()) {
        EXPECT_TRUE(IsCompleteValue(*got)) << key << " read back incomplete";
        EXPECT_TRUE(possible[key].count(*got)) << key;
        ++ok_calls;
      } else {
        EXPECT_TRUE(got.status().IsNotFound() || got.status().IsRetryable())
            << got.status().ToString();
        ++failed_calls;
      }
    } else {
      auto listed = faulty_->ListAll("k/");
      listed.ok() ? ++ok_calls : ++failed_calls;
    }
  }
  EXPECT_GT(ok_calls, 20);
  EXPECT_GT(failed_calls, 10);
  EXPECT_GT(faulty_->injected(), 10u);

  // With the faults gone: every listed object is complete and a legitimate state.
  faulty_->Clear();
  ASSERT_OK_AND_ASSIGN(auto objects, base_->ListAll(""));
  std::set<std::string> listed;
  for (const auto& o : objects) {
    listed.insert(o.key);
    ASSERT_OK_AND_ASSIGN(std::string v, base_->Get(o.key));
    EXPECT_TRUE(IsCompleteValue(v)) << o.key;
    EXPECT_TRUE(possible[o.key].count(v)) << o.key << " holds a value never written to it";
    EXPECT_EQ(o.size, v.size());
  }
  for (const auto& [key, states] : possible) {
    if (!listed.count(key)) {
      EXPECT_TRUE(states.count(kAbsent)) << key << " vanished";
    }
  }
}

TEST_P(ObjectStoreFaults, TornUploadKeepsThePreviousVersion) {
  std::string old_value = MakeValue(1000, 1);
  ASSERT_OK(faulty_->Put("obj", old_value));
  for (size_t size : {size_t{300'000}, size_t{10u << 20}}) {
    faulty_->FailNext(FaultInjectingStore::kPut, 1, Status::Unavailable("injected"),
                      FaultInjectingStore::PutFailure::kTorn);
    EXPECT_FALSE(faulty_->Put("obj", MakeValue(size, 2)).ok());
    ASSERT_OK_AND_ASSIGN(std::string got, base_->Get("obj"));
    EXPECT_EQ(got, old_value);
    faulty_->FailNext(FaultInjectingStore::kPut, 1, Status::Unavailable("injected"),
                      FaultInjectingStore::PutFailure::kTorn);
    EXPECT_FALSE(faulty_->Put("fresh", MakeValue(size, 3)).ok());
    EXPECT_TRUE(base_->Head("fresh").status().IsNotFound());
  }
}

TEST_P(ObjectStoreFaults, TornPutFileKeepsThePreviousVersion) {
  std::string old_value = MakeValue(1000, 1);
  ASSERT_OK(faulty_->Put("obj", old_value));
  const std::string src = dir_.Sub("upload.src");
  for (size_t size : {size_t{300'000}, size_t{10u << 20}}) {
    ASSERT_OK(Env::Default()->WriteFileAtomic(src, MakeValue(size, 2)));
    faulty_->FailNext(FaultInjectingStore::kPut, 1, Status::Unavailable("injected"),
                      FaultInjectingStore::PutFailure::kTorn);
    EXPECT_FALSE(faulty_->PutFile("obj", src).ok());
    ASSERT_OK_AND_ASSIGN(std::string got, base_->Get("obj"));
    EXPECT_EQ(got, old_value);
    faulty_->FailNext(FaultInjectingStore::kPut, 1, Status::Unavailable("injected"),
                      FaultInjectingStore::PutFailure::kTorn);
    EXPECT_FALSE(faulty_->PutFile("fresh", src).ok());
    EXPECT_TRUE(base_->Head("fresh").status().IsNotFound());
  }
}

TEST_P(ObjectStoreFaults, RandomFailuresInBatchesNeverExposeAPartialObject) {
  constexpr const char* kAbsent = "<absent>";
  faulty_->FailRandomly(FaultInjectingStore::kPut, 0.2, /*seed=*/43);
  std::map<std::string, std::set<std::string>> possible;
  int failed_batches = 0;
  for (int round = 0; round < 12; ++round) {
    std::vector<std::string> values, files;
    std::vector<PutItem> batch;
    for (int i = 0; i < 5; ++i) {
      std::string key = "b/" + std::to_string((round * 3 + i) % 9);
      values.push_back(MakeValue(static_cast<size_t>(1000 * (round + i)), static_cast<uint64_t>(round * 10 + i)));
      if (!possible.count(key)) possible[key] = {kAbsent};
    }
    for (int i = 0; i < 5; ++i) {
      std::string key = "b/" + std::to_string((round * 3 + i) % 9);
      if (i % 2 == 0) {
        files.push_back(dir_.Sub("batch-" + std::to_string(round) + "-" + std::to_string(i)));
        ASSERT_OK(Env::Default()->WriteFileAtomic(files.back(), values[static_cast<size_t>(i)]));
        batch.push_back({key, {}, files.back()});
      } else {
        batch.push_back({key, values[static_cast<size_t>(i)], ""});
      }
    }
    Status s = faulty_->PutBatch(batch);
    if (!s.ok()) ++failed_batches;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (s.ok()) {
        possible[batch[i].key] = {values[i]};
      } else {
        possible[batch[i].key].insert(values[i]);
      }
    }
  }
  EXPECT_GT(failed_batches, 2);
  faulty_->Clear();
  ASSERT_OK_AND_ASSIGN(auto objects, base_->ListAll(""));
  for (const auto& o : objects) {
    ASSERT_OK_AND_ASSIGN(std::string v, base_->Get(o.key));
    EXPECT_TRUE(IsCompleteValue(v)) << o.key;
    EXPECT_TRUE(possible[o.key].count(v)) << o.key << " holds a value never written to it";
  }
}

TEST_P(ObjectStoreFaults, FailNextFailsExactlyThatManyCallsWithTheGivenCode) {
  faulty_->FailNext(FaultInjectingStore::kPut | FaultInjectingStore::kHead, 2,
                    Status::PermissionDenied("injected"));
  EXPECT_TRUE(faulty_->Put("a", "1").Is(StatusCode::kPermissionDenied));
  EXPECT_TRUE(faulty_->Head("a").status().Is(StatusCode::kPermissionDenied));
  EXPECT_OK(faulty_->Put("a", "1"));
  EXPECT_OK(faulty_->Head("a").status());
  EXPECT_EQ(faulty_->injected(), 2u);
}

TEST_P(ObjectStoreFaults, ShortAndCorruptReadsReachTheCallerAsOk) {
  std::string value = MakeValue(50'000, 5);
  ASSERT_OK(faulty_->Put("v", value));
  faulty_->ShortReads(0.5);
  ASSERT_OK_AND_ASSIGN(std::string short_read, faulty_->Get("v"));
  EXPECT_LT(short_read.size(), value.size());
  EXPECT_FALSE(IsCompleteValue(short_read));
  faulty_->Clear();
  faulty_->CorruptReads(true);
  ASSERT_OK_AND_ASSIGN(std::string corrupt, faulty_->Get("v"));
  EXPECT_EQ(corrupt.size(), value.size());
  EXPECT_FALSE(IsCompleteValue(corrupt));
  faulty_->Clear();
  ASSERT_OK_AND_ASSIGN(std::string clean, faulty_->Get("v"));
  EXPECT_EQ(clean, value);
}

TEST_P(ObjectStoreFaults, HangFailsWithTimedOutAfterTheDelay) {
  ASSERT_OK(faulty_->Put("h", "x"));
  faulty_->Hang(FaultInjectingStore::kHead, 200);
  auto start = std::chrono::steady_clock::now();
  Status s = faulty_->Head("h").status();
  EXPECT_TRUE(s.Is(StatusCode::kTimedOut)) << s.ToString();
  EXPECT_TRUE(s.IsRetryable());
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(200));
  EXPECT_OK(faulty_->Get("h").status());  // other operations unaffected
  faulty_->Clear();
  EXPECT_OK(faulty_->Head("h").status());
}

INSTANTIATE_TEST_SUITE_P(Backends, ObjectStoreFaults, ::testing::Values("local", "s3"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace ark::testing
