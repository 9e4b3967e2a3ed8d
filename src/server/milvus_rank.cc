#include "server/milvus_rank.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <unordered_map>

namespace ark::server {

using nlohmann::json;

Result<Reranker> Reranker::FromJson(const json& rerank, size_t num_searches) {
  Reranker r;
  if (rerank.is_null()) return r;  // Milvus defaults to RRF(k=60)
  if (!rerank.is_object()) {
    return Status::InvalidArgument("rerank must be an object, got " + rerank.dump());
  }
  std::string strategy = rerank.value("strategy", std::string("rrf"));
  std::transform(strategy.begin(), strategy.end(), strategy.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  json params = rerank.value("params", json::object());
  if (!params.is_object()) return Status::InvalidArgument("rerank.params must be an object");
  if (strategy == "rrf") {
    r.kind = Kind::kRrf;
    if (params.contains("k")) {
      if (!params["k"].is_number()) {
        return Status::InvalidArgument("rerank.params.k must be a number, got " +
                                       params["k"].dump());
      }
      r.k = params["k"].get<double>();
      if (!(r.k > 0 && r.k < 16384)) {
        return Status::InvalidArgument("rerank.params.k must be in (0, 16384), got " +
                                       params["k"].dump());
      }
    }
    return r;
  }
  if (strategy == "weighted") {
    r.kind = Kind::kWeighted;
    auto w = params.find("weights");
    if (w == params.end() || !w->is_array()) {
      return Status::InvalidArgument("rerank.params.weights must be an array of numbers");
    }
    for (const json& x : *w) {
      if (!x.is_number() || x.get<double>() < 0 || x.get<double>() > 1) {
        return Status::InvalidArgument("rerank.params.weights: each weight must be in [0, 1], got " +
                                       x.dump());
      }
      r.weights.push_back(x.get<double>());
    }
    if (r.weights.size() != num_searches) {
      return Status::InvalidArgument("rerank.params.weights has " +
                                     std::to_string(r.weights.size()) + " weights for " +
                                     std::to_string(num_searches) + " searches");
    }
    if (params.contains("norm_score")) {
      if (!params["norm_score"].is_boolean()) {
        return Status::InvalidArgument("rerank.params.norm_score must be true or false");
      }
      r.norm_score = params["norm_score"].get<bool>();
    }
    return r;
  }
  return Status::InvalidArgument("rerank.strategy must be rrf or weighted, got '" + strategy + "'");
}

double NormalizeScore(Metric metric, double d) {
  switch (metric) {
    case Metric::kCosine:
      return (1.0 + d) * 0.5;
    case Metric::kIp:
      return 0.5 + std::atan(d) / std::numbers::pi;
    case Metric::kL2:
      return 1.0 - 2.0 * std::atan(d) / std::numbers::pi;
  }
  return d;
}

std::vector<FusedHit> Fuse(const Reranker& ranker, const std::vector<RankedList>& lists) {
  std::vector<FusedHit> hits;
  std::unordered_map<std::string, size_t> at;  // key -> index in hits
  for (size_t l = 0; l < lists.size(); ++l) {
    const RankedList& list = lists[l];
    for (size_t i = 0; i < list.keys.size(); ++i) {
      double s;
      if (ranker.kind == Reranker::Kind::kRrf) {
        s = 1.0 / (ranker.k + static_cast<double>(i + 1));
      } else {
        double d = list.scores[i];
        s = ranker.weights[l] * (ranker.norm_score ? NormalizeScore(list.metric, d) : d);
      }
      auto [it, inserted] = at.emplace(list.keys[i], hits.size());
      if (inserted) {
        hits.push_back({l, i, s});
      } else {
        hits[it->second].score += s;
      }
    }
  }
  std::stable_sort(hits.begin(), hits.end(),
                   [](const FusedHit& a, const FusedHit& b) { return a.score > b.score; });
  return hits;
}

}  // namespace ark::server
