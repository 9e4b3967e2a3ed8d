// The Witness conformance suite: witness.h's compare-and-set rule, checked
// the same way against every implementation (as litestream runs every
// ReplicaClient through one suite). Each case gets a fresh, empty store from
// a factory; a second independent client to that store plays the second
// server. Expiry is real time on the witness's clock, so the cases that need
// it use a short ttl and poll Read() until the record is no longer live.
//
// To add an implementation: write a WitnessUnderTest for it and add one line
// to AllWitnessFactories() below.
//
// The etcd factory starts one real etcd (/usr/bin/etcd from Debian's
// etcd-server, or $ARK_ETCD_BIN) per test suite on free loopback ports; each
// test uses its own key prefix.
// Without etcd the tests fail and say to run scripts/install-deps.sh, unless
// ARK_SKIP_ETCD=1 (then they are skipped).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <latch>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "dr/failover/etcd_witness.h"
#include "dr/failover/monitor_witness.h"
#include "dr/failover/witness.h"
#include "support/test_util.h"

namespace ark::dr {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// ---- what an implementation provides --------------------------------------

// One test's witness: a fresh, empty store and clients to it. Owns whatever
// it started or opened (the store outlives every client it hands out).
class WitnessUnderTest {
 public:
  virtual ~WitnessUnderTest() = default;
  // The client the test mostly talks to (owned here).
  virtual Witness* witness() = 0;
  // Another independent client of the same store, as a second server has.
  virtual std::unique_ptr<Witness> NewClient() = 0;
  // A client of the same kind whose store cannot be reached (nothing listens
  // at its address); `*address` is what its errors must name.
  virtual std::unique_ptr<Witness> NewUnreachableClient(std::string* address) = 0;
};

struct WitnessFactory {
  std::string name;  // the test-name suffix: letters, digits, '_'
  // Returns nullptr after GTEST_SKIP() or ADD_FAILURE() saying why.
  std::function<std::unique_ptr<WitnessUnderTest>()> make;
};

// gtest prints a parameter with this (instead of its bytes).
void PrintTo(const WitnessFactory& factory, std::ostream* os) { *os << factory.name; }

// Every suite that started a shared service stops it here (TearDownTestSuite).
void StopSharedServices();

// ---- etcd -----------------------------------------------------------------

int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

// ARK_ETCD_BIN names another binary ("" if it is not executable).
std::string FindEtcd() {
  if (const char* bin = std::getenv("ARK_ETCD_BIN"); bin != nullptr && *bin != '\0') {
    return ::access(bin, X_OK) == 0 ? bin : "";
  }
  if (::access("/usr/bin/etcd", X_OK) == 0) return "/usr/bin/etcd";
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    std::string candidate = dir + "/etcd";
    if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

std::string ReadTail(const std::string& path) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  constexpr size_t kTail = 3000;
  return text.size() > kTail ? text.substr(text.size() - kTail) : text;
}

// One etcd child process with its data in a temp dir; killed (and the dir
// removed) on destruction.
class EtcdProcess {
 public:
  static Result<std::unique_ptr<EtcdProcess>> Start(const std::string& binary) {
    Status last;
    for (int attempt = 0; attempt < 3; ++attempt) {  // a port taken meanwhile: new ports
      std::unique_ptr<EtcdProcess> p(new EtcdProcess());
      last = p->Launch(binary);
      if (last.ok()) return p;
    }
    return last;
  }

  ~EtcdProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ignored;
    if (!dir_.empty() && std::getenv("ARK_KEEP_TEST_DIRS") == nullptr)
      std::filesystem::remove_all(dir_, ignored);
  }

  const std::string& endpoint() const { return endpoint_; }

 private:
  EtcdProcess() = default;

  Status Launch(const std::string& binary) {
    std::string tmpl = std::filesystem::temp_directory_path().string() + "/ark-etcd-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) return Status::IOError("mkdtemp " + tmpl);
    dir_ = tmpl;
    int client = FreeLoopbackPort(), peer = FreeLoopbackPort();
    if (client == 0 || peer == 0 || client == peer)
      return Status::Unavailable("no free loopback ports");
    endpoint_ = "http://127.0.0.1:" + std::to_string(client);
    std::string peer_url = "http://127.0.0.1:" + std::to_string(peer);
    std::vector<std::string> args = {binary,
                                     "--name",
                                     "t",
                                     "--data-dir",
                                     dir_ + "/data",
                                     "--listen-client-urls",
                                     endpoint_,
                                     "--advertise-client-urls",
                                     endpoint_,
                                     "--listen-peer-urls",
                                     peer_url,
                                     "--initial-advertise-peer-urls",
                                     peer_url,
                                     "--initial-cluster",
                                     "t=" + peer_url};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string log = dir_ + "/etcd.log";
    pid_ = ::fork();
    if (pid_ < 0) return Status::IOError("fork failed");
    if (pid_ == 0) {                       // the child: only async-signal-safe calls until exec
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a crashed test
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    return WaitHealthy(log);
  }

  // Polls GET /health until etcd answers healthy, it exits, or 30 s pass.
  Status WaitHealthy(const std::string& log) {
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (Clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return Status::Unavailable("etcd exited at start; its log:\n" + ReadTail(log));
      }
      httplib::Client client(endpoint_);
      client.set_connection_timeout(0, 200000);
      client.set_read_timeout(1, 0);
      httplib::Result res = client.Get("/health");
      if (res && res->status == 200 && res->body.find("\"true\"") != std::string::npos)
        return Status::OK();
      std::this_thread::sleep_for(milliseconds(50));
    }
    return Status::TimedOut("etcd did not become healthy within 30 s; its log:\n" + ReadTail(log));
  }

