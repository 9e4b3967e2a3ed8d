// Fuzz target: request-body handling of the Milvus REST v2 routes that does
// not need a running database:
//   mode 0  create-collection body -> server::SchemaFromCreateRequest, then
//           CollectionSchema::Validate (quick and full forms)
//   mode 1  insert body  -> RowBatchFromJson(kInsert) on a fixed schema
//   mode 2  upsert body  -> RowBatchFromJson(kUpsert) on the same schema
//   mode 3  insert body  -> RowBatchFromJson(kInsert) on an autoID VarChar-free schema
// Input: byte 0 selects the mode (mod 4), the rest is the HTTP body. It is
// parsed exactly as http_server.cc does (nlohmann, no exceptions, must be an
// object), and `data` is wrapped in an array when it is a single object, as
// MilvusService::Write does.
//
// The HTTP edge (http_server.cc) turns any std::exception from a handler
// into an error reply, so the target does the same: what it hunts is memory
// errors, undefined behaviour, assertion failures, hangs and huge
// allocations. A batch that is built must have every column num_rows long.
#include <cstdint>
#include <exception>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/row_batch.h"
#include "engine/schema.h"
#include "fuzz/fuzz_util.h"
#include "server/milvus_schema.h"

using namespace ark;
using nlohmann::json;

namespace {

FieldSchema Field(const char* name, DataType type, uint32_t max_length = 0, uint32_t dim = 0) {
  FieldSchema f;
  f.name = name;
  f.type = type;
  f.max_length = max_length;
  f.dim = dim;
  return f;
}

CollectionSchema MakeSchema(bool auto_id) {
  CollectionSchema s;
  s.fields = {Field("id", DataType::kInt64),          Field("flag", DataType::kBool),
              Field("i8", DataType::kInt8),           Field("i16", DataType::kInt16),
              Field("i32", DataType::kInt32),         Field("f32", DataType::kFloat),
              Field("f64", DataType::kDouble),        Field("title", DataType::kVarChar, 16),
              Field("doc", DataType::kJson),          Field("vec", DataType::kFloatVector, 0, 4)};
  s.fields[0].is_primary_key = true;
  s.auto_id = auto_id;
  s.enable_dynamic_field = !auto_id;
  return s;
}

void CheckBatch(const RowBatch& batch) {
  for (const Column& c : batch.columns) {
    ARK_FUZZ_CHECK(c.size() == batch.num_rows, "column size differs from num_rows");
    if (c.type == DataType::kFloatVector) {
      ARK_FUZZ_CHECK(c.floats.size() == batch.num_rows * c.dim, "vector column size");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const CollectionSchema schema = MakeSchema(false);
  static const CollectionSchema auto_schema = MakeSchema(true);
  fuzz::InputReader in(data, size);
  uint8_t mode = in.Byte() % 4;
  json body = json::parse(in.Rest(), nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) return 0;
  try {
    if (mode == 0) {
      auto s = server::SchemaFromCreateRequest(body, "fuzz");
      if (s.ok()) {
        (void)s->Validate("fuzz");
        (void)s->ToJson().dump();
      }
      return 0;
    }
    auto it = body.find("data");
    if (it == body.end() || it->is_null()) return 0;
    json rows = it->is_array() ? std::move(*it) : json::array({std::move(*it)});
    const CollectionSchema& target = mode == 3 ? auto_schema : schema;
    auto batch = RowBatchFromJson(target, "fuzz", rows, mode == 2 ? WriteKind::kUpsert : WriteKind::kInsert);
    if (batch.ok()) {
      CheckBatch(*batch);
      (void)RowBatchToJson(target, *batch).dump();
    }
  } catch (const std::exception&) {
    // Answered as an error by the HTTP edge; not a crash.
  }
  return 0;
}
