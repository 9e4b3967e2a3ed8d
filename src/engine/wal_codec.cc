#include "engine/wal_codec.h"

#include <cstring>

#include <fmt/format.h>

#include "core/coding.h"
#include "wal/wal_record.h"

namespace ark {

namespace {

Status Bad(Position at, const std::string& what) {
  return Status::Corruption(fmt::format("WAL record at {}: {}", at.ToString(), what));
}

Result<nlohmann::json> ParseJson(std::string_view body, Position at) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Bad(at, "body is not a JSON object");
  return j;
}

}  // namespace

std::string EncodeCreateCollection(const CreateCollectionBody& b) {
  return nlohmann::json{{"database", b.database}, {"name", b.name}, {"schema", b.schema.ToJson()}}
      .dump();
}

Result<CreateCollectionBody> DecodeCreateCollection(std::string_view body, Position at) {
  ARK_ASSIGN_OR_RETURN(auto j, ParseJson(body, at));
  if (!j.contains("database") || !j.contains("name") || !j.contains("schema") ||
      !j["database"].is_string() || !j["name"].is_string()) {
    return Bad(at, "create-collection body lacks database, name or schema");
  }
  CreateCollectionBody b{j["database"].get<std::string>(), j["name"].get<std::string>(), {}};
  auto schema = CollectionSchema::FromJson(j["schema"]);
  if (!schema.ok()) return Bad(at, schema.status().message());
  b.schema = std::move(schema).value();
  return b;
}

std::string EncodeRenameCollection(const RenameCollectionBody& b) {
  return nlohmann::json{{"database", b.database}, {"name", b.name}}.dump();
}

Result<RenameCollectionBody> DecodeRenameCollection(std::string_view body, Position at) {
  ARK_ASSIGN_OR_RETURN(auto j, ParseJson(body, at));
  if (!j.contains("database") || !j.contains("name") || !j["database"].is_string() ||
      !j["name"].is_string()) {
    return Bad(at, "rename-collection body lacks database or name");
  }
  return RenameCollectionBody{j["database"].get<std::string>(), j["name"].get<std::string>()};
}

namespace {

constexpr size_t kRowsHeaderSize = 4 + 8 + 4;    // version, rows, columns
constexpr size_t kColumnHeaderSize = 1 + 4 + 8;  // type, dim, byte length

size_t ColumnBodySize(const Column& c) {
  switch (c.type) {
    case DataType::kFloatVector:
      return c.floats.size() * 4;
    case DataType::kVarChar:
    case DataType::kJson: {
      size_t n = 0;
      for (const auto& s : c.strings) n += 4 + s.size();
      return n;
    }
    case DataType::kFloat:
    case DataType::kDouble:
      return c.doubles.size() * 8;
    default:
      return c.ints.size() * 8;
  }
}

}  // namespace

size_t EncodedRowsSize(const RowBatch& batch) {
  size_t n = kRowsHeaderSize;
  for (const auto& c : batch.columns) n += kColumnHeaderSize + ColumnBodySize(c);
  return n;
}

void EncodeRowsTo(const RowBatch& batch, char* dst) {
  char* p = dst;
  EncodeFixed32(p, kWalBodyVersion);
  EncodeFixed64(p + 4, batch.num_rows);
  EncodeFixed32(p + 12, static_cast<uint32_t>(batch.columns.size()));
  p += kRowsHeaderSize;
  for (const auto& c : batch.columns) {
    const size_t len = ColumnBodySize(c);
    p[0] = static_cast<char>(c.type);
    EncodeFixed32(p + 1, c.dim);
    EncodeFixed64(p + 5, len);
    p += kColumnHeaderSize;
    switch (c.type) {
      case DataType::kFloatVector:
        // Little-endian hosts only (as the rest of the codec): f32 as stored.
        if (len > 0) std::memcpy(p, c.floats.data(), len);
        p += len;
        break;
      case DataType::kVarChar:
      case DataType::kJson:
        for (const auto& s : c.strings) {
          EncodeFixed32(p, static_cast<uint32_t>(s.size()));
          if (!s.empty()) std::memcpy(p + 4, s.data(), s.size());
          p += 4 + s.size();
        }
        break;
      case DataType::kFloat:
      case DataType::kDouble:
        for (double d : c.doubles) {
          uint64_t bits;
          std::memcpy(&bits, &d, 8);
          EncodeFixed64(p, bits);
          p += 8;
        }
        break;
      default:
        for (int64_t v : c.ints) {
          EncodeFixed64(p, static_cast<uint64_t>(v));
          p += 8;
        }
    }
  }
}

std::string EncodeRows(const RowBatch& batch) {
  std::string out(EncodedRowsSize(batch), '\0');
  EncodeRowsTo(batch, out.data());
  return out;
}

