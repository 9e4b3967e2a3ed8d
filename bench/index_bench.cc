// index_bench: Ark's index layer against raw FAISS and raw hnswlib, same data,
// same parameters, same run. Results: docs/benchmarks/index.md.
//
//   build/h-index-rel/index_bench [--n 100000] [--dim 768] [--nq 500]
//       [--clusters 1000] [--threads 2] [--faiss-hnsw-n 10000] [--skip-ivf]
//       [--quantized-only] [--fp16]
//
// The "memory per vector" section (issue 20) builds float HNSW and HNSW_SQ
// (SQ8; FP16 with --fp16) on the same data and reports, per type, the
// index's own size accounting (MemoryBytes) and the RSS delta of the build
// (after malloc_trim), plus the raw float vectors the engine keeps anyway
// (dim * 4 bytes: the segment), build time, and QPS / recall@10 with and
// without refine. --quantized-only runs only that section.
//
// Data: `clusters` Gaussian centres + noise, L2-normalised, fixed seed; the
// queries are held-out points from the same distribution. Metric COSINE for
// Ark (= inner product on these unit vectors, which the raw libraries run).
// Ground truth: exact top-10 by FAISS IndexFlatIP (BLAS). Queries are timed
// single-threaded, one query per call (OpenMP limited to 1 thread).
//
// Raw hnswlib searches the very graph Ark built: Ark's HNSW payload is
// hnswlib's saveIndex layout, so hnswlib::HierarchicalNSW loads it from a
// temporary file; likewise raw FAISS IVF loads Ark's FAISS payload. QPS
// differences are therefore the wrappers' cost, not graph luck.
#include <malloc.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVF.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <hnswlib/hnswlib.h>

#include "bench_util.h"
#include "index/faiss_index.h"
#include "index/hnsw_index.h"
#include "index/index_format.h"
#include "index/vector_index.h"

namespace {

using ark::FilterBitmap;
using ark::IndexSpec;
using ark::IndexType;
using ark::Metric;
using ark::RowBitmap;
using ark::SearchParams;
using ark::VectorIndex;
using namespace ark::bench;

struct Flags {
  uint64_t n = 100000;
  uint32_t dim = 768;
  size_t nq = 500;
  uint32_t clusters = 1000;
  int threads = 2;
  uint64_t faiss_hnsw_n = 10000;
  bool skip_ivf = false;
  bool skip_pq = false;
  bool quantized_only = false;
  bool fp16 = false;
};

std::function<void(size_t, int64_t*)> ArkSearch(const VectorIndex& index, const std::vector<float>& q, uint32_t dim,
                                                SearchParams params, const FilterBitmap* filter = nullptr) {
  return [&index, &q, dim, params, filter](size_t i, int64_t* out) {
    auto r = index.Search(q.data() + i * dim, 1, kK, params, filter);
    if (!r.ok()) {
      std::fprintf(stderr, "search failed: %s\n", r.status().ToString().c_str());
      std::exit(1);
    }
    std::copy(r->ids.begin(), r->ids.end(), out);
  };
}

std::string Payload(const VectorIndex& index) {
  auto bytes = index.Serialize();
  if (!bytes.ok()) std::exit(1);
  return bytes->substr(ark::kIndexHeaderSize);
}

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--n") f.n = std::stoull(next());
    else if (a == "--dim") f.dim = static_cast<uint32_t>(std::stoul(next()));
    else if (a == "--nq") f.nq = std::stoull(next());
    else if (a == "--clusters") f.clusters = static_cast<uint32_t>(std::stoul(next()));
    else if (a == "--threads") f.threads = std::stoi(next());
    else if (a == "--faiss-hnsw-n") f.faiss_hnsw_n = std::stoull(next());
    else if (a == "--skip-ivf") f.skip_ivf = true;
    else if (a == "--skip-pq") f.skip_pq = true;
    else if (a == "--quantized-only") f.quantized_only = true;
    else if (a == "--fp16") f.fp16 = true;
    else {
      std::fprintf(stderr, "unknown flag %s\n", a.c_str());
      std::exit(2);
    }
  }
  return f;
}

