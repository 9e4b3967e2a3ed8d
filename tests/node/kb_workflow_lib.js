// The knowledge-base workflow's data and oracle, shared by the Milvus SDK
// suites over REST (milvus_sdk.test.js, HttpClient) and gRPC
// (milvus_grpc.test.js, MilvusClient): the same documents, queries and
// brute-force answers, whichever transport the SDK speaks.
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const { freePort, tempDir, rng } = require('./helpers');

const DIM = 64;
const N = 10000;
const BATCH = 1000;
const TENANTS = ['acme', 'globex', 'initech', 'umbrella'];
const LANGS = ['en', 'fr', 'de'];
const COLL = 'kb';

async function startArk(extraArgs = []) {
  const bin = process.env.ARK_BIN;
  if (!bin || !fs.existsSync(bin)) {
    throw new Error(`ARK_BIN must name the built ark binary (got ${JSON.stringify(bin)})`);
  }
  const dir = tempDir('milvus-sdk');
  const port = await freePort();
  const child = spawn(bin, ['serve', '--data-dir', `${dir}/data`, '--listen', `127.0.0.1:${port}`,
    '--no-access-log', ...extraArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr = [];
  child.stderr.on('data', (c) => stderr.push(c));
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`ark serve exited ${child.exitCode}: ${Buffer.concat(stderr)}`);
    }
    try {
      const r = await fetch(`${endpoint}/readyz`);
      if (r.status === 200) break;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    endpoint,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) { resolve(child.exitCode); return; }
      child.once('exit', (code) => {
        fs.rmSync(dir, { recursive: true, force: true });
        resolve(code);
      });
      child.kill('SIGTERM');
    }),
  };
}

function randomVector(next) {
  const v = new Array(DIM);
  for (let i = 0; i < DIM; i++) v[i] = Math.fround(next() * 2 - 1);
  return v;
}

function makeDocs() {
  const next = rng(42);
  const docs = [];
  for (let i = 0; i < N; i++) {
    docs.push({
      id: i + 1,
      text: `document ${i + 1} about topic ${i % 97}`,
      meta: { lang: LANGS[i % 3], page: i % 50, source: `file-${i % 13}.pdf` },
      tenant: TENANTS[i % 4],
      ts: 1000 + i,
      embedding: randomVector(next),
    });
  }
  return docs;
}

function cosine(a, b) {
  let dot = 0; let na = 0; let nb = 0;
  for (let i = 0; i < a.length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return dot / Math.sqrt(na * nb);
}

// Oracle top-k by COSINE (larger is closer) over the live docs matching `pred`.
function oracleSearch(live, q, k, pred = () => true) {
  const scored = [];
  for (const d of live.values()) if (pred(d)) scored.push({ id: d.id, distance: cosine(q, d.embedding) });
  scored.sort((x, y) => y.distance - x.distance || x.id - y.id);
  return scored.slice(0, k);
}


// One run's data: the documents, the live map the oracle reads (the suites
// update it as they upsert and delete), 10 query vectors, and the generator
// that made them (for more vectors).
function workload() {
  const docs = makeDocs();
  const live = new Map(docs.map((d) => [d.id, d]));
  const next = rng(7);
  const queries = Array.from({ length: 10 }, () => randomVector(next));
  return { docs, live, next, queries };
}

module.exports = { DIM, N, BATCH, TENANTS, LANGS, COLL, startArk, randomVector, makeDocs, cosine, oracleSearch,
  workload };