  pid_t pid_ = -1;
  std::string dir_;
  std::string endpoint_;
};

// One etcd shared by the tests of a suite (started on first use).
struct SharedEtcd {
  std::unique_ptr<EtcdProcess> process;
  Status failure;  // why it could not start (then not retried in this suite)
};
SharedEtcd& TheSharedEtcd() {
  static SharedEtcd shared;
  return shared;
}

void SkipTest(const std::string& why) { GTEST_SKIP() << why; }

// The shared etcd's endpoint, or "" after skipping or failing the test.
std::string EtcdEndpointOrSkip() {
  SharedEtcd& shared = TheSharedEtcd();
  if (shared.process) return shared.process->endpoint();
  if (!shared.failure.ok()) {
    ADD_FAILURE() << shared.failure.ToString();
    return "";
  }
  std::string binary = FindEtcd();
  if (binary.empty()) {
    const char* skip = std::getenv("ARK_SKIP_ETCD");
    if (skip != nullptr && std::string(skip) == "1") {
      SkipTest("etcd not installed and ARK_SKIP_ETCD=1");
    } else {
      ADD_FAILURE()
          << "etcd not found (ARK_ETCD_BIN, /usr/bin/etcd or on PATH): run scripts/install-deps.sh "
             "(it installs etcd-server), or set ARK_SKIP_ETCD=1 to skip the etcd witness tests";
    }
    return "";
  }
  Result<std::unique_ptr<EtcdProcess>> started = EtcdProcess::Start(binary);
  if (!started.ok()) {
    shared.failure = started.status();
    ADD_FAILURE() << "could not start " << binary << ": " << shared.failure.ToString();
    return "";
  }
  shared.process = std::move(started).value();
  return shared.process->endpoint();
}

// A key prefix no other test uses.
std::string FreshPrefix() {
  static std::atomic<int> counter{0};
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info ? std::string(info->test_suite_name()) + "/" + info->name() : "test";
  return "/ark-test/" + std::to_string(::getpid()) + "/" + name + "/" + std::to_string(counter++);
}

std::unique_ptr<Witness> OpenEtcdOrDie(const std::string& endpoint, const std::string& prefix) {
  EtcdWitnessOptions o;
  o.endpoint = endpoint;
  o.prefix = prefix;
  o.timeout_ms = 5000;  // sanitizer builds are slow
  Result<std::unique_ptr<Witness>> w = OpenEtcdWitness(o);
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  return w.ok() ? std::move(w).value() : nullptr;
}

class EtcdUnderTest final : public WitnessUnderTest {
 public:
  EtcdUnderTest(std::string endpoint, std::string prefix)
      : endpoint_(std::move(endpoint)),
        prefix_(std::move(prefix)),
        first_(OpenEtcdOrDie(endpoint_, prefix_)) {}
  Witness* witness() override { return first_.get(); }
  std::unique_ptr<Witness> NewClient() override { return OpenEtcdOrDie(endpoint_, prefix_); }
  std::unique_ptr<Witness> NewUnreachableClient(std::string* address) override {
    *address = "http://127.0.0.1:" + std::to_string(FreeLoopbackPort());
    return OpenEtcdOrDie(*address, prefix_);
  }

 private:
  const std::string endpoint_;
  const std::string prefix_;
  std::unique_ptr<Witness> first_;
};

std::unique_ptr<WitnessUnderTest> MakeEtcdUnderTest() {
  std::string endpoint = EtcdEndpointOrSkip();
  if (endpoint.empty()) return nullptr;
  auto under_test = std::make_unique<EtcdUnderTest>(endpoint, FreshPrefix());
  if (under_test->witness() == nullptr) return nullptr;
  return under_test;
}

void StopSharedServices() {
  TheSharedEtcd().process.reset();
  TheSharedEtcd().failure = Status::OK();
}

// ---- ark monitor -----------------------------------------------------------

