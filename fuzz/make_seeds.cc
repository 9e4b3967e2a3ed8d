// make_seeds: writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/)
// through Ark's real writers, so every seed is a valid file or body of the
// current format version. Run by hand after a format change:
//
//   build/h-fuzz/fuzz/make_seeds fuzz/corpus
//
// Each seed is written as "seed-<what>" with the target's flag byte in
// front (see each target's header comment for the flags). Kept small: every
// file is at most a few KiB.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/coding.h"
#include "dr/replication/stream_format.h"
#include "engine/manifest.h"
#include "engine/row_batch.h"
#include "engine/segment_file.h"
#include "engine/tombstone_file.h"
#include "engine/wal_codec.h"
#include "index/vector_index.h"
#include "storage/env.h"
#include "wal/wal.h"
#include "wal/wal_frame.h"
#include "wal/wal_reader.h"

using namespace ark;
using nlohmann::json;

namespace {

std::string out_dir;

void Write(const std::string& target, const std::string& name, char flags, std::string_view bytes) {
  std::string dir = out_dir + "/" + target;
  Status s = Env::Default()->CreateDirs(dir);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    std::exit(1);
  }
  std::string data(1, flags);
  data.append(bytes);
  s = Env::Default()->WriteFileAtomic(dir + "/seed-" + name, data);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    std::exit(1);
  }
}

void WriteText(const std::string& target, const std::string& name, char flags, std::string_view text) {
  Write(target, name, flags, text);
}

