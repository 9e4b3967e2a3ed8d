// Pieces of the kill loop (kill_loop.test.js): a killable `ark serve`, the
// REST calls, the rows (every field derived from id and version, so a read
// can tell a stale, torn or foreign row from the right one) and the oracle of
// acknowledged writes.
'use strict';

const { spawn } = require('node:child_process');
const assert = require('node:assert');
const fs = require('node:fs');
const { arkBin, freePort, rng } = require('./helpers');

const DIM = 8;
const COLL = 'kill_loop';
const LOG_KEEP = 64 * 1024;  // bytes of each server run's log (stdout + stderr) kept for reports

// One `ark serve` process on `dataDir`. start() resolves once /readyz answers
// 200; kill() sends SIGKILL and stop() SIGTERM, and both resolve when the
// process has exited.
class ArkServer {
  // `extraArgs`: more `ark serve` arguments (e.g. ['--config', file]).
  // `keepPort`: a restart listens on the port of the first start (a standby
  // names its primary by URL, so a restarted primary must keep it).
  constructor(dataDir, extraArgs = [], { keepPort = false } = {}) {
    this.dataDir = dataDir;
    this.extraArgs = extraArgs;
    this.keepPort = keepPort;
    this.port = null;
    this.child = null;
    this.endpoint = null;
    this.log = '';     // the server's stdout and stderr (spdlog writes to stdout), last LOG_KEEP bytes
    this.exit = null;  // {code, signal} once exited
  }

  async start(timeoutMs = 60000) {
    const port = this.keepPort && this.port ? this.port : await freePort();
    this.port = port;
    this.endpoint = `http://127.0.0.1:${port}`;
    this.log = '';
    this.exit = null;
    const child = spawn(arkBin(), ['serve', '--data-dir', this.dataDir, '--listen',
      `127.0.0.1:${port}`, '--no-access-log', ...this.extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => { this.exit = { code, signal }; resolve(this.exit); });
    });
    const keep = (c) => { this.log = (this.log + c.toString()).slice(-LOG_KEEP); };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const started = Date.now();
    while (Date.now() - started < timeoutMs) {
      if (this.exit) {
        throw new Error(`ark serve on ${this.dataDir} exited during startup ` +
          `(${JSON.stringify(this.exit)}); log:\n${this.log}`);
      }
      try {
        const r = await fetch(`${this.endpoint}/readyz`, { signal: AbortSignal.timeout(2000) });
        if (r.status === 200) return Date.now() - started;
      } catch { /* not listening yet */ }
      await new Promise((r) => setTimeout(r, 20));  // readiness polling interval
    }
    throw new Error(`ark serve on ${this.dataDir} not ready after ${timeoutMs} ms; log:\n${this.log}`);
  }

  alive() { return this.child !== null && this.exit === null; }

  async kill() {
    if (!this.alive()) return this.exit;
    process.kill(this.child.pid, 'SIGKILL');
    return this.exited;
  }

  // SIGTERM (a clean shutdown); SIGKILL after `timeoutMs` without an exit, and
  // the answer then has `timedOut: true`.
  async stop(timeoutMs = 30000) {
    if (!this.alive()) return this.exit;
    process.kill(this.child.pid, 'SIGTERM');
    let timer;
    const late = new Promise((resolve) => { timer = setTimeout(() => resolve(null), timeoutMs); });
    const exit = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (exit) return exit;
    process.kill(this.child.pid, 'SIGKILL');
    return { ...(await this.exited), timedOut: true };
  }
}