// A real `ark monitor` process (the binary under test) serving its witness
// routes from a fresh data directory; killed on destruction. Failover is off
// and checks are rare: only the witness is under test here.
class MonitorProcess {
 public:
  static Result<std::unique_ptr<MonitorProcess>> Start() {
    const char* dir = std::getenv("ARK_TEST_BINARY_DIR");
    if (dir == nullptr) return Status::FailedPrecondition("ARK_TEST_BINARY_DIR is not set (run through ctest)");
    const std::string binary = std::string(dir) + "/ark";
    if (::access(binary.c_str(), X_OK) != 0) return Status::NotFound(binary + " is not built (ninja ark)");
    Status last;
    for (int attempt = 0; attempt < 3; ++attempt) {
      std::unique_ptr<MonitorProcess> p(new MonitorProcess());
      last = p->Launch(binary);
      if (last.ok()) return p;
    }
    return last;
  }
  ~MonitorProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ignored;
    if (!dir_.empty() && std::getenv("ARK_KEEP_TEST_DIRS") == nullptr) std::filesystem::remove_all(dir_, ignored);
  }
  const std::string& url() const { return url_; }

 private:
  MonitorProcess() = default;
  Status Launch(const std::string& binary) {
    std::string tmpl = std::filesystem::temp_directory_path().string() + "/ark-monitor-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) return Status::IOError("mkdtemp " + tmpl);
    dir_ = tmpl;
    const int port = FreeLoopbackPort();
    if (port == 0) return Status::Unavailable("no free loopback port");
    url_ = "http://127.0.0.1:" + std::to_string(port);
    std::vector<std::string> args = {binary, "monitor", "--listen", "127.0.0.1:" + std::to_string(port),
                                     "--data-dir", dir_ + "/data", "--node", "n1=http://127.0.0.1:9",
                                     "--node", "n2=http://127.0.0.1:9", "--no-auto-failover",
                                     "--check-interval-ms", "600000", "--check-timeout-ms", "100"};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string log = dir_ + "/monitor.log";
    pid_ = ::fork();
    if (pid_ < 0) return Status::IOError("fork failed");
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (Clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return Status::Unavailable("ark monitor exited at start; its log:\n" + ReadTail(log));
      }
      httplib::Client client(url_);
      client.set_connection_timeout(0, 200000);
      httplib::Result res = client.Get("/healthz");
      if (res && res->status == 200) return Status::OK();
      std::this_thread::sleep_for(milliseconds(20));  // polling for readiness, bounded by the deadline
    }
    return Status::TimedOut("ark monitor did not answer /healthz within 30 s; its log:\n" + ReadTail(log));
  }
  pid_t pid_ = -1;
  std::string dir_;
  std::string url_;
};

std::unique_ptr<Witness> OpenMonitorOrDie(const std::string& url) {
  HttpCallOptions o;
  o.timeout_ms = 5000;
  Result<std::unique_ptr<Witness>> w = OpenMonitorWitness(url, o);
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  return w.ok() ? std::move(w).value() : nullptr;
}

class MonitorUnderTest final : public WitnessUnderTest {
 public:
  explicit MonitorUnderTest(std::unique_ptr<MonitorProcess> p)
      : process_(std::move(p)), first_(OpenMonitorOrDie(process_->url())) {}
  Witness* witness() override { return first_.get(); }
  std::unique_ptr<Witness> NewClient() override { return OpenMonitorOrDie(process_->url()); }
  std::unique_ptr<Witness> NewUnreachableClient(std::string* address) override {
    *address = "http://127.0.0.1:" + std::to_string(FreeLoopbackPort());
    return OpenMonitorOrDie(*address);
  }

 private:
  std::unique_ptr<MonitorProcess> process_;
  std::unique_ptr<Witness> first_;
};

std::unique_ptr<WitnessUnderTest> MakeMonitorUnderTest() {
  auto p = MonitorProcess::Start();
  if (!p.ok()) {
    ADD_FAILURE() << p.status().ToString();
    return nullptr;
  }
  auto under_test = std::make_unique<MonitorUnderTest>(std::move(p).value());
  if (under_test->witness() == nullptr) return nullptr;
  return under_test;
}

// ---- the implementations under test ---------------------------------------

std::vector<WitnessFactory> AllWitnessFactories() {
  return {
      {"etcd", MakeEtcdUnderTest},
      {"monitor", MakeMonitorUnderTest},  // MonitorWitness over HTTP to a real `ark monitor`
  };
}

// ---- the suite --------------------------------------------------------------

constexpr uint64_t kShortTtlMs = 1000;  // cases that wait for expiry
constexpr uint64_t kLongTtlMs = 60000;  // cases that must not see one

LeaderClaim ClaimOf(const std::string& holder, uint64_t epoch, uint64_t ttl_ms) {
  return LeaderClaim{holder, "http://" + holder + ".example:19530", epoch, ttl_ms};
}