Result<RowBatch> DecodeRows(std::string_view body, Position at) {
  Decoder d(body);
  uint32_t version, ncols;
  uint64_t rows;
  if (!d.GetFixed32(&version) || !d.GetFixed64(&rows) || !d.GetFixed32(&ncols)) {
    return Bad(at, "rows body header cut short");
  }
  if (version != kWalBodyVersion) return Bad(at, fmt::format("unknown rows body version {}", version));
  RowBatch b;
  b.num_rows = rows;
  for (uint32_t i = 0; i < ncols; ++i) {
    std::string_view type, data;
    Column c;
    uint64_t len;
    if (!d.GetBytes(1, &type) || !d.GetFixed32(&c.dim) || !d.GetFixed64(&len) ||
        !d.GetBytes(len, &data)) {
      return Bad(at, fmt::format("column {} cut short", i));
    }
    c.type = static_cast<DataType>(static_cast<uint8_t>(type[0]));
    Decoder cd(data);
    bool ok = true;
    switch (c.type) {
      case DataType::kFloatVector:
        ok = SizeFits(data.size(), rows, uint64_t{c.dim} * 4);
        if (ok) {
          c.floats.resize(rows * c.dim);
          if (!data.empty()) std::memcpy(c.floats.data(), data.data(), data.size());
        }
        break;
      case DataType::kVarChar:
      case DataType::kJson:
        for (uint64_t r = 0; ok && r < rows; ++r) {
          std::string_view s;
          ok = cd.GetBytes32(&s);
          c.strings.emplace_back(s);
        }
        ok = ok && cd.done();
        break;
      case DataType::kFloat:
      case DataType::kDouble:
        ok = SizeFits(data.size(), rows, 8);
        for (uint64_t r = 0; ok && r < rows; ++r) {
          double v = 0;
          cd.GetDouble(&v);
          c.doubles.push_back(v);
        }
        break;
      default:
        ok = SizeFits(data.size(), rows, 8);
        for (uint64_t r = 0; ok && r < rows; ++r) {
          uint64_t v = 0;
          cd.GetFixed64(&v);
          c.ints.push_back(static_cast<int64_t>(v));
        }
    }
    if (!ok) return Bad(at, fmt::format("column {} ({}) does not hold {} rows", i, DataTypeName(c.type), rows));
    b.columns.push_back(std::move(c));
  }
  if (!d.done()) return Bad(at, "trailing bytes after the rows");
  return b;
}

std::string EncodeKeys(DataType key_type, const std::vector<PrimaryKey>& keys) {
  std::string out;
  PutFixed32(&out, kWalBodyVersion);
  out.push_back(static_cast<char>(key_type));
  PutFixed64(&out, keys.size());
  for (const auto& k : keys) {
    if (key_type == DataType::kVarChar) {
      PutBytes32(&out, std::get<std::string>(k));
    } else {
      PutFixed64(&out, static_cast<uint64_t>(std::get<int64_t>(k)));
    }
  }
  return out;
}

Result<std::vector<PrimaryKey>> DecodeKeys(std::string_view body, Position at) {
  Decoder d(body);
  uint32_t version;
  std::string_view type;
  uint64_t n;
  if (!d.GetFixed32(&version) || !d.GetBytes(1, &type) || !d.GetFixed64(&n)) {
    return Bad(at, "keys body header cut short");
  }
  if (version != kWalBodyVersion) return Bad(at, fmt::format("unknown keys body version {}", version));
  bool varchar = static_cast<DataType>(static_cast<uint8_t>(type[0])) == DataType::kVarChar;
  std::vector<PrimaryKey> keys;
  for (uint64_t i = 0; i < n; ++i) {
    if (varchar) {
      std::string_view s;
      if (!d.GetBytes32(&s)) return Bad(at, fmt::format("key {} cut short", i));
      keys.emplace_back(std::string(s));
    } else {
      uint64_t v;
      if (!d.GetFixed64(&v)) return Bad(at, fmt::format("key {} cut short", i));
      keys.emplace_back(static_cast<int64_t>(v));
    }
  }
  if (!d.done()) return Bad(at, "trailing bytes after the keys");
  return keys;
}

std::string_view EngineOpName(uint16_t op) {
  switch (op) {
    case kOpCreateDatabase: return "create_database";
    case kOpDropDatabase: return "drop_database";
    case kOpSetAlias: return "set_alias";
    case kOpDropAlias: return "drop_alias";
    case kOpCreatePartition: return "create_partition";
    case kOpDropPartition: return "drop_partition";
    case kOpAlterDatabase: return "alter_database";
    case 107: return "file_change";  // kOpFileChange (engine/file_change.h)
    case kOpAlterCollection: return "alter_collection";
    case kOpSetLoadState: return "set_load_state";
    default: return WalOpName(op);
  }
}

}  // namespace ark
