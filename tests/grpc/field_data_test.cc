// Conversions of src/grpc/field_data.h.
//
// The columnar search answer (SearchHitsToProto, engine hits straight into
// FieldData) must equal what the JSON path (REST hits -> SearchResultsToProto)
// makes of the same hits: the gRPC Search RPC uses the first when it can and
// the second otherwise, and clients must not see which one ran.
#include "grpc/field_data.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "server/milvus_request.h"
#include "server/milvus_schema.h"

namespace ark::rpc {
namespace {

using nlohmann::json;
namespace ms = milvus::proto::schema;

FieldSchema Field(const std::string& name, DataType type, uint32_t max_length = 0, uint32_t dim = 0) {
  FieldSchema f;
  f.name = name;
  f.type = type;
  f.max_length = max_length;
  f.dim = dim;
  return f;
}

CollectionSchema AllTypes(bool varchar_key) {
  CollectionSchema s;
  s.fields.push_back(varchar_key ? Field("pk", DataType::kVarChar, 64) : Field("pk", DataType::kInt64));
  s.fields.back().is_primary_key = true;
  s.fields.push_back(Field("flag", DataType::kBool));
  s.fields.push_back(Field("small", DataType::kInt8));
  s.fields.push_back(Field("mid", DataType::kInt32));
  s.fields.push_back(Field("big", DataType::kInt64));
  s.fields.push_back(Field("ratio", DataType::kFloat));
  s.fields.push_back(Field("weight", DataType::kDouble));
  s.fields.push_back(Field("title", DataType::kVarChar, 100));
  s.fields.push_back(Field("meta", DataType::kJson));
  s.fields.push_back(Field("vec", DataType::kFloatVector, 0, 3));
  s.enable_dynamic_field = true;
  EXPECT_TRUE(s.Validate("c").ok());
  return s;
}

RowBatch Rows(const CollectionSchema& schema, const json& rows) {
  auto batch = RowBatchFromJson(schema, "c", rows, WriteKind::kInsert);
  EXPECT_TRUE(batch.ok()) << batch.status().ToString();
  return std::move(batch).value();
}

json Row(const CollectionSchema& schema, int i) {
  json pk = schema.PrimaryKey().type == DataType::kVarChar ? json("key-" + std::to_string(i)) : json(1000 + i);
  return json{{"pk", pk},
              {"flag", i % 2 == 0},
              {"small", -i},
              {"mid", 70000 + i},
              {"big", (int64_t{1} << 40) + i},
              {"ratio", 0.25 * i},
              {"weight", 1.0 / (i + 3)},
              {"title", "doc \"" + std::to_string(i) + "\" ü"},
              {"meta", {{"tags", {"a", i}}, {"n", i}}},
              {"vec", {0.5f * i, -1.0f, 3.25f}},
              {"extra", "dynamic " + std::to_string(i)}};
}

SearchResponse Response(const CollectionSchema& schema, const std::vector<std::vector<int>>& queries) {
  SearchResponse r;
  for (const auto& ids : queries) {
    SearchHits hits;
    json rows = json::array();
    for (int i : ids) {
      rows.push_back(Row(schema, i));
      hits.scores.push_back(1.0f - 0.125f * static_cast<float>(i));
    }
    hits.rows = ids.empty() ? RowBatch::Empty(schema) : Rows(schema, rows);
    r.queries.push_back(std::move(hits));
  }
  return r;
}

// What the REST handler answers for `resp` (its rows, "id", "distance",
// "topks") and the describe fields it adds, turned into columns.
ms::SearchResultData ViaJson(const CollectionSchema& schema, const server::OutputProjection& proj,
                             const SearchResponse& resp, int64_t limit) {
  json describe{{"enableDynamicField", schema.enable_dynamic_field}, {"fields", json::array()}};
  for (const auto& f : schema.fields) describe["fields"].push_back(server::FieldJson(f, schema.auto_id));
  json hits = json::array();
  json topks = json::array();
  const size_t pk = schema.PrimaryKeyIndex();
  for (const SearchHits& q : resp.queries) {
    topks.push_back(q.scores.size());
    for (size_t i = 0; i < q.scores.size(); ++i) {
      json row = proj.Row(q.rows, i, false);
      PrimaryKey key = PrimaryKeyAt(q.rows.columns[pk], i);
      row["id"] = std::holds_alternative<int64_t>(key) ? json(std::get<int64_t>(key)) : json(std::get<std::string>(key));
      row["distance"] = q.scores[i];
      hits.push_back(std::move(row));
    }
  }
  ms::SearchResultData out;
  SearchResultsToProto(describe, hits, topks, limit, &out);
  return out;
}

void ExpectSamePaths(const CollectionSchema& schema, const json& output_fields,
                     const std::vector<std::vector<int>>& queries, int64_t limit) {
  auto proj = server::OutputProjection::Make(schema, "c", output_fields);
  ASSERT_TRUE(proj.ok()) << proj.status().ToString();
  auto fields = proj->SchemaFields();
  ASSERT_TRUE(fields.has_value());
  SearchResponse resp = Response(schema, queries);
  ms::SearchResultData columnar;
  SearchHitsToProto(schema, *fields, resp, limit, &columnar);
  ms::SearchResultData via_json = ViaJson(schema, *proj, resp, limit);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(columnar, via_json))
      << "columnar:\n" << columnar.DebugString() << "\nvia JSON:\n" << via_json.DebugString();
}

TEST(SearchHitsToProto, EqualsTheJsonPathForEveryTypeAndSeveralQueries) {
  ExpectSamePaths(AllTypes(false), json{"flag", "small", "mid", "big", "ratio", "weight", "title", "meta", "vec"},
                  {{0, 1, 2}, {3}, {4, 5}}, 3);
}

TEST(SearchHitsToProto, EqualsTheJsonPathWithVarCharKeysAndOnlyTheKey) {
  ExpectSamePaths(AllTypes(true), json(), {{2, 1}, {0}}, 10);
  ExpectSamePaths(AllTypes(true), json{"title", "vec"}, {{7}}, 1);
}

TEST(SearchHitsToProto, EqualsTheJsonPathWhenAQueryHasNoHits) {
  ExpectSamePaths(AllTypes(false), json{"title"}, {{}, {1}}, 5);
  ExpectSamePaths(AllTypes(false), json{"title"}, {{}}, 5);
}

TEST(SearchHitsToProto, ProjectionsWithDynamicKeysHaveNoColumnarForm) {
  const CollectionSchema schema = AllTypes(false);
  for (const json& fields : {json{"extra"}, json{"*"}, json{"$meta"}, json{"title", "extra"}}) {
    auto proj = server::OutputProjection::Make(schema, "c", fields);
    ASSERT_TRUE(proj.ok());
    EXPECT_FALSE(proj->SchemaFields().has_value()) << fields.dump();
  }
  auto plain = server::OutputProjection::Make(schema, "c", json{"vec", "title"});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->SchemaFields(), (std::vector<size_t>{0, 7, 9}));  // schema order, the key first
}

