#include "core/status.h"

#include <gtest/gtest.h>

#include "core/coding.h"
#include "core/hash.h"
#include "core/position.h"
#include "support/test_util.h"

namespace ark {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return Status::InvalidArgument("x=" + std::to_string(x) + " is odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  ARK_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST(Status, OkIsCheapAndEmpty) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(Status, CarriesCodeAndMessage) {
  Status s = Status::Corruption("wal/1.wal offset 40: checksum mismatch");
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.ToString(), "Corruption: wal/1.wal offset 40: checksum mismatch");
  Status copy = s;
  EXPECT_EQ(copy.message(), s.message());
  EXPECT_EQ(s.WithContext("open db").message(),
            "open db: wal/1.wal offset 40: checksum mismatch");
  EXPECT_TRUE(Status::Unavailable("x").IsRetryable());
  EXPECT_FALSE(Status::InvalidArgument("x").IsRetryable());
}

TEST(Result, PropagatesErrors) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "x=3 is odd");
}

TEST(Result, OkStatusWithoutValueBecomesInternal) {
  Result<int> r{Status::OK()};
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

TEST(Position, OrdersByEpochThenLsn) {
  EXPECT_LT((Position{1, 100}), (Position{2, 1}));
  EXPECT_LT((Position{2, 1}), (Position{2, 2}));
  EXPECT_EQ((Position{3, 7}).ToString(), "3/7");
}

TEST(Position, ParseRejectsMalformedText) {
  ASSERT_OK_AND_ASSIGN(Position p, Position::Parse("4/1024"));
  EXPECT_EQ(p, (Position{4, 1024}));
  for (const char* bad : {"", "4", "/5", "4/", "a/1", "1/2/3", "1/-2", "1 /2"}) {
    auto r = Position::Parse(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(Hash, Sha256KnownVector) {
  EXPECT_EQ(ToHex(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256Hasher h;
  h.Update("a");
  h.Update("bc");
  EXPECT_EQ(h.Finish(), Sha256("abc"));
}

TEST(Hash, HexRoundTripAndValidation) {
  auto d = Sha256("hello");
  ASSERT_OK_AND_ASSIGN(auto back, Sha256FromHex(ToHex(d)));
  EXPECT_EQ(back, d);
  EXPECT_FALSE(IsSha256Hex("ABC"));
  EXPECT_FALSE(IsSha256Hex(std::string(64, 'G')));
  EXPECT_FALSE(Sha256FromHex("../etc/passwd").ok());
}

TEST(Hash, Xxh3IsStableAndSeeded) {
  EXPECT_EQ(Xxh3_64("abc"), Xxh3_64("abc"));
  EXPECT_NE(Xxh3_64("abc"), Xxh3_64("abd"));
  EXPECT_NE(Xxh3_64("abc", 3, 1), Xxh3_64("abc", 3, 2));
}

TEST(Coding, FixedWidthRoundTrip) {
  std::string buf;
  PutFixed16(&buf, 0xBEEF);
  PutFixed32(&buf, 0xDEADBEEF);
  PutFixed64(&buf, 0x0123456789ABCDEFull);
  PutDouble(&buf, -2.5);
  PutBytes32(&buf, "xyz");
  EXPECT_EQ(static_cast<uint8_t>(buf[0]), 0xEF);  // little-endian
  Decoder d(buf);
  uint16_t a;
  uint32_t b;
  uint64_t c;
  double e;
  std::string_view s;
  ASSERT_TRUE(d.GetFixed16(&a));
  ASSERT_TRUE(d.GetFixed32(&b));
  ASSERT_TRUE(d.GetFixed64(&c));
  ASSERT_TRUE(d.GetDouble(&e));
  ASSERT_TRUE(d.GetBytes32(&s));
  EXPECT_EQ(a, 0xBEEF);
  EXPECT_EQ(b, 0xDEADBEEFu);
  EXPECT_EQ(c, 0x0123456789ABCDEFull);
  EXPECT_EQ(e, -2.5);
  EXPECT_EQ(s, "xyz");
  EXPECT_TRUE(d.done());
}

TEST(Coding, DecoderNeverReadsPastEnd) {
  std::string buf;
  PutFixed32(&buf, 1000);  // claims 1000 bytes follow; none do
  Decoder d(buf);
  std::string_view s;
  EXPECT_FALSE(d.GetBytes32(&s));
  EXPECT_EQ(d.offset(), 0u);
  uint64_t v;
  EXPECT_FALSE(d.GetFixed64(&v));
}

}  // namespace
}  // namespace ark