template <typename T>
T Check(Result<T> r, const char* what) {
  if (!r.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, r.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(r).value();
}

FieldSchema Field(const char* name, DataType type, uint32_t max_length = 0, uint32_t dim = 0) {
  FieldSchema f;
  f.name = name;
  f.type = type;
  f.max_length = max_length;
  f.dim = dim;
  return f;
}

// The schema segment_fuzz checks against (keep in step with segment_fuzz.cc).
CollectionSchema SegmentSchema() {
  CollectionSchema s;
  s.fields = {Field("id", DataType::kInt64),      Field("flag", DataType::kBool),
              Field("small", DataType::kInt8),    Field("mid", DataType::kInt32),
              Field("score", DataType::kFloat),   Field("weight", DataType::kDouble),
              Field("title", DataType::kVarChar, 64), Field("doc", DataType::kJson),
              Field("vec", DataType::kFloatVector, 0, 4)};
  s.fields[0].is_primary_key = true;
  s.enable_dynamic_field = true;
  return s;
}

RowBatch Rows(const CollectionSchema& schema, int n) {
  json rows = json::array();
  for (int i = 0; i < n; ++i) {
    rows.push_back({{"id", i + 1},
                    {"flag", i % 2 == 0},
                    {"small", -i},
                    {"mid", i * 1000},
                    {"score", 0.5 * i},
                    {"weight", -1.25 * i},
                    {"title", "row " + std::to_string(i)},
                    {"doc", {{"k", i}, {"tags", {"a", "b"}}}},
                    {"vec", {0.1 * i, 0.2, -0.3, 1.0}},
                    {"extra", "dyn" + std::to_string(i)}});
  }
  return Check(RowBatchFromJson(schema, "seed", rows, WriteKind::kInsert), "rows");
}

void WalSeeds() {
  char tmpl[] = "/tmp/ark-seeds-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) std::exit(1);
  std::string dir = tmpl;
  Env* env = Env::Default();
  CollectionSchema schema = SegmentSchema();
  {
    WalOptions options;
    options.segment_size_bytes = 1200;  // a few records per segment: rotation
    auto wal = Check(Wal::Open(env, dir, options), "wal open");
    std::vector<std::string> bodies = {
        EncodeCreateCollection({"default", "seed", schema}),
        EncodeRows(Rows(schema, 2)),
        EncodeKeys(DataType::kInt64, {PrimaryKey{int64_t{1}}}),
        EncodeRenameCollection({"default", "seed2"}),
        EncodeRows(Rows(schema, 1)),
        EncodeKeys(DataType::kVarChar, {PrimaryKey{std::string("a")}, PrimaryKey{std::string("bc")}}),
    };
    WalOp ops[] = {WalOp::kCreateCollection, WalOp::kInsert, WalOp::kDelete,
                   WalOp::kRenameCollection, WalOp::kUpsert, WalOp::kDelete};
    Position last;
    for (size_t i = 0; i < bodies.size(); ++i) {
      // A new epoch starts a new segment: the seeds get a two-segment log.
      if (i == 3) Check(wal->StartEpoch(2), "start epoch");
      last = Check(wal->Append(ops[i], 7, bodies[i]), "append");
    }
    if (!wal->WaitDurable(last).ok()) std::exit(1);
  }
  auto files = Check(ListWalSegments(env, dir), "list");
  std::vector<std::string> contents;
  for (const auto& f : files) {
    std::string data;
    if (!env->ReadFileToString(f, &data).ok()) std::exit(1);
    contents.push_back(data);
  }
  std::fprintf(stderr, "wal: %zu segments\n", contents.size());
  Write("wal_reader_fuzz", "segment", 0, contents[0]);
  Write("wal_reader_fuzz", "segment-fix", 1, contents[0]);
  Write("wal_reader_fuzz", "last-segment-fix", 1, contents.back());
  if (contents.size() >= 2) {
    std::string two;
    PutFixed16(&two, static_cast<uint16_t>(contents[0].size()));
    two += contents[0] + contents[1];
    Write("wal_reader_fuzz", "two-segments-fix", 3, two);
  }
  // Torn tail: the last segment cut in the middle of its last frame.
  Write("wal_reader_fuzz", "torn-tail", 1, contents.back().substr(0, contents.back().size() - 5));
  (void)env->RemoveAll(dir);

  Write("wal_body_fuzz", "create", 0, EncodeCreateCollection({"default", "seed", schema}));
  Write("wal_body_fuzz", "rename", 1, EncodeRenameCollection({"db1", "other"}));
  Write("wal_body_fuzz", "rows", 2, EncodeRows(Rows(schema, 3)));
  Write("wal_body_fuzz", "keys-int", 3, EncodeKeys(DataType::kInt64, {PrimaryKey{int64_t{5}}, PrimaryKey{int64_t{-9}}}));
  Write("wal_body_fuzz", "keys-varchar", 3,
        EncodeKeys(DataType::kVarChar, {PrimaryKey{std::string("k1")}, PrimaryKey{std::string("")}}));
}

void SegmentSeeds() {
  CollectionSchema schema = SegmentSchema();
  RowBatch rows = Rows(schema, 3);
  std::string seg = EncodeSegment(schema, 7, rows, {10, 11, 12});
  Write("segment_fuzz", "three-rows", 0, seg);
  Write("segment_fuzz", "three-rows-fix", 1, seg);
  RowBatch empty = RowBatch::Empty(schema);
  Write("segment_fuzz", "empty-fix", 1, EncodeSegment(schema, 7, empty, {}));

  Write("tombstone_fuzz", "int", 1,
        EncodeTombstones(7, DataType::kInt64, {{PrimaryKey{int64_t{1}}, 20}, {PrimaryKey{int64_t{-3}}, 21}}));
  Write("tombstone_fuzz", "varchar", 1,
        EncodeTombstones(7, DataType::kVarChar, {{PrimaryKey{std::string("abc")}, 5}}));
  Write("tombstone_fuzz", "empty", 0, EncodeTombstones(9, DataType::kInt64, {}));
}

void ManifestSeeds() {
  Manifest m;
  m.version = 3;
  m.created_micros = 1700000000000000;
  m.epochs = {{1, {1, 1}}, {2, {2, 40}}};
  m.applied = {2, 57};
  m.checkpoint = {2, 50};
  m.next_collection_id = 3;
  ManifestCollection c;
  c.id = 1;
  c.database = "default";
  c.name = "docs";
  c.schema = SegmentSchema();
  c.created = {1, 2};
  c.flushed = {2, 50};
  c.next_auto_id = 12;
  ManifestSegment s;
  s.file = std::string(64, 'a');
  s.rows = 3;
  s.bytes = 1234;
  s.min_lsn = 3;
  s.max_lsn = 9;
  s.index_files["vec"] = {std::string(64, 'b')};
  c.segments.push_back(s);
  c.tombstone_files = {std::string(64, 'c')};
  m.collections.push_back(c);
  Write("manifest_fuzz", "one-collection", 0, EncodeManifest(m));
  Write("manifest_fuzz", "one-collection-fix", 1, EncodeManifest(m));
  Write("manifest_fuzz", "empty-fix", 1, EncodeManifest(Manifest{}));
}

void IndexSeeds() {
  const uint32_t dim = 8;
  const uint64_t rows = 32;
  std::vector<float> data(rows * dim);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<float>((i * 37) % 19) / 7.0f - 1.0f;
  struct Kind {
    const char* name;
    IndexType type;
    Metric metric;
  } kinds[] = {{"flat-l2", IndexType::kFlat, Metric::kL2},
               {"hnsw-cosine", IndexType::kHnsw, Metric::kCosine},
               {"hnsw-l2", IndexType::kHnsw, Metric::kL2},
               {"ivf-flat-ip", IndexType::kIvfFlat, Metric::kIp},
               {"ivf-sq8-l2", IndexType::kIvfSq8, Metric::kL2},
               {"ivf-pq-l2", IndexType::kIvfPq, Metric::kL2}};
  for (const Kind& k : kinds) {
    IndexSpec spec;
    spec.type = k.type;
    spec.metric = k.metric;
    spec.dim = dim;
    spec.hnsw_m = 4;
    spec.hnsw_ef_construction = 16;
    spec.nlist = 2;
    spec.pq_m = 2;
    spec.pq_nbits = 4;
    auto index = Check(VectorIndex::Build(spec, data.data(), rows), k.name);
    std::string bytes = Check(index->Serialize(), "serialize");
    Write("index_fuzz", k.name, 1, bytes);
  }
}

void TextSeeds() {
  const char* filters[] = {
      "",
      "id > 3",
      "age >= 18 and age < 65 or not active",
      "title like \"red%\" and price <= 9.5",
      "title in [\"red\", \"apple pie\"] or id not in [1, 2, 3]",
      "meta[\"a\"] == 1 and meta[\"c\"][\"d\"] > 2",
      "json_contains(tags, \"red\") or array_contains_any(scores, [1, 5])",
      "array_length(tags) == 2 and tags[0] == \"x\"",
      "json_contains_all(meta[\"a\"], [1]) || color == \"red\"",
      "opt is null or opt is not null and opt % 3 == 1",
      "(age + 2) * 3 > 10 and -price < 0 && !(id == 4)",
      "exists color and n != 3",
      "1 < age < 40",
      "id == 2 or id == 3 or id in [4]",
      "title == 'é\\'t' and price > 1e3",
  };
  int i = 0;
  for (const char* f : filters) WriteText("filter_fuzz", "expr" + std::to_string(i++), 0, f);
  WriteText("filter_fuzz", "template", 1, "{\"lo\": 3, \"names\": [\"red\"]}\nage > {lo} and title in {names}");

  json create_quick = {{"collectionName", "c"}, {"dimension", 4}, {"metricType", "COSINE"},
                       {"idType", "VarChar"}, {"params", {{"max_length", 32}}}};
  json create_full = {
      {"collectionName", "c"},
      {"schema",
       {{"autoId", true},
        {"enableDynamicField", true},
        {"fields",
         {{{"fieldName", "id"}, {"dataType", "Int64"}, {"isPrimary", true}},
          {{"fieldName", "t"}, {"dataType", "VarChar"}, {"elementTypeParams", {{"max_length", 20}}}},
          {{"fieldName", "d"}, {"dataType", "JSON"}},
          {{"fieldName", "v"}, {"dataType", "FloatVector"}, {"elementTypeParams", {{"dim", "4"}}}}}}}}};
  json row = {{"id", 1},    {"flag", true},        {"i8", -5},      {"i16", 300},
              {"i32", 7},   {"f32", 0.5},          {"f64", 1e10},   {"title", "hello"},
              {"doc", {{"a", {1, 2}}}}, {"vec", {0.1, 0.2, 0.3, 0.4}}, {"dyn", "x"}};
  json insert = {{"collectionName", "c"}, {"data", {row, row}}};
  insert["data"][1]["id"] = 2;
  json single = {{"collectionName", "c"}, {"data", row}};
  json auto_row = row;
  auto_row.erase("id");
  auto_row.erase("dyn");
  json auto_insert = {{"collectionName", "c"}, {"data", {auto_row}}};
  WriteText("milvus_request_fuzz", "create-quick", 0, create_quick.dump());
  WriteText("milvus_request_fuzz", "create-full", 0, create_full.dump());
  WriteText("milvus_request_fuzz", "insert", 1, insert.dump());
  WriteText("milvus_request_fuzz", "upsert-single", 2, single.dump());
  WriteText("milvus_request_fuzz", "insert-auto-id", 3, auto_insert.dump());
}

// replication_stream_fuzz: a stream as a primary sends it (HELLO, RECORDS of
// two framed records, STATUS, END), fed in pieces of 7 bytes (flag 6) and
// whole (flag 63).
void StreamSeeds() {
  CollectionSchema schema = SegmentSchema();
  std::string frames;
  AppendWalFrame(&frames, Position{1, 5}, 1'700'000'000'000'000, static_cast<uint16_t>(WalOp::kCreateCollection), 0,
                 EncodeCreateCollection({"default", "seed", schema}));
  AppendWalFrame(&frames, Position{1, 6}, 1'700'000'000'000'001, static_cast<uint16_t>(WalOp::kInsert), 1,
                 EncodeRows(Rows(schema, 2)));
  std::string stream;
  dr::AppendStreamMessage(dr::StreamMessageType::kHello,
                          R"({"version":1,"last":"1/6","durable":"1/6","nowMicros":1700000000000002,"mode":"async"})",
                          &stream);
  dr::AppendStreamMessage(dr::StreamMessageType::kRecords, frames, &stream);
  dr::AppendStreamMessage(dr::StreamMessageType::kStatus, R"({"last":"1/6","durable":"1/6","nowMicros":1})", &stream);
  dr::AppendStreamMessage(dr::StreamMessageType::kEnd,
                          R"({"code":9,"message":"standby 's' must re-bootstrap","action":"rebootstrap"})", &stream);
  Write("replication_stream_fuzz", "stream-pieces", 6, stream);
  Write("replication_stream_fuzz", "stream-whole", 63, stream);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds <corpus dir>\n");
    return 2;
  }
  out_dir = argv[1];
  WalSeeds();
  SegmentSeeds();
  ManifestSeeds();
  IndexSeeds();
  TextSeeds();
  StreamSeeds();
  return 0;
}
