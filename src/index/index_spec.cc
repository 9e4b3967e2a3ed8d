#include "index/index_spec.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <initializer_list>

#include <fmt/format.h>

namespace ark {
namespace {

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Reads a non-negative integer parameter given as a JSON number or a numeric
// string; InvalidArgument naming `key` otherwise.
Result<uint64_t> GetUint(const nlohmann::json& value, std::string_view key,
                         std::string_view what = "index param") {
  if (value.is_number_unsigned()) return value.get<uint64_t>();
  if (value.is_number_integer()) {
    int64_t v = value.get<int64_t>();
    if (v < 0) return Status::InvalidArgument(fmt::format("{} {}: must be >= 0, got {}", what, key, v));
    return static_cast<uint64_t>(v);
  }
  if (value.is_number_float()) {
    double d = value.get<double>();
    if (d >= 0 && d == std::floor(d) && d < 1e18) return static_cast<uint64_t>(d);
    return Status::InvalidArgument(fmt::format("{} {}: expected an integer, got {}", what, key, d));
  }
  if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    uint64_t v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && ptr == s.data() + s.size() && !s.empty()) return v;
    return Status::InvalidArgument(fmt::format("{} {}: expected an integer, got \"{}\"", what, key, s));
  }
  return Status::InvalidArgument(fmt::format("{} {}: expected an integer, got {}", what, key, value.dump()));
}

Status CheckRange(std::string_view key, uint64_t v, uint64_t lo, uint64_t hi) {
  if (v < lo || v > hi) {
    return Status::InvalidArgument(
        fmt::format("index param {}: must be in [{}, {}], got {}", key, lo, hi, v));
  }
  return Status::OK();
}

Status RejectUnknownKeys(const nlohmann::json& params, IndexType type,
                         std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : params.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string list;
    for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    return Status::InvalidArgument(fmt::format("index param {}: not a parameter of {} (expected one of: {})",
                                               key, IndexTypeName(type), list.empty() ? "none" : list));
  }
  return Status::OK();
}

// A string parameter, upper-cased; InvalidArgument naming `key` otherwise.
Result<std::string> GetName(const nlohmann::json& value, std::string_view key) {
  if (!value.is_string()) {
    return Status::InvalidArgument(fmt::format("index param {}: expected a string, got {}", key, value.dump()));
  }
  return Upper(value.get_ref<const std::string&>());
}

// HNSW_SQ's sq_type, refine and refine_type (Milvus names and values).
Status ParseSqParams(const nlohmann::json& p, IndexSpec* spec) {
  if (p.contains("sq_type")) {
    ARK_ASSIGN_OR_RETURN(std::string name, GetName(p["sq_type"], "sq_type"));
    if (name == "SQ8") {
      spec->sq_type = SqType::kSq8;
    } else if (name == "FP16") {
      spec->sq_type = SqType::kFp16;
    } else if (name == "SQ6") {
      spec->sq_type = SqType::kSq6;
    } else if (name == "BF16") {
      return Status::InvalidArgument(
          "index param sq_type: BF16 is not supported by this build (FAISS 1.7.3 has no bf16 codes); use SQ8, "
          "SQ6 or FP16");
    } else {
      return Status::InvalidArgument(fmt::format(
          "index param sq_type: unknown value \"{}\" (expected SQ8, SQ6 or FP16)", p["sq_type"].get<std::string>()));
    }
  }
  if (p.contains("refine")) {
    const nlohmann::json& v = p["refine"];
    std::string text = v.is_string() ? Upper(v.get<std::string>()) : "";
    if (v.is_boolean()) {
      spec->refine = v.get<bool>();
    } else if (text == "TRUE" || text == "FALSE") {
      spec->refine = text == "TRUE";
    } else {
      return Status::InvalidArgument(
          fmt::format("index param refine: expected true or false, got {}", v.dump()));
    }
  }
  if (p.contains("refine_type")) {
    ARK_ASSIGN_OR_RETURN(std::string name, GetName(p["refine_type"], "refine_type"));
    if (name != "FP32") {
      return Status::InvalidArgument(fmt::format(
          "index param refine_type: \"{}\" is not supported; Ark re-ranks against the segment's stored float "
          "vectors, so refine_type is FP32",
          p["refine_type"].get<std::string>()));
    }
    if (!spec->refine) {
      return Status::InvalidArgument("index param refine_type: given without refine = true");
    }
    spec->refine_type = RefineType::kFp32;
  }
  return Status::OK();
}

}  // namespace

