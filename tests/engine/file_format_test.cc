#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "core/hash.h"
#include "core/coding.h"
#include "engine/content_file.h"
#include "engine/wal_codec.h"
#include "engine/manifest.h"
#include "engine/manifest_format.h"
#include "engine/segment_file.h"
#include "engine/segment_format.h"
#include "engine/tombstone_file.h"
#include "engine_test_util.h"
#include "support/test_util.h"

namespace ark {
namespace {

using ::testing::HasSubstr;

std::vector<uint64_t> Lsns(size_t n, uint64_t first) {
  std::vector<uint64_t> v;
  for (size_t i = 0; i < n; ++i) v.push_back(first + i);
  return v;
}

TEST(SegmentFile, RoundTripKeepsEveryColumnAndAlignsVectors) {
  auto s = testing::TestSchema(768, false, true);
  auto rows = testing::TestRows(s, 100, 37);
  std::string data = EncodeSegment(s, 7, rows, Lsns(37, 1000));
  ASSERT_OK_AND_ASSIGN(auto seg, DecodeSegment(data, "x"));
  EXPECT_EQ(seg.collection_id, 7u);
  EXPECT_EQ(seg.num_rows, 37u);
  EXPECT_EQ(seg.min_lsn, 1000u);
  EXPECT_EQ(seg.max_lsn, 1036u);
  EXPECT_EQ(seg.rows, rows);
  EXPECT_EQ(seg.lsns, Lsns(37, 1000));
  ASSERT_OK(CheckSegmentMatchesSchema(seg, s, "x"));
  for (const auto& c : seg.columns) {
    EXPECT_EQ(c.offset % segment_format::kColumnAlignment, 0u) << c.name;
  }
}

TEST(SegmentFile, EveryIntegerWidthRoundTripsWithSign) {
  CollectionSchema s;
  s.fields.push_back({"id", DataType::kInt64, true, 0, 0, ""});
  s.fields.push_back({"b", DataType::kBool, false, 0, 0, ""});
  s.fields.push_back({"i8", DataType::kInt8, false, 0, 0, ""});
  s.fields.push_back({"i16", DataType::kInt16, false, 0, 0, ""});
  s.fields.push_back({"i32", DataType::kInt32, false, 0, 0, ""});
  s.fields.push_back({"d", DataType::kDouble, false, 0, 0, ""});
  s.fields.push_back({"v", DataType::kFloatVector, false, 0, 1, ""});
  RowBatch b = RowBatch::Empty(s);
  b.columns[0].ints = {-5, 6};
  b.columns[1].ints = {1, 0};
  b.columns[2].ints = {-128, 127};
  b.columns[3].ints = {-32768, 32767};
  b.columns[4].ints = {-2147483648LL, 2147483647LL};
  b.columns[5].doubles = {-0.125, 1e300};
  b.columns[6].floats = {1.0f, -2.0f};
  b.num_rows = 2;
  ASSERT_OK_AND_ASSIGN(auto seg, DecodeSegment(EncodeSegment(s, 1, b, {5, 6}), "x"));
  EXPECT_EQ(seg.rows, b);
}

TEST(SegmentFile, BitFlipAnywhereIsCorruptionNamingTheFile) {
  auto s = testing::TestSchema(16);
  std::string data = EncodeSegment(s, 1, testing::TestRows(s, 1, 20), Lsns(20, 1));
  int detected = 0;
  for (size_t off = 0; off < data.size(); off += 7) {
    std::string bad = data;
    bad[off] ^= 0x10;
    auto r = DecodeSegment(bad, "files/abc");
    if (r.ok()) {
      // Only padding bytes between blocks may flip unnoticed.
      continue;
    }
    ++detected;
    EXPECT_TRUE(r.status().IsCorruption() || r.status().Is(StatusCode::kNotSupported))
        << r.status().ToString();
    EXPECT_THAT(r.status().message(), HasSubstr("files/abc")) << off;
  }
  EXPECT_GT(detected, static_cast<int>(data.size() / 7) * 8 / 10);
}

TEST(SegmentFile, ColumnBitFlipNamesColumnAndOffset) {
  auto s = testing::TestSchema(16);
  std::string data = EncodeSegment(s, 1, testing::TestRows(s, 1, 20), Lsns(20, 1));
  ASSERT_OK_AND_ASSIGN(auto layout, DecodeSegmentLayout(data, "f"));
  const auto& vec = layout.columns[4];
  data[vec.offset + 5] ^= 1;
  auto r = DecodeSegment(data, "f");
  ASSERT_TRUE(r.status().IsCorruption());
  EXPECT_THAT(r.status().message(),
              HasSubstr("segment file f offset " + std::to_string(vec.offset) +
                        ": column 'embedding' checksum mismatch"));
}

TEST(SegmentFile, TruncatedAndWrongMagicAndUnknownVersion) {
  auto s = testing::TestSchema(4);
  std::string data = EncodeSegment(s, 1, testing::TestRows(s, 1, 3), Lsns(3, 1));
  EXPECT_TRUE(DecodeSegment(data.substr(0, data.size() - 1), "f").status().IsCorruption());
  std::string bad = data;
  bad[0] = 'X';
  EXPECT_THAT(DecodeSegment(bad, "f").status().message(), HasSubstr("bad magic"));
  bad = data;
  bad[segment_format::kHeaderVersionOffset] = 9;
  EXPECT_TRUE(DecodeSegment(bad, "f").status().Is(StatusCode::kNotSupported));
}

TEST(TombstoneFile, RoundTripBothKeyTypesAndDetectsFlip) {
  std::vector<Tombstone> ints = {{int64_t{5}, 10}, {int64_t{-7}, 11}};
  ASSERT_OK_AND_ASSIGN(auto t, DecodeTombstones(EncodeTombstones(3, DataType::kInt64, ints), "t"));
  EXPECT_EQ(t.entries, ints);
  EXPECT_EQ(t.collection_id, 3u);
  std::vector<Tombstone> strs = {{std::string("a"), 1}, {std::string(""), 2}};
  std::string data = EncodeTombstones(3, DataType::kVarChar, strs);
  ASSERT_OK_AND_ASSIGN(auto t2, DecodeTombstones(data, "t"));
  EXPECT_EQ(t2.entries, strs);
  data[34] ^= 1;
  auto r = DecodeTombstones(data, "files/t1");
  EXPECT_TRUE(r.status().IsCorruption());
  EXPECT_THAT(r.status().message(), HasSubstr("tombstone file files/t1"));
}

TEST(ContentFile, NameIsSha256AndVerifyCatchesChange) {
  testing::TempDir dir;
  Env* env = Env::Default();
  ASSERT_OK_AND_ASSIGN(std::string name, WriteContentAddressedFile(env, dir.path(), "hello"));
  EXPECT_EQ(name, ToHex(Sha256("hello")));
  ASSERT_OK(VerifyContentAddressedFile(env, dir.Sub(name)));
  ASSERT_OK_AND_ASSIGN(std::string again, WriteContentAddressedFile(env, dir.path(), "hello"));
  EXPECT_EQ(again, name);
  ASSERT_OK(env->WriteFileAtomic(dir.Sub(name), "hellO"));
  EXPECT_TRUE(VerifyContentAddressedFile(env, dir.Sub(name)).IsCorruption());
}

Manifest SampleManifest() {
  Manifest m;
  m.version = 3;
  m.created_micros = 12345;
  m.epochs = {{1, {1, 1}}, {2, {2, 40}}};
  m.applied = {2, 50};
  m.checkpoint = {2, 45};
  m.next_collection_id = 4;
  ManifestCollection c;
  c.id = 3;
  c.database = "default";
  c.name = "docs";
  c.schema = testing::TestSchema(8);
  c.created = {1, 2};
  c.flushed = {2, 45};
  c.next_auto_id = 9;
  ManifestSegment seg;
  seg.file = std::string(64, 'a');
  seg.rows = 10;
  seg.bytes = 4096;
  seg.min_lsn = 3;
  seg.max_lsn = 44;
  seg.index_files["embedding"] = {std::string(64, 'c')};
  c.segments.push_back(seg);
  c.tombstone_files = {std::string(64, 'b')};
  m.collections.push_back(c);
  return m;
}

TEST(Manifest, RoundTripAndLiveFiles) {
  Manifest m = SampleManifest();
  ASSERT_OK_AND_ASSIGN(Manifest back, DecodeManifest(EncodeManifest(m), "m"));
  EXPECT_EQ(back, m);
  EXPECT_EQ(m.LiveFiles().size(), 3u);
  EXPECT_EQ(m.CurrentEpoch(), 2u);
}

TEST(Manifest, ChecksumMagicAndVersionAreChecked) {
  std::string data = EncodeManifest(SampleManifest());
  std::string bad = data;
  bad[data.size() / 2] ^= 0x20;
  auto r = DecodeManifest(bad, "MANIFEST-1");
  ASSERT_TRUE(r.status().IsCorruption());
  EXPECT_THAT(r.status().message(), HasSubstr("manifest MANIFEST-1 offset 32: body checksum mismatch"));
  bad = data;
  bad[1] = 'x';
  EXPECT_THAT(DecodeManifest(bad, "m").status().message(), HasSubstr("bad magic"));
  bad = data;
  bad[8] = 7;
  EXPECT_TRUE(DecodeManifest(bad, "m").status().Is(StatusCode::kNotSupported));
}

TEST(Manifest, CommitWritesManifestAndCurrentThenLoads) {
  testing::TempDir dir;
  Env* env = Env::Default();
  EXPECT_TRUE(LoadCurrentManifest(env, dir.path(), nullptr).status().IsNotFound());
  Manifest m = SampleManifest();
  ASSERT_OK(CommitManifest(env, dir.path(), m));
  m.version = 4;
  ASSERT_OK(CommitManifest(env, dir.path(), m));
  std::string name;
  ASSERT_OK_AND_ASSIGN(Manifest back, LoadCurrentManifest(env, dir.path(), &name));
  EXPECT_EQ(name, "MANIFEST-0000000000000004");
  EXPECT_EQ(back, m);
  std::string current;
  ASSERT_OK(env->ReadFileToString(dir.Sub("CURRENT"), &current));
  EXPECT_EQ(current, "MANIFEST-0000000000000004\n");
}

}  // namespace
}  // namespace ark