class WitnessConformanceTest : public ::testing::TestWithParam<WitnessFactory> {
 protected:
  void SetUp() override {
    under_test_ = GetParam().make();
    if (IsSkipped()) return;
    ASSERT_NE(under_test_, nullptr) << "the " << GetParam().name << " witness could not be set up";
    witness_ = under_test_->witness();
    other_ = under_test_->NewClient();
    ASSERT_NE(other_, nullptr);
  }
  static void TearDownTestSuite() { StopSharedServices(); }

  ClaimAnswer ClaimOk(Witness* w, const LeaderClaim& c) {
    Result<ClaimAnswer> a = w->Claim(c);
    EXPECT_TRUE(a.ok()) << c.holder << " epoch " << c.epoch << ": " << a.status().ToString();
    return a.ok() ? *a : ClaimAnswer{};
  }
  LeaderRecord ReadOk(Witness* w) {
    Result<LeaderRecord> r = w->Read();
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : LeaderRecord{};
  }
  // Polls Read() (through the other client) until the record is no longer
  // live; fails if that takes far longer than `ttl_ms`.
  void WaitUntilExpired(uint64_t ttl_ms) {
    const auto deadline = Clock::now() + milliseconds(ttl_ms) + std::chrono::seconds(10);
    while (true) {
      Result<LeaderRecord> r = other_->Read();
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      if (!r->live()) return;
      ASSERT_LT(Clock::now(), deadline)
          << "the record of " << r->holder << " is still live (" << r->remaining_ms
          << " ms left) long after its ttl of " << ttl_ms << " ms";
      std::this_thread::sleep_for(milliseconds(20));
    }
  }

  std::unique_ptr<WitnessUnderTest> under_test_;
  Witness* witness_ = nullptr;
  std::unique_ptr<Witness> other_;  // the second server's client
};

TEST_P(WitnessConformanceTest, AnEmptyStoreHasNoRecord) {
  LeaderRecord r = ReadOk(witness_);
  EXPECT_FALSE(r.exists);
  EXPECT_FALSE(r.live());
}

TEST_P(WitnessConformanceTest, TheFirstClaimIsGranted) {
  ClaimAnswer a = ClaimOk(witness_, ClaimOf("alpha", 1, kLongTtlMs));
  EXPECT_TRUE(a.granted);
  EXPECT_FALSE(a.superseded);
  EXPECT_TRUE(a.record.exists);
  EXPECT_EQ(a.record.holder, "alpha");
  EXPECT_EQ(a.record.epoch, 1u);
  EXPECT_GT(a.record.remaining_ms, 0u);
  EXPECT_LE(a.record.remaining_ms, kLongTtlMs);
}

TEST_P(WitnessConformanceTest, ReadFromAnotherClientShowsTheLiveHolder) {
  LeaderClaim c = ClaimOf("alpha", 3, kLongTtlMs);
  ASSERT_TRUE(ClaimOk(witness_, c).granted);
  LeaderRecord r = ReadOk(other_.get());
  EXPECT_TRUE(r.exists);
  EXPECT_TRUE(r.live());
  EXPECT_EQ(r.holder, "alpha");
  EXPECT_EQ(r.url, c.url);
  EXPECT_EQ(r.epoch, 3u);
  EXPECT_EQ(r.ttl_ms, kLongTtlMs);
  EXPECT_GT(r.remaining_ms, 0u);
  EXPECT_LE(r.remaining_ms, kLongTtlMs);
}

TEST_P(WitnessConformanceTest, RenewalBySameHolderAndEpochIsGranted) {
  ASSERT_TRUE(ClaimOk(witness_, ClaimOf("alpha", 1, kLongTtlMs)).granted);
  ClaimAnswer renewed = ClaimOk(witness_, ClaimOf("alpha", 1, kLongTtlMs));
  EXPECT_TRUE(renewed.granted);
  EXPECT_EQ(renewed.record.holder, "alpha");
  EXPECT_GT(renewed.record.remaining_ms, 0u);
  // From the other server's client too (the witness, not the connection, holds the lease).
  EXPECT_TRUE(ClaimOk(other_.get(), ClaimOf("alpha", 1, kLongTtlMs)).granted);
}

