#include "engine/content_checksum.h"

#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>

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

// Lane sums over a set of rows; subtraction undoes an addition (mod 2^64).
struct Lanes {
  uint64_t a = 0, b = 0, rows = 0;
  void Add(const Lanes& o) {
    a += o.a;
    b += o.b;
    rows += o.rows;
  }
};

// Hashes rows of one collection canonically (see the header).
class RowHasher {
 public:
  explicit RowHasher(const CollectionSnapshot& snapshot) : schema_(snapshot.schema()) {
    const uint64_t seed = Xxh3_64(SchemaDescriptor(schema_));
    seed0_ = seed ^ 0x9E3779B97F4A7C15ull;
    seed1_ = seed ^ 0xC2B2AE3D27D4EB4Full;
    std::string names;
    for (const auto& name : snapshot.PartitionNames()) {
      auto id = snapshot.PartitionId(name);
      if (!id.ok()) continue;
      partition_names_[*id] = name;
      names += fmt::format("{}={}\n", *id, name);
    }
    // What a block's cached sums depend on besides its content.
    key_ = fmt::format("{:016x}{:016x}", seed, Xxh3_64(names));
  }
  const std::string& key() const { return key_; }

  void AddRow(const RowBlock& block, size_t row, Lanes* lanes, bool subtract = false) {
    bytes_.clear();
    const RowBatch& rows = block.rows();
    const int partition_column = schema_.PartitionColumn();
    for (size_t c = 0; c < schema_.NumColumns(); ++c) {
      if (static_cast<int>(c) == partition_column) {
        auto it = partition_names_.find(rows.columns[c].ints[row]);
        PutBytes(&bytes_, it == partition_names_.end() ? fmt::format("#{}", rows.columns[c].ints[row]) : it->second);
        continue;
      }
      EncodeColumnValue(rows.columns[c], row, &bytes_);
    }
    const uint64_t h0 = Xxh3_64(bytes_.data(), bytes_.size(), seed0_);
    const uint64_t h1 = Xxh3_64(bytes_.data(), bytes_.size(), seed1_);
    if (subtract) {
      lanes->a -= h0;
      lanes->b -= h1;
      lanes->rows -= 1;
    } else {
      lanes->a += h0;
      lanes->b += h1;
      lanes->rows += 1;
    }
  }

 private:
  const CollectionSchema& schema_;
  uint64_t seed0_ = 0, seed1_ = 0;
  std::map<int64_t, std::string> partition_names_;
  std::string key_;
  std::string bytes_;
};

// The sums over every row of a sealed segment, deleted or not. A segment
// file never changes (it is named by its content's hash), so its sums under
// one schema and partition map never do either: computed once, they make a
// checksum cost a pass over the growing rows and the deleted ones only, and
// an incremental backup stays incremental. Bounded: cleared when full.
class SealedSums {
 public:
  static SealedSums& Get() {
    static SealedSums* cache = new SealedSums();  // never destroyed: used from any thread until exit
    return *cache;
  }
  Result<Lanes> Of(const RowBlock& block, RowHasher* hasher) {
    const std::string key = block.file() + hasher->key();
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = sums_.find(key);
      if (it != sums_.end()) return it->second;
    }
    ARK_RETURN_IF_ERROR(block.EnsureColumns());
    Lanes lanes;  // computed outside the lock: concurrent first uses compute twice, harmlessly
    for (size_t r = 0; r < block.num_rows(); ++r) hasher->AddRow(block, r, &lanes);
    std::lock_guard<std::mutex> lock(mu_);
    if (sums_.size() >= kMaxEntries) sums_.clear();
    sums_.emplace(key, lanes);
    return lanes;
  }

 private:
  static constexpr size_t kMaxEntries = 1 << 16;
  std::mutex mu_;
  std::unordered_map<std::string, Lanes> sums_;  // GUARDED_BY(mu_)
};

}  // namespace

ContentChecksum ComputeContentChecksum(const CollectionSnapshot& snapshot) {
  RowHasher hasher(snapshot);
  Lanes lanes;
  // Segments decode their columns on first use (engine/lazy_segment.h): a
  // damaged one fails the checksum rather than hashing missing values.
  Status error;
  const RowBlock* checked = nullptr;
  auto readable = [&](const RowBlock& block) {
    if (&block != checked) {
      checked = &block;
      if (error.ok()) error = block.EnsureColumns();
    }
    return error.ok();
  };
  if (snapshot.restricted()) {
    // A partition-scoped view: hash what it shows.
    snapshot.ForEachVisibleRow([&](const RowBlock& block, size_t row) {
      if (readable(block)) hasher.AddRow(block, row, &lanes);
    });
  } else {
    // Sealed segments: every row's cached sums, minus the rows not visible
    // in this snapshot (deleted at or before it, written after it).
    for (const auto& block : snapshot.sealed()) {
      auto sums = SealedSums::Get().Of(*block, &hasher);
      if (!sums.ok()) {
        error = sums.status();
        break;
      }
      lanes.Add(*sums);
      for (size_t r = 0; r < block->num_rows(); ++r) {
        if (!block->VisibleAt(r, snapshot.lsn()) && readable(*block)) {
          hasher.AddRow(*block, r, &lanes, /*subtract=*/true);
        }
      }
    }
    // The growing (and being sealed) blocks, row by row.
    snapshot.ForEachVisibleRow([&](const RowBlock& block, size_t row) {
      if (!block.sealed()) hasher.AddRow(block, row, &lanes);
    });
  }
  if (!error.ok()) {
    ContentChecksum out;
    out.lsn = snapshot.lsn();
    out.checksum = "unreadable";
    out.status = error;
    return out;
  }
  ContentChecksum out;
  out.lsn = snapshot.lsn();
  out.rows = lanes.rows;
  out.checksum = fmt::format("v{}:{:016x}{:016x}", kContentChecksumVersion, lanes.a, lanes.b);
  return out;
}

}  // namespace ark