// POST a JSON body; resolves to the parsed answer, rejects on a transport
// error (connection refused or reset: the server is gone).
async function post(endpoint, route, body, timeoutMs = 30000) {
  const r = await fetch(`${endpoint}${route}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Accept-Type-Allow-Int64': 'true' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await r.text();
  try {
    return JSON.parse(text);
  } catch {
    return { code: -1, message: `HTTP ${r.status}, not JSON: ${text.slice(0, 200)}` };
  }
}

function milvus(endpoint, route, body, timeoutMs) {
  return post(endpoint, `/v2/vectordb/${route}`, body, timeoutMs);
}

function admin(endpoint, route, body, timeoutMs) {
  return post(endpoint, `/ark/v1/${route}`, body, timeoutMs);
}

// The row for (id, version): every field is a function of both.
function vectorOf(id, ver) {
  const next = rng(Math.imul(id, 1000003) ^ Math.imul(ver, 7919));
  const v = new Array(DIM);
  for (let i = 0; i < DIM; i++) v[i] = Math.fround(next() * 2 - 1);
  return v;
}

function rowOf(id, ver) {
  return { id, ver, tag: `t-${id}-v${ver}`, meta: { id, ver, k: ['a', 'b', 'c'][ver % 3] }, vec: vectorOf(id, ver) };
}

// Returns null when `row` (a query answer) is the row for (id, ver), else what differs.
function rowMismatch(row, id, ver) {
  const want = rowOf(id, ver);
  if (Number(row.ver) !== ver) return `ver ${row.ver}`;
  if (row.tag !== want.tag) return `tag ${JSON.stringify(row.tag)} (want ${want.tag})`;
  const meta = typeof row.meta === 'string' ? JSON.parse(row.meta) : row.meta;
  if (!meta || meta.id !== id || meta.ver !== ver || meta.k !== want.meta.k) {
    return `meta ${JSON.stringify(row.meta)}`;
  }
  if (!Array.isArray(row.vec) || row.vec.length !== DIM ||
      row.vec.some((x, i) => Math.fround(x) !== want.vec[i])) {
    return `vec ${JSON.stringify(row.vec)}`;
  }
  return null;
}

// Creates the collection both kill loops write: the fields rowOf() fills, and
// an index on `vec` with `indexParams` (e.g. { index_type: 'FLAT' }).
async function createKillLoopCollection(endpoint, indexParams) {
  const res = await milvus(endpoint, 'collections/create', {
    collectionName: COLL,
    schema: {
      autoID: false,
      enableDynamicField: false,
      fields: [
        { fieldName: 'id', dataType: 'Int64', isPrimary: true },
        { fieldName: 'ver', dataType: 'Int64' },
        { fieldName: 'tag', dataType: 'VarChar', elementTypeParams: { max_length: 64 } },
        { fieldName: 'meta', dataType: 'JSON' },
        { fieldName: 'vec', dataType: 'FloatVector', elementTypeParams: { dim: DIM } },
      ],
    },
    indexParams: [{ fieldName: 'vec', indexName: 'vec_idx', metricType: 'L2', params: indexParams }],
  });
  if (res.code !== 0) throw new Error(`collections/create: ${JSON.stringify(res)}`);
}

function stateName(s) { return s.present ? `present v${s.ver}` : 'absent'; }
function sameState(a, b) { return a.present === b.present && (!a.present || a.ver === b.ver); }

// What the server must hold. Per id: the state of its last acknowledged write
// (`state`), and while a write is unanswered, the state it would set
// (`pending`). A write that got an error answer (code != 0) stores nothing,
// as docs/server.md promises; one whose answer never came (the kill) is
// ambiguous: either state is allowed until the restarted server shows which.
class Oracle {
  constructor() {
    this.ids = new Map();    // id -> {state, pending, lastVer}
    this.ambiguous = [];     // [{op, ids, from: Map(id->state), to: Map(id->state)}] of this round
    this.totals = { inserts: 0, upserts: 0, deletes: 0, ambiguousOps: 0, ambiguousIds: 0, rejected: 0 };
  }

  entry(id) {
    let e = this.ids.get(id);
    if (!e) {
      e = { state: { present: false, ver: 0 }, pending: null, lastVer: 0 };
      this.ids.set(id, e);
    }
    return e;
  }

  // Marks ids as being written to `to(id)`; returns a handle for settle().
  begin(op, ids, to) {
    const from = new Map();
    const target = new Map();
    for (const id of ids) {
      const e = this.entry(id);
      if (e.pending) throw new Error(`oracle: id ${id} already has a write in flight`);
      from.set(id, e.state);
      const t = to(id, e);
      if (t.present) e.lastVer = Math.max(e.lastVer, t.ver);
      target.set(id, t);
      e.pending = t;
    }
    return { op, ids, from, to: target };
  }

  // outcome: 'acked' | 'rejected' | 'ambiguous'.
  settle(h, outcome) {
    for (const id of h.ids) {
      const e = this.ids.get(id);
      if (outcome === 'acked') e.state = h.to.get(id);
      if (outcome !== 'ambiguous') e.pending = null;
    }
    if (outcome === 'acked') this.totals[`${h.op}s`] += h.ids.length;
    if (outcome === 'rejected') this.totals.rejected += 1;
    if (outcome === 'ambiguous') {
      this.ambiguous.push(h);
      this.totals.ambiguousOps += 1;
      this.totals.ambiguousIds += h.ids.length;
    }
  }

  // Allowed states of an id after the kill.
  allowed(id) {
    const e = this.ids.get(id);
    return e.pending ? [e.state, e.pending] : [e.state];
  }

  // Bounds on count(*) from the allowed states.
  countBounds() {
    let lo = 0;
    let hi = 0;
    for (const id of this.ids.keys()) {
      const a = this.allowed(id);
      if (a.every((s) => s.present)) lo += 1;
      if (a.some((s) => s.present)) hi += 1;
    }
    return { lo, hi };
  }

  // After verification: the found state of every ambiguous id becomes its
  // acknowledged state (the restarted server has shown which write won).
  resolve(found) {
    for (const [id, e] of this.ids) {
      if (e.pending) {
        e.state = found.get(id) || { present: false, ver: 0 };
        e.pending = null;
      }
    }
    this.ambiguous = [];
  }
}

// ---- waiting on servers (replication tests) ----------------------------------

const POLL_MS = 50;  // status polling interval

// The ends of the servers' logs, for failure messages.
function logTails(servers, bytes = 6000) {
  return servers.filter(Boolean).map((s) => `--- log of ${s.endpoint} (${s.dataDir}` +
    `${s.exit ? `, exited ${JSON.stringify(s.exit)}` : ''}):\n${s.log.slice(-bytes)}`).join('\n');
}

// An assertion failure that waitUntil does not retry.
function fatal(message) {
  const e = new assert.AssertionError({ message });
  e.fatal = true;
  throw e;
}

// Polls `probe` (resolving {done, seen}) every POLL_MS until done; fails after
// `timeoutMs` with the last thing seen and the logs of `servers`, or at once
// when one of `live` (default: `servers`) has exited. A probe that throws (a
// server restarting) counts as not done, unless it throws fatal().
async function waitUntil(what, timeoutMs, servers, probe, live = servers) {
  const deadline = Date.now() + timeoutMs;
  let seen;
  for (;;) {
    const dead = live.filter((s) => !s.alive());
    if (dead.length) {
      assert.fail(`${what}: ${dead.map((s) => `${s.endpoint} (${s.dataDir})`).join(', ')} exited ` +
        `${JSON.stringify(dead.map((s) => s.exit))}; last seen: ${JSON.stringify(seen).slice(0, 2000)}\n${logTails(servers)}`);
    }
    try {
      const r = await probe();
      if (r.done) return r.seen;
      seen = r.seen;
    } catch (e) {
      if (e instanceof assert.AssertionError && e.fatal) throw e;
      seen = `error: ${e.message}`;
    }
    if (Date.now() > deadline) {
      assert.fail(`${what}: not reached after ${timeoutMs} ms; last seen: ${JSON.stringify(seen).slice(0, 3000)}\n` +
        logTails(servers));
    }
    await new Promise((r) => setTimeout(r, POLL_MS));  // the polling interval
  }
}

module.exports = {
  DIM, COLL, ArkServer, milvus, admin, rng, rowOf, createKillLoopCollection, vectorOf, rowMismatch, stateName, sameState, Oracle,
  POLL_MS, logTails, fatal, waitUntil,
};