std::string_view IndexTypeName(IndexType type) {
  switch (type) {
    case IndexType::kFlat: return "FLAT";
    case IndexType::kHnsw: return "HNSW";
    case IndexType::kIvfFlat: return "IVF_FLAT";
    case IndexType::kIvfSq8: return "IVF_SQ8";
    case IndexType::kIvfPq: return "IVF_PQ";
    case IndexType::kHnswSq: return "HNSW_SQ";
  }
  return "UNKNOWN";
}

std::string_view SqTypeName(SqType type) {
  switch (type) {
    case SqType::kSq8: return "SQ8";
    case SqType::kFp16: return "FP16";
    case SqType::kSq6: return "SQ6";
  }
  return "UNKNOWN";
}

std::string_view RefineTypeName(RefineType type) {
  switch (type) {
    case RefineType::kFp32: return "FP32";
  }
  return "UNKNOWN";
}

std::string_view MetricName(Metric metric) {
  switch (metric) {
    case Metric::kL2: return "L2";
    case Metric::kIp: return "IP";
    case Metric::kCosine: return "COSINE";
  }
  return "UNKNOWN";
}

Result<IndexType> ParseIndexType(std::string_view name) {
  std::string u = Upper(name);
  for (IndexType t : {IndexType::kFlat, IndexType::kHnsw, IndexType::kIvfFlat, IndexType::kIvfSq8,
                      IndexType::kIvfPq, IndexType::kHnswSq}) {
    if (u == IndexTypeName(t)) return t;
  }
  return Status::InvalidArgument(fmt::format(
      "index_type: unknown index type \"{}\" (expected FLAT, HNSW, HNSW_SQ, IVF_FLAT, IVF_SQ8, IVF_PQ or "
      "AUTOINDEX)",
      name));
}

Result<Metric> ParseMetric(std::string_view name) {
  std::string u = Upper(name);
  for (Metric m : {Metric::kL2, Metric::kIp, Metric::kCosine}) {
    if (u == MetricName(m)) return m;
  }
  return Status::InvalidArgument(
      fmt::format("metric_type: unknown metric \"{}\" (expected L2, IP or COSINE)", name));
}

Status IndexSpec::Validate() const {
  if (dim == 0) return Status::InvalidArgument("index param dim: missing or 0 (the vector field's dimension)");
  ARK_RETURN_IF_ERROR(CheckRange("dim", dim, 1, kMaxDim));
  switch (type) {
    case IndexType::kFlat: break;
    case IndexType::kHnswSq:
      if (sq_type != SqType::kSq8 && sq_type != SqType::kFp16 && sq_type != SqType::kSq6) {
        return Status::InvalidArgument(fmt::format("index param sq_type: unknown value {}", static_cast<int>(sq_type)));
      }
      if (refine_type != RefineType::kFp32) {
        return Status::InvalidArgument(
            fmt::format("index param refine_type: unknown value {}", static_cast<int>(refine_type)));
      }
      [[fallthrough]];
    case IndexType::kHnsw:
      ARK_RETURN_IF_ERROR(CheckRange("M", hnsw_m, 2, 2048));
      ARK_RETURN_IF_ERROR(CheckRange("efConstruction", hnsw_ef_construction, 1, 1u << 20));
      break;
    case IndexType::kIvfPq:
      if (pq_m == 0) return Status::InvalidArgument("index param m: missing (IVF_PQ needs m, which divides dim)");
      if (dim % pq_m != 0) {
        return Status::InvalidArgument(fmt::format("index param m: {} does not divide dim {}", pq_m, dim));
      }
      ARK_RETURN_IF_ERROR(CheckRange("nbits", pq_nbits, 1, 16));
      [[fallthrough]];
    case IndexType::kIvfFlat:
    case IndexType::kIvfSq8:
      ARK_RETURN_IF_ERROR(CheckRange("nlist", nlist, 1, 65536));
      break;
    default:
      return Status::InvalidArgument(fmt::format("index_type: unknown value {}", static_cast<int>(type)));
  }
  if (metric != Metric::kL2 && metric != Metric::kIp && metric != Metric::kCosine) {
    return Status::InvalidArgument(fmt::format("metric_type: unknown value {}", static_cast<int>(metric)));
  }
  return Status::OK();
}

