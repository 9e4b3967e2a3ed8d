#include "server/server_config.h"

#include <gtest/gtest.h>

#include "support/test_util.h"

namespace ark::server {
namespace {

TEST(ServerConfig, EmbeddedDefaults) {
  ASSERT_OK_AND_ASSIGN(ServerConfig c, ServerConfig::FromYaml("", "x.yaml"));
  EXPECT_EQ(c.data_dir, "./ark-data");
  EXPECT_EQ(c.host, "127.0.0.1");
  EXPECT_EQ(c.port, 19530);
  EXPECT_FALSE(c.auth.enabled());
  EXPECT_FALSE(c.tls.enabled());
  EXPECT_EQ(c.seal_age_seconds, 600);
}

TEST(ServerConfig, ReadsEverySection) {
  ASSERT_OK_AND_ASSIGN(ServerConfig c, ServerConfig::FromYaml(R"(
data_dir: /var/lib/ark
listen: 0.0.0.0:8080
wal_sync: batched
seal_age_seconds: 30
auth:
  token: t
  users: {alice: pw}
limits:
  max_body_bytes: 1048576
  max_concurrent_requests: 8
tls:
  cert_file: c.pem
  key_file: k.pem
)", "x.yaml"));
  EXPECT_EQ(c.data_dir, "/var/lib/ark");
  EXPECT_EQ(c.host, "0.0.0.0");
  EXPECT_EQ(c.port, 8080);
  EXPECT_EQ(c.wal_sync, "batched");
  EXPECT_EQ(c.seal_age_seconds, 30);
  EXPECT_EQ(c.auth.users.at("alice"), "pw");
  EXPECT_EQ(c.limits.max_body_bytes, 1048576u);
  EXPECT_EQ(c.limits.max_concurrent_requests, 8u);
  EXPECT_TRUE(c.tls.enabled());
}

struct BadConfig {
  const char* yaml;
  const char* expected;
};

class ServerConfigRejects : public ::testing::TestWithParam<BadConfig> {};

TEST_P(ServerConfigRejects, WithAMessageNamingTheKey) {
  auto r = ServerConfig::FromYaml(GetParam().yaml, "ark.yaml");
  ASSERT_FALSE(r.ok()) << GetParam().yaml;
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(GetParam().expected), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("ark.yaml"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ServerConfigRejects,
    ::testing::Values(BadConfig{"data_dri: x", "data_dri is not a known setting"},
                      BadConfig{"limits: {max_body_byte: 5}", "limits.max_body_byte is not a known"},
                      BadConfig{"limits: {max_body_bytes: lots}", "limits.max_body_bytes must be"},
                      BadConfig{"limits: {max_body_bytes: 10}", "at least 1024"},
                      BadConfig{"limits: {worker_threads: 0}", "limits.worker_threads must be > 0"},
                      BadConfig{"limits: {keep_alive_max_requests: 0}", "limits.keep_alive_max_requests must be > 0"},
                      BadConfig{"limits: {keep_alive_max_requests: -3}", "limits.keep_alive_max_requests must be"},
                      BadConfig{"listen: localhost", "is not HOST:PORT"},
                      BadConfig{"listen: 1.2.3.4:99999", "is not HOST:PORT"},
                      BadConfig{"wal_sync: sometimes", "wal_sync 'sometimes'"},
                      BadConfig{"seal_age_seconds: 0", "seal_age_seconds must be > 0"},
                      BadConfig{"seal_age_seconds: soon", "seal_age_seconds must be"},
                      BadConfig{"tls: {cert_file: c.pem}", "both cert_file and key_file"},
                      BadConfig{"auth: {users: [a, b]}", "auth.users"},
                      BadConfig{"- just\n- a list", "must be a mapping"},
                      BadConfig{"a: [unclosed", "not valid YAML"},
                      BadConfig{"archive: {intervall: 1, repo: /r}", "archive.intervall is not a known"},
                      BadConfig{"archive: {interval_seconds: 1}", "archive.repo is required"},
                      BadConfig{"archive: {repo: /r, interval_seconds: 0}", "archive.interval_seconds must be"},
                      BadConfig{"archive: {repo: /r, on_spool_full: panic}", "archive.on_spool_full 'panic'"},
                      BadConfig{"archive: {repo: /r, max_spool_bytes: 10}", "archive.max_spool_bytes must be"},
                      BadConfig{"archive: {repo: /r, ship_bytes: 1024}", "archive.ship_bytes must be"},
                      BadConfig{"archive: {repo: /r, key_file: k, passphrase_file: p}", "not both"},
                      BadConfig{"replication: {mod: sync}", "replication.mod is not a known"},
                      BadConfig{"replication: {mode: eventually}", "replication.mode 'eventually'"},
                      BadConfig{"replication: {sync_policy: hope}", "replication.sync_policy 'hope'"},
                      BadConfig{"replication: {sync_timeout_ms: 0}", "replication.sync_timeout_ms must be"},
                      BadConfig{"replication: {period_seconds: 0}", "replication.period_seconds must be"},
                      BadConfig{"replication: {max_slot_bytes: 5}", "replication.max_slot_bytes must be"},
                      BadConfig{"replication: {bootstrap_pin_seconds: 1}", "replication.bootstrap_pin_seconds"},
                      BadConfig{"replication: {primary: ftp://x:1}", "replication.primary 'ftp://x:1'"},
                      BadConfig{"replication: {primary: 'http://x:1', name: 'a b'}", "standby name 'a b'"},
                      BadConfig{"replication: {token: a, token_file: b}", "not both"},
                      BadConfig{"replication: {archive_key_file: /k}", "need replication.archive_repo"},
                      BadConfig{"wal_segment_bytes: 4096", "wal_segment_bytes must be 1 MiB..1 GiB"},
                      BadConfig{"replication: {archive_repo: /r, archive_key_file: /k, archive_passphrase_file: /p}",
                                "archive_key_file or archive_passphrase_file, not both"},
                      BadConfig{"replication: {name: '..'}", "standby name '..'"},
                      BadConfig{"auth: {replication_token: [1]}", "auth.replication_token must be"},
                      BadConfig{"failover: {witnes: x}", "failover.witnes is not a known"},
                      BadConfig{"failover: {witness: 'http://m:1'}", "failover.name is required"},
                      BadConfig{"failover: {witness: 'ftp://m:1', name: a}", "failover.witness 'ftp://m:1'"},
                      BadConfig{"failover: {witness: 'etcd:/m', name: a}", "failover.witness 'etcd:/m'"},
                      BadConfig{"failover: {witness: 'http://m:1', name: 'a b'}", "holder 'a b'"},
                      BadConfig{"failover: {witness: 'http://m:1', name: a, lease_ttl_ms: 10}", "lease_ttl 10 ms"},
                      BadConfig{"failover: {witness: 'http://m:1', name: a, renew_interval_ms: 3000, margin_ms: 2000}",
                                "shorter than the lease ttl"},
                      BadConfig{"failover: {witness: 'http://m:1', name: a, advertise_url: x}",
                                "failover.advertise_url 'x'"},
                      BadConfig{"failover: {witness: 'http://m:1', name: a, witness_timeout_ms: 5000}",
                                "witness_timeout_ms 5000"},
                      BadConfig{"failover: {witness: 'etcd://m:1', name: a, etcd_prefix: x}", "etcd_prefix 'x'"},
                      BadConfig{"failover: {lease_ttl_ms: soon}", "failover.lease_ttl_ms must be"},
                      BadConfig{"failover: {rejoin: sometimes}", "failover.rejoin 'sometimes'"},
                      BadConfig{"drills: {report: x}", "drills.report is not a known"},
                      BadConfig{"drills: {check_interval_seconds: 0.5}", "drills.check_interval_seconds 0.5 must be 0 (off)"},
                      BadConfig{"drills: {check_interval_seconds: soon}", "drills.check_interval_seconds must be"},
                      BadConfig{"drills: [a]", "drills"},
                      BadConfig{"drills: {report_dir: [a]}", "drills.report_dir must be"},
                      BadConfig{"drills: {schedules: {name: x}}", "drills.schedules must be a list"},
                      BadConfig{"drills: {schedules: [x]}", "drills.schedules[0] must be a mapping"},
                      BadConfig{"drills: {schedules: [{name: w, scenario: restore-check, cron: '@weekly', repo: /r, "
                                "keep: 1}]}",
                                "drills.schedules[0].keep is not a known setting"},
                      BadConfig{"drills: {schedules: [{name: w, cron: '@weekly', repo: /r}]}",
                                "drills.schedules[0] needs scenario"},
                      BadConfig{"drills: {schedules: [{name: w, scenario: restore-check, repo: /r}]}",
                                "drills.schedules[0] needs cron"},
                      BadConfig{"drills: {schedules: [{name: w, scenario: restore-check, cron: '@weekly'}]}",
                                "drills.schedules[0] needs repo"},
                      BadConfig{"drills: {schedules: [{name: w, scenario: site-loss, cron: '@weekly', repo: /r}]}",
                                "drills.schedules[0].scenario 'site-loss' cannot be scheduled: it is disruptive and "
                                "breaks production (an operator's --kill-cmd kills the primary and destroys its data "
                                "directory)"},
                      BadConfig{"drills: {schedules: [{name: w, scenario: primary-crash, cron: '@weekly', repo: /r}]}",
                                "drills.schedules[0].scenario 'primary-crash' cannot be scheduled"},
                      BadConfig{"drills: {schedules: [{name: w, scenario: switchover, cron: '@weekly', repo: /r}]}",
                                "drills.schedules[0].scenario 'switchover' cannot be scheduled"},
                      BadConfig{"drills: {schedules: [{name: w, scenario: quake, cron: '@weekly', repo: /r}]}",
                                "drills.schedules[0].scenario 'quake' is not a drill scenario"},
                      BadConfig{"drills: {schedules: [{name: w, scenario: restore-check, cron: '0 3 * * 8', repo: /r}]}",
                                "drills.schedules[0].cron: "},
                      BadConfig{"drills: {schedules: [{name: 'a b', scenario: restore-check, cron: '@weekly', repo: /r}]}",
                                "drills.schedules[0].name 'a b' must be"},
                      BadConfig{"drills: {schedules: [{name: w, scenario: restore-check, cron: '@weekly', repo: /r, "
                                "samples: 0}]}",
                                "drills.schedules[0].samples must be 1..1000, got 0"},
                      BadConfig{"drills: {schedules: [{name: w, scenario: restore-check, cron: '@weekly', repo: /r, "
                                "samples: many}]}",
                                "drills.schedules[0].samples must be a count"},
                      BadConfig{"drills: {schedules: [{name: w, scenario: restore-check, cron: '@weekly', repo: /r, "
                                "to_latest: maybe}]}",
                                "drills.schedules[0].to_latest must be true or false"},
                      BadConfig{"drills: {schedules: [{name: w, scenario: restore-check, cron: '@weekly', repo: /r}, "
                                "{name: w, scenario: restore-check, cron: '@daily', repo: /s}]}",
                                "drills.schedules[1].name 'w' is defined twice"}));

TEST(ServerConfig, ReadsTheDrillsSection) {
  auto r = ServerConfig::FromYaml("data_dir: /var/lib/ark\ndrills: {report_dir: /srv/drills}", "ark.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->DrillReportDir(), "/srv/drills");
  auto d = ServerConfig::FromYaml("data_dir: /var/lib/ark", "ark.yaml");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->DrillReportDir(), "/var/lib/ark/drills");
}

TEST(ServerConfig, ReadsDrillSchedules) {
  auto r = ServerConfig::FromYaml(R"(
drills:
  report_dir: /srv/drills
  schedules:
    - {name: weekly, scenario: restore-check, cron: "0 3 * * 0", repo: "s3://b/ark?endpoint=http://s3:9000",
       key_file: /etc/ark/key, to_latest: true, samples: 20}
    - {name: daily-local, scenario: restore-check, cron: "@daily", repo: /srv/ark-backups}
)", "ark.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->drills.schedules.size(), 2u);
  const DrillScheduleConfig& w = r->drills.schedules[0];
  EXPECT_EQ(w.name, "weekly");
  EXPECT_EQ(w.scenario, "restore-check");
  EXPECT_EQ(w.cron, "0 3 * * 0");
  EXPECT_EQ(w.repo, "s3://b/ark?endpoint=http://s3:9000");
  EXPECT_EQ(w.key_file, "/etc/ark/key");
  EXPECT_TRUE(w.to_latest);
  EXPECT_EQ(w.samples, 20);
  const DrillScheduleConfig& d = r->drills.schedules[1];
  EXPECT_FALSE(d.to_latest);
  EXPECT_EQ(d.samples, 5);
  EXPECT_EQ(d.passphrase_file, "");
  // The whole message, file included.
  auto bad = ServerConfig::FromYaml("drills:\n  schedules:\n    - {name: q, scenario: site-loss, cron: '@weekly', repo: /r}",
                                    "ark.yaml");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message().rfind("config ark.yaml: drills.schedules[0].scenario 'site-loss' cannot be "
                                         "scheduled", 0),
            0u)
      << bad.status().message();
  EXPECT_NE(bad.status().message().find("`ark drill run site-loss`"), std::string::npos);
}

TEST(ServerConfig, ReadsTheFailoverSection) {
  auto r = ServerConfig::FromYaml(
      "failover: {witness: 'etcd://10.0.9.1:2379', name: dc1, advertise_url: 'http://10.0.1.1:19530', "
      "lease_ttl_ms: 8000, etcd_prefix: /ark/prod}",
      "ark.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->failover.enabled());
  EXPECT_EQ(r->failover.name, "dc1");
  EXPECT_EQ(r->failover.lease_ttl_ms, 8000u);
  EXPECT_EQ(r->failover.etcd_prefix, "/ark/prod");
  EXPECT_FALSE(ServerConfig::FromYaml("", "ark.yaml")->failover.enabled());
}

TEST(ServerConfig, ReadsTheReplicationSection) {
  auto r = ServerConfig::FromYaml(
      "replication: {primary: 'https://10.0.0.1:19530', name: dc2, ca_file: /ca.pem, mode: sync, "
      "sync_timeout_ms: 250, sync_policy: block}\nauth: {replication_token: R}",
      "ark.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->replication.is_standby());
  EXPECT_EQ(r->replication.name, "dc2");
  EXPECT_EQ(r->replication.mode, "sync");
  EXPECT_EQ(r->replication.sync_timeout_ms, 250u);
  EXPECT_EQ(r->replication.sync_policy, "block");
  EXPECT_EQ(r->auth.replication_token, "R");
  EXPECT_FALSE(r->auth.enabled()) << "the replication token alone leaves the other routes open";
  auto d = ServerConfig::FromYaml("", "ark.yaml");
  EXPECT_FALSE(d->replication.is_standby());
  EXPECT_EQ(d->replication.mode, "async");
}

TEST(ServerConfig, ReadsTheArchiveSection) {
  auto r = ServerConfig::FromYaml("archive: {repo: /srv/r, interval_seconds: 0.5, on_spool_full: stop-writes}", "ark.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->archive.enabled());
  EXPECT_EQ(r->archive.repo, "/srv/r");
  EXPECT_EQ(r->archive.interval_seconds, 0.5);
  EXPECT_EQ(r->archive.on_spool_full, "stop-writes");
  EXPECT_FALSE(ServerConfig::FromYaml("", "ark.yaml")->archive.enabled());  // off by default
}

TEST(ServerConfig, MissingFileIsNotFound) {
  auto r = ServerConfig::FromFile("/nonexistent/ark.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotFound());
}

}  // namespace
}  // namespace ark::server
