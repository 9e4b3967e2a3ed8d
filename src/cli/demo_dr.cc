// `ark demo dr`: starts `ark monitor`, a primary `a` (archiving its WAL to a
// local repository, holding its lease at the monitor) and a standby `b` on
// loopback, loads the seed's enterprise knowledge base — company_docs,
// product_docs and faq_docs in database `kb`, each with its tier (database
// kb: RTO important, RPO low; company_docs: critical / very-low;
// product_docs: important / very-low; faq_docs: general RTO, the
// database's RPO) — takes a backup, then runs the primary-crash drill (SIGKILL of
// a under the probe; the monitor fails over to b) and a restore-check of the
// backup, and prints the measured RTO and RPO with the reports' paths.
// Everything runs as child processes of this binary in one directory;
// they are stopped at the end.
#include "cli/demo_dr.h"

#include <unistd.h>

#include <cstdio>
#include <memory>
#include <random>
#include <string>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "cli/command_registry.h"
#include "dr/backup/backup.h"
#include "dr/drill/drill_api.h"
#include "dr/drill/failover_drill.h"
#include "dr/drill/restore_check.h"
#include "dr/drill/scratch_server.h"
#include "dr/drill/tiers.h"
#include "dr/repository/repository_open.h"
#include "storage/env.h"

