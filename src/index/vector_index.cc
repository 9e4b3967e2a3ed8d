#include "index/vector_index.h"

#include <bit>
#include <cstring>

#include <fmt/format.h>

#include "core/coding.h"
#include "core/hash.h"
#include "index/faiss_index.h"
#include "index/hnsw_index.h"
#include "index/hnsw_sq_index.h"
#include "index/index_format.h"

namespace ark {
namespace {

IndexLibrary LibraryFor(IndexType type) {
  return type == IndexType::kHnsw ? IndexLibrary::kHnswlib : IndexLibrary::kFaiss;
}

}  // namespace

uint64_t FilterBitmap::Count() const {
  uint64_t count = 0;
  uint64_t full_bytes = num_rows / 8;
  uint64_t i = 0;
  for (; i + 8 <= full_bytes; i += 8) {
    uint64_t word;
    std::memcpy(&word, bytes + i, 8);
    count += static_cast<uint64_t>(std::popcount(word));
  }
  for (; i < full_bytes; ++i) count += static_cast<uint64_t>(std::popcount(bytes[i]));
  for (uint64_t r = full_bytes * 8; r < num_rows; ++r) count += Test(r) ? 1 : 0;
  return count;
}

RowBitmap::RowBitmap(uint64_t num_rows, bool value)
    : num_rows_(num_rows), bytes_((num_rows + 7) / 8, value ? 0xff : 0) {
  if (value && num_rows % 8 != 0) bytes_.back() = static_cast<uint8_t>((1u << (num_rows % 8)) - 1);
}

void RowBitmap::Set(uint64_t i, bool value) {
  if (i >= num_rows_) return;
  uint8_t mask = static_cast<uint8_t>(1u << (i & 7));
  if (value) {
    bytes_[i >> 3] |= mask;
  } else {
    bytes_[i >> 3] &= static_cast<uint8_t>(~mask);
  }
}

size_t SearchResult::Count(size_t q) const {
  size_t n = 0;
  while (n < k && ids[q * k + n] >= 0) ++n;
  return n;
}

Result<std::unique_ptr<VectorIndex>> VectorIndex::Build(const IndexSpec& spec, const float* data, uint64_t num_rows,
                                                        const BuildOptions& options) {
  ARK_RETURN_IF_ERROR(spec.Validate());
  ARK_RETURN_IF_ERROR(spec.ValidateForRows(num_rows));
  if (data == nullptr && num_rows > 0) return Status::InvalidArgument("index build: no data for the rows");
  if (spec.type == IndexType::kHnsw) {
    ARK_ASSIGN_OR_RETURN(auto index, HnswIndex::Build(spec, data, num_rows, options));
    return std::unique_ptr<VectorIndex>(std::move(index));
  }
  if (spec.type == IndexType::kHnswSq) {
    ARK_ASSIGN_OR_RETURN(auto index, HnswSqIndex::Build(spec, data, num_rows, options));
    return std::unique_ptr<VectorIndex>(std::move(index));
  }
  ARK_ASSIGN_OR_RETURN(auto index, FaissIndex::Build(spec, data, num_rows, options));
  return std::unique_ptr<VectorIndex>(std::move(index));
}

Result<std::string> VectorIndex::Serialize() const {
  ARK_ASSIGN_OR_RETURN(std::string payload, SerializePayload());
  std::string out;
  out.reserve(kIndexHeaderSize + payload.size());
  const bool sq = spec_.type == IndexType::kHnswSq;
  out.append(kIndexMagic);
  PutFixed32(&out, sq ? kIndexFormatVersionForSq : 1);
  PutFixed32(&out, kIndexHeaderSize);
  out.push_back(static_cast<char>(spec_.type));
  out.push_back(static_cast<char>(spec_.metric));
  out.push_back(static_cast<char>(LibraryFor(spec_.type)));
  out.push_back(0);
  PutFixed32(&out, spec_.dim);
  PutFixed64(&out, num_rows_);
  PutFixed32(&out, spec_.hnsw_m);
  PutFixed32(&out, spec_.hnsw_ef_construction);
  PutFixed32(&out, spec_.nlist);
  PutFixed32(&out, spec_.pq_m);
  PutFixed32(&out, spec_.pq_nbits);
  if (sq) {
    out.push_back(static_cast<char>(spec_.sq_type));
    out.push_back(static_cast<char>(spec_.refine ? 1 : 0));
    out.push_back(static_cast<char>(spec_.refine_type));
    out.push_back(0);
  } else {
    PutFixed32(&out, 0);
  }
  PutFixed64(&out, payload.size());
  PutFixed64(&out, Xxh3_64(payload));
  PutFixed64(&out, Xxh3_64(out.data(), kIndexOffsetHeaderChecksum));
  out.append(payload);
  return out;
}

Result<IndexFileHeader> VectorIndex::ParseHeader(std::string_view bytes, std::string_view name) {
  auto corrupt = [&](size_t offset, const std::string& what) {
    return Status::Corruption(fmt::format("index file {} offset {}: {}", name, offset, what));
  };
  if (bytes.size() < kIndexHeaderSize) {
    return corrupt(0, fmt::format("{} bytes is shorter than the {}-byte header", bytes.size(), kIndexHeaderSize));
  }
  const char* h = bytes.data();
  if (bytes.substr(0, kIndexMagic.size()) != kIndexMagic) return corrupt(0, "bad magic (not an Ark index file)");
  uint64_t header_checksum = DecodeFixed64(h + kIndexOffsetHeaderChecksum);
  if (Xxh3_64(h, kIndexOffsetHeaderChecksum) != header_checksum) return corrupt(0, "header checksum mismatch");
  uint32_t version = DecodeFixed32(h + kIndexOffsetVersion);
  if (version > kIndexFormatVersion) {
    return Status::NotSupported(fmt::format("index file {}: format version {} is newer than the supported {}", name,
                                            version, kIndexFormatVersion));
  }
  if (version == 0) return corrupt(kIndexOffsetVersion, "format version 0");
  uint32_t header_size = DecodeFixed32(h + kIndexOffsetHeaderSize);
  if (header_size != kIndexHeaderSize) {
    return corrupt(kIndexOffsetHeaderSize, fmt::format("header size {}, expected {}", header_size, kIndexHeaderSize));
  }
  IndexFileHeader header;
  IndexSpec& spec = header.spec;
  spec.type = static_cast<IndexType>(static_cast<uint8_t>(h[kIndexOffsetType]));
  spec.metric = static_cast<Metric>(static_cast<uint8_t>(h[kIndexOffsetMetric]));
  spec.dim = DecodeFixed32(h + kIndexOffsetDim);
  header.num_rows = DecodeFixed64(h + kIndexOffsetRows);
  spec.hnsw_m = DecodeFixed32(h + kIndexOffsetParams);
  spec.hnsw_ef_construction = DecodeFixed32(h + kIndexOffsetParams + 4);
  spec.nlist = DecodeFixed32(h + kIndexOffsetParams + 8);
  spec.pq_m = DecodeFixed32(h + kIndexOffsetParams + 12);
  spec.pq_nbits = DecodeFixed32(h + kIndexOffsetParams + 16);
  if (spec.type == IndexType::kHnswSq) {
    if (version < kIndexFormatVersionForSq) {
      return corrupt(kIndexOffsetType, fmt::format("index type HNSW_SQ in a version {} file", version));
    }
    spec.sq_type = static_cast<SqType>(static_cast<uint8_t>(h[kIndexOffsetSqParams]));
    const auto refine = static_cast<uint8_t>(h[kIndexOffsetSqParams + 1]);
    if (refine > 1) return corrupt(kIndexOffsetSqParams + 1, fmt::format("refine flag {}", refine));
    spec.refine = refine == 1;
    spec.refine_type = static_cast<RefineType>(static_cast<uint8_t>(h[kIndexOffsetSqParams + 2]));
  }
  Status valid = spec.Validate();
  if (!valid.ok()) return corrupt(kIndexOffsetType, "header describes an invalid index: " + valid.message());
  auto library = static_cast<IndexLibrary>(static_cast<uint8_t>(h[kIndexOffsetLibrary]));
  if (library != LibraryFor(spec.type)) {
    return Status::NotSupported(fmt::format("index file {}: {} payload written by library {} is not readable here",
                                            name, IndexTypeName(spec.type), static_cast<int>(library)));
  }
  header.payload_size = DecodeFixed64(h + kIndexOffsetPayloadSize);
  if (header.payload_size != bytes.size() - kIndexHeaderSize) {
    return corrupt(kIndexOffsetPayloadSize, fmt::format("payload size {} but {} bytes follow the header",
                                                        header.payload_size, bytes.size() - kIndexHeaderSize));
  }
  header.payload_checksum = DecodeFixed64(h + kIndexOffsetPayloadChecksum);
  return header;
}

Result<std::unique_ptr<VectorIndex>> VectorIndex::Load(std::string_view bytes, std::string_view name) {
  ARK_ASSIGN_OR_RETURN(IndexFileHeader header, ParseHeader(bytes, name));
  std::string_view payload = bytes.substr(kIndexHeaderSize);
  if (Xxh3_64(payload) != header.payload_checksum) {
    return Status::Corruption(
        fmt::format("index file {} offset {}: payload checksum mismatch", name, kIndexHeaderSize));
  }
  if (header.spec.type == IndexType::kHnsw) {
    ARK_ASSIGN_OR_RETURN(auto index, HnswIndex::LoadPayload(header.spec, header.num_rows, payload, name));
    return std::unique_ptr<VectorIndex>(std::move(index));
  }
  if (header.spec.type == IndexType::kHnswSq) {
    ARK_ASSIGN_OR_RETURN(auto index, HnswSqIndex::LoadPayload(header.spec, header.num_rows, payload, name));
    return std::unique_ptr<VectorIndex>(std::move(index));
  }
  ARK_ASSIGN_OR_RETURN(auto index, FaissIndex::LoadPayload(header.spec, header.num_rows, payload, name));
  return std::unique_ptr<VectorIndex>(std::move(index));
}

}  // namespace ark
