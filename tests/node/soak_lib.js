// The load and soak generator of issue 7 (docs/reliability.md#load-and-soak):
// many keep-alive connections on loopback drive a mixed insert / search /
// query / delete load against one `ark serve` for a fixed time, with a low
// limits.max_concurrent_requests so that the rate limit answers (1807) are
// part of the run. It samples the server's RSS, keeps per-operation
// latencies, tracks every acknowledged write, and at the end checks:
//   - the only error answers were 1807 (and a 1807 write stored nothing);
//   - every acknowledged insert not acknowledged-deleted is queryable, every
//     acknowledged delete is gone;
//   - RSS stayed bounded (see rssVerdict for the rule).
// Used by soak.test.js (short CI run) and soak.js (the long run).
'use strict';

const http = require('node:http');
const fs = require('node:fs');
const { startServe, rng } = require('./helpers');

const DIM = 16;
const COLL = 'soak';
const IDS_PER_CONNECTION = 2 ** 40;  // connection c owns ids [c * 2^40 + 1, (c + 1) * 2^40)

function vectorOf(id) {
  const next = rng(Number(BigInt(id) % 2147483647n));
  return Array.from({ length: DIM }, () => Math.fround(next() * 2 - 1));
}

// A latency record per operation: every sample up to `cap`, then a uniform
// reservoir of `cap`, so a 30-minute run keeps bounded memory.
class Latencies {
  constructor(cap = 200000, seed = 1) {
    this.cap = cap;
    this.samples = [];
    this.count = 0;
    this.max = 0;
    this.random = rng(seed);
  }

  add(ms) {
    this.count += 1;
    if (ms > this.max) this.max = ms;
    if (this.samples.length < this.cap) this.samples.push(ms);
    else {
      const j = Math.floor(this.random() * this.count);
      if (j < this.cap) this.samples[j] = ms;
    }
  }

  percentile(p) {
    if (this.samples.length === 0) return NaN;
    const s = Float64Array.from(this.samples).sort();
    return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
  }
}

// One keep-alive connection: requests on it are sequential. With
// `keepAlive: false` each request opens its own connection: for a client
// that idles longer than the server's keep-alive timeout (httplib: 5 s),
// which would otherwise race the server closing the idle socket.
class Connection {
  constructor(endpoint, { keepAlive = true } = {}) {
    const u = new URL(endpoint);
    this.host = u.hostname;
    this.port = Number(u.port);
    this.agent = new http.Agent({ keepAlive, maxSockets: 1 });
  }