// A grouping search answer: the group values (one per hit, as the handler
// collects them into SearchColumns::group) go out the same way after either
// path, in group_by_field_value and as the one group_by_field_values entry.
void ExpectGroupValues(const CollectionSchema& schema, const std::string& group_field,
                       const std::vector<std::vector<int>>& queries) {
  auto proj = server::OutputProjection::Make(schema, "c", json{"title"});
  ASSERT_TRUE(proj.ok());
  SearchResponse resp = Response(schema, queries);
  const size_t index = static_cast<size_t>(schema.FieldIndex(group_field));
  Column values;
  values.type = schema.fields[index].type;
  for (const SearchHits& hits : resp.queries) {
    for (size_t i = 0; i < hits.scores.size(); ++i) values.AppendFrom(hits.rows.columns[index], i);
  }
  ms::SearchResultData columnar;
  SearchHitsToProto(schema, *proj->SchemaFields(), resp, 3, &columnar);
  GroupValuesToProto(schema.fields[index], index, values, &columnar);
  ms::SearchResultData via_json = ViaJson(schema, *proj, resp, 3);
  GroupValuesToProto(schema.fields[index], index, values, &via_json);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(columnar, via_json))
      << "columnar:\n" << columnar.DebugString() << "\nvia JSON:\n" << via_json.DebugString();

  // The values are the rows' own, in hit order, typed as the field.
  const ms::FieldData& fd = columnar.group_by_field_value();
  EXPECT_EQ(fd.field_name(), group_field);
  EXPECT_EQ(fd.field_id(), 100 + static_cast<int64_t>(index));
  EXPECT_EQ(static_cast<int>(fd.type()), static_cast<int>(schema.fields[index].type));
  ASSERT_EQ(columnar.group_by_field_values_size(), 1);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(columnar.group_by_field_values(0), fd));
  json got = json::array();
  const ms::ScalarField& sc = fd.scalars();
  for (bool b : sc.bool_data().data()) got.push_back(b);
  for (int32_t v : sc.int_data().data()) got.push_back(v);
  for (int64_t v : sc.long_data().data()) got.push_back(v);
  for (const std::string& v : sc.string_data().data()) got.push_back(v);
  json want = json::array();
  for (const auto& ids : queries) {
    for (int i : ids) want.push_back(Row(schema, i)[group_field]);
  }
  EXPECT_EQ(got, want);
  EXPECT_NE(sc.data_case(), ms::ScalarField::DATA_NOT_SET);  // typed even without hits
}

