// Rank fusion for entities/hybrid_search, as Milvus's rerankers do it.
//
//  - RRF: score(d) = sum over the lists containing d of 1 / (k + rank), rank
//    starting at 1; k in (0, 16384), default 60.
//  - Weighted: score(d) = sum of weight_i * norm_i(distance), one weight per
//    sub-search (in [0, 1]). With norm_score (default true) distances are
//    first mapped into [0, 1] with Milvus's functions: COSINE (1 + d) / 2,
//    IP 0.5 + atan(d) / pi, L2 1 - 2 * atan(d) / pi (so closer is larger for
//    every metric). Without it the raw distances are summed.
// The fused list is sorted by score, descending (ties: first seen first).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/status.h"
#include "index/index_spec.h"

namespace ark::server {

struct Reranker {
  enum class Kind { kRrf, kWeighted } kind = Kind::kRrf;
  double k = 60;
  std::vector<double> weights;
  bool norm_score = true;

  // From Milvus's `rerank` object ({"strategy":"rrf","params":{"k":60}} or
  // {"strategy":"weighted","params":{"weights":[0.3,0.7]}}); `num_searches`
  // checks the weight count. InvalidArgument naming the parameter otherwise.
  static Result<Reranker> FromJson(const nlohmann::json& rerank, size_t num_searches);
};

// One sub-search's hits: keys (as strings, for identity) and scores, best first.
struct RankedList {
  Metric metric = Metric::kCosine;
  std::vector<std::string> keys;
  std::vector<float> scores;
};

struct FusedHit {
  size_t list = 0;  // the first list that holds the hit
  size_t row = 0;   // its row in that list
  double score = 0;
};

// Normalised score in [0, 1], larger = closer (Milvus's WeightedRanker).
double NormalizeScore(Metric metric, double distance);

std::vector<FusedHit> Fuse(const Reranker& ranker, const std::vector<RankedList>& lists);

}  // namespace ark::server
