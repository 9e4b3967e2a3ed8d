// Fuzz target: index files (index/vector_index.h VectorIndex::Load, which
// ReadIndexFile calls after reading the file): Ark's header, then FAISS's or
// hnswlib's serialization, which Ark parses itself for HNSW.
//
// Input: byte 0 = flags, then the file. Flag bit 0 "fix checksums": rewrite
// the payload size, the payload checksum and the header checksum, so
// mutations reach the library payload decoders (a file whose checksums match
// but whose payload lies is what a bug or a malicious file would produce).
// An index that loads is searched (with and without an allow-filter), and
// serialized and loaded again.
#include <cstdint>
#include <string>
#include <vector>

#include "core/coding.h"
#include "core/hash.h"
#include "fuzz/fuzz_util.h"
#include "index/index_format.h"
#include "index/vector_index.h"

using namespace ark;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::InputReader in(data, size);
  uint8_t flags = in.Byte();
  std::string file(in.Rest());
  if ((flags & 1) && file.size() >= kIndexHeaderSize) {
    char* h = file.data();
    EncodeFixed64(h + kIndexOffsetPayloadSize, file.size() - kIndexHeaderSize);
    EncodeFixed64(h + kIndexOffsetPayloadChecksum, Xxh3_64(h + kIndexHeaderSize, file.size() - kIndexHeaderSize));
    EncodeFixed64(h + kIndexOffsetHeaderChecksum, Xxh3_64(h, kIndexOffsetHeaderChecksum));
  }
  auto index = VectorIndex::Load(file, "fuzz.idx");
  if (!index.ok()) return 0;
  const VectorIndex& idx = **index;
  const uint32_t dim = idx.spec().dim;
  std::vector<float> queries(2 * static_cast<size_t>(dim));
  for (size_t i = 0; i < queries.size(); ++i) queries[i] = static_cast<float>(i % 7) - 3.0f;
  SearchParams params;
  auto all = idx.Search(queries.data(), 2, 3, params);
  if (all.ok()) {
    for (int64_t id : all->ids) {
      ARK_FUZZ_CHECK(id >= -1 && (id < 0 || static_cast<uint64_t>(id) < idx.num_rows()),
                     "search returned an id outside the index: " + std::to_string(id));
    }
  }
  RowBitmap allow(idx.num_rows() < (1u << 20) ? idx.num_rows() : 0);
  for (uint64_t i = 0; i < allow.num_rows(); i += 2) allow.Set(i);
  FilterBitmap view = allow.view();
  auto some = idx.Search(queries.data(), 1, 2, params, &view);
  if (some.ok()) {
    for (int64_t id : some->ids) {
      ARK_FUZZ_CHECK(id == -1 || allow.Test(static_cast<uint64_t>(id)),
                     "filtered search returned a row the filter excludes: " + std::to_string(id));
    }
  }
  auto bytes = idx.Serialize();
  ARK_FUZZ_CHECK(bytes.ok(), bytes.status().ToString());
  auto again = VectorIndex::Load(*bytes, "again.idx");
  ARK_FUZZ_CHECK(again.ok(), again.status().ToString());
  return 0;
}