TEST(GroupValuesToProto, SameAfterBothPathsForEveryGroupableType) {
  for (const char* field : {"flag", "small", "mid", "big", "title"}) {
    SCOPED_TRACE(field);
    ExpectGroupValues(AllTypes(false), field, {{0, 1, 2}, {3}, {4, 5}});
    ExpectGroupValues(AllTypes(true), field, {{2, 1}, {}});
    ExpectGroupValues(AllTypes(false), field, {{}});
  }
}

std::string Placeholders(const std::vector<std::string>& values,
                         milvus::proto::common::PlaceholderType type = milvus::proto::common::FloatVector) {
  milvus::proto::common::PlaceholderGroup g;
  auto* p = g.add_placeholders();
  p->set_tag("$0");
  p->set_type(type);
  for (const auto& v : values) p->add_values(v);
  return g.SerializeAsString();
}

std::string Floats(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

TEST(FloatsFromPlaceholders, ReadsThePlainCaseAsTheJsonPathDoes) {
  const std::string group = Placeholders({Floats({1.5f, -2.0f, 0.0f}), Floats({3.0f, 4.0f, 5.0f})});
  size_t nq = 0;
  auto floats = FloatsFromPlaceholders(group, 3, &nq);
  ASSERT_TRUE(floats.has_value());
  EXPECT_EQ(nq, 2u);
  EXPECT_EQ(*floats, (std::vector<float>{1.5f, -2.0f, 0.0f, 3.0f, 4.0f, 5.0f}));
  EXPECT_EQ(VectorsFromPlaceholders(group), (json{{1.5f, -2.0f, 0.0f}, {3.0f, 4.0f, 5.0f}}));
}

TEST(FloatsFromPlaceholders, LeavesEverythingElseToTheValidatingPath) {
  size_t nq = 0;
  EXPECT_FALSE(FloatsFromPlaceholders(Placeholders({Floats({1, 2})}), 3, &nq));           // wrong dim
  EXPECT_FALSE(FloatsFromPlaceholders(Placeholders({Floats({1, 2, 3}), "xyz"}), 3, &nq));  // ragged
  EXPECT_FALSE(FloatsFromPlaceholders(Placeholders({}), 3, &nq));                          // no vectors
  EXPECT_FALSE(FloatsFromPlaceholders(
      Placeholders({Floats({1, 2, 3})}, milvus::proto::common::BinaryVector), 3, &nq));  // not float
  EXPECT_FALSE(FloatsFromPlaceholders("\xff\xff not a message", 3, &nq));
  EXPECT_EQ(nq, 0u);
  EXPECT_THROW(VectorsFromPlaceholders(Placeholders({"xyz"})), std::invalid_argument);
}

google::protobuf::RepeatedPtrField<ms::FieldData> Columns(const std::vector<std::pair<std::string, int>>& longs) {
  google::protobuf::RepeatedPtrField<ms::FieldData> out;
  for (const auto& [name, rows] : longs) {
    ms::FieldData* fd = out.Add();
    fd->set_field_name(name);
    fd->set_type(ms::Int64);
    for (int i = 0; i < rows; ++i) fd->mutable_scalars()->mutable_long_data()->add_data(i);
  }
  return out;
}

TEST(RowsFromFieldData, RefusesBadColumnsBeforeMakingAnyRow) {
  const CollectionSchema schema = AllTypes(false);
  // 2^32-1 rows claimed by columns of one value: refused at once, not after
  // building four billion rows (a 40-byte request must cost nothing).
  try {
    RowsFromFieldData(Columns({{"pk", 1}, {"big", 1}}), UINT32_MAX, &schema);
    FAIL() << "accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "field pk has 1 values for 4294967295 rows");
  }
  try {
    RowsFromFieldData(Columns({{"pk", 2}, {"big", 2}, {"pk", 2}}), 2, &schema);
    FAIL() << "accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "duplicated field name in insert data: pk");
  }
  try {
    RowsFromFieldData(Columns({{"pk", 2}, {"zz_unknown", 2}}), 2, &schema);
    FAIL() << "accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "field zz_unknown does not exist in the collection schema "
                           "(dynamic fields go in the $meta column)");
  }
  // Dynamic keys inside $meta are fine, and the rows count comes from the columns.
  auto columns = Columns({{"pk", 2}, {"big", 2}});
  ms::FieldData* meta = columns.Add();
  meta->set_field_name("$meta");
  meta->set_type(ms::JSON);
  meta->set_is_dynamic(true);
  meta->mutable_scalars()->mutable_json_data()->add_data(R"({"color": "red"})");
  meta->mutable_scalars()->mutable_json_data()->add_data(R"({"color": "blue"})");
  EXPECT_EQ(NumRowsOfFieldData(columns), 2u);
  EXPECT_EQ(RowsFromFieldData(columns, 0, &schema),
            (json{{{"pk", 0}, {"big", 0}, {"color", "red"}}, {{"pk", 1}, {"big", 1}, {"color", "blue"}}}));
}

}  // namespace
}  // namespace ark::rpc
