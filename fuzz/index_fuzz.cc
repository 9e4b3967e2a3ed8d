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
//
// FAISS sizes its arrays from counts in the payload before reading them
// (read_InvertedLists, READVECTOR). In production an absurd count fails with
// std::bad_alloc, which FaissCall turns into an error; ASan's operator new
// aborts instead of throwing. This target therefore replaces operator new
// with one that throws bad_alloc above 1 GiB, as a real allocator would when
// memory runs out, so those inputs are rejected rather than reported. What
// it cannot model (a count just below the machine's memory) is listed in
// docs/reliability.md ("Known limits").
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "core/coding.h"
#include "core/hash.h"
#include "fuzz/fuzz_util.h"
#include "index/index_format.h"
#include "index/vector_index.h"

using namespace ark;

namespace {
constexpr size_t kMaxAllocation = size_t{1} << 30;
void* Allocate(size_t n) {
  if (n > kMaxAllocation) throw std::bad_alloc();
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
}  // namespace

// Every non-aligned form is replaced, so new/delete pairs stay matched.
void* operator new(size_t n) { return Allocate(n); }
void* operator new[](size_t n) { return Allocate(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  return n > kMaxAllocation ? nullptr : std::malloc(n == 0 ? 1 : n);
}
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  return n > kMaxAllocation ? nullptr : std::malloc(n == 0 ? 1 : n);
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

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