Status IndexSpec::ValidateForRows(uint64_t rows) const {
  bool ivf = type == IndexType::kIvfFlat || type == IndexType::kIvfSq8 || type == IndexType::kIvfPq;
  if (ivf && nlist > rows) {
    return Status::InvalidArgument(
        fmt::format("index param nlist: {} is more than the {} rows to index", nlist, rows));
  }
  if (type == IndexType::kIvfPq && rows < (uint64_t{1} << pq_nbits)) {
    return Status::InvalidArgument(fmt::format(
        "index param nbits: training {} centroids per sub-quantizer needs at least {} rows, got {}",
        uint64_t{1} << pq_nbits, uint64_t{1} << pq_nbits, rows));
  }
  return Status::OK();
}

nlohmann::json IndexSpec::ToJson() const {
  nlohmann::json params = nlohmann::json::object();
  switch (type) {
    case IndexType::kFlat: break;
    case IndexType::kHnswSq:
      params["sq_type"] = SqTypeName(sq_type);
      params["refine"] = refine;
      if (refine) params["refine_type"] = RefineTypeName(refine_type);
      [[fallthrough]];
    case IndexType::kHnsw:
      params["M"] = hnsw_m;
      params["efConstruction"] = hnsw_ef_construction;
      break;
    case IndexType::kIvfPq:
      params["m"] = pq_m;
      params["nbits"] = pq_nbits;
      [[fallthrough]];
    case IndexType::kIvfFlat:
    case IndexType::kIvfSq8:
      params["nlist"] = nlist;
      break;
  }
  return {{"index_type", IndexTypeName(type)},
          {"metric_type", MetricName(metric)},
          {"dim", dim},
          {"params", params}};
}

std::string IndexSpec::ToString() const { return ToJson().dump(); }

