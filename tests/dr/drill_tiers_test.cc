// DR tiers (dr/drill/tiers.h): the ark.dr.* properties and their messages,
// merging a collection's targets over its database's, verdicts at their
// boundaries, and every rule of `ark dr check` (docs/formats/dr-tiers.md),
// each driven by hand-built facts: nothing here reads a clock or a file.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dr/drill/tiers.h"
#include "support/test_util.h"

namespace ark::dr {
namespace {

constexpr uint64_t kSec = 1000;
constexpr uint64_t kMin = 60 * kSec;
constexpr uint64_t kHour = 60 * kMin;
constexpr uint64_t kDayMicros = 24 * kHour * 1000;
constexpr uint64_t kNow = 1'796'598'312'000'000;  // 2026-12-06T23:05:12Z

using Props = std::map<std::string, std::string>;

DrTargets Targets(const Props& props) {
  auto t = TargetsFromProperties(props);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? *t : DrTargets{};
}

DrTargets Tiers(const std::string& rto, const std::string& rpo) {
  Props props;
  if (!rto.empty()) props["ark.dr.rto_tier"] = rto;
  if (!rpo.empty()) props["ark.dr.rpo_tier"] = rpo;
  return Targets(props);
}

// Fails the test (and returns "") unless `props` is refused as InvalidArgument.
std::string Refusal(const Props& props) {
  auto t = TargetsFromProperties(props);
  EXPECT_FALSE(t.ok());
  if (t.ok()) return "";
  EXPECT_TRUE(t.status().Is(StatusCode::kInvalidArgument)) << t.status().ToString();
  return t.status().message();
}

DrFacts Facts() {
  DrFacts f;
  f.now_micros = kNow;
  return f;
}

BackupScheduleFact Schedule(const std::string& name, uint64_t interval_seconds) {
  BackupScheduleFact s;
  s.name = name;
  s.interval_seconds = interval_seconds;
  return s;
}

DrillFact Drill(const std::string& scenario, uint64_t days_ago, bool passed,
                std::optional<uint64_t> rto_ms = {}, std::optional<uint64_t> rpo_ms = {}) {
  return DrillFact{scenario, kNow - days_ago * kDayMicros, passed, rto_ms, rpo_ms};
}

void Replicate(DrFacts* f, const std::string& mode, uint32_t connected = 1) {
  f->replication.mode = mode;
  f->replication.standbys = 1;
  f->replication.connected_standbys = connected;
}

std::vector<Finding> Check(const DrTargets& t, const DrFacts& facts) {
  return CheckTargets({{"default", t}}, facts);
}

// The findings about one target ("rpo", "rto", "drill").
std::vector<Finding> About(const std::vector<Finding>& all, const std::string& target) {
  std::vector<Finding> out;
  for (const auto& f : all) {
    if (f.target == target) out.push_back(f);
  }
  return out;
}

// The only finding about `target`; fails the test if there is not exactly one.
Finding One(const std::vector<Finding>& all, const std::string& target) {
  auto found = About(all, target);
  EXPECT_EQ(found.size(), 1u) << target;
  return found.empty() ? Finding{} : found.front();
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// ---- properties -------------------------------------------------------------

TEST(DrTiersTest, EveryRtoTierHasItsTarget) {
  EXPECT_EQ(Tiers("critical", "").rto_target_ms, 1 * kHour);
  EXPECT_EQ(Tiers("important", "").rto_target_ms, 4 * kHour);
  EXPECT_EQ(Tiers("general", "").rto_target_ms, 24 * kHour);
  DrTargets none = Tiers("non-critical", "");
  EXPECT_EQ(none.rto_tier, "non-critical");
  EXPECT_FALSE(none.rto_target_ms.has_value());
  EXPECT_FALSE(none.empty());
  EXPECT_FALSE(none.rto_target_custom);
  EXPECT_TRUE(none.rpo_tier.empty());
}

TEST(DrTiersTest, EveryRpoTierHasItsTarget) {
  EXPECT_EQ(Tiers("", "zero").rpo_target_ms, 0u);
  EXPECT_EQ(Tiers("", "very-low").rpo_target_ms, 1 * kHour);
  EXPECT_EQ(Tiers("", "low").rpo_target_ms, 24 * kHour);
  DrTargets none = Tiers("", "tolerable");
  EXPECT_EQ(none.rpo_tier, "tolerable");
  EXPECT_FALSE(none.rpo_target_ms.has_value());
  EXPECT_FALSE(none.rto_target_ms.has_value());
}

TEST(DrTiersTest, OtherPropertiesAreIgnoredAndNoneIsEmpty) {
  DrTargets t =
      Targets({{"mmap.enabled", "banana"}, {"ark.dr.rto_tier", "critical"}, {"ark.drx", "?"}});
  EXPECT_EQ(t.rto_tier, "critical");
  EXPECT_TRUE(Targets({{"collection.ttl.seconds", "60"}}).empty());
  EXPECT_TRUE(Targets({}).empty());
}

TEST(DrTiersTest, CustomTargetsOverrideTheTierOnTheirScaleOnly) {
  DrTargets t = Targets({{"ark.dr.rto_tier", "critical"},
                         {"ark.dr.rto_target_seconds", "600"},
                         {"ark.dr.rpo_tier", "low"}});
  EXPECT_EQ(t.rto_tier, "critical");
  EXPECT_EQ(t.rto_target_ms, 600 * kSec);
  EXPECT_TRUE(t.rto_target_custom);
  EXPECT_EQ(t.rpo_target_ms, 24 * kHour);
  EXPECT_FALSE(t.rpo_target_custom);

  // A custom target without a tier; 0 and the maximum are accepted.
  DrTargets only =
      Targets({{"ark.dr.rpo_target_seconds", "0"}, {"ark.dr.rto_target_seconds", "315360000"}});
  EXPECT_TRUE(only.rpo_tier.empty());
  EXPECT_EQ(only.rpo_target_ms, 0u);
  EXPECT_TRUE(only.rpo_target_custom);
  EXPECT_EQ(only.rto_target_ms, 315'360'000ull * kSec);

  // A custom target even gives a no-target tier a number.
  EXPECT_EQ(Targets({{"ark.dr.rto_tier", "non-critical"}, {"ark.dr.rto_target_seconds", "172800"}})
                .rto_target_ms,
            48 * kHour);
}

TEST(DrTiersTest, ABadTierNamesTheKeyTheValueAndTheTiers) {
  std::string m = Refusal({{"ark.dr.rto_tier", "gold"}});
  EXPECT_TRUE(Contains(m, "ark.dr.rto_tier")) << m;
  EXPECT_TRUE(Contains(m, "'gold'")) << m;
  EXPECT_TRUE(Contains(m, "critical, important, general, non-critical")) << m;

  m = Refusal({{"ark.dr.rpo_tier", "Zero"}});  // spelled exactly, lower case
  EXPECT_TRUE(Contains(m, "ark.dr.rpo_tier = 'Zero'")) << m;
  EXPECT_TRUE(Contains(m, "zero, very-low, low, tolerable")) << m;

  // The other scale's tier names are not accepted.
  EXPECT_TRUE(Contains(Refusal({{"ark.dr.rpo_tier", "critical"}}), "not an RPO tier"));
  EXPECT_TRUE(Contains(Refusal({{"ark.dr.rto_tier", ""}}), "ark.dr.rto_tier = ''"));
}

TEST(DrTiersTest, ABadTargetNamesTheKeyTheValueAndTheRange) {
  for (const std::string bad :
       {"-5", "1.5", "", " 60", "60s", "+60", "99999999999", "315360001", "1e3"}) {
    std::string m = Refusal({{"ark.dr.rpo_target_seconds", bad}});
    EXPECT_TRUE(Contains(m, "ark.dr.rpo_target_seconds = '" + bad + "'")) << m;
    EXPECT_TRUE(Contains(m, "whole number from 0 to 315360000")) << m;
  }
  EXPECT_TRUE(Contains(Refusal({{"ark.dr.rto_target_seconds", "soon"}}),
                       "ark.dr.rto_target_seconds = 'soon'"));
}

TEST(DrTiersTest, AnUnknownDrKeyIsRefusedWithTheKnownKeys) {
  std::string m = Refusal({{"ark.dr.rto_teir", "critical"}});
  EXPECT_TRUE(Contains(m, "unknown DR property ark.dr.rto_teir = 'critical'")) << m;
  for (const char* key : {"ark.dr.rto_tier", "ark.dr.rpo_tier", "ark.dr.rto_target_seconds",
                          "ark.dr.rpo_target_seconds"}) {
    EXPECT_TRUE(Contains(m, key)) << m;
  }
}

TEST(DrTiersTest, ValidateDrPropertyChecksOnlyDrKeys) {
  EXPECT_OK(ValidateDrProperty("mmap.enabled", "anything at all"));
  EXPECT_OK(ValidateDrProperty("ark.dr.rto_tier", "important"));
  EXPECT_OK(ValidateDrProperty("ark.dr.rpo_target_seconds", "900"));
  Status s = ValidateDrProperty("ark.dr.rpo_tier", "none");
  EXPECT_TRUE(s.Is(StatusCode::kInvalidArgument));
  EXPECT_EQ(s.message(), Refusal({{"ark.dr.rpo_tier", "none"}}));  // one message for both callers
  EXPECT_TRUE(ValidateDrProperty("ark.dr.owner", "sre").Is(StatusCode::kInvalidArgument));
}

TEST(DrTiersTest, TargetsJsonHasNullsForWhatIsUnset) {
  DrTargets t = Tiers("critical", "tolerable");
  t.source = "database default";
  nlohmann::json j = t.ToJson();
  EXPECT_EQ(j["rtoTier"], "critical");
  EXPECT_EQ(j["rpoTier"], "tolerable");
  EXPECT_EQ(j["rtoTargetMs"], 3'600'000);
  EXPECT_TRUE(j["rpoTargetMs"].is_null());
  EXPECT_EQ(j["rtoTargetCustom"], false);
  EXPECT_EQ(j["source"], "database default");
  EXPECT_TRUE(DrTargets{}.ToJson()["rtoTier"].is_null());
}

// ---- merge ------------------------------------------------------------------

TEST(DrTiersTest, ACollectionOverridesItsDatabasePerScale) {
  DrTargets db = Tiers("critical", "low");
  db.source = "database default";
  DrTargets coll = Tiers("", "zero");
  coll.source = "collection default.payments";
  DrTargets m = MergeTargets(db, coll);
  EXPECT_EQ(m.rto_tier, "critical");
  EXPECT_EQ(m.rto_target_ms, 1 * kHour);
  EXPECT_EQ(m.rpo_tier, "zero");
  EXPECT_EQ(m.rpo_target_ms, 0u);
  EXPECT_EQ(m.source, "database default (RTO), collection default.payments (RPO)");

  // A custom target alone replaces the database's whole scale, tier included.
  DrTargets custom = Targets({{"ark.dr.rto_target_seconds", "7200"}});
  custom.source = "collection default.docs";
  m = MergeTargets(db, custom);
  EXPECT_TRUE(m.rto_tier.empty());
  EXPECT_EQ(m.rto_target_ms, 2 * kHour);
  EXPECT_TRUE(m.rto_target_custom);
  EXPECT_EQ(m.rpo_tier, "low");

  // A collection with nothing inherits everything, and says so.
  DrTargets bare;
  bare.source = "collection default.logs";
  m = MergeTargets(db, bare);
  EXPECT_EQ(m.rto_tier, "critical");
  EXPECT_EQ(m.rpo_tier, "low");
  EXPECT_EQ(m.source, "database default");

  // A collection setting both scales is its own source.
  DrTargets both = Tiers("general", "tolerable");
  both.source = "collection default.all";
  EXPECT_EQ(MergeTargets(db, both).source, "collection default.all");
}

// ---- verdicts ---------------------------------------------------------------

TEST(DrTiersTest, UnderOneHourMeansUnder) {
  DrTargets t = Tiers("critical", "very-low");
  Verdict v = Judge(t, 1 * kHour - 1, 1 * kHour - 1);
  EXPECT_EQ(v.rto, "pass");
  EXPECT_EQ(v.rpo, "pass");
  EXPECT_TRUE(v.reasons.empty());
  EXPECT_TRUE(v.passed());

  v = Judge(t, 1 * kHour, 1 * kHour);  // exactly at the target: not under it
  EXPECT_EQ(v.rto, "fail");
  EXPECT_EQ(v.rpo, "fail");
  ASSERT_EQ(v.reasons.size(), 2u);
  EXPECT_EQ(v.reasons[0], "RTO 1 h is not under the critical tier's 1 h");
  EXPECT_EQ(v.reasons[1], "RPO 1 h is not under the very-low tier's 1 h");
  EXPECT_FALSE(v.passed());

  v = Judge(t, 72 * kMin, std::nullopt);
  EXPECT_EQ(v.reasons.at(0), "RTO 1 h 12 min exceeds the critical tier's 1 h by 12 min");
  EXPECT_EQ(v.rpo, "not-measured");
}

TEST(DrTiersTest, RangeTiersAndCustomTargetsAreMetAtTheTarget) {
  Verdict v = Judge(Tiers("important", "low"), 4 * kHour, 24 * kHour);
  EXPECT_EQ(v.rto, "pass");
  EXPECT_EQ(v.rpo, "pass");
  v = Judge(Tiers("important", "low"), 4 * kHour + 1, 24 * kHour + 1);
  EXPECT_EQ(v.reasons.at(0), "RTO 4 h exceeds the important tier's 4 h by 1 ms");
  EXPECT_EQ(v.reasons.at(1), "RPO 24 h exceeds the low tier's 24 h by 1 ms");
  EXPECT_EQ(Judge(Tiers("general", ""), 24 * kHour, {}).rto, "pass");

  // A custom target on a critical tier: met at the target (≤), named as custom.
  DrTargets custom =
      Targets({{"ark.dr.rto_tier", "critical"}, {"ark.dr.rto_target_seconds", "600"}});
  EXPECT_EQ(Judge(custom, 10 * kMin, {}).rto, "pass");
  v = Judge(custom, 10 * kMin + 1500, {});
  EXPECT_EQ(v.rto, "fail");
  EXPECT_EQ(v.reasons.at(0), "RTO 10 min 1 s exceeds the custom target of 10 min by 1.5 s");
}

TEST(DrTiersTest, ZeroMeansZero) {
  DrTargets t = Tiers("", "zero");
  EXPECT_EQ(Judge(t, {}, 0).rpo, "pass");
  Verdict v = Judge(t, {}, 1);
  EXPECT_EQ(v.rpo, "fail");
  EXPECT_EQ(v.reasons.at(0),
            "RPO 1 ms exceeds the zero tier's 0: no acknowledged write may be lost");
  EXPECT_EQ(v.rto, "no-target");  // the RTO scale is unset
}

TEST(DrTiersTest, NoTargetAndNotMeasuredDoNotFail) {
  Verdict v = Judge(Tiers("non-critical", "tolerable"), 100 * kHour, 100 * kHour);
  EXPECT_EQ(v.rto, "no-target");
  EXPECT_EQ(v.rpo, "no-target");
  EXPECT_TRUE(v.reasons.empty());
  v = Judge(Tiers("critical", "zero"), std::nullopt, std::nullopt);
  EXPECT_EQ(v.rto, "not-measured");
  EXPECT_EQ(v.rpo, "not-measured");
  EXPECT_TRUE(v.passed());
  EXPECT_EQ(v.reasons.at(0), "RTO was not measured; the target is the critical tier's 1 h");
  nlohmann::json j = v.ToJson();
  EXPECT_EQ(j["rto"], "not-measured");
  EXPECT_EQ(j["reasons"].size(), 2u);
}

TEST(DrTiersTest, DurationsReadAsPeopleSayThem) {
  EXPECT_EQ(FormatDuration(0), "0 ms");
  EXPECT_EQ(FormatDuration(850), "850 ms");
  EXPECT_EQ(FormatDuration(1000), "1 s");
  EXPECT_EQ(FormatDuration(4200), "4.2 s");
  EXPECT_EQ(FormatDuration(4299), "4.2 s");  // truncated, never rounded up
  EXPECT_EQ(FormatDuration(59'999), "59.9 s");
  EXPECT_EQ(FormatDuration(60'000), "1 min");
  EXPECT_EQ(FormatDuration(12 * kMin + 5 * kSec), "12 min 5 s");
  EXPECT_EQ(FormatDuration(1 * kHour), "1 h");
  EXPECT_EQ(FormatDuration(72 * kMin), "1 h 12 min");
  EXPECT_EQ(FormatDuration(24 * kHour), "24 h");
  EXPECT_EQ(FormatDuration(47 * kHour + 59 * kMin), "47 h 59 min");
  EXPECT_EQ(FormatDuration(76 * kHour), "3 d 4 h");
  EXPECT_EQ(FormatDuration(92 * 24 * kHour), "92 d");
}

// ---- ark dr check: RPO ------------------------------------------------------

TEST(DrCheckTest, ATierWhoseScheduleCannotMeetItsRpoFails) {
  DrFacts f = Facts();
  f.backup_schedules.push_back(Schedule("nightly", 86'400));
  Finding rpo = One(Check(Tiers("", "very-low"), f), "rpo");
  EXPECT_EQ(rpo.severity, "fail");
  EXPECT_EQ(rpo.database, "default");
  EXPECT_TRUE(Contains(rpo.message, "RPO 24 h exceeds the very-low tier's 1 h by 23 h"))
      << rpo.message;
  EXPECT_TRUE(Contains(rpo.message,
                       "the best recovery point comes from backup schedule 'nightly' (every 24 h)"))
      << rpo.message;
  EXPECT_TRUE(Contains(rpo.message, "schedule backups under 3600 s apart")) << rpo.message;
  EXPECT_TRUE(Contains(rpo.message, "archive.interval_seconds under 3600 s")) << rpo.message;

  // The same daily schedule meets the low tier (1–24 h: at most 24 h).
  EXPECT_EQ(One(Check(Tiers("", "low"), f), "rpo").severity, "ok");
}

TEST(DrCheckTest, HourlyBackupsAreNotUnderAnHour) {
  DrFacts f = Facts();
  BackupScheduleFact hourly = Schedule("hourly", 3600);
  hourly.retention = "keep_last=48";
  f.backup_schedules.push_back(hourly);
  Finding rpo = One(Check(Tiers("", "very-low"), f), "rpo");
  EXPECT_EQ(rpo.severity, "fail");
  EXPECT_TRUE(Contains(rpo.message, "RPO 1 h is not under the very-low tier's 1 h")) << rpo.message;
  EXPECT_TRUE(Contains(rpo.message, "'hourly' (every 1 h, keep_last=48)")) << rpo.message;
  // A custom target of an hour is met at the hour.
  EXPECT_EQ(One(Check(Targets({{"ark.dr.rpo_target_seconds", "3600"}}), f), "rpo").severity, "ok");
}

TEST(DrCheckTest, TheBestMechanismCounts) {
  DrFacts f = Facts();
  f.backup_schedules = {Schedule("nightly", 86'400), Schedule("sixhourly", 6 * 3600)};
  Finding rpo = One(Check(Tiers("", "low"), f), "rpo");
  EXPECT_EQ(rpo.severity, "ok");
  EXPECT_TRUE(Contains(rpo.message, "RPO at worst 6 h from backup schedule 'sixhourly'"))
      << rpo.message;

  f.archive.enabled = true;
  f.archive.interval_seconds = 5;
  rpo = One(Check(Tiers("", "very-low"), f), "rpo");
  EXPECT_EQ(rpo.severity, "ok");
  EXPECT_TRUE(Contains(rpo.message, "5 s from the WAL archive")) << rpo.message;

  f.archive.interval_seconds = 3600;  // uploads too rare for under an hour
  rpo = One(Check(Tiers("", "very-low"), f), "rpo");
  EXPECT_EQ(rpo.severity, "fail");
  EXPECT_TRUE(Contains(rpo.message, "set archive.interval_seconds under 3600 s")) << rpo.message;
}

TEST(DrCheckTest, AnArchiveWithoutABaseBackupRestoresNothing) {
  DrFacts f = Facts();
  f.archive.enabled = true;
  auto findings = Check(Tiers("important", "very-low"), f);
  Finding rpo = One(findings, "rpo");
  EXPECT_EQ(rpo.severity, "fail");
  EXPECT_TRUE(Contains(rpo.message, "nothing to recover from")) << rpo.message;
  EXPECT_TRUE(Contains(rpo.message, "Not counted: WAL archiving is on but no backup schedule"))
      << rpo.message;
  EXPECT_EQ(One(findings, "rto").severity, "fail");
}

TEST(DrCheckTest, FailingBackupsMakeTheRecoveryPointOld) {
  DrFacts f = Facts();
  BackupScheduleFact nightly = Schedule("nightly", 86'400);
  nightly.last_success_micros = kNow - 3 * kDayMicros;
  f.backup_schedules.push_back(nightly);
  Finding rpo = One(Check(Tiers("", "low"), f), "rpo");
  EXPECT_EQ(rpo.severity, "fail");
  EXPECT_TRUE(Contains(rpo.message, "RPO 3 d exceeds the low tier's 24 h by 2 d")) << rpo.message;
  EXPECT_TRUE(Contains(rpo.message, "its last success was 3 d ago")) << rpo.message;
  EXPECT_TRUE(Contains(rpo.message, "make the failing backups succeed")) << rpo.message;

  nightly.last_success_micros = kNow - 2 * 3600ull * 1'000'000;  // two hours ago: on schedule
  f.backup_schedules = {nightly};
  EXPECT_EQ(One(Check(Tiers("", "low"), f), "rpo").severity, "ok");
}

TEST(DrCheckTest, ZeroNeedsSyncReplicationThatBlocks) {
  DrFacts f = Facts();
  f.backup_schedules.push_back(Schedule("nightly", 86'400));
  const DrTargets zero = Tiers("", "zero");

  Replicate(&f, "async");
  Finding rpo = One(Check(zero, f), "rpo");
  EXPECT_EQ(rpo.severity, "fail");
  EXPECT_TRUE(Contains(rpo.message, "async replication can lose the last acknowledged writes"))
      << rpo.message;
  EXPECT_TRUE(Contains(rpo.message, "replication.mode: sync")) << rpo.message;

  Replicate(&f, "sync");
  f.replication.sync_policy = "degrade";
  rpo = One(Check(zero, f), "rpo");
  EXPECT_EQ(rpo.severity, "fail");
  EXPECT_TRUE(Contains(rpo.message, "set replication.sync_policy: block")) << rpo.message;

  f.replication.sync_policy = "block";
  rpo = One(Check(zero, f), "rpo");
  EXPECT_EQ(rpo.severity, "ok") << rpo.message;
  EXPECT_TRUE(Contains(rpo.message, "sync replication (sync_policy: block) to 1 connected standby"))
      << rpo.message;

  Replicate(&f, "sync", /*connected=*/0);
  rpo = One(Check(zero, f), "rpo");
  EXPECT_EQ(rpo.severity, "fail");
  EXPECT_TRUE(
      Contains(rpo.message, "sync replication has no connected standby (1 standby configured)"))
      << rpo.message;

  Replicate(&f, "none", 0);
  rpo = One(Check(zero, f), "rpo");
  EXPECT_EQ(rpo.severity, "fail");
  EXPECT_TRUE(
      Contains(rpo.message, "the best recovery point is 24 h from backup schedule 'nightly'"))
      << rpo.message;
}

TEST(DrCheckTest, ReplicationMeetsTightTargetsOnlyWhileConnected) {
  DrFacts f = Facts();
  f.backup_schedules.push_back(Schedule("nightly", 86'400));
  Replicate(&f, "async");
  f.replication.lag_ms = 300;
  Finding rpo = One(Check(Tiers("", "very-low"), f), "rpo");
  EXPECT_EQ(rpo.severity, "ok");
  EXPECT_TRUE(
      Contains(rpo.message, "1.3 s from async replication to 1 connected standby, lag 300 ms"))
      << rpo.message;

  Replicate(&f, "async", /*connected=*/0);
  rpo = One(Check(Tiers("", "very-low"), f), "rpo");
  EXPECT_EQ(rpo.severity, "fail");
  EXPECT_TRUE(
      Contains(rpo.message,
               "Not counted: async replication (1 standby configured) has no connected standby"))
      << rpo.message;

  Replicate(&f, "periodic");
  f.replication.lag_ms.reset();
  f.replication.period_seconds = 7200;
  rpo = One(Check(Tiers("", "very-low"), f), "rpo");
  EXPECT_EQ(rpo.severity, "fail");
  EXPECT_TRUE(Contains(rpo.message, "set replication.period_seconds under 3600 s")) << rpo.message;
}

TEST(DrCheckTest, NothingToRecoverFromFailsEvenTheLaxestTiers) {
  auto findings = Check(Tiers("non-critical", "tolerable"), Facts());
  EXPECT_EQ(One(findings, "rpo").severity, "fail");
  EXPECT_TRUE(Contains(One(findings, "rpo").message, "nothing to recover from"));
  EXPECT_EQ(One(findings, "rto").severity, "fail");
  EXPECT_EQ(One(findings, "drill").severity, "ok");  // no cadence for tiers above 24 h
  EXPECT_EQ(ExitCode(findings), 1);

  DrFacts f = Facts();
  f.backup_schedules.push_back(Schedule("weekly", 7 * 86'400));
  findings = Check(Tiers("non-critical", "tolerable"), f);
  EXPECT_EQ(ExitCode(findings), 0);
  EXPECT_TRUE(Contains(One(findings, "rpo").message, "tolerable RPO tier: no target"))
      << One(findings, "rpo").message;
}

TEST(DrCheckTest, UnsetScalesWarn) {
  DrFacts f = Facts();
  f.backup_schedules.push_back(Schedule("nightly", 86'400));
  auto findings = Check(DrTargets{}, f);
  ASSERT_EQ(findings.size(), 2u);  // rpo and rto; an empty policy has no drill cadence
  EXPECT_EQ(findings[0].target, "rpo");
  EXPECT_EQ(findings[0].severity, "warn");
  EXPECT_TRUE(Contains(findings[0].message, "ark.dr.rpo_tier")) << findings[0].message;
  EXPECT_EQ(findings[1].target, "rto");
  EXPECT_EQ(findings[1].severity, "warn");
  EXPECT_EQ(ExitCode(findings), 0);
}

// ---- ark dr check: RTO ------------------------------------------------------

TEST(DrCheckTest, AutomaticFailoverIsEstimatedFromItsSettings) {
  DrFacts f = Facts();
  Replicate(&f, "async");
  f.failover.monitor = true;  // defaults: 1 s × 3, lease 5 s
  Finding rto = One(Check(Tiers("critical", ""), f), "rto");
  EXPECT_EQ(rto.severity, "ok");
  EXPECT_TRUE(
      Contains(rto.message, "takes about 13 s (3 failed checks × 1 s + lease ttl 5 s + 5 s"))
      << rto.message;
  EXPECT_TRUE(Contains(rto.message, "No failover drill has measured it")) << rto.message;

  // A 10 s custom target is tighter than detection plus the lease.
  rto = One(Check(Targets({{"ark.dr.rto_target_seconds", "10"}}), f), "rto");
  EXPECT_EQ(rto.severity, "fail");
  EXPECT_TRUE(Contains(rto.message, "RTO 13 s exceeds the custom target of 10 s by 3 s"))
      << rto.message;
  EXPECT_TRUE(Contains(rto.message, "--check-interval-ms")) << rto.message;
  EXPECT_TRUE(Contains(rto.message, "failover.lease_ttl_ms")) << rto.message;
}

TEST(DrCheckTest, ManualFailoverFailsACriticalTierAndWarnsOthers) {
  DrFacts f = Facts();
  Replicate(&f, "async");
  Finding rto = One(Check(Tiers("critical", ""), f), "rto");
  EXPECT_EQ(rto.severity, "fail");
  EXPECT_TRUE(Contains(rto.message, "failover is manual (no ark monitor watches the primary)"))
      << rto.message;

  rto = One(Check(Tiers("important", ""), f), "rto");
  EXPECT_EQ(rto.severity, "warn");
  EXPECT_TRUE(Contains(rto.message, "depends on an operator")) << rto.message;

  f.failover.monitor = true;
  f.failover.auto_failover = false;  // detects, reports, does not promote
  rto = One(Check(Tiers("critical", ""), f), "rto");
  EXPECT_EQ(rto.severity, "fail");
  EXPECT_TRUE(Contains(rto.message, "--no-auto-failover")) << rto.message;

  // Even a quick manual drill does not make a critical tier automatic...
  f.drills.push_back(Drill("primary-crash", 10, true, 20 * kMin));
  auto findings = Check(Tiers("critical", ""), f);
  ASSERT_EQ(About(findings, "rto").size(), 1u);
  EXPECT_EQ(One(findings, "rto").severity, "fail");
  EXPECT_TRUE(Contains(One(findings, "rto").message, "measured 20 min"))
      << One(findings, "rto").message;
  // ...and a slow one fails an important tier besides the warning.
  f.drills.push_back(Drill("primary-crash", 5, true, 5 * kHour));
  auto rtos = About(Check(Tiers("important", ""), f), "rto");
  ASSERT_EQ(rtos.size(), 2u);
  EXPECT_EQ(rtos[0].severity, "warn");
  EXPECT_EQ(rtos[1].severity, "fail");
  EXPECT_TRUE(Contains(rtos[1].message, "RTO 5 h exceeds the important tier's 4 h by 1 h"))
      << rtos[1].message;
}

TEST(DrCheckTest, WithoutAStandbyRecoveryIsARestoreAndItsDrillDecides) {
  DrFacts f = Facts();
  f.backup_schedules.push_back(Schedule("nightly", 86'400));
  f.failover.monitor = true;  // a monitor without a standby promotes nothing
  Finding rto = One(Check(Tiers("critical", ""), f), "rto");
  EXPECT_EQ(rto.severity, "warn");
  EXPECT_TRUE(Contains(rto.message, "RTO not measured")) << rto.message;
  EXPECT_TRUE(Contains(rto.message, "ark drill run restore-check")) << rto.message;

  f.drills.push_back(Drill("restore-check", 3, true, 20 * kMin));
  rto = One(Check(Tiers("critical", ""), f), "rto");
  EXPECT_EQ(rto.severity, "ok");
  EXPECT_TRUE(Contains(rto.message, "took 20 min")) << rto.message;

  f.drills.push_back(Drill("site-loss", 1, true, 2 * kHour));  // the newest restore drill counts
  rto = One(Check(Tiers("critical", ""), f), "rto");
  EXPECT_EQ(rto.severity, "fail");
  EXPECT_TRUE(Contains(rto.message, "site-loss drill of 2026-12-05")) << rto.message;
  EXPECT_TRUE(Contains(rto.message, "RTO 2 h exceeds the critical tier's 1 h by 1 h"))
      << rto.message;

  // A disconnected standby cannot be promoted: still a restore, and said so.
  Replicate(&f, "async", /*connected=*/0);
  rto = One(Check(Tiers("general", ""), f), "rto");
  EXPECT_EQ(rto.severity, "ok");
  EXPECT_TRUE(Contains(rto.message, "the standby is not connected, so recovery is a restore"))
      << rto.message;
}

// ---- ark dr check: drills ---------------------------------------------------

TEST(DrCheckTest, DrillCadenceFollowsTheTier) {
  DrFacts f = Facts();
  f.backup_schedules.push_back(Schedule("nightly", 86'400));

  Finding drill = One(Check(Tiers("critical", ""), f), "drill");
  EXPECT_EQ(drill.severity, "fail");
  EXPECT_TRUE(Contains(drill.message, "no passing drill on record")) << drill.message;
  EXPECT_TRUE(
      Contains(drill.message, "the critical RTO tier needs a passing drill every 92 d (quarterly)"))
      << drill.message;

  f.drills = {Drill("restore-check", 92, true)};  // exactly a quarter old: still in time
  EXPECT_EQ(One(Check(Tiers("critical", ""), f), "drill").severity, "ok");
  f.drills = {Drill("restore-check", 93, true)};
  drill = One(Check(Tiers("critical", ""), f), "drill");
  EXPECT_EQ(drill.severity, "fail");
  EXPECT_TRUE(Contains(drill.message, "is 93 d old")) << drill.message;
  EXPECT_EQ(One(Check(Tiers("important", ""), f), "drill").severity, "ok");

  f.drills = {Drill("restore-check", 200, true)};
  EXPECT_EQ(One(Check(Tiers("important", ""), f), "drill").severity, "fail");
  EXPECT_EQ(One(Check(Tiers("general", ""), f), "drill").severity, "ok");
  f.drills = {Drill("restore-check", 400, true)};
  drill = One(Check(Tiers("general", ""), f), "drill");
  EXPECT_EQ(drill.severity, "warn");  // general: yearly, and only a warning
  EXPECT_TRUE(Contains(drill.message, "every 366 d (yearly)")) << drill.message;

  // The stricter scale sets the cadence: a very-low RPO is quarterly too.
  f.drills = {Drill("restore-check", 100, true)};
  drill = One(Check(Tiers("general", "very-low"), f), "drill");
  EXPECT_EQ(drill.severity, "fail");
  EXPECT_TRUE(Contains(drill.message, "the very-low RPO tier needs")) << drill.message;
}

TEST(DrCheckTest, FailedAndPlannedDrillsDoNotCount) {
  DrFacts f = Facts();
  f.backup_schedules.push_back(Schedule("nightly", 86'400));
  f.drills = {Drill("restore-check", 120, true), Drill("restore-check", 2, false),
              Drill("switchover", 1, true)};
  Finding drill = One(Check(Tiers("critical", ""), f), "drill");
  EXPECT_EQ(drill.severity, "fail");
  EXPECT_TRUE(Contains(drill.message, "the last passing drill, the restore-check drill of"))
      << drill.message;
  EXPECT_TRUE(
      Contains(drill.message, "; the latest, the restore-check drill of 2026-12-04, failed"))
      << drill.message;
}

TEST(DrCheckTest, ADrillThatMeasuredMoreThanTheTargetFails) {
  DrFacts f = Facts();
  f.backup_schedules.push_back(Schedule("nightly", 86'400));
  f.archive.enabled = true;  // very-low is met on paper by the archive...
  f.drills = {Drill("restore-check", 3, true, 10 * kMin, 3 * kHour)};
  auto rpos = About(Check(Tiers("critical", "very-low"), f), "rpo");
  ASSERT_EQ(rpos.size(), 2u);
  EXPECT_EQ(rpos[0].severity, "ok");
  EXPECT_EQ(rpos[1].severity, "fail");  // ...but the drill lost 3 h
  EXPECT_TRUE(
      Contains(rpos[1].message, "the restore-check drill of 2026-12-03 measured: RPO 3 h exceeds"))
      << rpos[1].message;

  // Automatic failover meets a critical RTO on paper; a slow primary-crash drill fails it.
  Replicate(&f, "sync");
  f.replication.sync_policy = "block";
  f.failover.monitor = true;
  f.drills = {Drill("primary-crash", 3, true, 90 * kMin, 0)};
  auto findings = Check(Tiers("critical", "zero"), f);
  auto rtos = About(findings, "rto");
  ASSERT_EQ(rtos.size(), 2u);
  EXPECT_EQ(rtos[0].severity, "ok");
  EXPECT_EQ(rtos[1].severity, "fail");
  EXPECT_TRUE(Contains(rtos[1].message, "RTO 1 h 30 min exceeds the critical tier's 1 h by 30 min"))
      << rtos[1].message;
  Finding rpo = One(findings, "rpo");
  EXPECT_EQ(rpo.severity, "ok");
  EXPECT_TRUE(Contains(rpo.message, "The primary-crash drill of 2026-12-03 measured 0 ms."))
      << rpo.message;

  // A restore drill's RPO says nothing about a zero tier that rests on sync replication.
  f.drills.push_back(Drill("restore-check", 1, true, 10 * kMin, 2 * kHour));
  EXPECT_EQ(About(Check(Tiers("critical", "zero"), f), "rpo").size(), 1u);
}

// ---- output -----------------------------------------------------------------

TEST(DrCheckTest, FindingsComeInOrderAndAsJson) {
  DrFacts f = Facts();
  f.backup_schedules.push_back(Schedule("nightly", 86'400));
  f.drills = {Drill("restore-check", 10, true, 5 * kMin)};
  auto findings = CheckTargets(
      {{"default", Tiers("general", "low")}, {"default.logs", Tiers("", "very-low")}}, f);
  ASSERT_EQ(findings.size(), 6u);
  const char* order[][2] = {{"default", "rpo"},      {"default", "rto"},
                            {"default", "drill"},    {"default.logs", "rpo"},
                            {"default.logs", "rto"}, {"default.logs", "drill"}};
  for (size_t i = 0; i < findings.size(); ++i) {
    EXPECT_EQ(findings[i].database, order[i][0]) << i;
    EXPECT_EQ(findings[i].target, order[i][1]) << i;
  }
  EXPECT_EQ(findings[0].severity, "ok");
  EXPECT_EQ(findings[3].severity, "fail");  // very-low from a nightly backup
  EXPECT_EQ(findings[4].severity, "warn");  // no RTO tier on default.logs
  EXPECT_EQ(ExitCode(findings), 1);

  nlohmann::json j = FindingsToJson(findings);
  EXPECT_EQ(j["format"], "ark-dr-check");
  EXPECT_EQ(j["version"], kDrTiersFormatVersion);
  EXPECT_EQ(j["passed"], false);
  EXPECT_EQ(j["counts"]["fail"], 1);
  EXPECT_EQ(j["counts"]["warn"], 1);
  EXPECT_EQ(j["counts"]["ok"], 4);
  ASSERT_EQ(j["findings"].size(), 6u);
  EXPECT_EQ(j["findings"][3]["severity"], "fail");
  EXPECT_EQ(j["findings"][3]["target"], "rpo");
  EXPECT_EQ(j["findings"][3]["database"], "default.logs");
  EXPECT_EQ(j["findings"][3]["message"], findings[3].message);

  EXPECT_EQ(ExitCode({}), 0);
  EXPECT_EQ(FindingsToJson({})["passed"], true);
  EXPECT_EQ(ExitCode({{"warn", "rto", "x", "m"}, {"ok", "rpo", "x", "m"}}), 0);
}

}  // namespace
}  // namespace ark::dr