namespace ark::cli {
namespace {

constexpr const char* kCollections[] = {"company_docs", "product_docs", "faq_docs"};
constexpr int kDim = 64;

struct DemoArgs {
  std::string dir;
  int rows = 500;
  bool keep = false;
};

Result<std::string> SelfExe() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return Status::IOError("cannot find the ark executable (/proc/self/exe)");
  return std::string(buf, static_cast<size_t>(n));
}

Status Write(Env* env, const std::string& path, const std::string& text) { return env->WriteFileAtomic(path, text); }

// A document of the knowledge base: a title and an embedding that depends on
// its id alone.
nlohmann::json Doc(const std::string& collection, int id) {
  std::mt19937 rng(static_cast<uint32_t>(id * 7919 + collection.size()));
  std::normal_distribution<float> n(0, 1);
  std::vector<float> v(kDim);
  for (auto& x : v) x = n(rng);
  return {{"id", id}, {"title", fmt::format("{} #{}", collection, id)}, {"vector", v}};
}

// The seed's classes: the company handbook is critical, product docs
// important, the FAQ general; an RPO of its own for the first two, the
// database's (low) for the FAQ.
nlohmann::json TierOf(const std::string& collection) {
  if (collection == "company_docs") return {{dr::kRtoTierKey, "critical"}, {dr::kRpoTierKey, "very-low"}};
  if (collection == "product_docs") return {{dr::kRtoTierKey, "important"}, {dr::kRpoTierKey, "very-low"}};
  return {{dr::kRtoTierKey, "general"}};
}

Status LoadKnowledgeBase(const std::string& url, int rows) {
  ARK_RETURN_IF_ERROR(dr::MilvusApi(url, "databases/create", {{"dbName", "kb"}}).status());
  ARK_RETURN_IF_ERROR(dr::MilvusApi(url, "databases/alter",
                                    {{"dbName", "kb"},
                                     {"properties", {{dr::kRtoTierKey, "important"}, {dr::kRpoTierKey, "low"}}}})
                          .status());
  for (const char* c : kCollections) {
    nlohmann::json schema = {
        {"autoId", false},
        {"enableDynamicField", false},
        {"fields",
         {{{"fieldName", "id"}, {"dataType", "Int64"}, {"isPrimary", true}},
          {{"fieldName", "title"}, {"dataType", "VarChar"}, {"elementTypeParams", {{"max_length", 128}}}},
          {{"fieldName", "vector"}, {"dataType", "FloatVector"}, {"elementTypeParams", {{"dim", kDim}}}}}}};
    nlohmann::json index = {{{"fieldName", "vector"}, {"indexName", "vector"}, {"metricType", "COSINE"},
                             {"indexType", "HNSW"}, {"params", {{"M", 16}, {"efConstruction", 100}}}}};
    ARK_RETURN_IF_ERROR(dr::MilvusApi(url, "collections/create",
                                      {{"dbName", "kb"}, {"collectionName", c}, {"schema", schema}, {"indexParams", index}})
                            .status());
    ARK_RETURN_IF_ERROR(dr::MilvusApi(url, "collections/alter_properties",
                                      {{"dbName", "kb"}, {"collectionName", c}, {"properties", TierOf(c)}})
                            .status());
    for (int first = 0; first < rows; first += 100) {
      nlohmann::json data = nlohmann::json::array();
      for (int id = first; id < std::min(rows, first + 100); ++id) data.push_back(Doc(c, id));
      ARK_RETURN_IF_ERROR(
          dr::MilvusApi(url, "entities/insert", {{"dbName", "kb"}, {"collectionName", c}, {"data", data}}).status());
    }
  }
  return Status::OK();
}

std::string Figure(const nlohmann::json& measured, const char* key) {
  const auto& v = measured[key];
  return v.is_number() ? dr::FormatDuration(v.get<uint64_t>()) : "—";
}

void PrintDrill(const nlohmann::json& j, const std::string& dir) {
  const auto& m = j["measured"];
  std::printf("\n%s: %s\n", j["scenario"].get<std::string>().c_str(), j["passed"].get<bool>() ? "PASSED" : "FAILED");
  if (!j["error"].get<std::string>().empty()) std::printf("  error: %s\n", j["error"].get<std::string>().c_str());
  std::printf("  RTO %s (first write %s, first correct search %s; detection %s, promotion %s, restore %s)\n",
              Figure(m, "rtoMs").c_str(), Figure(m, "rtoWriteMs").c_str(), Figure(m, "rtoSearchMs").c_str(),
              Figure(m, "detectionMs").c_str(), Figure(m, "promotionMs").c_str(), Figure(m, "restoreMs").c_str());
  std::printf("  RPO %s%s\n", Figure(m, "rpoMs").c_str(),
              m["lostMarkers"].is_number() ? fmt::format(" ({} acknowledged marker(s) lost)", m["lostMarkers"].dump()).c_str() : "");
  for (const auto& c : j["collections"]) {
    if (!c.contains("verdict")) continue;
    std::printf("  %-20s tier RTO %-9s RPO %-9s -> RTO %s, RPO %s\n",
                (c["database"].get<std::string>() + "." + c["name"].get<std::string>()).c_str(),
                c["targets"].value("rtoTier", "").c_str(), c["targets"].value("rpoTier", "").c_str(),
                c["verdict"].value("rto", "").c_str(), c["verdict"].value("rpo", "").c_str());
  }
  std::printf("  report: %s/report.html\n", dir.c_str());
}

Status RunDemoDr(const DemoArgs& args) {
  Env* env = Env::Default();
  spdlog::set_level(spdlog::level::warn);
  std::string dir = args.dir;
  if (dir.empty()) {
    char tmpl[] = "/tmp/ark-demo-dr-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return Status::IOError("cannot create a temporary directory");
    dir = tmpl;
  } else {
    ARK_RETURN_IF_ERROR(dr::CheckRestoreTarget(env, dir).WithContext("--dir must be new or empty"));
    ARK_RETURN_IF_ERROR(env->CreateDirs(dir));
  }
  ARK_ASSIGN_OR_RETURN(std::string ark, SelfExe());
  ARK_ASSIGN_OR_RETURN(int pm, dr::FreeLoopbackPort());
  ARK_ASSIGN_OR_RETURN(int pa, dr::FreeLoopbackPort());
  ARK_ASSIGN_OR_RETURN(int pb, dr::FreeLoopbackPort());
  const std::string monitor_url = fmt::format("http://127.0.0.1:{}", pm);
  const std::string a_url = fmt::format("http://127.0.0.1:{}", pa);
  const std::string b_url = fmt::format("http://127.0.0.1:{}", pb);
  const std::string repo = JoinPath(dir, "backups");
  const std::string reports = JoinPath(dir, "drills");
  std::printf("ark demo dr in %s\n", dir.c_str());

  dr::ScratchServer monitor(env), a(env), b(env);
  auto start = [&](dr::ScratchServer* s, const std::string& what, dr::ScratchServerOptions o) -> Status {
    o.ark_binary = ark;
    o.log_file = JoinPath(dir, what + ".log");
    ARK_RETURN_IF_ERROR(s->Start(o));
    ARK_RETURN_IF_ERROR(s->WaitReady(120000));
    std::printf("  %-8s %s (pid %d, log %s)\n", what.c_str(), s->url().c_str(), s->pid(), o.log_file.c_str());
    return Status::OK();
  };
  dr::ScratchServerOptions mo;
  mo.subcommand = "monitor";
  mo.port = pm;
  mo.data_dir = JoinPath(dir, "monitor");
  mo.extra_args = {"--node", "a=" + a_url, "--node", "b=" + b_url};
  ARK_RETURN_IF_ERROR(start(&monitor, "monitor", mo));
  ARK_RETURN_IF_ERROR(Write(env, JoinPath(dir, "a.yaml"),
                            fmt::format("failover: {{witness: '{}', name: a}}\narchive: {{repo: '{}', interval_seconds: 1}}\n"
                                        "replication: {{mode: async}}\ndrills: {{report_dir: '{}'}}\n",
                                        monitor_url, repo, reports)));
  ARK_RETURN_IF_ERROR(Write(env, JoinPath(dir, "b.yaml"),
                            fmt::format("failover: {{witness: '{}', name: b}}\ndrills: {{report_dir: '{}'}}\n", monitor_url,
                                        reports)));
  dr::ScratchServerOptions ao;
  ao.port = pa;
  ao.data_dir = JoinPath(dir, "a");
  ao.extra_args = {"--config", JoinPath(dir, "a.yaml"), "--log-level", "warn"};
  ARK_RETURN_IF_ERROR(start(&a, "primary", ao));
  dr::ScratchServerOptions bo;
  bo.port = pb;
  bo.data_dir = JoinPath(dir, "b");
  bo.extra_args = {"--config", JoinPath(dir, "b.yaml"), "--standby-of", a_url, "--standby-name", "b", "--log-level", "warn"};
  ARK_RETURN_IF_ERROR(start(&b, "standby", bo));

  std::printf("loading the knowledge base: kb.{company_docs, product_docs, faq_docs}, %d documents each; tiers "
              "RTO/RPO: company_docs critical/very-low, product_docs important/very-low, faq_docs general/low "
              "(the database's RPO)\n", args.rows);
  ARK_RETURN_IF_ERROR(LoadKnowledgeBase(a_url, args.rows));
  ARK_RETURN_IF_ERROR(dr::RunShell(env, fmt::format("'{}' backup create --server '{}' --repo '{}' -n kb-daily -q >/dev/null",
                                                    ark, a_url, repo),
                                   a_url, 300000)
                          .WithContext("the backup"));
  std::printf("backup kb-daily taken to %s; the primary archives its WAL there every second\n", repo.c_str());

  // 1. The primary crashes under a writer; the monitor fails over to b.
  dr::DrillReport crash(env, "primary-crash");
  dr::FailoverDrillOptions fo;
  fo.scenario = "primary-crash";
  fo.endpoints = {a_url, b_url};
  fo.monitor = monitor_url;
  fo.kill_command = fmt::format("kill -9 {}", a.pid());
  fo.ark_binary = ark;
  Status crashed = dr::RunFailoverDrill(env, fo, &crash);
  ARK_ASSIGN_OR_RETURN(std::string crash_dir, crash.Write(reports));
  PrintDrill(crash.ToJson(), crash_dir);

  // 2. The backup restores and serves on a scratch instance.
  ARK_ASSIGN_OR_RETURN(dr::EncryptionKey key, dr::KeyFromOptions(env, "", ""));
  ARK_ASSIGN_OR_RETURN(auto opened, dr::OpenRepositoryUrl(env, repo, key, false));
  dr::DrillReport check(env, "restore-check");
  dr::RestoreCheckOptions ro;
  ro.repo_description = repo;
  ro.work_dir = JoinPath(reports, check.id() + ".scratch");
  ro.ark_binary = ark;
  Status checked = dr::RunRestoreCheck(env, opened.repo.get(), ro, &check);
  ARK_ASSIGN_OR_RETURN(std::string check_dir, check.Write(reports));
  PrintDrill(check.ToJson(), check_dir);

  (void)b.Stop();
  (void)monitor.Stop();
  (void)a.Stop();
  ARK_RETURN_IF_ERROR(Write(env, JoinPath(dir, "view.yaml"), fmt::format("drills: {{report_dir: '{}'}}\n", reports)));
  std::printf("\nstopped the cluster; everything is in %s\n"
              "to see the dashboard: ark serve --data-dir %s/b --config %s/view.yaml, then open http://127.0.0.1:19530/ui\n",
              dir.c_str(), dir.c_str(), dir.c_str());
  if (!crashed.ok()) return crashed;
  return checked;
}

}  // namespace

void AddDemoDrCommand(CLI::App* demo) {
  auto a = std::make_shared<DemoArgs>();
  auto* cmd = demo->add_subcommand("dr", "The enterprise knowledge base on a loopback cluster (monitor, primary, standby): "
                                         "a primary-crash drill and a restore-check, with measured RTO and RPO");
  cmd->add_option("--dir", a->dir, "Where everything goes (new or empty; default a new /tmp/ark-demo-dr-*)");
  cmd->add_option("--rows", a->rows, "Documents per collection (default 500)")->check(CLI::Range(1, 100000));
  cmd->callback([a] {
    if (Status s = RunDemoDr(*a); !s.ok()) Fail(s);
  });
}

}  // namespace ark::cli