Result<IndexSpec> ParseIndexSpec(std::string_view index_type, std::string_view metric_type, uint32_t dim,
                                 const nlohmann::json& params) {
  IndexSpec spec;
  spec.dim = dim;
  std::string type_name = Upper(index_type);
  bool autoindex = type_name.empty() || type_name == "AUTOINDEX";
  if (autoindex) {
    spec.type = IndexType::kHnsw;
  } else {
    ARK_ASSIGN_OR_RETURN(spec.type, ParseIndexType(index_type));
  }
  if (metric_type.empty()) {
    spec.metric = Metric::kCosine;  // Milvus's default metric since 2.4
  } else {
    ARK_ASSIGN_OR_RETURN(spec.metric, ParseMetric(metric_type));
  }
  if (!params.is_null() && !params.is_object()) {
    return Status::InvalidArgument(fmt::format("index params: expected a JSON object, got {}", params.dump()));
  }
  const nlohmann::json p = params.is_null() ? nlohmann::json::object() : params;
  if (autoindex) {
    // AUTOINDEX picks its own parameters; Milvus ignores user ones too.
    ARK_RETURN_IF_ERROR(spec.Validate());
    return spec;
  }
  switch (spec.type) {
    case IndexType::kFlat:
      ARK_RETURN_IF_ERROR(RejectUnknownKeys(p, spec.type, {}));
      break;
    case IndexType::kHnswSq:
      ARK_RETURN_IF_ERROR(
          RejectUnknownKeys(p, spec.type, {"M", "efConstruction", "sq_type", "refine", "refine_type"}));
      ARK_RETURN_IF_ERROR(ParseSqParams(p, &spec));
      [[fallthrough]];
    case IndexType::kHnsw:
      if (spec.type == IndexType::kHnsw) ARK_RETURN_IF_ERROR(RejectUnknownKeys(p, spec.type, {"M", "efConstruction"}));
      if (p.contains("M")) {
        ARK_ASSIGN_OR_RETURN(uint64_t v, GetUint(p["M"], "M"));
        ARK_RETURN_IF_ERROR(CheckRange("M", v, 2, 2048));
        spec.hnsw_m = static_cast<uint32_t>(v);
      }
      if (p.contains("efConstruction")) {
        ARK_ASSIGN_OR_RETURN(uint64_t v, GetUint(p["efConstruction"], "efConstruction"));
        ARK_RETURN_IF_ERROR(CheckRange("efConstruction", v, 1, 1u << 20));
        spec.hnsw_ef_construction = static_cast<uint32_t>(v);
      }
      break;
    case IndexType::kIvfFlat:
    case IndexType::kIvfSq8:
      ARK_RETURN_IF_ERROR(RejectUnknownKeys(p, spec.type, {"nlist"}));
      break;
    case IndexType::kIvfPq:
      ARK_RETURN_IF_ERROR(RejectUnknownKeys(p, spec.type, {"nlist", "m", "nbits"}));
      if (!p.contains("m")) {
        return Status::InvalidArgument("index param m: missing (IVF_PQ needs m, which divides dim)");
      }
      {
        ARK_ASSIGN_OR_RETURN(uint64_t v, GetUint(p["m"], "m"));
        ARK_RETURN_IF_ERROR(CheckRange("m", v, 1, kMaxDim));
        spec.pq_m = static_cast<uint32_t>(v);
      }
      if (p.contains("nbits")) {
        ARK_ASSIGN_OR_RETURN(uint64_t v, GetUint(p["nbits"], "nbits"));
        ARK_RETURN_IF_ERROR(CheckRange("nbits", v, 1, 16));
        spec.pq_nbits = static_cast<uint32_t>(v);
      }
      break;
  }
  if (p.contains("nlist")) {
    ARK_ASSIGN_OR_RETURN(uint64_t v, GetUint(p["nlist"], "nlist"));
    ARK_RETURN_IF_ERROR(CheckRange("nlist", v, 1, 65536));
    spec.nlist = static_cast<uint32_t>(v);
  }
  ARK_RETURN_IF_ERROR(spec.Validate());
  return spec;
}

Result<SearchParams> ParseSearchParams(const nlohmann::json& params) {
  SearchParams sp;
  if (params.is_null()) return sp;
  if (!params.is_object()) {
    return Status::InvalidArgument(fmt::format("search params: expected a JSON object, got {}", params.dump()));
  }
  // Range search would change which hits come back; answering the plain
  // top-k instead would be a wrong answer, so it is refused by name.
  for (const char* key : {"radius", "range_filter"}) {
    if (params.contains(key)) {
      return Status::InvalidArgument(
          fmt::format("search param {}: range search is not supported by Ark (top-k search only)", key));
    }
  }
  if (params.contains("ef")) {
    ARK_ASSIGN_OR_RETURN(uint64_t v, GetUint(params["ef"], "ef", "search param"));
    if (v < 1 || v > (1u << 20)) {
      return Status::InvalidArgument(fmt::format("search param ef: must be in [1, {}], got {}", 1u << 20, v));
    }
    sp.ef = static_cast<uint32_t>(v);
  }
  if (params.contains("nprobe")) {
    ARK_ASSIGN_OR_RETURN(uint64_t v, GetUint(params["nprobe"], "nprobe", "search param"));
    if (v < 1 || v > 65536) {
      return Status::InvalidArgument(fmt::format("search param nprobe: must be in [1, 65536], got {}", v));
    }
    sp.nprobe = static_cast<uint32_t>(v);
  }
  if (params.contains("refine_k")) {
    const nlohmann::json& v = params["refine_k"];
    double d = 0;
    if (v.is_number()) {
      d = v.get<double>();
    } else if (v.is_string()) {
      const std::string& s = v.get_ref<const std::string&>();
      auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
      if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) d = -1;
    } else {
      d = -1;
    }
    if (!(d >= 1.0 && d <= kMaxRefineK)) {
      return Status::InvalidArgument(
          fmt::format("search param refine_k: must be a number in [1, {}], got {}", kMaxRefineK, v.dump()));
    }
    sp.refine_k = d;
  }
  return sp;
}

}  // namespace ark