// Issue 20, "memory per vector": float HNSW vs HNSW_SQ, same data, same run.
void QuantizedSection(const Flags& f, const std::vector<float>& data, const std::vector<float>& queries,
                      const std::vector<int64_t>& truth) {
  const double raw_bytes = f.dim * 4.0;
  std::printf("\n## Memory per vector: HNSW vs HNSW_SQ (M=16, efConstruction=200, %d build threads)\n", f.threads);
  std::printf("\nresident = index + the segment's raw float vectors (%.0f bytes/vector, which the engine keeps\n"
              "for every type; HNSW_SQ's refine reads ceil(k*refine_k) of them per query)\n\n",
              raw_bytes);
  std::printf("| type | build s | MemoryBytes/vector | RSS delta/vector | resident/vector (MemoryBytes + raw) |\n"
              "|---|---|---|---|---|\n");
  struct Built {
    std::string name;
    std::unique_ptr<VectorIndex> index;
  };
  std::vector<Built> indexes;
  std::vector<std::pair<std::string, IndexSpec>> specs;
  IndexSpec spec;
  spec.type = IndexType::kHnsw;
  spec.metric = Metric::kCosine;
  spec.dim = f.dim;
  specs.emplace_back("HNSW", spec);
  spec.type = IndexType::kHnswSq;
  spec.refine = true;
  spec.sq_type = ark::SqType::kSq8;
  specs.emplace_back("HNSW_SQ SQ8", spec);
  if (f.fp16) {
    spec.sq_type = ark::SqType::kFp16;
    specs.emplace_back("HNSW_SQ FP16", spec);
  }
  for (auto& [name, s] : specs) {
    malloc_trim(0);
    double rss0 = RssMiB();
    auto t = Clock::now();
    omp_set_num_threads(f.threads);
    auto built = VectorIndex::Build(s, data.data(), f.n, ark::BuildOptions{.threads = f.threads});
    omp_set_num_threads(1);
    double build_s = Seconds(t);
    if (!built.ok()) {
      std::fprintf(stderr, "%s\n", built.status().ToString().c_str());
      std::exit(1);
    }
    malloc_trim(0);
    double rss = (RssMiB() - rss0) * 1048576.0 / double(f.n);
    double mem = double((*built)->MemoryBytes()) / double(f.n);
    std::printf("| %s | %.1f | %.0f | %.0f | %.0f |\n", name.c_str(), build_s, mem, rss, mem + raw_bytes);
    std::fflush(stdout);
    indexes.push_back({name, std::move(built).value()});
  }
  std::printf("\n| type | ef | refine_k | QPS | recall@10 |\n|---|---|---|---|---|\n");
  for (uint32_t ef : {32u, 64u, 128u}) {
    for (const Built& b : indexes) {
      bool sq = b.index->spec().type == IndexType::kHnswSq;
      for (double refine_k : sq ? std::vector<double>{0, 1, 2} : std::vector<double>{0}) {
        SearchParams sp;
        sp.ef = ef;
        if (refine_k > 0) {
          sp.raw_vectors = data.data();
          sp.refine_k = refine_k;
        }
        Measured best;
        for (int rep = 0; rep < 2; ++rep) {
          Measured m = Measure(f.nq, truth, 1, ArkSearch(*b.index, queries, f.dim, sp));
          if (m.qps > best.qps) best = m;
        }
        std::printf("| %s | %u | %s | %.0f | %.3f |\n", b.name.c_str(), ef,
                    refine_k > 0 ? std::to_string(static_cast<int>(refine_k)).c_str() : "no refine", best.qps,
                    best.recall);
        std::fflush(stdout);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Flags f = ParseFlags(argc, argv);
  std::printf("# index_bench n=%lu dim=%u nq=%zu clusters=%u build_threads=%d k=%zu\n", (unsigned long)f.n, f.dim,
              f.nq, f.clusters, f.threads, kK);
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> centres(uint64_t{f.clusters} * f.dim);
  for (float& c : centres) c = normal(rng) / std::sqrt(float(f.dim)) * 4.0f;
  std::vector<float> data = Clustered(f.n, f.dim, f.clusters, 1, centres);
  std::vector<float> queries = Clustered(f.nq, f.dim, f.clusters, 2, centres);

  auto t = Clock::now();
  std::vector<int64_t> truth = Truth(data, f.n, f.dim, queries, f.nq);
  std::printf("ground truth: %.1f s\n", Seconds(t));
  omp_set_num_threads(1);  // single-threaded queries from here on
  QuantizedSection(f, data, queries, truth);
  if (f.quantized_only) return 0;

  // ---- HNSW: Ark (hnswlib graph + own loop) vs raw hnswlib on the same graph.
  IndexSpec hnsw;
  hnsw.type = IndexType::kHnsw;
  hnsw.metric = Metric::kCosine;
  hnsw.dim = f.dim;
  double rss0 = RssMiB();
  t = Clock::now();
  auto built = VectorIndex::Build(hnsw, data.data(), f.n, ark::BuildOptions{.threads = f.threads});
  if (!built.ok()) {
    std::fprintf(stderr, "%s\n", built.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<VectorIndex> ark_hnsw = std::move(built).value();
  double build_s = Seconds(t);
  double rss_delta = RssMiB() - rss0;
  std::printf("\n## HNSW build (M=16, efConstruction=200, %d threads)\n", f.threads);
  std::printf("build %.1f s; RSS delta %.1f MiB = %.0f bytes/vector (raw vector %u bytes); MemoryBytes %.0f/vector\n",
              build_s, rss_delta, rss_delta * 1048576.0 / double(f.n), f.dim * 4,
              double(ark_hnsw->MemoryBytes()) / double(f.n));

  std::string tmp = "/tmp/ark_index_bench_hnsw.bin";
  {
    std::string payload = Payload(*ark_hnsw);
    std::ofstream(tmp, std::ios::binary).write(payload.data(), static_cast<std::streamsize>(payload.size()));
  }
  hnswlib::InnerProductSpace ip_space(f.dim);
  hnswlib::HierarchicalNSW<float> raw_hnsw(&ip_space, tmp);
  std::remove(tmp.c_str());

  std::printf("\n| ef | Ark QPS | Ark recall@10 | raw hnswlib QPS | raw recall@10 | Ark/raw |\n|---|---|---|---|---|---|\n");
  for (uint32_t ef : {16u, 32u, 64u, 128u}) {
    SearchParams sp;
    sp.ef = ef;
    raw_hnsw.setEf(ef);
    auto raw_search = [&](size_t i, int64_t* out) {
      auto top = raw_hnsw.searchKnn(queries.data() + i * f.dim, kK);
      for (size_t j = top.size(); j-- > 0;) {
        out[j] = static_cast<int64_t>(top.top().second);
        top.pop();
      }
    };
    // Interleaved, best of 3 each: the machine is shared, so take each
    // side's least-disturbed run.
    Measured ark, raw;
    for (int rep = 0; rep < 3; ++rep) {
      Measured a = Measure(f.nq, truth, 1, ArkSearch(*ark_hnsw, queries, f.dim, sp));
      Measured r = Measure(f.nq, truth, 1, raw_search);
      if (a.qps > ark.qps) ark = a;
      if (r.qps > raw.qps) raw = r;
    }
    std::printf("| %u | %.0f | %.3f | %.0f | %.3f | %.2f |\n", ef, ark.qps, ark.recall, raw.qps, raw.recall,
                ark.qps / raw.qps);
  }

  // ---- Filtered HNSW: graph walk vs exact scan of the allowed rows.
  std::printf("\n## Filtered HNSW (ef=64): filtered graph walk vs exact scan of allowed rows\n");
  std::printf("\n| allowed | walk QPS | walk recall | exact QPS | exact recall | default path |\n|---|---|---|---|---|---|\n");
  for (double sel : {0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5}) {
    RowBitmap allowed(f.n);
    std::mt19937 frng(7);
    std::bernoulli_distribution keep(sel);
    for (uint64_t i = 0; i < f.n; ++i) allowed.Set(i, keep(frng));
    FilterBitmap view = allowed.view();
    std::vector<int64_t> ftruth = Truth(data, f.n, f.dim, queries, f.nq, &allowed);
    SearchParams walk;
    walk.ef = 64;
    walk.exact_filter_fraction = 0;
    SearchParams exact = walk;
    exact.exact_filter_fraction = 1;
    Measured w = Measure(f.nq, ftruth, 1, ArkSearch(*ark_hnsw, queries, f.dim, walk, &view));
    Measured e = Measure(f.nq, ftruth, 1, ArkSearch(*ark_hnsw, queries, f.dim, exact, &view));
    std::printf("| %.1f%% | %.0f | %.3f | %.0f | %.3f | %s |\n", sel * 100, w.qps, w.recall, e.qps, e.recall,
                ark::HnswPrefersExactScan(view.Count(), f.n, 64) ? "exact" : "walk");
  }

  // ---- FAISS HNSW vs hnswlib on a smaller n (FAISS's generic build is slow).
  uint64_t small = std::min(f.n, f.faiss_hnsw_n);
  if (small > 0) {
    std::vector<int64_t> small_truth = Truth(data, small, f.dim, queries, f.nq);
    omp_set_num_threads(f.threads);
    faiss::IndexHNSWFlat faiss_hnsw(f.dim, 16, faiss::METRIC_INNER_PRODUCT);
    faiss_hnsw.hnsw.efConstruction = 200;
    t = Clock::now();
    faiss_hnsw.add(static_cast<faiss::Index::idx_t>(small), data.data());
    double faiss_build = Seconds(t);
    t = Clock::now();
    auto small_ark = VectorIndex::Build(hnsw, data.data(), small, ark::BuildOptions{.threads = f.threads});
    double ark_build = Seconds(t);
    omp_set_num_threads(1);
    std::printf("\n## FAISS IndexHNSWFlat vs Ark HNSW (hnswlib), n=%lu, M=16, efConstruction=200\n",
                (unsigned long)small);
    std::printf("build: FAISS %.1f s, Ark/hnswlib %.1f s (%d threads)\n", faiss_build, ark_build, f.threads);
    std::printf("\n| ef | FAISS QPS | FAISS recall | Ark QPS | Ark recall |\n|---|---|---|---|---|\n");
    for (int ef : {16, 32, 64, 128}) {
      faiss::SearchParametersHNSW fp;
      fp.efSearch = ef;
      faiss_hnsw.hnsw.efSearch = ef;
      Measured fm = Measure(f.nq, small_truth, 1, [&](size_t i, int64_t* out) {
        float d[kK];
        faiss::Index::idx_t ids[kK];
        faiss_hnsw.search(1, queries.data() + i * f.dim, kK, d, ids, &fp);
        std::copy(ids, ids + kK, out);
      });
      SearchParams sp;
      sp.ef = static_cast<uint32_t>(ef);
      Measured am = Measure(f.nq, small_truth, 1, ArkSearch(**small_ark, queries, f.dim, sp));
      std::printf("| %d | %.0f | %.3f | %.0f | %.3f |\n", ef, fm.qps, fm.recall, am.qps, am.recall);
    }
  }
  ark_hnsw.reset();

  // ---- IVF types: Ark vs raw FAISS (the same trained index, loaded raw).
  if (!f.skip_ivf) {
    uint32_t nlist = static_cast<uint32_t>(std::max<double>(16, std::min<double>(4096, std::sqrt(double(f.n)))));
    uint32_t pq_m = f.dim % 96 == 0 ? 96 : (f.dim % 16 == 0 ? f.dim / 8 : 1);
    for (IndexType type : {IndexType::kIvfFlat, IndexType::kIvfSq8, IndexType::kIvfPq}) {
      if (type == IndexType::kIvfPq && f.skip_pq) continue;
      IndexSpec spec;
      spec.type = type;
      spec.metric = Metric::kCosine;
      spec.dim = f.dim;
      spec.nlist = nlist;
      spec.pq_m = pq_m;
      spec.pq_nbits = 8;
      omp_set_num_threads(f.threads);
      rss0 = RssMiB();
      t = Clock::now();
      auto ivf = VectorIndex::Build(spec, data.data(), f.n, ark::BuildOptions{.threads = f.threads});
      double ivf_build = Seconds(t);
      double ivf_rss = RssMiB() - rss0;
      omp_set_num_threads(1);
      if (!ivf.ok()) {
        std::fprintf(stderr, "%s\n", ivf.status().ToString().c_str());
        return 1;
      }
      faiss::VectorIOReader reader;
      std::string payload = Payload(**ivf);
      reader.data.assign(payload.begin(), payload.end());
      std::unique_ptr<faiss::Index> raw(faiss::read_index(&reader));
      std::printf("\n## %s (nlist=%u%s), build %.1f s (%d threads), RSS delta %.0f bytes/vector, "
                  "MemoryBytes %.0f/vector\n",
                  std::string(ark::IndexTypeName(type)).c_str(), nlist,
                  type == IndexType::kIvfPq ? (", m=" + std::to_string(pq_m) + ", nbits=8").c_str() : "", ivf_build,
                  f.threads, ivf_rss * 1048576.0 / double(f.n), double((*ivf)->MemoryBytes()) / double(f.n));
      std::printf("\n| nprobe | Ark QPS | Ark recall@10 | raw FAISS QPS | raw recall@10 | Ark/raw |\n|---|---|---|---|---|---|\n");
      for (uint32_t nprobe : {8u, 16u, 32u, 64u}) {
        SearchParams sp;
        sp.nprobe = nprobe;
        Measured a = Measure(f.nq, truth, 1, ArkSearch(**ivf, queries, f.dim, sp));
        faiss::SearchParametersIVF fp;
        fp.nprobe = nprobe;
        Measured r = Measure(f.nq, truth, 1, [&](size_t i, int64_t* out) {
          float d[kK];
          faiss::Index::idx_t ids[kK];
          raw->search(1, queries.data() + i * f.dim, kK, d, ids, &fp);
          std::copy(ids, ids + kK, out);
        });
        std::printf("| %u | %.0f | %.3f | %.0f | %.3f | %.2f |\n", nprobe, a.qps, a.recall, r.qps, r.recall,
                    a.qps / r.qps);
      }
      if (type == IndexType::kIvfFlat) {
        std::printf("\nFiltered IVF_FLAT (nprobe=16): probe nprobe lists vs all lists\n\n");
        std::printf("| allowed | nprobe QPS | recall | all-lists QPS | recall |\n|---|---|---|---|---|\n");
        for (double sel : {0.01, 0.05, 0.1, 0.5}) {
          RowBitmap allowed(f.n);
          std::mt19937 frng(9);
          std::bernoulli_distribution keep(sel);
          for (uint64_t i = 0; i < f.n; ++i) allowed.Set(i, keep(frng));
          FilterBitmap view = allowed.view();
          std::vector<int64_t> ftruth = Truth(data, f.n, f.dim, queries, f.nq, &allowed);
          SearchParams probe;
          probe.nprobe = 16;
          probe.exact_filter_fraction = 0;
          SearchParams all = probe;
          all.exact_filter_fraction = 1;
          Measured p = Measure(f.nq, ftruth, 1, ArkSearch(**ivf, queries, f.dim, probe, &view));
          Measured a = Measure(f.nq, ftruth, 1, ArkSearch(**ivf, queries, f.dim, all, &view));
          std::printf("| %.0f%% | %.0f | %.3f | %.0f | %.3f |\n", sel * 100, p.qps, p.recall, a.qps, a.recall);
        }
      }
    }
  }
  return 0;
}
