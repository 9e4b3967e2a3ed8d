#include "engine/segment_file.h"

#include <bit>
#include <cstring>

#include <fmt/format.h>

#include "core/coding.h"
#include "core/hash.h"
#include "engine/segment_format.h"

namespace ark {

static_assert(std::endian::native == std::endian::little,
              "segment files store floats in host order; Ark assumes a little-endian host");

namespace sf = segment_format;

namespace {

size_t FixedWidth(DataType t) {
  switch (t) {
    case DataType::kBool:
    case DataType::kInt8:
      return 1;
    case DataType::kInt16:
      return 2;
    case DataType::kInt32:
    case DataType::kFloat:
      return 4;
    case DataType::kInt64:
    case DataType::kDouble:
      return 8;
    default:
      return 0;
  }
}

void EncodeColumn(const Column& c, size_t rows, std::string* out) {
  switch (c.type) {
    case DataType::kFloatVector:
      out->append(reinterpret_cast<const char*>(c.floats.data()), c.floats.size() * sizeof(float));
      return;
    case DataType::kVarChar:
    case DataType::kJson: {
      uint64_t off = 0;
      PutFixed64(out, 0);
      for (const auto& s : c.strings) PutFixed64(out, off += s.size());
      for (const auto& s : c.strings) out->append(s);
      return;
    }
    case DataType::kFloat:
      for (double d : c.doubles) {
        float f = static_cast<float>(d);
        out->append(reinterpret_cast<const char*>(&f), 4);
      }
      return;
    case DataType::kDouble:
      for (double d : c.doubles) PutDouble(out, d);
      return;
    default: {
      size_t w = FixedWidth(c.type);
      for (int64_t v : c.ints) {
        char b[8];
        EncodeFixed64(b, static_cast<uint64_t>(v));
        out->append(b, w);
      }
    }
  }
}

int64_t SignExtend(uint64_t v, size_t width) {
  if (width == 8) return static_cast<int64_t>(v);
  int shift = static_cast<int>(64 - 8 * width);
  return static_cast<int64_t>(v << shift) >> shift;
}

// Decodes one block into `c`; false if its length does not fit `rows`.
bool DecodeColumn(std::string_view block, size_t rows, Column* c) {
  switch (c->type) {
    case DataType::kFloatVector: {
      if (!SizeFits(block.size(), rows, uint64_t{c->dim} * sizeof(float))) return false;
      // One pass when the bytes are aligned for floats (a mapped file's
      // blocks usually are): assign copies without first zero-filling,
      // which resize would (a second pass over fresh memory at open).
      if (reinterpret_cast<uintptr_t>(block.data()) % alignof(float) == 0) {
        const float* f = reinterpret_cast<const float*>(block.data());
        c->floats.assign(f, f + rows * c->dim);
      } else {
        c->floats.resize(rows * c->dim);
        if (!block.empty()) std::memcpy(c->floats.data(), block.data(), block.size());
      }
      return true;
    }
    case DataType::kVarChar:
    case DataType::kJson: {
      if (rows >= block.size() / 8) return false;  // (rows + 1) * 8 offsets, no overflow
      const char* offs = block.data();
      std::string_view bytes = block.substr((rows + 1) * 8);
      if (DecodeFixed64(offs) != 0 || DecodeFixed64(offs + rows * 8) != bytes.size()) return false;
      c->strings.reserve(rows);
      for (size_t r = 0; r < rows; ++r) {
        uint64_t a = DecodeFixed64(offs + r * 8), b = DecodeFixed64(offs + (r + 1) * 8);
        if (a > b || b > bytes.size()) return false;
        c->strings.emplace_back(bytes.substr(a, b - a));
      }
      return true;
    }
    case DataType::kFloat: {
      if (!SizeFits(block.size(), rows, 4)) return false;
      c->doubles.resize(rows);
      for (size_t r = 0; r < rows; ++r) {
        float f;
        std::memcpy(&f, block.data() + r * 4, 4);
        c->doubles[r] = f;
      }
      return true;
    }
    case DataType::kDouble: {
      if (!SizeFits(block.size(), rows, 8)) return false;
      c->doubles.resize(rows);
      for (size_t r = 0; r < rows; ++r) {
        uint64_t u = DecodeFixed64(block.data() + r * 8);
        std::memcpy(&c->doubles[r], &u, 8);
      }
      return true;
    }
    default: {
      size_t w = FixedWidth(c->type);
      if (w == 0 || !SizeFits(block.size(), rows, w)) return false;
      c->ints.resize(rows);
      for (size_t r = 0; r < rows; ++r) {
        char b[8] = {};
        std::memcpy(b, block.data() + r * w, w);
        c->ints[r] = SignExtend(DecodeFixed64(b), w);
      }
      return true;
    }
  }
}

void PadTo(std::string* out, size_t alignment) {
  size_t rem = out->size() % alignment;
  if (rem != 0) out->append(alignment - rem, '\0');
}

Status Corrupt(const std::string& name, uint64_t offset, const std::string& what) {
  return Status::Corruption(fmt::format("segment file {} offset {}: {}", name, offset, what));
}

}  // namespace

std::string EncodeSegment(const CollectionSchema& schema, uint64_t collection_id,
                          const RowBatch& rows, const std::vector<uint64_t>& lsns) {
  std::string out(sf::kHeaderSize, '\0');
  std::vector<SegmentColumnInfo> dir;
  auto add_block = [&](std::string name, const Column& c) {
    PadTo(&out, sf::kColumnAlignment);
    SegmentColumnInfo info{std::move(name), c.type, c.dim, out.size(), 0, 0};
    EncodeColumn(c, rows.num_rows, &out);
    info.length = out.size() - info.offset;
    info.checksum = Xxh3_64(out.data() + info.offset, info.length);
    dir.push_back(std::move(info));
  };
  for (size_t i = 0; i < rows.columns.size(); ++i) {
    add_block(schema.ColumnName(i), rows.columns[i]);
  }
  Column lsn_col;
  lsn_col.type = DataType::kInt64;
  lsn_col.ints.assign(lsns.begin(), lsns.end());
  add_block(std::string(sf::kLsnColumnName), lsn_col);

  PadTo(&out, 8);
  uint64_t dir_offset = out.size();
  for (const auto& d : dir) {
    out.push_back(static_cast<char>(d.type));
    out.push_back(0);  // encoding: 0 = plain
    PutFixed16(&out, static_cast<uint16_t>(d.name.size()));
    PutFixed32(&out, d.dim);
    PutFixed64(&out, d.offset);
    PutFixed64(&out, d.length);
    PutFixed64(&out, d.checksum);
    out.append(d.name);
  }
  uint64_t dir_length = out.size() - dir_offset;
  uint64_t dir_checksum = Xxh3_64(out.data() + dir_offset, dir_length);
  PutFixed64(&out, dir_offset);
  PutFixed64(&out, dir_length);
  PutFixed64(&out, dir_checksum);
  out.append(sf::kFooterMagic, 8);

  uint64_t min_lsn = 0, max_lsn = 0;
  for (size_t r = 0; r < lsns.size(); ++r) {
    if (r == 0 || lsns[r] < min_lsn) min_lsn = lsns[r];
    if (r == 0 || lsns[r] > max_lsn) max_lsn = lsns[r];
  }
  char* h = out.data();
  std::memcpy(h, sf::kMagic, 8);
  EncodeFixed32(h + 8, sf::kVersion);
  EncodeFixed32(h + 12, sf::kHeaderSize);
  EncodeFixed64(h + 16, collection_id);
  EncodeFixed64(h + 24, rows.num_rows);
  EncodeFixed32(h + 32, static_cast<uint32_t>(dir.size()));
  EncodeFixed32(h + 36, 0);  // flags
  EncodeFixed64(h + 40, min_lsn);
  EncodeFixed64(h + 48, max_lsn);
  EncodeFixed64(h + sf::kHeaderChecksumOffset, Xxh3_64(h, sf::kHeaderChecksumOffset));
  return out;
}

Result<SegmentContents> DecodeSegmentLayout(std::string_view data, const std::string& name) {
  if (data.size() < sf::kHeaderSize + sf::kFooterSize) {
    return Corrupt(name, 0, fmt::format("file is {} bytes, shorter than header + footer ({})",
                                        data.size(), sf::kHeaderSize + sf::kFooterSize));
  }
  const char* h = data.data();
  if (std::memcmp(h, sf::kMagic, 8) != 0) return Corrupt(name, 0, "bad magic: not a segment file");
  SegmentContents seg;
  seg.version = DecodeFixed32(h + 8);
  if (seg.version != sf::kVersion) {
    return Status::NotSupported(fmt::format("segment file {}: unknown format version {} (expected {})",
                                            name, seg.version, sf::kVersion));
  }
  uint64_t want = DecodeFixed64(h + sf::kHeaderChecksumOffset);
  uint64_t got = Xxh3_64(h, sf::kHeaderChecksumOffset);
  if (want != got) {
    return Corrupt(name, sf::kHeaderChecksumOffset,
                   fmt::format("header checksum mismatch: stored {:016x}, computed {:016x}", want, got));
  }
  seg.collection_id = DecodeFixed64(h + 16);
  seg.num_rows = DecodeFixed64(h + 24);
  uint32_t num_columns = DecodeFixed32(h + 32);
  seg.min_lsn = DecodeFixed64(h + 40);
  seg.max_lsn = DecodeFixed64(h + 48);

  const size_t footer = data.size() - sf::kFooterSize;
  const char* f = data.data() + footer;
  if (std::memcmp(f + 24, sf::kFooterMagic, 8) != 0) {
    return Corrupt(name, footer + 24, "bad footer magic (file truncated?)");
  }
  uint64_t dir_offset = DecodeFixed64(f), dir_length = DecodeFixed64(f + 8);
  if (dir_offset > footer || dir_length != footer - dir_offset) {
    return Corrupt(name, footer, fmt::format("directory [{}, +{}) does not end at the footer ({})",
                                             dir_offset, dir_length, footer));
  }
  std::string_view dir = data.substr(dir_offset, dir_length);
  uint64_t dir_checksum = DecodeFixed64(f + 16);
  if (Xxh3_64(dir.data(), dir.size()) != dir_checksum) {
    return Corrupt(name, dir_offset, "column directory checksum mismatch");
  }
  Decoder d(dir);
  for (uint32_t i = 0; i < num_columns; ++i) {
    std::string_view type_enc, name_bytes;
    uint16_t name_len;
    SegmentColumnInfo c;
    if (!d.GetBytes(2, &type_enc) || !d.GetFixed16(&name_len) || !d.GetFixed32(&c.dim) ||
        !d.GetFixed64(&c.offset) || !d.GetFixed64(&c.length) || !d.GetFixed64(&c.checksum) ||
        !d.GetBytes(name_len, &name_bytes)) {
      return Corrupt(name, dir_offset + d.offset(), fmt::format("directory entry {} is cut short", i));
    }
    c.type = static_cast<DataType>(static_cast<uint8_t>(type_enc[0]));
    c.name = std::string(name_bytes);
    if (c.offset % sf::kColumnAlignment != 0 || c.offset < sf::kHeaderSize ||
        c.offset > dir_offset || c.length > dir_offset - c.offset) {
      return Corrupt(name, dir_offset,
                     fmt::format("column '{}' block [{}, +{}) is out of bounds", c.name, c.offset,
                                 c.length));
    }
    seg.columns.push_back(std::move(c));
  }
  if (!d.done()) return Corrupt(name, dir_offset + d.offset(), "trailing bytes in the directory");
  if (seg.columns.empty() || seg.columns.back().name != sf::kLsnColumnName) {
    return Corrupt(name, dir_offset, "the last column is not '$lsn'");
  }
  return seg;
}

Result<Column> DecodeSegmentColumn(std::string_view data, const SegmentColumnInfo& info, uint64_t num_rows,
                                   const std::string& name) {
  if (info.offset > data.size() || info.length > data.size() - info.offset) {
    return Corrupt(name, info.offset,
                   fmt::format("column '{}' block [{}, +{}) is out of bounds", info.name, info.offset, info.length));
  }
  std::string_view block = data.substr(info.offset, info.length);
  uint64_t got = Xxh3_64(block.data(), block.size());
  if (got != info.checksum) {
    return Corrupt(name, info.offset,
                   fmt::format("column '{}' checksum mismatch: stored {:016x}, computed {:016x}", info.name,
                               info.checksum, got));
  }
  Column c;
  c.type = info.type;
  c.dim = info.dim;
  if (!DecodeColumn(block, num_rows, &c)) {
    return Corrupt(name, info.offset,
                   fmt::format("column '{}' ({}) block of {} bytes does not hold {} rows", info.name,
                               DataTypeName(info.type), info.length, num_rows));
  }
  return c;
}

Result<SegmentContents> DecodeSegment(std::string_view data, const std::string& name) {
  ARK_ASSIGN_OR_RETURN(SegmentContents seg, DecodeSegmentLayout(data, name));
  seg.rows.num_rows = seg.num_rows;
  for (const auto& info : seg.columns) {
    ARK_ASSIGN_OR_RETURN(Column c, DecodeSegmentColumn(data, info, seg.num_rows, name));
    if (info.name == sf::kLsnColumnName) {
      seg.lsns.assign(c.ints.begin(), c.ints.end());
    } else {
      seg.rows.columns.push_back(std::move(c));
    }
  }
  return seg;
}

Status CheckSegmentMatchesSchema(const SegmentContents& seg, const CollectionSchema& schema,
                                 const std::string& name) {
  size_t want = schema.NumColumns();
  if (seg.columns.size() != want + 1) {
    return Status::Corruption(fmt::format("segment file {}: expected {} columns for the schema, got {}",
                                          name, want + 1, seg.columns.size()));
  }
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    const auto& f = schema.fields[i];
    const auto& c = seg.columns[i];
    if (c.name != f.name || c.type != f.type || c.dim != f.dim) {
      return Status::Corruption(fmt::format(
          "segment file {}: column {} is '{}' {} dim {}, schema expects '{}' {} dim {}", name, i,
          c.name, DataTypeName(c.type), c.dim, f.name, DataTypeName(f.type), f.dim));
    }
  }
  for (size_t i = schema.fields.size(); i < want; ++i) {
    const auto& c = seg.columns[i];
    const DataType type = static_cast<int>(i) == schema.DynamicColumn() ? DataType::kJson : DataType::kInt64;
    if (c.name != schema.ColumnName(i) || c.type != type) {
      return Status::Corruption(fmt::format("segment file {}: column {} is '{}' {}, schema expects '{}' {}",
                                            name, i, c.name, DataTypeName(c.type), schema.ColumnName(i),
                                            DataTypeName(type)));
    }
  }
  return Status::OK();
}

}  // namespace ark