TEST_P(WitnessConformanceTest, RenewalsKeepTheLeaseLivePastItsTtl) {
  ASSERT_TRUE(ClaimOk(witness_, ClaimOf("alpha", 1, kShortTtlMs)).granted);
  // Renew every ttl/5 for several ttls (etcd rounds a lease up to whole
  // seconds, 2 s at least). A promotion is tried first in every round, before
  // the renewal: it gets through if the lease lapsed since the last renewal
  // (a renewal that only rewrote the record would pass otherwise, since the
  // holder may re-claim its own expired epoch).
  const auto end = Clock::now() + milliseconds(3 * kShortTtlMs + 1500);
  int rounds = 0;
  while (Clock::now() < end) {
    std::this_thread::sleep_for(
        milliseconds(kShortTtlMs / 5));  // the renew interval, not a wait for an event
    ClaimAnswer promotion = ClaimOk(other_.get(), ClaimOf("beta", 2, kShortTtlMs));
    ASSERT_FALSE(promotion.granted) << "round " << rounds << ": the lease lapsed although renewed";
    EXPECT_EQ(promotion.record.holder, "alpha");
    ClaimAnswer renewed = ClaimOk(witness_, ClaimOf("alpha", 1, kShortTtlMs));
    ASSERT_TRUE(renewed.granted) << "round " << rounds;
    ++rounds;
  }
  EXPECT_GE(rounds, 5);
}

TEST_P(WitnessConformanceTest, AnotherHolderIsRefusedWhileTheRecordIsLive) {
  ASSERT_TRUE(ClaimOk(witness_, ClaimOf("alpha", 1, kLongTtlMs)).granted);
  for (uint64_t epoch : {1u, 2u}) {
    ClaimAnswer a = ClaimOk(other_.get(), ClaimOf("beta", epoch, kLongTtlMs));
    EXPECT_FALSE(a.granted) << "epoch " << epoch;
    EXPECT_FALSE(a.superseded) << "epoch " << epoch;
    EXPECT_EQ(a.record.holder, "alpha") << "the refusal names the live holder";
    EXPECT_EQ(a.record.epoch, 1u);
    EXPECT_TRUE(a.record.live());
  }
  EXPECT_EQ(ReadOk(witness_).holder, "alpha");
}

TEST_P(WitnessConformanceTest, ALowerEpochIsSupersededEvenWhileLive) {
  ASSERT_TRUE(ClaimOk(witness_, ClaimOf("alpha", 5, kLongTtlMs)).granted);
  ClaimAnswer other = ClaimOk(other_.get(), ClaimOf("beta", 4, kLongTtlMs));
  EXPECT_FALSE(other.granted);
  EXPECT_TRUE(other.superseded);
  EXPECT_EQ(other.record.epoch, 5u);
  ClaimAnswer own_old = ClaimOk(witness_, ClaimOf("alpha", 4, kLongTtlMs));
  EXPECT_FALSE(own_old.granted);
  EXPECT_TRUE(own_old.superseded);
}

TEST_P(WitnessConformanceTest, PromotionAfterExpiryIsGrantedAndFencesTheOldEpochForever) {
  ASSERT_TRUE(ClaimOk(witness_, ClaimOf("alpha", 1, kShortTtlMs)).granted);
  ASSERT_NO_FATAL_FAILURE(WaitUntilExpired(kShortTtlMs));
  // The record outlives its lease: who led, in which epoch.
  LeaderRecord expired = ReadOk(other_.get());
  EXPECT_TRUE(expired.exists);
  EXPECT_EQ(expired.remaining_ms, 0u);
  EXPECT_EQ(expired.holder, "alpha");
  EXPECT_EQ(expired.epoch, 1u);

  ClaimAnswer promoted = ClaimOk(other_.get(), ClaimOf("beta", 2, kShortTtlMs));
  ASSERT_TRUE(promoted.granted);
  EXPECT_EQ(promoted.record.holder, "beta");
  EXPECT_EQ(promoted.record.epoch, 2u);

  ClaimAnswer fenced = ClaimOk(witness_, ClaimOf("alpha", 1, kShortTtlMs));
  EXPECT_FALSE(fenced.granted);
  EXPECT_TRUE(fenced.superseded);
  EXPECT_EQ(fenced.record.holder, "beta");
  EXPECT_EQ(fenced.record.epoch, 2u);

  // Still fenced after the new leader's lease has expired too.
  ASSERT_NO_FATAL_FAILURE(WaitUntilExpired(kShortTtlMs));
  ClaimAnswer still = ClaimOk(witness_, ClaimOf("alpha", 1, kShortTtlMs));
  EXPECT_FALSE(still.granted);
  EXPECT_TRUE(still.superseded);
  EXPECT_EQ(still.record.holder, "beta");
  EXPECT_EQ(still.record.epoch, 2u);
  EXPECT_FALSE(still.record.live());
}

TEST_P(WitnessConformanceTest, TheSameEpochByAnotherHolderIsRefusedAfterExpiry) {
  ASSERT_TRUE(ClaimOk(witness_, ClaimOf("alpha", 4, kShortTtlMs)).granted);
  ASSERT_NO_FATAL_FAILURE(WaitUntilExpired(kShortTtlMs));
  ClaimAnswer a = ClaimOk(other_.get(), ClaimOf("beta", 4, kShortTtlMs));
  EXPECT_FALSE(a.granted);
  EXPECT_FALSE(a.superseded);
  EXPECT_EQ(a.record.holder, "alpha");
  EXPECT_EQ(a.record.epoch, 4u);
}

