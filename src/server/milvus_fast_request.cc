#include "server/milvus_fast_request.h"

#include "server/json_depth.h"
#include "server/reuse_pool.h"

#include <cstring>
#include <limits>

namespace ark::server {
namespace {

using nlohmann::json;
using simdjson::dom::element;
using simdjson::dom::element_type;

static_assert(simdjson::SIMDJSON_PADDING <= kBodyPadding, "POST bodies must carry simdjson's padding");

// Parsers keep their buffers (about 12 bytes per body byte of capacity,
// touched only as far as a document needs), so a few are kept for reuse
// rather than one per worker thread, and only those up to 32 MiB of capacity.
ReusePool<std::unique_ptr<simdjson::dom::parser>>& Pool() {
  static auto* pool = new ReusePool<std::unique_ptr<simdjson::dom::parser>>(8);  // never destroyed: leases may outlive statics
  return *pool;
}

std::unique_ptr<simdjson::dom::parser> NewParser() {
  auto p = std::make_unique<simdjson::dom::parser>();
  // The same depth limit as the generic path (json_depth.h): a deeper body
  // fails here and goes to nlohmann, which refuses it with 1801. Kept by later
  // growth (ensure_capacity). On failure the parser allocates with the default
  // depth at its first parse; the generic path's own check still applies to
  // what falls back to it.
  if (p->allocate(1 << 16, kMaxJsonDepth) != simdjson::SUCCESS) return std::make_unique<simdjson::dom::parser>();
  return p;
}

// DomToJson, noting whether an integer 0 was met: simdjson reads "-0" as the
// integer 0 while nlohmann keeps it a signed integer, which some checks
// (is_number_unsigned) tell apart.
json ToJson(element e, bool* zero_int) {
  switch (e.type()) {
    case element_type::OBJECT: {
      json o = json::object();
      // Named: a range-for over value_unsafe() of a temporary result dangles.
      simdjson::dom::object obj = e.get_object().value_unsafe();
      for (auto field : obj) {
        o[std::string(field.key)] = ToJson(field.value, zero_int);
      }
      return o;
    }
    case element_type::ARRAY: {
      json a = json::array();
      simdjson::dom::array arr = e.get_array().value_unsafe();
      for (element v : arr) a.push_back(ToJson(v, zero_int));
      return a;
    }
    case element_type::INT64: {
      // nlohmann's parser keeps non-negative integers unsigned.
      int64_t i = e.get_int64().value_unsafe();
      if (i == 0) *zero_int = true;
      return i >= 0 ? json(static_cast<uint64_t>(i)) : json(i);
    }
    case element_type::UINT64:
      return json(e.get_uint64().value_unsafe());
    case element_type::DOUBLE:
      return json(e.get_double().value_unsafe());
    case element_type::STRING:
      return json(std::string(e.get_string().value_unsafe()));
    case element_type::BOOL:
      return json(e.get_bool().value_unsafe());
    case element_type::NULL_VALUE:
      break;
  }
  return json();
}

// True when `raw` holds the number token -0 (not -0.x or -0e..).
bool HasNegativeZeroToken(const std::string& raw) {
  for (size_t at = raw.find("-0"); at != std::string::npos; at = raw.find("-0", at + 2)) {
    char next = at + 2 < raw.size() ? raw[at + 2] : ' ';
    if (next != '.' && next != 'e' && next != 'E' && (next < '0' || next > '9')) return true;
  }
  return false;
}

// Parses the body and splits it: `data` stays in the DOM, every other member
// goes to *body. False when the generic parse must take the body.
bool SplitBody(const std::string& raw, simdjson::dom::parser& parser, json* body, bool* has_data,
               element* data) {
  element root;
  // Grown with headroom: bodies of a steady workload differ by a few bytes,
  // and parse() alone reallocates (maps and faults in about 12 bytes per
  // body byte) at each new maximum. A failed allocation is left to parse(),
  // which allocates what is still missing and reports the error.
  if (parser.capacity() < raw.size()) {
    const size_t capacity = raw.size() + raw.size() / 8 + (1 << 16);
    if (parser.allocate(capacity, parser.max_depth()) == simdjson::SUCCESS) {
      const simdjson::error_code ignored = parser.doc.allocate(capacity);
      (void)ignored;
    }
  }
  if (parser.parse(raw).get(root) != simdjson::SUCCESS) return false;
  simdjson::dom::object members;
  if (root.get_object().get(members) != simdjson::SUCCESS) return false;
  *body = json::object();
  bool zero_int = false;
  for (auto field : members) {
    if (field.key == "data") {  // the last of duplicates wins, as in nlohmann
      *data = field.value;
      *has_data = !field.value.is_null();
    } else {
      (*body)[std::string(field.key)] = ToJson(field.value, &zero_int);
    }
  }
  return !(zero_int && HasNegativeZeroToken(raw));
}

// RowBatchFromJson's int rules: Bool from true/false; integer tokens only,
// within the type's range.
bool AppendInt(DataType type, element v, Column* col) {
  if (type == DataType::kBool) {
    bool b;
    if (v.get_bool().get(b) != simdjson::SUCCESS) return false;
    col->ints.push_back(b ? 1 : 0);
    return true;
  }
  int64_t x;
  if (v.type() == element_type::INT64) {
    x = v.get_int64().value_unsafe();
  } else if (v.type() == element_type::UINT64) {
    uint64_t u = v.get_uint64().value_unsafe();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
    x = static_cast<int64_t>(u);
  } else {
    return false;
  }
  int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
  if (type == DataType::kInt8) lo = -128, hi = 127;
  if (type == DataType::kInt16) lo = -32768, hi = 32767;
  if (type == DataType::kInt32) {
    lo = std::numeric_limits<int32_t>::min();
    hi = std::numeric_limits<int32_t>::max();
  }
  if (x < lo || x > hi) return false;
  col->ints.push_back(x);
  return true;
}

// nlohmann's get<double>() / get<float>() of a number: each kind cast directly.
template <typename T>
bool NumberAs(element v, T* out) {
  switch (v.type()) {
    case element_type::DOUBLE:
      *out = static_cast<T>(v.get_double().value_unsafe());
      return true;
    case element_type::INT64:
      *out = static_cast<T>(v.get_int64().value_unsafe());
      return true;
    case element_type::UINT64:
      *out = static_cast<T>(v.get_uint64().value_unsafe());
      return true;
    default:
      return false;
  }
}

// `dim` numbers of an array into out[0, dim).
bool ReadVector(element v, uint32_t dim, float* out) {
  simdjson::dom::array a;
  if (v.get_array().get(a) != simdjson::SUCCESS) return false;
  // size() is exact below 2^24 elements; beyond, the count check below catches it.
  if (a.size() != dim) return false;
  uint32_t k = 0;
  for (element x : a) {
    if (k == dim || !NumberAs(x, &out[k])) return false;
    ++k;
  }
  return k == dim;
}

bool AppendValue(const FieldSchema& f, element v, Column* col) {
  switch (f.type) {
    case DataType::kFloat:
    case DataType::kDouble: {
      double d;
      if (!NumberAs(v, &d)) return false;
      if (f.type == DataType::kFloat) d = static_cast<float>(d);
      col->doubles.push_back(d);
      return true;
    }
    case DataType::kVarChar: {
      std::string_view s;
      if (v.get_string().get(s) != simdjson::SUCCESS) return false;
      col->strings.emplace_back(s);
      return true;
    }
    case DataType::kJson: {
      bool zero_int = false;
      col->strings.push_back(ToJson(v, &zero_int).dump());
      return true;
    }
    case DataType::kFloatVector: {
      const size_t at = col->floats.size();
      col->floats.resize(at + f.dim);
      return ReadVector(v, f.dim, col->floats.data() + at);
    }
    default:
      return AppendInt(f.type, v, col);
  }
}

}  // namespace

DomParserLease::DomParserLease() {
  if (auto p = Pool().Take()) parser_ = std::move(*p);
  else parser_ = NewParser();
}
DomParserLease::~DomParserLease() {
  // A parser grown for a body above 32 MiB (up to limits.max_body_bytes) is
  // freed rather than kept: pooled, it would hold ~12 bytes per byte.
  constexpr size_t kKeptCapacity = 32u << 20;
  if (parser_->capacity() <= kKeptCapacity) Pool().Give(std::move(parser_));
}

json DomToJson(element e) {
  bool zero_int = false;
  return ToJson(e, &zero_int);
}

std::unique_ptr<ParsedBody> ParseWriteBody(const std::string& raw, json* body) {
  auto req = std::make_unique<FastWriteRequest>();
  if (!SplitBody(raw, req->lease.parser(), body, &req->has_data, &req->data)) return nullptr;
  if (auto p = body->find("partitionName"); p != body->end() && p->is_string()) {
    req->partition_name = p->get<std::string>();
  }
  return req;
}

std::unique_ptr<ParsedBody> ParseSearchBody(const std::string& raw, json* body) {
  auto req = std::make_unique<FastSearchRequest>();
  if (!SplitBody(raw, req->lease.parser(), body, &req->has_data, &req->data)) return nullptr;
  if (auto p = body->find("partitionNames"); p != body->end() && p->is_array()) {
    for (const json& name : *p) {
      if (name.is_string()) req->partition_names.push_back(name.get<std::string>());
    }
  }
  return req;
}

std::optional<RowBatch> RowBatchFromDom(const CollectionSchema& schema, element data,
                                        WriteKind kind, size_t max_rows) {
  simdjson::dom::array rows;
  const bool single = data.is_object();
  size_t num_rows = 1;
  if (!single) {
    if (data.get_array().get(rows) != simdjson::SUCCESS) return std::nullopt;
    num_rows = rows.size();  // saturates at 2^24 - 1, far above any max_rows
    if (num_rows == 0 || num_rows > max_rows) return std::nullopt;
  }
  const size_t nfields = schema.fields.size();
  const size_t pk = schema.PrimaryKeyIndex();
  const bool auto_key = schema.auto_id && kind == WriteKind::kInsert;
  RowBatch batch = RowBatch::Empty(schema);
  for (auto& c : batch.columns) c.Reserve(num_rows);
  std::vector<element> values(nfields);
  std::vector<bool> present(nfields);
  std::vector<std::pair<std::string_view, element>> dynamic;

  auto add_row = [&](element row_value) -> bool {
    simdjson::dom::object row;
    if (row_value.get_object().get(row) != simdjson::SUCCESS) return false;
    std::fill(present.begin(), present.end(), false);
    dynamic.clear();
    for (auto field : row) {  // the last of duplicate keys wins, as in nlohmann
      const int i = schema.FieldIndex(field.key);
      if (i >= 0) {
        values[i] = field.value;
        present[i] = true;
      } else {
        if (!schema.enable_dynamic_field || field.key == kDynamicFieldName) return false;
        dynamic.emplace_back(field.key, field.value);
      }
    }
    for (size_t i = 0; i < nfields; ++i) {
      if (i == pk && auto_key) {
        if (present[i]) return false;
        batch.columns[i].ints.push_back(0);
        continue;
      }
      if (!present[i] || values[i].is_null()) return false;
      if (!AppendValue(schema.fields[i], values[i], &batch.columns[i])) return false;
    }
    if (schema.enable_dynamic_field) {
      json meta = json::object();
      bool zero_int = false;
      for (const auto& [key, value] : dynamic) meta[std::string(key)] = ToJson(value, &zero_int);
      batch.columns[nfields].strings.push_back(meta.dump());
    }
    ++batch.num_rows;
    return true;
  };

  if (single) {
    if (!add_row(data)) return std::nullopt;
  } else {
    for (element row : rows) {
      if (!add_row(row)) return std::nullopt;
    }
  }
  // Hidden engine columns after "$meta" ("$partition") start at their
  // default, 0, as RowBatchFromJson leaves them; the engine sets them.
  for (size_t c = nfields + (schema.enable_dynamic_field ? 1 : 0); c < batch.columns.size(); ++c) {
    batch.columns[c].ints.assign(batch.num_rows, 0);
  }
  return batch;
}

std::optional<std::vector<float>> QueryVectorsFromDom(element data, uint32_t dim,
                                                      size_t* num_queries) {
  simdjson::dom::array queries;
  if (data.get_array().get(queries) != simdjson::SUCCESS) return std::nullopt;
  auto first = queries.begin();
  if (first == queries.end()) return std::nullopt;
  std::vector<float> out;
  const element_type t = (*first).type();
  if (t == element_type::DOUBLE || t == element_type::INT64 || t == element_type::UINT64) {
    out.resize(dim);  // one bare vector
    if (!ReadVector(data, dim, out.data())) return std::nullopt;
    *num_queries = 1;
    return out;
  }
  const size_t n = queries.size();
  out.resize(n * dim);
  size_t q = 0;
  for (element v : queries) {
    if (q == n || !ReadVector(v, dim, out.data() + q * dim)) return std::nullopt;
    ++q;
  }
  if (q != n) return std::nullopt;
  *num_queries = n;
  return out;
}

}  // namespace ark::server