  post(route, body, timeoutMs = 60000) {
    const payload = Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = http.request({
        host: this.host, port: this.port, method: 'POST', path: `/v2/vectordb/${route}`, agent: this.agent,
        headers: { 'Content-Type': 'application/json', 'Content-Length': payload.length, 'Accept-Type-Allow-Int64': 'true' },
      }, (res) => {
        const parts = [];
        res.on('data', (c) => parts.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(parts).toString();
          try {
            resolve({ status: res.statusCode, json: JSON.parse(text) });
          } catch {
            resolve({ status: res.statusCode, json: null, text: text.slice(0, 300) });
          }
        });
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms on ${route}`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  close() { this.agent.destroy(); }
}

function readRssKiB(pid) {
  try {
    const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

// The memory rule. Samples after the warm-up (the first `warmupFraction` of
// the run, while the live set, the index and the allocator's arenas fill)
// are split into thirds; the last third's peak may exceed the first third's
// peak by at most `growthLimit` (a fraction) plus `slackKiB`. The live row
// set is bounded by construction (each connection deletes its oldest ids
// once it holds `liveRowsPerConnection`), and compaction runs periodically,
// so steady-state memory must not grow with time; growth beyond the limit
// is a leak or an unbounded cache.
function rssVerdict(samples, { warmupFraction, growthLimit, slackKiB }) {
  const after = samples.slice(Math.floor(samples.length * warmupFraction));
  if (after.length < 6) return { ok: false, reason: `only ${after.length} RSS samples after warm-up` };
  const third = Math.floor(after.length / 3);
  const first = Math.max(...after.slice(0, third).map((s) => s.kib));
  const last = Math.max(...after.slice(after.length - third).map((s) => s.kib));
  const limit = first * (1 + growthLimit) + slackKiB;
  return {
    ok: last <= limit,
    firstPeakKiB: first,
    lastPeakKiB: last,
    limitKiB: Math.round(limit),
    growth: (last - first) / first,
    reason: last <= limit ? 'bounded' : `last third peaked at ${last} KiB, above ${Math.round(limit)} KiB`,
  };
}

// Runs the load. Options: seconds, connections, maxConcurrent (the server's
// limits.max_concurrent_requests), workerThreads (must exceed maxConcurrent,
// or requests queue in httplib and 1807 never happens), liveRowsPerConnection,
// compactEverySeconds, seed, log (a function for progress lines), serverEnv.
async function runSoak(opts) {
  const o = {
    seconds: 25, connections: 32, maxConcurrent: 4, workerThreads: 24, liveRowsPerConnection: 300,
    compactEverySeconds: 5, seed: Date.now() % 1000000007, rssEveryMs: 250, log: () => {}, serverEnv: undefined,
    warmupFraction: 0.3, growthLimit: 0.25, slackKiB: 16 * 1024,
    ...opts,
  };
  const yaml = `limits: {max_concurrent_requests: ${o.maxConcurrent}, worker_threads: ${o.workerThreads}}\n`;
  const server = await startServe('soak', { yaml, env: o.serverEnv });
  const result = {
    options: o, ops: {}, errors: [], rateLimited: 0, rss: [], transportErrors: 0,
    acknowledged: { inserted: 0, deleted: 0 }, verify: null, memory: null, server,
  };
  const lat = {};
  const count = (op, code) => {
    const e = result.ops[op] || (result.ops[op] = { ok: 0, rateLimited: 0, errors: 0 });
    if (code === 0) e.ok += 1;
    else if (code === 1807) e.rateLimited += 1;
    else e.errors += 1;
  };
  const setup = new Connection(server.endpoint);
  try {
    const created = await setup.post('collections/create', {
      collectionName: COLL, dimension: DIM, metricType: 'L2', params: { enableDynamicField: false },
    });
    if (created.json?.code !== 0) throw new Error(`create: ${JSON.stringify(created.json)}`);

    const started = Date.now();
    const deadline = started + o.seconds * 1000;
    const sampler = setInterval(() => {
      const kib = readRssKiB(server.pid);
      if (kib !== null) result.rss.push({ t: (Date.now() - started) / 1000, kib });
    }, o.rssEveryMs);
    let lastLog = started;

    // Per connection: live ids in insertion order (acknowledged), deleted ids
    // (acknowledged), and the next id.
    const state = Array.from({ length: o.connections }, (_, c) => ({
      live: [], head: 0, deleted: [], next: BigInt(c) * BigInt(IDS_PER_CONNECTION) + 1n, rejected: [],
    }));
    const timed = async (conn, op, route, body) => {
      const t0 = process.hrtime.bigint();
      let r;
      try {
        r = await conn.post(route, body);
      } catch (err) {
        result.transportErrors += 1;
        result.errors.push(`${op}: transport error ${err.message}`);
        return null;
      }
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const code = r.json?.code;
      // Latency of the answers that did the work; the 1807 refusals apart.
      const key = code === 1807 ? 'rate-limited' : op;
      (lat[key] || (lat[key] = new Latencies(200000, o.seed))).add(ms);
      count(op, code);
      if (code === 1807) {
        result.rateLimited += 1;
        // Back off 1-8 ms as a client should (Milvus SDKs retry 1807 with
        // a backoff); without it the refused clients spin on the limit.
        await new Promise((res) => setTimeout(res, 1 + Math.floor(Math.random() * 8)));
      }
      else if (code !== 0) {
        if (result.errors.length < 50) result.errors.push(`${op}: HTTP ${r.status} ${JSON.stringify(r.json ?? r.text).slice(0, 300)}`);
        result.errorCount = (result.errorCount || 0) + 1;
      }
      return r.json;
    };

    const worker = async (c) => {
      const conn = new Connection(server.endpoint);
      const next = rng(o.seed * 31 + c);
      const s = state[c];
      const liveCount = () => s.live.length - s.head;
      try {
        while (Date.now() < deadline) {
          const x = next();
          if (x < 0.3 || liveCount() === 0) {  // insert 1..20 new rows
            const n = 1 + Math.floor(next() * 20);
            const ids = Array.from({ length: n }, () => { const id = s.next; s.next += 1n; return id; });
            const data = ids.map((id) => ({ id: Number(id), vector: vectorOf(id) }));
            const a = await timed(conn, 'insert', 'entities/insert', { collectionName: COLL, data });
            if (a?.code === 0) { s.live.push(...ids); result.acknowledged.inserted += n; } else if (a) s.rejected.push(...ids);
          } else if (x < 0.5 || liveCount() > o.liveRowsPerConnection) {  // delete the oldest 1..20
            const n = Math.min(liveCount(), 1 + Math.floor(next() * 20));
            const ids = s.live.slice(s.head, s.head + n);
            const a = await timed(conn, 'delete', 'entities/delete', { collectionName: COLL, filter: `id in [${ids.join(',')}]` });
            if (a?.code === 0) {
              s.head += n;
              s.deleted.push(...ids);
              result.acknowledged.deleted += n;
              if (s.head > 4096) { s.live = s.live.slice(s.head); s.head = 0; }
            }
          } else if (x < 0.8) {  // search 1 vector, top 10
            await timed(conn, 'search', 'entities/search', { collectionName: COLL, data: [vectorOf(BigInt(Math.floor(next() * 1e9)))], limit: 10 });
          } else {  // query some live ids back
            const k = Math.min(liveCount(), 5);
            const ids = Array.from({ length: k }, () => s.live[s.head + Math.floor(next() * liveCount())]);
            const a = await timed(conn, 'query', 'entities/query', { collectionName: COLL, filter: `id in [${ids.join(',')}]`, outputFields: ['id'] });
            if (a?.code === 0 && a.data.length !== new Set(ids.map(String)).size) {
              result.errors.push(`query: asked ${ids.length} live ids, got ${a.data.length} rows`);
              result.errorCount = (result.errorCount || 0) + 1;
            }
          }
          if (c === 0 && Date.now() - lastLog > 10000) {
            lastLog = Date.now();
            const rss = result.rss.length ? result.rss[result.rss.length - 1].kib : '?';
            o.log(`${Math.round((Date.now() - started) / 1000)} s: ${Object.entries(result.ops).map(([k, v]) => `${k} ${v.ok}`).join(', ')}; ` +
              `1807 ${result.rateLimited}; errors ${result.errorCount || 0}; RSS ${rss} KiB`);
          }
        }
      } finally {
        conn.close();
      }
    };
    // Maintenance: flush (seal) and compact periodically, so deleted rows
    // leave memory and the live set stays bounded. Retries on 1807.
    const maintenance = async () => {
      const conn = new Connection(server.endpoint, { keepAlive: false });
      try {
        while (Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, Math.min(o.compactEverySeconds * 1000, Math.max(0, deadline - Date.now()))));
          if (Date.now() >= deadline) break;
          for (const [op, route] of [['flush', 'collections/flush'], ['compact', 'collections/compact']]) {
            while (Date.now() < deadline) {
              const a = await timed(conn, op, route, { collectionName: COLL });
              if (a?.code !== 1807) break;
              await new Promise((r) => setTimeout(r, 5));  // retry after a rate-limit answer
            }
          }
        }
      } finally {
        conn.close();
      }
    };
    await Promise.all([...Array.from({ length: o.connections }, (_, c) => worker(c)), maintenance()]);
    clearInterval(sampler);
    result.elapsedSeconds = (Date.now() - started) / 1000;

    // Verification with rate limiting out of the way (sequential requests).
    result.verify = await verify(setup, state);
    result.memory = rssVerdict(result.rss, o);
    result.latency = Object.fromEntries(Object.entries(lat).map(([op, l]) => [op, {
      count: l.count, p50: l.percentile(50), p99: l.percentile(99), max: l.max,
    }]));
    result.serverAlive = server.alive();
    return result;
  } finally {
    setup.close();
  }
}

// Reads back every id the run touched, in chunks; retries 1807 answers.
async function verify(conn, state) {
  const out = { checkedPresent: 0, checkedAbsent: 0, missing: [], resurrected: [], storedRejected: [], count: null };
  const ask = async (body) => {
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const r = await conn.post('entities/query', body);
      if (r.json?.code === 0) return r.json.data;
      if (r.json?.code !== 1807) throw new Error(`verify query: ${JSON.stringify(r.json ?? r.text)}`);
      await new Promise((res) => setTimeout(res, 10));  // back off after a rate-limit answer
    }
    throw new Error('verify query: rate limited 100 times in a row');
  };
  const present = async (ids) => {
    const found = new Set();
    for (let i = 0; i < ids.length; i += 1000) {
      const chunk = ids.slice(i, i + 1000);
      const rows = await ask({ collectionName: COLL, filter: `id in [${chunk.join(',')}]`, outputFields: ['id'] });
      for (const r of rows) found.add(String(r.id));
    }
    return found;
  };
  const live = state.flatMap((s) => s.live.slice(s.head));
  const deleted = state.flatMap((s) => s.deleted);
  const rejected = state.flatMap((s) => s.rejected);
  const liveFound = await present(live);
  for (const id of live) if (!liveFound.has(String(id))) out.missing.push(String(id));
  const deletedFound = await present(deleted);
  for (const id of deleted) if (deletedFound.has(String(id))) out.resurrected.push(String(id));
  const rejectedFound = await present(rejected);
  for (const id of rejected) if (rejectedFound.has(String(id))) out.storedRejected.push(String(id));
  out.checkedPresent = live.length;
  out.checkedAbsent = deleted.length + rejected.length;
  out.count = (await ask({ collectionName: COLL, filter: '', outputFields: ['count(*)'] }))[0]['count(*)'];
  out.expectedCount = live.length;
  return out;
}

// A multi-line human summary of a result.
function summarize(r) {
  const lines = [];
  lines.push(`ran ${r.elapsedSeconds?.toFixed(1)} s, ${r.options.connections} connections, ` +
    `max_concurrent_requests ${r.options.maxConcurrent}, worker_threads ${r.options.workerThreads}, seed ${r.options.seed}`);
  lines.push('op        count     ok   1807  errors   p50 ms   p99 ms   max ms');
  for (const [op, e] of Object.entries(r.ops)) {
    const l = r.latency?.[op] || {};
    lines.push(`${op.padEnd(8)} ${String(e.ok + e.rateLimited + e.errors).padStart(6)} ${String(e.ok).padStart(6)} ` +
      `${String(e.rateLimited).padStart(6)} ${String(e.errors).padStart(7)} ${l.p50?.toFixed(2).padStart(8)} ` +
      `${l.p99?.toFixed(2).padStart(8)} ${l.max?.toFixed(1).padStart(8)}`);
  }
  const rl = r.latency?.['rate-limited'];
  if (rl) lines.push(`1807 answers: ${rl.count}, p50 ${rl.p50.toFixed(2)} ms, p99 ${rl.p99.toFixed(2)} ms (latencies above are of the other answers)`);
  lines.push(`acknowledged: ${r.acknowledged.inserted} rows inserted, ${r.acknowledged.deleted} deleted; ` +
    `rate-limited answers ${r.rateLimited}; other errors ${r.errorCount || 0}; transport errors ${r.transportErrors}`);
  if (r.verify) {
    lines.push(`verify: ${r.verify.checkedPresent} live ids present? missing ${r.verify.missing.length}; ` +
      `${r.verify.checkedAbsent} deleted/refused ids absent? found ${r.verify.resurrected.length + r.verify.storedRejected.length}; ` +
      `count(*) ${r.verify.count} (expected ${r.verify.expectedCount})`);
  }
  if (r.memory) {
    const rss = r.rss.map((s) => s.kib);
    lines.push(`RSS: start ${rss[0]} KiB, max ${Math.max(...rss)} KiB, end ${rss[rss.length - 1]} KiB; after warm-up ` +
      `first-third peak ${r.memory.firstPeakKiB} KiB, last-third peak ${r.memory.lastPeakKiB} KiB ` +
      `(${(r.memory.growth * 100).toFixed(1)}%, limit ${r.memory.limitKiB} KiB): ${r.memory.reason}`);
  }
  return lines.join('\n');
}

module.exports = { runSoak, summarize, rssVerdict, Latencies, DIM, COLL };
