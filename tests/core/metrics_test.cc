#include "core/metrics.h"

#include <gtest/gtest.h>

#include <limits>

namespace ark {
namespace {

TEST(Metrics, RendersPrometheusText) {
  MetricsRegistry m;
  m.Describe("ark_rows", "Rows per collection");
  m.SetGauge("ark_rows", {{"collection", "docs"}}, 42);
  m.IncrementCounter("ark_requests_total", {{"route", "a\"b"}}, 2);
  m.ObserveHistogram("ark_latency_seconds", {}, 0.003);
  m.ObserveHistogram("ark_latency_seconds", {}, 100);
  std::string text = m.Render();
  EXPECT_NE(text.find("# HELP ark_rows Rows per collection\n# TYPE ark_rows gauge\n"
                      "ark_rows{collection=\"docs\"} 42\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("ark_requests_total{route=\"a\\\"b\"} 2"), std::string::npos);
  EXPECT_NE(text.find("ark_latency_seconds_bucket{le=\"0.0025\"} 0"), std::string::npos);
  EXPECT_NE(text.find("ark_latency_seconds_bucket{le=\"0.005\"} 1"), std::string::npos);
  EXPECT_NE(text.find("ark_latency_seconds_bucket{le=\"+Inf\"} 2"), std::string::npos);
  EXPECT_NE(text.find("ark_latency_seconds_count 2"), std::string::npos);
}

TEST(Metrics, NotANumberIsSpelledAsTheFormatSays) {
  // A drill's RTO when the drill did not measure one (dr/drill/drill_scheduler.h).
  MetricsRegistry m;
  m.SetGauge("ark_drill_last_rto_seconds", {}, std::numeric_limits<double>::quiet_NaN());
  m.SetGauge("ark_up", {}, std::numeric_limits<double>::infinity());
  const std::string text = m.Render();
  EXPECT_NE(text.find("ark_drill_last_rto_seconds NaN\n"), std::string::npos) << text;
  EXPECT_NE(text.find("ark_up +Inf\n"), std::string::npos) << text;
}

TEST(Metrics, CollectorsRunAtScrapeTime) {
  MetricsRegistry m;
  int calls = 0;
  m.AddCollector([&](MetricsRegistry& r) { r.SetGauge("ark_wal_bytes", {}, ++calls); });
  EXPECT_NE(m.Render().find("ark_wal_bytes 1"), std::string::npos);
  EXPECT_NE(m.Render().find("ark_wal_bytes 2"), std::string::npos);
}

}  // namespace
}  // namespace ark