namespace ark {
namespace {

// Pins format version 1 byte for byte: a change to the encoders that alters
// the bytes of an existing version must fail here (bump the version instead).
TEST(FormatCompatibility, Version1BytesArePinned) {
  CollectionSchema s = testing::TestSchema(4, false, true);
  RowBatch rows = testing::TestRows(s, 1, 3);
  std::string seg = EncodeSegment(s, 9, rows, {10, 11, 12});
  std::string tomb = EncodeTombstones(9, DataType::kInt64, {{int64_t{1}, 20}, {int64_t{2}, 21}});
  EXPECT_EQ(ToHex(Sha256(seg)), "8ce459663859b4cd70049c95c7fee26f8d075ca51ac29e836d77db413beb5f7c");
  EXPECT_EQ(ToHex(Sha256(tomb)), "b01af1bbdf7f4735f9354754d281d2f07cf6044832aac05099dc5eab139418ca");
  ASSERT_OK_AND_ASSIGN(auto back, DecodeSegment(seg, "pinned"));
  EXPECT_EQ(back.rows, rows);
}

}  // namespace
}  // namespace ark

namespace ark {
namespace {

// Found by wal_body_fuzz: a row count whose product with the value width
// wraps to the real byte length passed the size check, and decoding then
// tried to append ~2^61 values.
TEST(WalBodies, RowCountWhoseByteSizeWrapsIsCorruptionNotOutOfMemory) {
  CollectionSchema schema;
  schema.fields.push_back({"id", DataType::kInt64, true, 0, 0, ""});
  RowBatch b = RowBatch::Empty(schema);
  b.columns[0].ints = {7};
  b.num_rows = 1;
  std::string body = EncodeRows(b);
  ASSERT_TRUE(DecodeRows(body, Position{1, 1}).ok());
  // rows = 2^61 + 1: (2^61 + 1) * 8 wraps to 8, the real column length.
  EncodeFixed64(body.data() + 4, (uint64_t{1} << 61) + 1);
  auto r = DecodeRows(body, Position{1, 1});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().Is(StatusCode::kCorruption)) << r.status().ToString();
}

// The rows body as docs/formats/manifest.md ("WAL bodies") specifies it,
// built field by field: EncodeRows (EncodedRowsSize + EncodeRowsTo, the path
// that encodes straight into the WAL's buffer) must produce exactly these bytes
// for every column type, and DecodeRows must give the batch back.
TEST(WalCodec, RowsBodyIsByteExactForEveryColumnType) {
  RowBatch b;
  b.num_rows = 2;
  auto col = [&](DataType t, uint32_t dim = 0) -> Column& {
    b.columns.emplace_back();
    b.columns.back().type = t;
    b.columns.back().dim = dim;
    return b.columns.back();
  };
  col(DataType::kInt64).ints = {-5, int64_t{1} << 40};
  col(DataType::kBool).ints = {1, 0};
  col(DataType::kDouble).doubles = {0.25, -1e300};
  col(DataType::kFloat).doubles = {1.5, -0.0};
  col(DataType::kVarChar).strings = {"", "h\xc3\xa9llo"};
  col(DataType::kJson).strings = {"{}", "{\"a\":[1,2]}"};
  col(DataType::kFloatVector, 3).floats = {1.0f, -2.5f, 3e-39f, 0.0f, 7.0f, -0.0f};

  std::string want;
  PutFixed32(&want, kWalBodyVersion);
  PutFixed64(&want, 2);
  PutFixed32(&want, static_cast<uint32_t>(b.columns.size()));
  for (const auto& c : b.columns) {
    std::string data;
    if (c.type == DataType::kFloatVector) {
      for (float f : c.floats) {
        uint32_t bits;
        std::memcpy(&bits, &f, 4);
        PutFixed32(&data, bits);
      }
    } else if (c.type == DataType::kVarChar || c.type == DataType::kJson) {
      for (const auto& s : c.strings) PutBytes32(&data, s);
    } else if (c.type == DataType::kDouble || c.type == DataType::kFloat) {
      for (double d : c.doubles) PutDouble(&data, d);
    } else {
      for (int64_t v : c.ints) PutFixed64(&data, static_cast<uint64_t>(v));
    }
    want.push_back(static_cast<char>(c.type));
    PutFixed32(&want, c.dim);
    PutFixed64(&want, data.size());
    want += data;
  }
  EXPECT_EQ(EncodedRowsSize(b), want.size());
  std::string got = EncodeRows(b);
  ASSERT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want) << "encoded rows body differs from the documented layout";
  std::string in_place(want.size(), '\x5a');
  EncodeRowsTo(b, in_place.data());
  EXPECT_TRUE(in_place == want);

