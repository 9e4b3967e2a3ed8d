#include "index/index_build_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>

#include "index/test_data.h"
#include "index/vector_index.h"
#include "support/test_util.h"

namespace ark {
namespace {

using namespace std::chrono_literals;

// Records each task's final status.
struct Outcomes {
  std::mutex mu;
  std::map<IndexBuildPool::TaskId, Status> status;
  IndexBuildPool::DoneFn Done() {
    return [this](IndexBuildPool::TaskId id, const Status& s) {
      std::lock_guard<std::mutex> lock(mu);
      EXPECT_TRUE(status.emplace(id, s).second) << "done called twice for task " << id;
    };
  }
  bool Has(IndexBuildPool::TaskId id) {
    std::lock_guard<std::mutex> lock(mu);
    return status.count(id) > 0;
  }
  Status Get(IndexBuildPool::TaskId id) {
    std::lock_guard<std::mutex> lock(mu);
    return status.at(id);
  }
};

TEST(IndexBuildPoolTest, ManualModeRunsTasksInOrderOneStepAtATime) {
  IndexBuildPool pool({.threads = 0, .max_queued = 4});
  Outcomes out;
  std::vector<int> order;
  ASSERT_OK_AND_ASSIGN(auto a, pool.Submit("a", [&](const auto&) { order.push_back(1); return Status::OK(); },
                                           out.Done()));
  ASSERT_OK_AND_ASSIGN(auto b, pool.Submit("b", [&](const auto&) { order.push_back(2); return Status::IOError("disk"); },
                                           out.Done()));
  EXPECT_EQ(pool.queued(), 2u);
  EXPECT_TRUE(order.empty());  // nothing runs by itself
  EXPECT_TRUE(pool.RunOne());
  EXPECT_EQ(order, std::vector<int>{1});
  EXPECT_TRUE(pool.RunOne());
  EXPECT_FALSE(pool.RunOne());
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_OK(out.Get(a));
  EXPECT_TRUE(out.Get(b).Is(StatusCode::kIOError));
  EXPECT_TRUE(pool.WaitUntilIdle(0ms));
}

TEST(IndexBuildPoolTest, FullQueueRejectsAtOnceInsteadOfBlocking) {
  IndexBuildPool pool({.threads = 0, .max_queued = 2});
  auto noop = [](const auto&) { return Status::OK(); };
  ASSERT_OK(pool.Submit("s1", noop).status());
  ASSERT_OK(pool.Submit("s2", noop).status());
  auto third = pool.Submit("segment 3", noop);
  EXPECT_TRUE(third.status().Is(StatusCode::kResourceExhausted)) << third.status().ToString();
  EXPECT_NE(third.status().message().find("segment 3"), std::string::npos);
  EXPECT_TRUE(pool.RunOne());
  EXPECT_OK(pool.Submit("s4", noop).status());  // room again
}

TEST(IndexBuildPoolTest, CancelQueuedTaskNeverRunsAndReportsCancelled) {
  IndexBuildPool pool({.threads = 0, .max_queued = 4});
  Outcomes out;
  bool ran = false;
  ASSERT_OK_AND_ASSIGN(auto id, pool.Submit("x", [&](const auto&) { ran = true; return Status::OK(); }, out.Done()));
  EXPECT_TRUE(pool.Cancel(id));
  EXPECT_TRUE(out.Get(id).Is(StatusCode::kCancelled));
  EXPECT_FALSE(pool.RunOne());
  EXPECT_FALSE(ran);
  EXPECT_FALSE(pool.Cancel(id));  // already gone
}

TEST(IndexBuildPoolTest, CancelRunningTaskRaisesItsFlag) {
  IndexBuildPool pool({.threads = 1, .max_queued = 4});
  Outcomes out;
  std::atomic<bool> started{false};
  ASSERT_OK_AND_ASSIGN(auto id, pool.Submit("long", [&](const std::atomic<bool>& cancelled) {
    started = true;
    while (!cancelled.load()) std::this_thread::yield();
    return Status::Cancelled("stopped");
  }, out.Done()));
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!started.load() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  ASSERT_TRUE(started.load());
  EXPECT_EQ(pool.running(), 1u);
  EXPECT_TRUE(pool.Cancel(id));
  ASSERT_TRUE(pool.WaitUntilIdle(20s));
  EXPECT_TRUE(out.Get(id).Is(StatusCode::kCancelled));
}

TEST(IndexBuildPoolTest, WorkersBuildIndexesInTheBackground) {
  IndexBuildPool pool({.threads = 2, .max_queued = 8});
  auto data = testing::ClusteredData(300, 8, 4, 1);
  std::mutex mu;
  std::vector<std::unique_ptr<VectorIndex>> built;
  Outcomes out;
  std::vector<IndexBuildPool::TaskId> ids;
  for (IndexType type : {IndexType::kFlat, IndexType::kHnsw, IndexType::kIvfFlat}) {
    IndexSpec spec;
    spec.type = type;
    spec.metric = Metric::kL2;
    spec.dim = 8;
    spec.nlist = 4;
    ASSERT_OK_AND_ASSIGN(auto id, pool.Submit(std::string(IndexTypeName(type)), [&, spec](const std::atomic<bool>& c) {
      BuildOptions options;
      options.cancel = &c;
      ARK_ASSIGN_OR_RETURN(auto index, VectorIndex::Build(spec, data.data(), 300, options));
      std::lock_guard<std::mutex> lock(mu);
      built.push_back(std::move(index));
      return Status::OK();
    }, out.Done()));
    ids.push_back(id);
  }
  ASSERT_TRUE(pool.WaitUntilIdle(60s));
  for (auto id : ids) EXPECT_OK(out.Get(id));
  EXPECT_EQ(built.size(), 3u);
}

TEST(IndexBuildPoolTest, DestructorCancelsQueuedTasks) {
  Outcomes out;
  IndexBuildPool::TaskId id;
  {
    IndexBuildPool pool({.threads = 0, .max_queued = 4});
    ASSERT_OK_AND_ASSIGN(id, pool.Submit("q", [](const auto&) { return Status::OK(); }, out.Done()));
  }
  EXPECT_TRUE(out.Get(id).Is(StatusCode::kCancelled));
}

TEST(IndexBuildPoolTest, RaisedCancelFlagStopsAnHnswBuild) {
  auto data = testing::ClusteredData(2000, 8, 4, 2);
  IndexSpec spec;
  spec.type = IndexType::kHnsw;
  spec.dim = 8;
  std::atomic<bool> cancel{true};
  BuildOptions options;
  options.cancel = &cancel;
  auto r = VectorIndex::Build(spec, data.data(), 2000, options);
  EXPECT_TRUE(r.status().Is(StatusCode::kCancelled)) << r.status().ToString();
}

}  // namespace
}  // namespace ark
