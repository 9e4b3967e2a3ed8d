#include "engine/content_checksum.h"

#include <cstring>
#include <map>

#include <fmt/format.h>

#include "core/hash.h"

namespace ark {
namespace {

// Little-endian, whatever the host (the checksum is compared across machines).
void PutU64(std::string* out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, 8);
}

void PutBytes(std::string* out, std::string_view s) {
  PutU64(out, s.size());
  out->append(s);
}

// The schema's shape: field names, types and dims, and the hidden columns.
// Descriptions are not content and stay out.
std::string SchemaDescriptor(const CollectionSchema& schema) {
  std::string d = fmt::format("ark-content-checksum/{}\n", kContentChecksumVersion);
  for (const auto& f : schema.fields) {
    d += fmt::format("{}\t{}\t{}\t{}\n", f.name, static_cast<int>(f.type), f.dim, f.is_primary_key ? 1 : 0);
  }
  d += fmt::format("dynamic={} partition={}\n", schema.enable_dynamic_field ? 1 : 0, schema.partition_column ? 1 : 0);
  return d;
}

void EncodeColumnValue(const Column& c, size_t row, std::string* out) {
  switch (c.type) {
    case DataType::kBool:
    case DataType::kInt8:
    case DataType::kInt16:
    case DataType::kInt32:
    case DataType::kInt64:
      PutU64(out, static_cast<uint64_t>(c.ints[row]));
      return;
    case DataType::kFloat:
    case DataType::kDouble: {
      double v = c.doubles[row];
      if (v == 0) v = 0;  // -0.0 and 0.0 are one value
      uint64_t bits;
      std::memcpy(&bits, &v, sizeof bits);
      PutU64(out, bits);
      return;
    }
    case DataType::kVarChar:
    case DataType::kJson:
      PutBytes(out, c.strings[row]);
      return;
    case DataType::kFloatVector: {
      const float* v = c.floats.data() + row * c.dim;
      PutU64(out, c.dim);
      for (uint32_t i = 0; i < c.dim; ++i) {
        float f = v[i] == 0 ? 0.0f : v[i];
        uint32_t bits;
        std::memcpy(&bits, &f, sizeof bits);
        char b[4];
        for (int k = 0; k < 4; ++k) b[k] = static_cast<char>(bits >> (8 * k));
        out->append(b, 4);
      }
      return;
    }
  }
}

}  // namespace

ContentChecksum ComputeContentChecksum(const CollectionSnapshot& snapshot) {
  const CollectionSchema& schema = snapshot.schema();
  const uint64_t schema_seed = Xxh3_64(SchemaDescriptor(schema));
  const uint64_t seed0 = schema_seed ^ 0x9E3779B97F4A7C15ull;
  const uint64_t seed1 = schema_seed ^ 0xC2B2AE3D27D4EB4Full;
  // Partitions enter by name: ids are an internal detail of one database.
  std::map<int64_t, std::string> partition_names;
  for (const auto& name : snapshot.PartitionNames()) {
    auto id = snapshot.PartitionId(name);
    if (id.ok()) partition_names[*id] = name;
  }
  const int partition_column = schema.PartitionColumn();
  const size_t columns = schema.NumColumns();

  ContentChecksum out;
  out.lsn = snapshot.lsn();
  uint64_t lane0 = 0, lane1 = 0;
  std::string row_bytes;
  snapshot.ForEachVisibleRow([&](const RowBlock& block, size_t row) {
    row_bytes.clear();
    const RowBatch& rows = block.rows();
    for (size_t c = 0; c < columns; ++c) {
      if (static_cast<int>(c) == partition_column) {
        auto it = partition_names.find(rows.columns[c].ints[row]);
        PutBytes(&row_bytes, it == partition_names.end() ? fmt::format("#{}", rows.columns[c].ints[row]) : it->second);
        continue;
      }
      EncodeColumnValue(rows.columns[c], row, &row_bytes);
    }
    lane0 += Xxh3_64(row_bytes.data(), row_bytes.size(), seed0);
    lane1 += Xxh3_64(row_bytes.data(), row_bytes.size(), seed1);
    ++out.rows;
  });
  out.checksum = fmt::format("v{}:{:016x}{:016x}", kContentChecksumVersion, lane0, lane1);
  return out;
}

}  // namespace ark
