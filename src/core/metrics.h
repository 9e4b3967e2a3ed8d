// Metrics: a small Prometheus registry (counters, gauges, histograms with
// labels) rendered in the text exposition format for GET /metrics.
//
// Thread-safety: every method is thread-safe. Observations take one mutex per
// metric family; that is cheap next to the request work they measure.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace ark {

using MetricLabels = std::map<std::string, std::string>;

class MetricsRegistry {
 public:
  // Adds `delta` to counter `name{labels}` (created on first use).
  void IncrementCounter(const std::string& name, const MetricLabels& labels, double delta = 1);
  void SetGauge(const std::string& name, const MetricLabels& labels, double value);
  // Records one observation into histogram `name{labels}` with default
  // latency buckets (seconds: 0.0005 … 30).
  void ObserveHistogram(const std::string& name, const MetricLabels& labels, double value);
  // Sets the HELP text and TYPE of a family (optional; defaults are generic).
  void Describe(const std::string& name, const std::string& help);
  // A gauge computed at scrape time (rows per collection, WAL bytes, …).
  void AddCollector(std::function<void(MetricsRegistry&)> collector);

  // Prometheus text format, families sorted by name.
  std::string Render();

  // Current value of a counter or gauge (for tests); 0 if absent.
  double Value(const std::string& name, const MetricLabels& labels);

 private:
  struct Histogram {
    std::vector<uint64_t> bucket_counts;
    uint64_t count = 0;
    double sum = 0;
  };
  struct Family {
    std::string type;  // counter | gauge | histogram
    std::string help;
    std::map<MetricLabels, double> values;
    std::map<MetricLabels, Histogram> histograms;
  };
  Family& FamilyLocked(const std::string& name, const char* type);

  std::mutex mu_;
  std::map<std::string, Family> families_;                          // GUARDED_BY(mu_)
  std::vector<std::function<void(MetricsRegistry&)>> collectors_;   // GUARDED_BY(mu_)
};

// Escapes a label value for the exposition format.
std::string EscapeLabelValue(const std::string& v);

}  // namespace ark
