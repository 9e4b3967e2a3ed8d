#include "core/metrics.h"

#include <cmath>
#include <charconv>

namespace ark {
namespace {

constexpr double kBuckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                               0.1,    0.25,  0.5,    1,     2.5,  5,     10, 30};
constexpr size_t kBucketCount = sizeof(kBuckets) / sizeof(kBuckets[0]);

std::string FormatNumber(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";  // the exposition format's spelling (to_chars writes "nan")
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);  // shortest round-trip form
  return std::string(buf, r.ptr);
}

std::string RenderLabels(const MetricLabels& labels, const std::string& extra_key = "",
                         const std::string& extra_value = "") {
  if (labels.empty() && extra_key.empty()) return "";
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ",";
    first = false;
    out += k + "=\"" + EscapeLabelValue(v) + "\"";
  }
  if (!extra_key.empty()) {
    if (!first) out += ",";
    out += extra_key + "=\"" + extra_value + "\"";
  }
  return out + "}";
}

}  // namespace

std::string EscapeLabelValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

MetricsRegistry::Family& MetricsRegistry::FamilyLocked(const std::string& name, const char* type) {
  Family& f = families_[name];
  if (f.type.empty()) f.type = type;
  return f;
}

void MetricsRegistry::IncrementCounter(const std::string& name, const MetricLabels& labels,
                                       double delta) {
  std::lock_guard lock(mu_);
  FamilyLocked(name, "counter").values[labels] += delta;
}

void MetricsRegistry::SetGauge(const std::string& name, const MetricLabels& labels, double value) {
  std::lock_guard lock(mu_);
  FamilyLocked(name, "gauge").values[labels] = value;
}

void MetricsRegistry::ObserveHistogram(const std::string& name, const MetricLabels& labels,
                                       double value) {
  std::lock_guard lock(mu_);
  Histogram& h = FamilyLocked(name, "histogram").histograms[labels];
  if (h.bucket_counts.empty()) h.bucket_counts.assign(kBucketCount, 0);
  for (size_t i = 0; i < kBucketCount; ++i) {
    if (value <= kBuckets[i]) h.bucket_counts[i]++;
  }
  h.count++;
  h.sum += value;
}

void MetricsRegistry::Describe(const std::string& name, const std::string& help) {
  std::lock_guard lock(mu_);
  families_[name].help = help;
}

void MetricsRegistry::AddCollector(std::function<void(MetricsRegistry&)> collector) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(collector));
}

double MetricsRegistry::Value(const std::string& name, const MetricLabels& labels) {
  std::lock_guard lock(mu_);
  auto f = families_.find(name);
  if (f == families_.end()) return 0;
  auto v = f->second.values.find(labels);
  return v == f->second.values.end() ? 0 : v->second;
}

std::string MetricsRegistry::Render() {
  std::vector<std::function<void(MetricsRegistry&)>> collectors;
  {
    std::lock_guard lock(mu_);
    collectors = collectors_;
  }
  for (auto& c : collectors) c(*this);  // outside the lock: collectors call SetGauge

  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    if (f.type.empty()) continue;  // described but never recorded
    if (!f.help.empty()) out += "# HELP " + name + " " + f.help + "\n";
    out += "# TYPE " + name + " " + f.type + "\n";
    for (const auto& [labels, v] : f.values) {
      out += name + RenderLabels(labels) + " " + FormatNumber(v) + "\n";
    }
    for (const auto& [labels, h] : f.histograms) {
      for (size_t i = 0; i < kBucketCount; ++i) {
        out += name + "_bucket" + RenderLabels(labels, "le", FormatNumber(kBuckets[i])) + " " +
               std::to_string(h.bucket_counts[i]) + "\n";
      }
      out += name + "_bucket" + RenderLabels(labels, "le", "+Inf") + " " +
             std::to_string(h.count) + "\n";
      out += name + "_sum" + RenderLabels(labels) + " " + FormatNumber(h.sum) + "\n";
      out += name + "_count" + RenderLabels(labels) + " " + std::to_string(h.count) + "\n";
    }
  }
  return out;
}

}  // namespace ark
