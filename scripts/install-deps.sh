#!/usr/bin/env bash
# Installs every Debian package Ark's build, tests and benchmarks need.
# Idempotent: packages already present are skipped, so a second run is quick.
#
#   scripts/install-deps.sh           build + test dependencies
#   scripts/install-deps.sh --bench   also the peer stack used by bench/ (PostgreSQL, pgBackRest)
#
# npm test tools are not installed here: they live in tests/node/package.json
# and scripts/test-services.sh runs `npm ci` for them.
set -euo pipefail

BUILD_PACKAGES=(
  build-essential cmake ninja-build g++ pkg-config git
  ccache                              # compiler cache for the build trees (Makefile)
  clang libclang-rt-14-dev            # libFuzzer and sanitizer runtimes
  libssl-dev                          # SHA-256, AES-GCM, TLS
  openssl                             # test certificates (tests/node/replication_kill.test.js)
  libxxhash-dev                       # record checksums (XXH3)
  libzstd-dev                         # blob compression
  nlohmann-json3-dev                  # manifests, config, responses
  libsimdjson-dev                     # request parsing on the hot path
  libcurl4-openssl-dev                # S3 client with SigV4
  libtinyxml2-dev                     # S3 XML listings
  libcli11-dev libspdlog-dev libfmt-dev libyaml-cpp-dev
  libcpp-httplib-dev
  libgrpc++-dev protobuf-compiler-grpc  # Milvus gRPC API (src/grpc; protos in proto/milvus)
  libprotobuf-dev protobuf-compiler
  libjemalloc-dev                     # malloc for ark and bench/ (src/alloc/allocator.cc)
  libfaiss-dev libopenblas-dev libhnswlib-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  nodejs                              # test tools (s3rver, AWS SDK, Milvus SDK)
  libldns-dev                         # DNS dynamic update (RFC 2136) with TSIG, for failover
  etcd-server                         # failover witness in tests (v3 JSON gateway)
  bind9 bind9-dnsutils                # DNS server + dig/nsupdate: failover's traffic switch in tests
  chromium fonts-liberation           # headless browser for the dashboard test (tests/node/dashboard.test.js) and its screenshot
)
BENCH_PACKAGES=(postgresql-15 pgbackrest patroni)

want=("${BUILD_PACKAGES[@]}")
if [[ "${1:-}" == "--bench" ]]; then want+=("${BENCH_PACKAGES[@]}"); fi

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# nodejs from some vendors bundles npm; Debian's nodejs does not.
if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#want[@]} packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
