// IndexSpec and SearchParams: what an index is (type, metric, dimension,
// build parameters) and how one search runs (ef, nprobe), parsed from
// Milvus-style JSON key/values and validated with errors that name the
// offending parameter.
//
// Milvus semantics: metric L2 is the squared Euclidean distance (smaller is
// closer); IP is the inner product and COSINE the cosine similarity (larger is
// closer). COSINE is computed as IP on L2-normalised vectors.
//
// Pure value types: thread-compatible, no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace ark {

// Stored in index files: the numeric values are part of the format
// (docs/formats/index.md) and must never change.
enum class IndexType : uint8_t {
  kFlat = 1,
  kHnsw = 2,
  kIvfFlat = 3,
  kIvfSq8 = 4,
  kIvfPq = 5,
  kHnswSq = 6,  // HNSW graph over scalar-quantized codes (index file version 2)
};

// HNSW_SQ's code per vector component (Milvus's sq_type). Stored in index
// files: the numeric values must never change. (Milvus also offers BF16;
// FAISS 1.7.3 has no bf16 quantizer, so Ark refuses it by name.)
enum class SqType : uint8_t {
  kSq8 = 1,  // 8 bits, per-dimension min/max range (FAISS QT_8bit)
  kFp16 = 2,  // IEEE half (FAISS QT_fp16)
  kSq6 = 3,  // 6 bits, per-dimension range (FAISS QT_6bit)
};

// HNSW_SQ's refine_type: the precision candidates are re-ranked at. Ark
// re-ranks against the segment's own float vectors, so only FP32 exists.
enum class RefineType : uint8_t {
  kFp32 = 1,
};

// Stored in index files: the numeric values must never change.
enum class Metric : uint8_t {
  kL2 = 1,
  kIp = 2,
  kCosine = 3,
};

// "FLAT", "HNSW", "IVF_FLAT", "IVF_SQ8", "IVF_PQ", "HNSW_SQ".
std::string_view IndexTypeName(IndexType type);
// "SQ8", "FP16", "SQ6".
std::string_view SqTypeName(SqType type);
// "FP32".
std::string_view RefineTypeName(RefineType type);
// "L2", "IP", "COSINE".
std::string_view MetricName(Metric metric);
// Case-insensitive. "AUTOINDEX" is not a type: ParseIndexSpec resolves it.
Result<IndexType> ParseIndexType(std::string_view name);
Result<Metric> ParseMetric(std::string_view name);
// True when larger scores are closer (IP, COSINE).
inline bool LargerIsCloser(Metric metric) { return metric != Metric::kL2; }

// Defaults, chosen from bench/index_bench.cc measurements
// (docs/benchmarks/index.md).
inline constexpr uint32_t kDefaultHnswM = 16;
inline constexpr uint32_t kDefaultHnswEfConstruction = 200;
inline constexpr uint32_t kDefaultHnswSearchEf = 128;
inline constexpr uint32_t kDefaultIvfNlist = 128;
inline constexpr uint32_t kDefaultIvfNprobe = 16;
inline constexpr uint32_t kDefaultPqNbits = 8;
inline constexpr uint32_t kMaxDim = 32768;
// HNSW_SQ with refine: candidates re-ranked = ceil(k * refine_k); Milvus's
// default refine_k is 1.
inline constexpr double kDefaultRefineK = 1.0;
inline constexpr double kMaxRefineK = 1000.0;

struct IndexSpec {
  IndexType type = IndexType::kFlat;
  Metric metric = Metric::kL2;
  uint32_t dim = 0;
  // HNSW, HNSW_SQ
  uint32_t hnsw_m = kDefaultHnswM;
  uint32_t hnsw_ef_construction = kDefaultHnswEfConstruction;
  // HNSW_SQ: the code type, and whether searches re-rank the graph's
  // candidates by exact distance to the segment's float vectors.
  SqType sq_type = SqType::kSq8;
  bool refine = false;
  RefineType refine_type = RefineType::kFp32;
  // IVF_*
  uint32_t nlist = kDefaultIvfNlist;
  // IVF_PQ: number of sub-quantizers (must divide dim) and bits per code.
  uint32_t pq_m = 0;
  uint32_t pq_nbits = kDefaultPqNbits;

  bool operator==(const IndexSpec&) const = default;

  // Checks the fields against each other (dim > 0, M in range, PQ m divides
  // dim, ...). InvalidArgument naming the parameter otherwise.
  Status Validate() const;
  // Checks what can only be known with the data: nlist <= rows, PQ training
  // needs >= 2^nbits rows.
  Status ValidateForRows(uint64_t rows) const;
  // Milvus-style JSON: {"index_type": "HNSW", "metric_type": "COSINE",
  // "params": {"M": 16, "efConstruction": 200}}.
  nlohmann::json ToJson() const;
  std::string ToString() const;
};

// Parses Milvus's index description. `index_type` may be "AUTOINDEX" (or
// empty), which maps to HNSW with the default parameters. `params` holds the
// type's build parameters ("M", "efConstruction", "nlist", "m", "nbits";
// HNSW_SQ also "sq_type", "refine" (bool or "true"/"false"), "refine_type");
// numbers may be given as JSON numbers or numeric strings (Milvus accepts
// both). Unknown keys for the chosen type are rejected, naming the key.
Result<IndexSpec> ParseIndexSpec(std::string_view index_type, std::string_view metric_type,
                                 uint32_t dim, const nlohmann::json& params);

struct SearchParams {
  // HNSW candidate list size; 0 = default (max(k, kDefaultHnswSearchEf)).
  uint32_t ef = 0;
  // IVF lists probed; 0 = default (min(nlist, kDefaultIvfNprobe)).
  uint32_t nprobe = 0;
  // With an allow-filter, the index answers by exact (brute-force) search over
  // the allowed rows when they are at most this fraction of the rows.
  // Negative = the index type's measured default; 0 = never; 1 = always.
  double exact_filter_fraction = -1.0;
  // HNSW_SQ with refine: re-rank ceil(k * refine_k) candidates; 0 = default
  // (kDefaultRefineK). Milvus's search param "refine_k" (a float >= 1).
  double refine_k = 0;
  // Not a user parameter: the segment's float vectors (num_rows x dim,
  // row-major, as inserted — not normalised), which HNSW_SQ re-ranks against
  // when its spec has refine. The engine sets it per segment; without it a
  // refine index returns the codes' approximate distances. Must outlive the
  // search call.
  const float* raw_vectors = nullptr;
};

// Parses Milvus's search "params": {"ef": 64} / {"nprobe": 16} /
// {"ef": 64, "refine_k": 2}. Unknown keys
// are ignored (Milvus passes e.g. "radius" through), bad values rejected.
Result<SearchParams> ParseSearchParams(const nlohmann::json& params);

}  // namespace ark