TEST_P(WitnessConformanceTest, TheExpiredHolderMayReclaimItsOwnEpochIfNobodyTookIt) {
  ASSERT_TRUE(ClaimOk(witness_, ClaimOf("alpha", 2, kShortTtlMs)).granted);
  ASSERT_NO_FATAL_FAILURE(WaitUntilExpired(kShortTtlMs));
  ClaimAnswer again = ClaimOk(witness_, ClaimOf("alpha", 2, kLongTtlMs));
  EXPECT_TRUE(again.granted);
  LeaderRecord r = ReadOk(other_.get());
  EXPECT_TRUE(r.live());
  EXPECT_EQ(r.holder, "alpha");
  EXPECT_EQ(r.ttl_ms, kLongTtlMs);
}

TEST_P(WitnessConformanceTest, ARenewalWithANewUrlUpdatesTheRecord) {
  LeaderClaim c = ClaimOf("alpha", 1, kLongTtlMs);
  ASSERT_TRUE(ClaimOk(witness_, c).granted);
  c.url = "http://alpha-moved.example:19531";
  ASSERT_TRUE(ClaimOk(witness_, c).granted);
  LeaderRecord r = ReadOk(other_.get());
  EXPECT_TRUE(r.live());
  EXPECT_EQ(r.url, c.url);
}

TEST_P(WitnessConformanceTest, ReleaseExpiresTheRecordAtOnceButKeepsTheEpochFenced) {
  ASSERT_TRUE(ClaimOk(witness_, ClaimOf("alpha", 1, kLongTtlMs)).granted);
  ASSERT_OK(witness_->Release("alpha", 1));
  EXPECT_FALSE(ReadOk(other_.get()).live());
  // No waiting for the ttl: a higher epoch can claim at once.
  ClaimAnswer promoted = ClaimOk(other_.get(), ClaimOf("beta", 2, kLongTtlMs));
  EXPECT_TRUE(promoted.granted);
  ASSERT_OK(other_->Release("beta", 2));
  // Released is not forgotten: an older epoch stays fenced.
  ClaimAnswer old = ClaimOk(witness_, ClaimOf("alpha", 1, kLongTtlMs));
  EXPECT_FALSE(old.granted);
  EXPECT_TRUE(old.superseded);
}

TEST_P(WitnessConformanceTest, ReleaseByAnotherHolderOrEpochIsANoOp) {
  ASSERT_TRUE(ClaimOk(witness_, ClaimOf("alpha", 2, kLongTtlMs)).granted);
  ASSERT_OK(other_->Release("beta", 2));
  ASSERT_OK(other_->Release("alpha", 1));
  ASSERT_OK(other_->Release("alpha", 3));
  LeaderRecord r = ReadOk(other_.get());
  EXPECT_TRUE(r.live());
  EXPECT_EQ(r.holder, "alpha");
  EXPECT_EQ(r.epoch, 2u);
  EXPECT_FALSE(ClaimOk(other_.get(), ClaimOf("beta", 3, kLongTtlMs)).granted);
  // Releasing what is already expired or never existed is fine too.
  ASSERT_OK(witness_->Release("alpha", 2));
  ASSERT_OK(witness_->Release("alpha", 2));
}

TEST_P(WitnessConformanceTest, RacingPromotionsOnAnExpiredLeaseGrantExactlyOne) {
  ASSERT_TRUE(ClaimOk(witness_, ClaimOf("old", 1, kShortTtlMs)).granted);
  ASSERT_NO_FATAL_FAILURE(WaitUntilExpired(kShortTtlMs));
  constexpr int kRacers = 8;
  std::vector<std::unique_ptr<Witness>> clients;
  for (int i = 0; i < kRacers; ++i) {
    clients.push_back(under_test_->NewClient());
    ASSERT_NE(clients.back(), nullptr);
  }
  std::vector<Result<ClaimAnswer>> answers(kRacers,
                                           Result<ClaimAnswer>(Status::Internal("not run")));
  std::latch start(kRacers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRacers; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      answers[i] = clients[i]->Claim(ClaimOf("racer" + std::to_string(i), 2, kLongTtlMs));
    });
  }
  for (std::thread& t : threads) t.join();
  int granted = 0;
  std::string winner;
  for (int i = 0; i < kRacers; ++i) {
    ASSERT_TRUE(answers[i].ok()) << "racer" << i << ": " << answers[i].status().ToString();
    if (answers[i]->granted) {
      ++granted;
      winner = "racer" + std::to_string(i);
    }
  }
  ASSERT_EQ(granted, 1);
  for (int i = 0; i < kRacers; ++i) {
    if (answers[i]->granted) continue;
    EXPECT_FALSE(answers[i]->superseded);
    EXPECT_EQ(answers[i]->record.holder, winner) << "racer" << i << "'s refusal names the winner";
    EXPECT_EQ(answers[i]->record.epoch, 2u);
  }
  LeaderRecord r = ReadOk(witness_);
  EXPECT_EQ(r.holder, winner);
  EXPECT_TRUE(r.live());
}