  ASSERT_OK_AND_ASSIGN(RowBatch back, DecodeRows(got, Position{1, 1}));
  ASSERT_EQ(back.num_rows, 2u);
  ASSERT_EQ(back.columns.size(), b.columns.size());
  EXPECT_EQ(back.columns[0].ints, b.columns[0].ints);
  EXPECT_EQ(back.columns[2].doubles, b.columns[2].doubles);
  EXPECT_EQ(back.columns[4].strings, b.columns[4].strings);
  EXPECT_EQ(back.columns[5].strings, b.columns[5].strings);
  EXPECT_EQ(back.columns[6].dim, 3u);
  EXPECT_EQ(back.columns[6].floats, b.columns[6].floats);
}

TEST(Coding, SizeFitsNeverOverflows) {
  EXPECT_TRUE(SizeFits(24, 3, 8));
  EXPECT_FALSE(SizeFits(8, (uint64_t{1} << 61) + 1, 8));
  EXPECT_TRUE(SizeFits(0, 5, 0));
  EXPECT_FALSE(SizeFits(4, 5, 0));
  EXPECT_FALSE(SizeFits(23, 3, 8));
}

}  // namespace
}  // namespace ark

namespace ark {
namespace {

// Found by manifest_fuzz: a float where an unsigned integer belongs was
// converted with undefined behaviour; now it is Corruption naming the value.
TEST(ManifestFile, FloatWhereAnIntegerBelongsIsCorruption) {
  Manifest m;
  m.version = 3;
  nlohmann::json j = ManifestToJson(m);
  j["applied"]["lsn"] = 2.3e76;
  std::string body = j.dump();
  std::string file(manifest_format::kMagic, 8);
  PutFixed32(&file, manifest_format::kVersion);
  PutFixed32(&file, 0);
  PutFixed64(&file, body.size());
  PutFixed64(&file, Xxh3_64(body.data(), body.size()));
  file += body;
  auto r = DecodeManifest(file, "MANIFEST-x");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().Is(StatusCode::kCorruption)) << r.status().ToString();
  EXPECT_NE(r.status().message().find("unsigned integer"), std::string::npos) << r.status().ToString();
}

}  // namespace
}  // namespace ark