TEST_P(WitnessConformanceTest, AnUnreachableWitnessIsAnErrorNamingItNotARefusal) {
  std::string address;
  std::unique_ptr<Witness> unreachable = under_test_->NewUnreachableClient(&address);
  ASSERT_NE(unreachable, nullptr);
  Result<ClaimAnswer> claim = unreachable->Claim(ClaimOf("alpha", 1, kLongTtlMs));
  ASSERT_FALSE(claim.ok()) << "an unreachable witness must not answer (granted=" << claim->granted
                           << ")";
  EXPECT_TRUE(claim.status().IsRetryable()) << claim.status().ToString();
  EXPECT_NE(claim.status().message().find(address), std::string::npos) << claim.status().ToString();
  Result<LeaderRecord> read = unreachable->Read();
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find(address), std::string::npos) << read.status().ToString();
  Status release = unreachable->Release("alpha", 1);
  EXPECT_FALSE(release.ok());
  EXPECT_NE(release.message().find(address), std::string::npos) << release.ToString();
}

TEST_P(WitnessConformanceTest, MalformedClaimsAreInvalidArguments) {
  EXPECT_TRUE(
      witness_->Claim(ClaimOf("", 1, kLongTtlMs)).status().Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(witness_->Claim(ClaimOf("alpha", 1, 0)).status().Is(StatusCode::kInvalidArgument));
  EXPECT_TRUE(
      witness_->Claim(ClaimOf("alpha", 0, kLongTtlMs)).status().Is(StatusCode::kInvalidArgument));
  EXPECT_FALSE(ReadOk(witness_).exists) << "a refused malformed claim wrote nothing";
}

INSTANTIATE_TEST_SUITE_P(Witnesses, WitnessConformanceTest,
                         ::testing::ValuesIn(AllWitnessFactories()),
                         [](const ::testing::TestParamInfo<WitnessFactory>& info) {
                           return info.param.name;
                         });

// ---- EtcdWitness specifics (beyond the conformance rule) ------------------

std::string B64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string UnB64(const std::string& in) {
  std::string out(in.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  size_t pad = in.size() >= 2 && in.substr(in.size() - 2) == "==" ? 2
               : (!in.empty() && in.back() == '=')                ? 1
                                                                  : 0;
  out.resize(n > 0 ? static_cast<size_t>(n) - pad : 0);
  return out;
}

class EtcdWitnessTest : public ::testing::Test {
 protected:
  static void TearDownTestSuite() { StopSharedServices(); }

  // POST to the etcd gateway directly (as an operator's etcdctl would).
  nlohmann::json Raw(const std::string& endpoint, const std::string& path,
                     const nlohmann::json& body) {
    httplib::Client client(endpoint);
    httplib::Result res = client.Post(path, body.dump(), "application/json");
    EXPECT_TRUE(res && res->status == 200) << path;
    return res ? nlohmann::json::parse(res->body, nullptr, false) : nlohmann::json();
  }
};

TEST_F(EtcdWitnessTest, OpenValidatesTheOptionsAndNamesTheBadOne) {
  struct Case {
    std::string endpoint, prefix, named;
    uint32_t timeout_ms;
  };
  std::vector<Case> bad = {
      {"", "/p", "endpoint", 2000},
      {"127.0.0.1:2379", "/p", "127.0.0.1:2379", 2000},
      {"ftp://127.0.0.1:2379", "/p", "scheme 'ftp'", 2000},
      {"http://127.0.0.1:0", "/p", "port '0'", 2000},
      {"http://127.0.0.1:99999", "/p", "port '99999'", 2000},
      {"http://127.0.0.1:2379/v3", "/p", "path", 2000},
      {"http://:2379", "/p", "missing host", 2000},
      {"http://127.0.0.1:2379", "", "prefix", 2000},
      {"http://127.0.0.1:2379", "/p", "timeout_ms", 0},
  };
  for (const Case& c : bad) {
    EtcdWitnessOptions o{c.endpoint, c.prefix, c.timeout_ms};
    Result<std::unique_ptr<Witness>> w = OpenEtcdWitness(o);
    ASSERT_FALSE(w.ok()) << c.endpoint;
    EXPECT_TRUE(w.status().Is(StatusCode::kInvalidArgument)) << w.status().ToString();
    EXPECT_NE(w.status().message().find(c.named), std::string::npos) << w.status().ToString();
  }
  struct Good {
    std::string endpoint, describes;
  };
  for (const Good& g :
       std::vector<Good>{{"etcd://10.0.0.9:2379", "etcd http://10.0.0.9:2379 /p"},
                         {"http://etcd.example", "etcd http://etcd.example:2379 /p"},
                         {"http://[::1]:2379/", "etcd http://[::1]:2379 /p"},
                         {"etcd+https://etcd.example:2379", "etcd https://etcd.example:2379 /p"}}) {
    Result<std::unique_ptr<Witness>> w =
        OpenEtcdWitness(EtcdWitnessOptions{g.endpoint, "/p/", 2000});
    ASSERT_TRUE(w.ok()) << g.endpoint << ": " << w.status().ToString();
    EXPECT_EQ((*w)->Describe(), g.describes);
  }
}

TEST_F(EtcdWitnessTest, KeysFollowTheDocumentedDataModel) {
  std::string endpoint = EtcdEndpointOrSkip();
  if (endpoint.empty()) return;
  std::string prefix = FreshPrefix();
  std::unique_ptr<Witness> w = OpenEtcdOrDie(endpoint, prefix);
  ASSERT_NE(w, nullptr);
  ASSERT_TRUE(w->Claim(ClaimOf("alpha", 7, 4500)).value().granted);

  nlohmann::json leader = Raw(endpoint, "/v3/kv/range", {{"key", B64(prefix + "/leader")}});
  nlohmann::json epoch = Raw(endpoint, "/v3/kv/range", {{"key", B64(prefix + "/epoch")}});
  ASSERT_TRUE(leader["kvs"].is_array() && leader["kvs"].size() == 1) << leader.dump();
  ASSERT_TRUE(epoch["kvs"].is_array() && epoch["kvs"].size() == 1) << epoch.dump();
  // The leader key carries a lease of ceil(4500 ms) = 5 s; the epoch key none.
  ASSERT_TRUE(leader["kvs"][0].contains("lease")) << leader.dump();
  EXPECT_FALSE(epoch["kvs"][0].contains("lease")) << epoch.dump();
  nlohmann::json ttl = Raw(endpoint, "/v3/lease/timetolive", {{"ID", leader["kvs"][0]["lease"]}});
  EXPECT_EQ(ttl.value("grantedTTL", ""), "5") << ttl.dump();
  for (const nlohmann::json* kv : {&leader["kvs"][0], &epoch["kvs"][0]}) {
    nlohmann::json value =
        nlohmann::json::parse(UnB64((*kv)["value"].get<std::string>()), nullptr, false);
    EXPECT_EQ(value, nlohmann::json({{"holder", "alpha"},
                                     {"url", "http://alpha.example:19530"},
                                     {"epoch", 7},
                                     {"ttl_ms", 4500}}));
  }
  // Released: the leader key is gone, the epoch key stays.
  ASSERT_OK(w->Release("alpha", 7));
  EXPECT_FALSE(Raw(endpoint, "/v3/kv/range", {{"key", B64(prefix + "/leader")}}).contains("kvs"));
  EXPECT_TRUE(Raw(endpoint, "/v3/kv/range", {{"key", B64(prefix + "/epoch")}}).contains("kvs"));
}

TEST_F(EtcdWitnessTest, PrefixesAreIndependentClusters) {
  std::string endpoint = EtcdEndpointOrSkip();
  if (endpoint.empty()) return;
  std::unique_ptr<Witness> one = OpenEtcdOrDie(endpoint, FreshPrefix());
  std::unique_ptr<Witness> two = OpenEtcdOrDie(endpoint, FreshPrefix());
  ASSERT_TRUE(one && two);
  EXPECT_TRUE(one->Claim(ClaimOf("alpha", 1, kLongTtlMs)).value().granted);
  EXPECT_TRUE(two->Claim(ClaimOf("beta", 1, kLongTtlMs)).value().granted);
  EXPECT_EQ(one->Read().value().holder, "alpha");
  EXPECT_EQ(two->Read().value().holder, "beta");
}

TEST_F(EtcdWitnessTest, AForeignValueUnderThePrefixIsCorruptionNamingTheKey) {
  std::string endpoint = EtcdEndpointOrSkip();
  if (endpoint.empty()) return;
  std::string prefix = FreshPrefix();
  Raw(endpoint, "/v3/kv/put",
      {{"key", B64(prefix + "/epoch")}, {"value", B64("{\"epoch\":\"7\"}")}});
  std::unique_ptr<Witness> w = OpenEtcdOrDie(endpoint, prefix);
  ASSERT_NE(w, nullptr);
  Result<LeaderRecord> r = w->Read();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  EXPECT_NE(r.status().message().find(prefix + "/epoch"), std::string::npos)
      << r.status().ToString();
  Result<ClaimAnswer> c = w->Claim(ClaimOf("alpha", 9, kLongTtlMs));
  ASSERT_FALSE(c.ok()) << "a claim must not overwrite what it cannot read";
  EXPECT_TRUE(c.status().IsCorruption());
}

}  // namespace
}  // namespace ark::dr
