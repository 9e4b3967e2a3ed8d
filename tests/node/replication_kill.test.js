// Replication under faults (docs/replication.md,
// docs/formats/replication-stream.md): a standby follows a primary through a
// fault-injecting TCP proxy (tcp_proxy.js) while processes are SIGKILLed and
// the link is cut or stalled.
//
//   1. Kill loop: writers insert sequence-numbered marker batches (every field
//      derived from the id, kill_loop_lib.js) into the primary, an admin
//      client flushes and compacts (file changes the standby fetches by
//      hash). Each round one fault at a random moment: SIGKILL of the standby
//      (restarted on its directory), SIGKILL of the primary (restarted; the
//      proxy follows it), a cut link (a stall, then every connection reset
//      and new ones refused for a while, then maybe more resets), or a stall
//      (bytes held, then released). Then the load stops and, once
//      the standby has applied the primary's last record, the standby holds
//      exactly the primary's rows: same ids, same count(*), same contents,
//      every batch whole, every acknowledged batch present, none rejected or
//      never sent, and the same content-addressed files.
//   2. A bootstrap cut in the middle (the proxy holds the bytes part-way
//      through the file copy, then resets the connections) resumes: the next
//      attempt keeps the files already in place ("N files to fetch, M already
//      here" with M > 0) and the standby converges.
//   3. Sync mode (sync_timeout_ms 2000, degrade): an acknowledged insert is on
//      the standby when the primary is SIGKILLed right after the answer;
//      with the standby down a write waits the timeout, succeeds, and the
//      primary shows sync.degraded; once the standby is back and caught up
//      it is not degraded, and RPO 0 holds again.
//   4. Security: with auth.replication_token a standby without it (or with the
//      user token) cannot bootstrap: it exits non-zero naming the credential,
//      and the primary has no standby; the user token gets 401 on the
//      replication routes; the right token converges. TLS: a standby trusting
//      the primary's CA (ca_file) converges over https; one with another CA
//      never connects (it retries, logging the certificate failure).
//   5. Cascading: B follows A, which follows the primary (both bootstrapped
//      with rows unflushed and index builds under way): B converges to the
//      primary's rows.
//   6. A bootstrap from a manifest applied past its checkpoint (an index
//      build committed after an unflushed insert) opens and converges.
//
// ARK_REPLICATION_KILL_ROUNDS (default 3: a standby kill, a primary kill and
// a cut link, in a seeded order) rounds of test 1; 30 for the long run
// (docs/reliability.md), where stalls also exceed the standby's 10 s read
// timeout. ARK_REPLICATION_KILL_SEED replays a round mix.
// Synchronisation is by polling with deadlines only; the random sleeps shape
// the load and place the faults.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const path = require('node:path');
const { arkBin, freePort, tempDir } = require('./helpers');
const {
  COLL, ArkServer, milvus, admin, rng, rowOf, rowMismatch, createKillLoopCollection, POLL_MS, logTails, fatal, waitUntil,
} = require('./kill_loop_lib');
const { TcpProxy } = require('./tcp_proxy');

const ROUNDS = Number(process.env.ARK_REPLICATION_KILL_ROUNDS || 3);
const SEED = Number(process.env.ARK_REPLICATION_KILL_SEED || (Date.now() % 2147483647));
const LONG = ROUNDS > 3;
// How long a standby may take to apply everything the primary has (ASan, 2
// cores; includes a reconnect backoff of up to 10 s).
const CONVERGE_MS = Number(process.env.ARK_REPLICATION_CONVERGE_MS || 60000);
const WRITERS = 3;
const CHUNK = 1000;   // ids per `id in [...]` query
const SYNC_TIMEOUT_MS = 2000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------
// Servers and calls.

// `ark serve` for the cases ArkServer does not cover: an https primary (its
// readiness probe needs the CA) and standbys that are expected never to
// become ready (start({wait: false})).
class ArkProcess {
  constructor(dataDir, extraArgs = [], { tls = false, ca } = {}) {
    Object.assign(this, { dataDir, extraArgs, tls, ca });
    this.child = null;
    this.log = '';
    this.exit = null;
  }

  async start({ wait = true, timeoutMs = 60000 } = {}) {
    this.port = this.port || await freePort();
    this.endpoint = `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
    this.log = '';
    this.exit = null;
    const child = spawn(arkBin(), ['serve', '--data-dir', this.dataDir, '--listen', `127.0.0.1:${this.port}`,
      '--no-access-log', ...this.extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => { this.exit = { code, signal }; resolve(this.exit); });
    });
    const keep = (c) => { this.log = (this.log + c.toString()).slice(-256 * 1024); };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    if (!wait) return;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.exit) throw new Error(`ark serve on ${this.dataDir} exited during startup (${JSON.stringify(this.exit)}); log:\n${this.log}`);
      if (Date.now() > deadline) throw new Error(`ark serve on ${this.dataDir} not ready after ${timeoutMs} ms; log:\n${this.log}`);
      try {
        if ((await call(this, '/readyz', undefined, { method: 'GET', timeoutMs: 2000 })).status === 200) return;
      } catch { /* not listening yet */ }
      await sleep(POLL_MS);
    }
  }

  alive() { return this.child !== null && this.exit === null; }

  async kill() {
    if (!this.alive()) return this.exit;
    process.kill(this.child.pid, 'SIGKILL');
    return this.exited;
  }
}

// One HTTP(S) request to `server` (anything with endpoint and maybe ca):
// resolves {status, json, body}; rejects on a transport error.
function call(server, route, body, { token, method = 'POST', timeoutMs = 30000, ca = server.ca } = {}) {
  const u = new URL(`${server.endpoint}${route}`);
  const lib = u.protocol === 'https:' ? https : http;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers = { 'Accept-Type-Allow-Int64': 'true' };
  if (payload !== undefined) headers['Content-Type'] = 'application/json';
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  return new Promise((resolve, reject) => {
    const req = lib.request(u, { method, headers, ca, agent: false }, (res) => {
      const parts = [];
      res.on('data', (c) => parts.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(parts).toString();
        let json;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, json, body: text });
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout on ${route}`)));
    req.on('error', reject);
    req.end(payload);
  });
}

// The `data` of a Milvus envelope from call(); fails naming `what` otherwise.
async function okData(promise, what) {
  const r = await promise;
  assert.ok(r.json && r.json.code === 0, `${what}: HTTP ${r.status} ${r.body.slice(0, 400)}`);
  return r.json.data;
}

async function ok(promise, what) {
  const r = await promise;
  assert.equal(r.code, 0, `${what}: ${JSON.stringify(r).slice(0, 400)}`);
  return r.data;
}

// Replication status; `opts` for call() (token, ca) when given.
async function replStatus(server, opts) {
  if (opts || server instanceof ArkProcess) {
    return okData(call(server, '/ark/v1/replication/status', {}, opts || {}), `replication/status on ${server.endpoint}`);
  }
  return ok(admin(server.endpoint, 'replication/status', {}), `replication/status on ${server.endpoint}`);
}

function pos(text) {
  const m = /^(\d+)\/(\d+)$/.exec(String(text));
  assert.ok(m, `position ${JSON.stringify(text)} is not "EPOCH/LSN"`);
  return [BigInt(m[1]), BigInt(m[2])];
}
function samePos(a, b) {
  if (a === undefined || b === undefined) return false;
  const [x, y] = [pos(a), pos(b)];
  return x[0] === y[0] && x[1] === y[1];
}

// Waits until every standby in `chain` streams and has applied `primary`'s
// last record. Returns the milliseconds it took.
async function converge(what, primary, chain, servers = [primary, ...chain], opts) {
  const started = Date.now();
  await waitUntil(`${what}: standby applies the primary's last record`, CONVERGE_MS, servers, async () => {
    const p = await replStatus(primary, opts);
    const seen = { primaryLast: p.lastPosition, standbys: [] };
    let done = true;
    for (const s of chain) {
      const st = await replStatus(s);
      seen.standbys.push({ endpoint: s.endpoint, state: st.state, applied: st.applied, reason: st.reason, reconnects: st.reconnects });
      if (st.state === 'needs-rebootstrap') {
        fatal(`${what}: standby ${s.endpoint} needs a re-bootstrap: ${JSON.stringify(st)}\n${logTails(servers)}`);
      }
      done = done && st.state === 'streaming' && samePos(st.applied, p.lastPosition);
    }
    return { done, seen };
  });
  return Date.now() - started;
}

// Every row of `ids` on `endpoint` (by `id in [...]`), checked against
// rowOf(id, 1), and count(*). Returns {rows: Map id -> row, count, failures}.
async function readMarkers(endpoint, ids, who) {
  const rows = new Map();
  const failures = [];
  for (let i = 0; i < ids.length; i += CHUNK) {
    const chunk = ids.slice(i, i + CHUNK);
    const data = await ok(milvus(endpoint, 'entities/query',
      { collectionName: COLL, filter: `id in [${chunk.join(',')}]`, outputFields: ['ver', 'tag', 'meta', 'vec'] }, 60000),
    `query on the ${who}`);
    for (const row of data) {
      const id = Number(row.id);
      if (rows.has(id)) failures.push(`${who}: id ${id} returned twice`);
      rows.set(id, row);
      const bad = rowMismatch(row, id, 1);
      if (bad) failures.push(`${who}: id ${id}: row content wrong: ${bad}`);
    }
  }
  const [c] = await ok(milvus(endpoint, 'entities/query', { collectionName: COLL, filter: '', outputFields: ['count(*)'] }),
    `count(*) on the ${who}`);
  const count = Number(c['count(*)']);
  if (count !== rows.size) failures.push(`${who}: count(*) is ${count} but ${rows.size} of the ids ever sent are found (rows never sent?)`);
  return { rows, count, failures };
}

// The same row on both servers: every field, vectors bit for bit (as float32).
function sameRow(a, b) {
  const meta = (r) => (typeof r.meta === 'string' ? JSON.parse(r.meta) : r.meta);
  return Number(a.ver) === Number(b.ver) && a.tag === b.tag &&
    JSON.stringify(meta(a)) === JSON.stringify(meta(b)) &&
    a.vec.length === b.vec.length && a.vec.every((x, i) => Math.fround(x) === Math.fround(b.vec[i]));
}

// Compares the two servers' rows (of `ids`); returns the failures.
function compareReplica(p, s) {
  const failures = [];
  const onlyP = [...p.rows.keys()].filter((id) => !s.rows.has(id));
  const onlyS = [...s.rows.keys()].filter((id) => !p.rows.has(id));
  if (onlyP.length) failures.push(`${onlyP.length} ids on the primary are missing on the standby (first: ${onlyP.slice(0, 10)})`);
  if (onlyS.length) failures.push(`${onlyS.length} ids on the standby are not on the primary (first: ${onlyS.slice(0, 10)})`);
  if (p.count !== s.count) failures.push(`count(*): primary ${p.count}, standby ${s.count}`);
  let differ = 0;
  for (const [id, row] of p.rows) {
    const other = s.rows.get(id);
    if (other && !sameRow(row, other) && differ++ < 5) {
      failures.push(`id ${id}: primary ${JSON.stringify(row).slice(0, 300)} vs standby ${JSON.stringify(other).slice(0, 300)}`);
    }
  }
  if (differ) failures.push(`${differ} rows differ between primary and standby`);
  return failures;
}

// The live content-addressed files of both (replication/manifest), once the
// standby has applied the primary's last record: they must become the same
// (a file change the primary has logged but not yet committed to its
// manifest is transient, hence the polling). The manifests' `applied`
// positions are not compared: a primary stamps a manifest with its WAL
// position at commit time, which may be past the file change's record, the
// position a standby stamps. Returns the failures.
async function compareFiles(primary, standby, servers) {
  let seen;
  try {
    await waitUntil('the same live files on both', 20000, servers, async () => {
      const p = await ok(admin(primary.endpoint, 'replication/manifest', {}), 'replication/manifest on the primary');
      const s = await ok(admin(standby.endpoint, 'replication/manifest', {}), 'replication/manifest on the standby');
      seen = { p, s };
      return { done: JSON.stringify(p.files) === JSON.stringify(s.files), seen };
    });
    return [];
  } catch (e) {
    if (!seen) throw e;
    const onlyP = seen.p.files.filter((f) => !seen.s.files.includes(f));
    const onlyS = seen.s.files.filter((f) => !seen.p.files.includes(f));
    return [`live files differ for 20 s (primary manifest ${seen.p.version} applied ${seen.p.applied}, standby manifest ` +
      `${seen.s.version} applied ${seen.s.applied}): ${onlyP.length} only on the primary (${onlyP.slice(0, 3)}), ` +
      `${onlyS.length} only on the standby (${onlyS.slice(0, 3)})`];
  }
}

function standbyArgs(primaryUrl, name) { return ['--standby-of', primaryUrl, '--standby-name', name]; }

// Removes `root` when the test passed, else keeps it and says where.
function cleanupAfter(t, root, servers, proxies = () => []) {
  const state = { passed: false };
  t.after(async () => {
    for (const s of servers()) if (s) await s.kill();
    for (const p of proxies()) if (p) await p.stop();
    if (state.passed) fs.rmSync(root, { recursive: true, force: true });
    else t.diagnostic(`kept ${root}`);
  });
  return state;
}

// ---------------------------------------------------------------------------
// 1. The kill loop.

const FAULTS = ['standby-kill', 'primary-kill', 'link-cut', 'stall'];

class Round {
  constructor(ctx, n, next, fault) {
    Object.assign(this, { ctx, n, next, fault });
    this.stop = false;
    this.problems = [];
    this.flushes = 0;
    this.events = [];  // what happened when, for the failure report
  }

  note(what) { this.events.push(`${((Date.now() - this.started) / 1000).toFixed(2)}s ${what}`); }

  async writer(w) {
    while (!this.stop) {
      const k = 1 + Math.floor(this.next() * 30);
      const ids = [];
      for (let i = 0; i < k; i++) { ids.push(this.ctx.nextId[w]); this.ctx.nextId[w] += WRITERS; }
      const batch = { w, ids, round: this.n, acked: false, rejected: false, ambiguous: false };
      this.ctx.batches.push(batch);
      let res;
      try {
        res = await milvus(this.ctx.primary.endpoint, 'entities/insert', { collectionName: COLL, data: ids.map((id) => rowOf(id, 1)) });
      } catch (e) {
        batch.ambiguous = true;  // no answer: the primary was killed (or a failure, reported below)
        if (!this.stop) this.problems.push(`insert: transport error with the primary up: ${e.cause || e}`);
        return;
      }
      if (res.code !== 0) {
        batch.rejected = true;
        this.problems.push(`insert of ${k} rows rejected: ${JSON.stringify(res).slice(0, 300)}`);
        return;
      }
      batch.acked = true;
    }
  }

  // Seals and compactions: file-change records whose files the standby
  // fetches by hash, through the proxy.
  async adminLoop() {
    while (!this.stop) {
      await sleep(200 + this.next() * 600);  // shapes the load; synchronises nothing
      if (this.stop) break;
      const route = this.next() < 0.75 ? 'collections/flush' : 'collections/compact';
      try {
        const res = await milvus(this.ctx.primary.endpoint, route, { collectionName: COLL }, 120000);
        if (res.code !== 0) this.problems.push(`${route}: ${JSON.stringify(res).slice(0, 300)}`);
        else this.flushes += 1;
      } catch (e) {
        if (!this.stop) this.problems.push(`${route}: transport error with the primary up: ${e.cause || e}`);
        return;
      }
    }
  }

  load() {
    this.stop = false;
    const clients = [];
    for (let w = 0; w < WRITERS; w++) clients.push(this.writer(w));
    clients.push(this.adminLoop());
    return Promise.all(clients);
  }

  async inject() {
    const { ctx } = this;
    switch (this.fault) {
      case 'standby-kill': {
        const exit = await ctx.standby.kill();
        this.note(`standby SIGKILLed (${JSON.stringify(exit)})`);
        if (exit.signal !== 'SIGKILL') this.problems.push(`the standby had exited by itself before the kill: ${JSON.stringify(exit)}`);
        this.killedLog = ctx.standby.log;
        await sleep(this.next() * 1000);  // how long it stays down
        await ctx.standby.start();
        this.note('standby restarted');
        break;
      }
      case 'primary-kill': {
        this.stop = true;  // writers stop; their unanswered inserts are ambiguous
        const exit = await ctx.primary.kill();
        this.note(`primary SIGKILLed (${JSON.stringify(exit)})`);
        if (exit.signal !== 'SIGKILL') this.problems.push(`the primary had exited by itself before the kill: ${JSON.stringify(exit)}`);
        this.killedLog = ctx.primary.log;
        await this.loading;
        await ctx.primary.start();
        ctx.proxy.setTarget(ctx.primary.port);
        this.note(`primary restarted on port ${ctx.primary.port}`);
        await this.settleAmbiguous();
        break;
      }
      case 'link-cut': {
        ctx.proxy.pause();
        this.note('link stalled');
        await sleep(200 + this.next() * 1300);  // how long the link stalls before it dies
        // The link dies: current connections reset, new ones refused for a
        // while (reset on accept), then a few more cuts as the standby
        // reconnects.
        ctx.proxy.setRefusing(true);
        this.note(`link cut (${ctx.proxy.cut()} connections reset), new connections refused`);
        ctx.proxy.resume();
        await sleep(this.next() * 1500);  // how long the link stays down
        ctx.proxy.setRefusing(false);
        this.note('link up');
        const cuts = Math.floor(this.next() * 3);
        for (let i = 0; i < cuts; i++) {
          await sleep(this.next() * 400);  // between cuts: the standby may be reconnecting
          this.note(`link cut again (${ctx.proxy.cut()} connections reset)`);
        }
        break;
      }
      case 'stall': {
        // Past 10 s the standby's read times out and it reconnects while
        // the stalled connection still holds bytes (long runs only).
        const ms = LONG && this.next() < 0.3 ? 10500 + this.next() * 2500 : 500 + this.next() * 3000;
        ctx.proxy.pause();
        this.note(`link stalled for ${ms.toFixed(0)} ms`);
        await sleep(ms);
        ctx.proxy.resume();
        this.note('link resumed');
        break;
      }
      default: throw new Error(this.fault);
    }
  }

  // After a primary restart: an insert whose answer never came is settled by
  // what the restarted primary holds (whole or absent: one WAL record).
  async settleAmbiguous() {
    for (const b of this.ctx.batches.filter((x) => x.ambiguous)) {
      const data = await ok(milvus(this.ctx.primary.endpoint, 'entities/query',
        { collectionName: COLL, filter: `id in [${b.ids.join(',')}]`, outputFields: ['ver'] }), 'query of an unanswered batch');
      if (data.length === b.ids.length) b.acked = true;
      else if (data.length === 0) { b.rejected = true; b.unanswered = true; }
      else this.problems.push(`torn batch on the restarted primary: ${data.length} of ids ${b.ids} present`);
      b.ambiguous = false;
      this.ctx.ambiguousSettled += 1;
    }
  }

  async run() {
    this.started = Date.now();
    const faultAt = 300 + this.next() * 2000;
    this.loading = this.load();
    await sleep(faultAt);  // when in the load the fault strikes
    this.note(`fault ${this.fault}`);
    await this.inject();
    // More load after the fault: the standby must catch up from wherever it is.
    if (this.fault === 'primary-kill') this.loading = this.load();
    await sleep(500 + this.next() * 1000);
    this.stop = true;
    await this.loading;
    this.note('load stopped');
  }
}

// Checks the batches against what the primary and the standby hold.
function checkBatches(ctx, p, s) {
  const failures = [];
  for (const b of ctx.batches) {
    const onP = b.ids.filter((id) => p.rows.has(id)).length;
    const onS = b.ids.filter((id) => s.rows.has(id)).length;
    const desc = `writer ${b.w}'s batch ${b.ids[0]}.. (${b.ids.length} rows, round ${b.round}, ` +
      `${b.acked ? 'acknowledged' : b.unanswered ? 'unanswered, absent after the restart' : b.rejected ? 'rejected' : 'unanswered'})`;
    if (onP !== 0 && onP !== b.ids.length) failures.push(`${desc}: torn on the primary (${onP} rows present)`);
    if (onS !== 0 && onS !== b.ids.length) failures.push(`${desc}: torn on the standby (${onS} rows present)`);
    if (b.acked && onP !== b.ids.length) failures.push(`${desc}: missing on the primary`);
    if (b.acked && onS !== b.ids.length) failures.push(`${desc}: missing on the standby (lost)`);
    if (b.rejected && onP) failures.push(`${desc}: present on the primary`);
    if (b.rejected && onS) failures.push(`${desc}: present on the standby (invented)`);
    if (!b.acked && !b.rejected) failures.push(`${desc}: still unsettled at the check (test bug)`);
  }
  return failures;
}

test('replication kill loop: SIGKILL of either side, cut and stalled links; the standby converges to exactly the primary\'s rows', async (t) => {
  const root = tempDir('repl-kill');
  const ctx = {
    primary: new ArkServer(path.join(root, 'primary')),
    standby: null,
    proxy: null,
    batches: [],
    nextId: Array.from({ length: WRITERS }, (_, w) => w + 1),
    ambiguousSettled: 0,
  };
  const state = cleanupAfter(t, root, () => [ctx.standby, ctx.primary], () => [ctx.proxy]);
  t.after(() => { if (ctx.round) ctx.round.stop = true; });  // a failed round's load ends with the test
  t.diagnostic(`replication kill loop: seed ${SEED}, ${ROUNDS} rounds ` +
    `(replay: ARK_REPLICATION_KILL_SEED=${SEED} ARK_REPLICATION_KILL_ROUNDS=${ROUNDS})`);

  await ctx.primary.start();
  await createKillLoopCollection(ctx.primary.endpoint, { index_type: 'HNSW', M: 8, efConstruction: 40 });
  ctx.proxy = new TcpProxy({ targetPort: ctx.primary.port });
  await ctx.proxy.start();
  ctx.standby = new ArkServer(path.join(root, 'standby'), standbyArgs(ctx.proxy.endpoint, 'dc2'));
  await ctx.standby.start();

  // CI rounds cover a standby kill, a primary kill and a cut link (in a
  // seeded order); later rounds draw any fault.
  const pick = rng(SEED);
  const first = FAULTS.slice(0, 3);
  for (let i = first.length - 1; i > 0; i--) {
    const j = Math.floor(pick() * (i + 1));
    [first[i], first[j]] = [first[j], first[i]];
  }
  const started = Date.now();
  const mix = {};
  let maxConvergeMs = 0;
  let flushes = 0;
  for (let n = 1; n <= ROUNDS; n++) {
    const fault = n <= first.length ? first[n - 1] : FAULTS[Math.floor(pick() * FAULTS.length)];
    mix[fault] = (mix[fault] || 0) + 1;
    const round = new Round(ctx, n, rng(SEED + n * 7919), fault);
    const servers = [ctx.primary, ctx.standby];
    const header = () => `round ${n} (${fault}, seed ${SEED}); events:\n  ${round.events.join('\n  ')}`;
    ctx.round = round;
    try {
      await round.run();
    } catch (e) {
      round.stop = true;  // the load ends with the test
      assert.fail(`${header()}\nround failed: ${e.stack || e}\n${round.killedLog ? `log of the killed run:\n${round.killedLog.slice(-6000)}\n` : ''}` +
        logTails(servers));
    }
    let convergeMs;
    try {
      convergeMs = await converge(`round ${n} (${fault})`, ctx.primary, [ctx.standby]);
    } catch (e) {
      assert.fail(`${header()}\n${e.message}\n${round.killedLog ? `log of the killed run:\n${round.killedLog.slice(-6000)}` : ''}`);
    }
    maxConvergeMs = Math.max(maxConvergeMs, convergeMs);
    flushes += round.flushes;
    const ids = ctx.batches.flatMap((b) => b.ids);
    const p = await readMarkers(ctx.primary.endpoint, ids, 'primary');
    const s = await readMarkers(ctx.standby.endpoint, ids, 'standby');
    const failures = [
      ...round.problems.map((x) => `during the round: ${x}`),
      ...p.failures, ...s.failures,
      ...compareReplica(p, s),
      ...checkBatches(ctx, p, s),
      ...await compareFiles(ctx.primary, ctx.standby, servers),
    ];
    if (failures.length) {
      assert.fail(`${header()}\nconverged in ${convergeMs} ms, then ${failures.length} failures:\n  ${failures.slice(0, 30).join('\n  ')}\n` +
        `${round.killedLog ? `log of the killed run:\n${round.killedLog.slice(-6000)}\n` : ''}${logTails(servers)}`);
    }
    t.diagnostic(`round ${n}: ${fault}; ${p.count} rows on both; converged ${convergeMs} ms after the load stopped; ` +
      `${round.flushes} flushes/compactions`);
  }
  const st = await replStatus(ctx.standby);
  t.diagnostic(`replication kill loop summary: ${ROUNDS} rounds (${JSON.stringify(mix)}), ${ctx.batches.length} batches ` +
    `(${ctx.batches.reduce((a, b) => a + b.ids.length, 0)} rows), ${ctx.ambiguousSettled} unanswered batches settled, ` +
    `${flushes} flushes/compactions; slowest convergence ${maxConvergeMs} ms; the standby reconnected ${st.reconnects} ` +
    `times since its last start; proxy ${JSON.stringify(ctx.proxy.stats)}; ${((Date.now() - started) / 1000).toFixed(0)} s`);
  state.passed = true;
});

// ---------------------------------------------------------------------------
// 2. A bootstrap cut in the middle resumes.

const BIG_DIM = 64;
function bigRow(id) {
  const next = rng(id * 2654435761);
  return { id, ver: 1, tag: `b-${id}`, meta: { id }, vec: Array.from({ length: BIG_DIM }, () => Math.fround(next() * 2 - 1)) };
}

// The standby's complete fetched files (content-addressed names, no .part).
function completeFiles(dataDir) {
  try {
    return fs.readdirSync(path.join(dataDir, 'files')).filter((f) => /^[0-9a-f]{64}$/.test(f));
  } catch {
    return [];
  }
}

test('bootstrap cut in the middle: the next attempt keeps the files in place and the standby converges', async (t) => {
  const root = tempDir('repl-boot');
  const primary = new ArkServer(path.join(root, 'primary'));
  let standby = null;
  let proxy = null;
  const state = cleanupAfter(t, root, () => [standby, primary], () => [proxy]);
  await primary.start();
  await ok(milvus(primary.endpoint, 'collections/create', {
    collectionName: COLL,
    schema: {
      autoID: false, enableDynamicField: false,
      fields: [
        { fieldName: 'id', dataType: 'Int64', isPrimary: true },
        { fieldName: 'ver', dataType: 'Int64' },
        { fieldName: 'tag', dataType: 'VarChar', elementTypeParams: { max_length: 64 } },
        { fieldName: 'meta', dataType: 'JSON' },
        { fieldName: 'vec', dataType: 'FloatVector', elementTypeParams: { dim: BIG_DIM } },
      ],
    },
    indexParams: [{ fieldName: 'vec', indexName: 'vec_idx', metricType: 'L2', params: { index_type: 'HNSW', M: 8, efConstruction: 40 } }],
  }), 'collections/create');
  // Several sealed segments (and their HNSW files): several files to copy.
  const SEGMENTS = 5;
  const PER = 2000;
  for (let s = 0; s < SEGMENTS; s++) {
    for (let i = 0; i < PER; i += 1000) {
      const rows = Array.from({ length: 1000 }, (_, k) => bigRow(s * PER + i + k + 1));
      await ok(milvus(primary.endpoint, 'entities/insert', { collectionName: COLL, data: rows }), 'insert');
    }
    await ok(milvus(primary.endpoint, 'collections/flush', { collectionName: COLL }, 120000), 'flush');
  }
  // Every row flushed and indexed: the files stay put between the attempts.
  await indexBuilt(primary, [primary]);
  const filesDir = path.join(primary.dataDir, 'files');
  const sizes = fs.readdirSync(filesDir).map((f) => fs.statSync(path.join(filesDir, f)).size);
  const total = sizes.reduce((a, b) => a + b, 0);
  assert.ok(sizes.length >= SEGMENTS, `the primary holds ${sizes.length} files after ${SEGMENTS} flushes; want several to copy`);

  proxy = new TcpProxy({ targetPort: primary.port });
  await proxy.start();
  standby = new ArkServer(path.join(root, 'standby'), standbyArgs(proxy.endpoint, 'boot'));
  // Hold the link once most of the bytes have gone (4 files are fetched at
  // a time, so some are complete and some not), then reset it.
  let armed = proxy.pauseAfter(Math.floor(total * 0.6));
  const starting = standby.start(CONVERGE_MS * 2).then(() => null, (e) => e);
  const servers = [primary, standby];
  let complete = [];
  for (let attempt = 0; ; attempt++) {
    const got = await Promise.race([armed.then(() => 'paused'), starting.then((e) => e || 'ready')]);
    assert.equal(got, 'paused', `the bootstrap finished or failed before the link was held (${got}); ` +
      `proxy ${JSON.stringify(proxy.stats)}, ${total} bytes of files\n${logTails(servers)}`);
    // What the standby wrote from the bytes it got (renamed after the hash check).
    complete = await waitUntil('the standby writes the files it got whole', 3000, servers, async () => {
      const c = completeFiles(standby.dataDir);
      return { done: c.length > 0, seen: c };
    }, [primary]).catch(() => []);
    if (complete.length > 0 || attempt >= 5) break;
    // None whole yet: let a little more through.
    armed = proxy.pauseAfter(Math.floor(total * 0.08));
    proxy.resume();
  }
  assert.ok(complete.length > 0, `no file complete on the standby while the link was held (${JSON.stringify(proxy.stats)})`);
  assert.ok(complete.length < sizes.length, `every file already copied before the cut (${complete.length}); nothing left to resume`);
  assert.equal(standby.alive(), true, `the standby exited during its bootstrap: ${JSON.stringify(standby.exit)}\n${logTails(servers)}`);
  const cut = proxy.cut();
  proxy.resume();
  t.diagnostic(`bootstrap held after ${proxy.stats.fromTarget} of ~${total} bytes of ${sizes.length} files, ` +
    `${complete.length} files complete on the standby; ${cut} connections reset`);
  const startErr = await starting;
  assert.equal(startErr, null, `the standby does not come up after the cut bootstrap: ${startErr && startErr.message}`);
  await converge('after the cut bootstrap', primary, [standby], servers);

  const attempts = [...standby.log.matchAll(/(\d+) files to fetch, (\d+) already here/g)].map((m) => [Number(m[1]), Number(m[2])]);
  assert.ok(attempts.length >= 2, `the standby's log shows ${attempts.length} bootstrap attempts, want 2 or more ` +
    `(${standby.log.length} bytes of its log kept; proxy ${JSON.stringify(proxy.stats)}):\n${standby.log.slice(-6000)}`);
  assert.equal(attempts[0][1], 0, `the first attempt found files already there: ${JSON.stringify(attempts)}`);
  const last = attempts[attempts.length - 1];
  assert.ok(last[1] > 0, `the last bootstrap attempt kept no file (fetch/kept per attempt: ${JSON.stringify(attempts)})`);
  assert.ok(last[1] >= complete.length, `the last attempt kept ${last[1]} files, but ${complete.length} were complete at the cut`);
  assert.match(standby.log, /bootstrap from .* failed .*retrying/, 'the standby logs the failed attempt and its retry');
  t.diagnostic(`bootstrap attempts (files to fetch, already here): ${JSON.stringify(attempts)}`);

  const ids = Array.from({ length: SEGMENTS * PER }, (_, i) => i + 1);
  const read = async (ep) => {
    const rows = new Map();
    for (let i = 0; i < ids.length; i += CHUNK) {
      const data = await ok(milvus(ep, 'entities/query', { collectionName: COLL, filter: `id in [${ids.slice(i, i + CHUNK).join(',')}]`,
        outputFields: ['vec'] }, 60000), `query on ${ep}`);
      for (const r of data) rows.set(Number(r.id), r.vec);
    }
    return rows;
  };
  const [pr, sr] = [await read(primary.endpoint), await read(standby.endpoint)];
  assert.equal(pr.size, ids.length, 'the primary holds every inserted row');
  assert.equal(sr.size, ids.length, `the standby holds ${sr.size} of ${ids.length} rows`);
  for (const id of ids) {
    const want = bigRow(id).vec;
    assert.ok(sr.get(id).every((x, i) => Math.fround(x) === want[i]), `the standby's vector of id ${id} differs`);
  }
  const failures = await compareFiles(primary, standby, servers);
  assert.deepEqual(failures, [], 'the standby has the primary\'s files');
  state.passed = true;
});

// ---------------------------------------------------------------------------
// 3. Sync mode.

test('sync mode: an acknowledged write survives the primary\'s SIGKILL on the standby; a lost standby degrades after the timeout and recovers', async (t) => {
  const root = tempDir('repl-sync');
  const config = path.join(root, 'primary.yaml');
  fs.writeFileSync(config, `replication:\n  mode: sync\n  sync_timeout_ms: ${SYNC_TIMEOUT_MS}\n  sync_policy: degrade\n`);
  const primary = new ArkServer(path.join(root, 'primary'), ['--config', config]);
  let standby = null;
  let proxy = null;
  const state = cleanupAfter(t, root, () => [standby, primary], () => [proxy]);
  await primary.start();
  await createKillLoopCollection(primary.endpoint, { index_type: 'FLAT' });
  proxy = new TcpProxy({ targetPort: primary.port });
  await proxy.start();
  standby = new ArkServer(path.join(root, 'standby'), standbyArgs(proxy.endpoint, 'sync1'));
  await standby.start();
  const servers = [primary, standby];
  await converge('sync: first catch-up', primary, [standby], servers);
  let nextId = 1;

  // An acknowledged insert, then SIGKILL of the primary at once: the standby
  // must already have it (it was acknowledged only once durable there).
  const rpoZero = async (what) => {
    const ids = Array.from({ length: 20 }, () => nextId++);
    const t0 = Date.now();
    await ok(milvus(primary.endpoint, 'entities/insert', { collectionName: COLL, data: ids.map((id) => rowOf(id, 1)) }), `${what}: insert`);
    const ackMs = Date.now() - t0;
    await primary.kill();
    const data = await ok(milvus(standby.endpoint, 'entities/query',
      { collectionName: COLL, filter: `id in [${ids.join(',')}]`, outputFields: ['ver', 'tag', 'meta', 'vec'] }), `${what}: query on the standby`);
    const have = new Set(data.map((r) => Number(r.id)));
    const missing = ids.filter((id) => !have.has(id));
    assert.deepEqual(missing, [], `${what}: ${missing.length} rows of an insert acknowledged in sync mode (${ackMs} ms) are not on ` +
      `the standby once the primary is SIGKILLed (RPO 0 broken)\n${logTails(servers)}`);
    for (const r of data) assert.equal(rowMismatch(r, Number(r.id), 1), null, `${what}: row ${r.id} on the standby`);
    await primary.start();
    proxy.setTarget(primary.port);
    await converge(`${what}: after the primary's restart`, primary, [standby], servers);
    return ackMs;
  };
  const ack1 = await rpoZero('sync, standby up');
  let st = await replStatus(primary);
  assert.equal(st.mode, 'sync', `the primary's replication mode: ${JSON.stringify(st)}`);
  assert.equal(st.sync.degraded, false, `sync.degraded before any timeout: ${JSON.stringify(st.sync)}`);

  // The standby dies: the next write waits the timeout, then succeeds, and
  // the primary is degraded to async.
  await standby.kill();
  const ids = Array.from({ length: 5 }, () => nextId++);
  let t0 = Date.now();
  await ok(milvus(primary.endpoint, 'entities/insert', { collectionName: COLL, data: ids.map((id) => rowOf(id, 1)) }), 'insert with the standby down');
  const waitedMs = Date.now() - t0;
  assert.ok(waitedMs >= SYNC_TIMEOUT_MS * 0.9, `with the standby down an insert was acknowledged after ${waitedMs} ms, ` +
    `before sync_timeout_ms ${SYNC_TIMEOUT_MS}`);
  assert.ok(waitedMs < SYNC_TIMEOUT_MS + 8000, `with the standby down an insert took ${waitedMs} ms (timeout ${SYNC_TIMEOUT_MS} ms)`);
  st = await replStatus(primary);
  assert.equal(st.sync.degraded, true, `sync.degraded after a timed-out write: ${JSON.stringify(st.sync)}`);
  assert.ok(st.sync.timeouts >= 1, `sync.timeouts after a timed-out write: ${JSON.stringify(st.sync)}`);
  // Degraded: async, so the next write does not wait.
  const more = Array.from({ length: 5 }, () => nextId++);
  t0 = Date.now();
  await ok(milvus(primary.endpoint, 'entities/insert', { collectionName: COLL, data: more.map((id) => rowOf(id, 1)) }), 'insert while degraded');
  const degradedMs = Date.now() - t0;
  assert.ok(degradedMs < SYNC_TIMEOUT_MS / 2, `a write while degraded took ${degradedMs} ms (it should not wait for the standby)`);

  // The standby comes back and catches up: sync again.
  await standby.start();
  await converge('sync: the standby back', primary, [standby], servers);
  const recovered = await waitUntil('sync.degraded becomes false once the standby caught up', 20000, servers, async () => {
    const s = await replStatus(primary);
    return { done: s.sync.degraded === false, seen: s.sync };
  });
  const ack2 = await rpoZero('sync, after recovering from degraded');
  st = await replStatus(primary);
  assert.equal(st.sync.degraded, false, `sync.degraded after the recovery: ${JSON.stringify(st.sync)}`);
  t.diagnostic(`sync: acknowledged in ${ack1} ms with the standby up, ${waitedMs} ms with it down (timeout ${SYNC_TIMEOUT_MS}), ` +
    `${degradedMs} ms degraded, ${ack2} ms after recovery; sync ${JSON.stringify(recovered)}`);
  state.passed = true;
});

// ---------------------------------------------------------------------------
// 4. Security: the replication credential and TLS.

async function waitForExit(server, timeoutMs) {
  let timer;
  const late = new Promise((resolve) => { timer = setTimeout(() => resolve(null), timeoutMs); });
  const exit = await Promise.race([server.exited, late]);
  clearTimeout(timer);
  return exit;
}

function seeded(dataDir) { return fs.existsSync(path.join(dataDir, 'CURRENT')); }

test('replication credential: a standby without auth.replication_token cannot bootstrap; user tokens are refused; the right token converges', async (t) => {
  const root = tempDir('repl-auth');
  const USER = 'user-token-0123456789';
  const REPL = 'repl-token-9876543210';
  const pconf = path.join(root, 'primary.yaml');
  fs.writeFileSync(pconf, `auth:\n  token: ${USER}\n  replication_token: ${REPL}\n`);
  const primary = new ArkProcess(path.join(root, 'primary'), ['--config', pconf]);
  const spawned = [];
  const state = cleanupAfter(t, root, () => [...spawned, primary]);
  await primary.start();
  const user = { token: USER };
  await okData(call(primary, '/v2/vectordb/collections/create', {
    collectionName: COLL, dimension: 8, primaryFieldName: 'id', idType: 'Int64', autoID: false, vectorFieldName: 'vec',
  }, user), 'collections/create with the user token');
  const rows = Array.from({ length: 50 }, (_, i) => ({ id: i + 1, vec: Array.from({ length: 8 }, (_, k) => (i + k) / 64) }));
  await okData(call(primary, '/v2/vectordb/entities/insert', { collectionName: COLL, data: rows }, user), 'insert');

  // The routes: the user token, no token and a wrong one get 401; the
  // replication token is refused on the Milvus routes.
  const boot = { version: 1, standby: 'probe' };
  for (const [label, token] of [['the user token', USER], ['no token', undefined], ['a wrong token', `${REPL}x`]]) {
    const r = await call(primary, '/ark/v1/replication/bootstrap', boot, { token });
    assert.equal(r.status, 401, `replication/bootstrap with ${label}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
    assert.notEqual(r.json && r.json.code, 0, `replication/bootstrap with ${label} answered code 0`);
    const s = await call(primary, '/ark/v1/replication/stream', { ...boot, after: '1/0', epochs: [] }, { token });
    assert.equal(s.status, 401, `replication/stream with ${label}: HTTP ${s.status} ${s.body.slice(0, 300)}`);
    const f = await call(primary, `/ark/v1/replication/files/${'0'.repeat(64)}`, undefined, { token, method: 'GET' });
    assert.equal(f.status, 401, `replication/files with ${label}: HTTP ${f.status} ${f.body.slice(0, 300)}`);
  }
  const wrongPlace = await call(primary, '/v2/vectordb/collections/list', {}, { token: REPL });
  assert.equal(wrongPlace.status, 401, `the replication token on collections/list: HTTP ${wrongPlace.status} ${wrongPlace.body.slice(0, 300)}`);

  // Standbys without the credential (none, or the user's token).
  const userConf = path.join(root, 'standby-user.yaml');
  fs.writeFileSync(userConf, `replication:\n  token: ${USER}\n`);
  for (const [label, name, extra] of [['no token', 'notoken', []], ['the user token', 'usertoken', ['--config', userConf]]]) {
    const sb = new ArkProcess(path.join(root, name), [...standbyArgs(primary.endpoint, name), ...extra]);
    spawned.push(sb);
    await sb.start({ wait: false });
    const exit = await waitForExit(sb, 30000);
    assert.ok(exit, `a standby with ${label} is still running after 30 s (want: exit non-zero naming the credential); log:\n${sb.log.slice(-4000)}`);
    assert.ok(exit.code !== 0 && exit.code !== null, `a standby with ${label} exited ${JSON.stringify(exit)}; log:\n${sb.log.slice(-4000)}`);
    assert.match(sb.log, /401/, `the standby with ${label} does not log the primary's 401:\n${sb.log.slice(-4000)}`);
    assert.match(sb.log, /replication_token|replication credential/, `the standby with ${label} does not name the credential:\n${sb.log.slice(-4000)}`);
    assert.equal(seeded(sb.dataDir), false, `the standby with ${label} seeded its directory`);
    t.diagnostic(`standby with ${label}: exited ${JSON.stringify(exit)}: ${sb.log.trim().split('\n').slice(-1)[0]}`);
  }
  let st = await replStatus(primary, user);
  assert.deepEqual(st.standbys.map((s) => s.name), [], `the primary lists standbys after refused bootstraps: ${JSON.stringify(st.standbys)}`);

  // The right token (from the config file, primary and name too).
  const goodConf = path.join(root, 'standby-good.yaml');
  fs.writeFileSync(goodConf, `replication:\n  primary: ${primary.endpoint}\n  name: good\n  token: ${REPL}\n`);
  const good = new ArkProcess(path.join(root, 'good'), ['--config', goodConf]);
  spawned.push(good);
  await good.start();
  await converge('with the replication token', primary, [good], [primary, good], user);
  st = await replStatus(primary, user);
  assert.deepEqual(st.standbys.map((s) => s.name), ['good'], `the primary's standbys: ${JSON.stringify(st.standbys)}`);
  const q = await okData(call(good, '/v2/vectordb/entities/query', { collectionName: COLL, filter: 'id > 0', outputFields: ['id'], limit: 100 }),
    'query on the standby');
  assert.equal(q.length, rows.length, `the standby holds ${q.length} of ${rows.length} rows`);
  state.passed = true;
});

// A CA and a server certificate for 127.0.0.1 signed by it, plus another CA.
function makeCertificates(dir) {
  const probe = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  assert.equal(probe.error, undefined, `the openssl CLI is needed to make test certificates: ${probe.error}`);
  const run = (args) => {
    const r = spawnSync('openssl', args, { encoding: 'utf8', cwd: dir });
    assert.equal(r.status, 0, `openssl ${args.join(' ')} failed: ${r.stderr}`);
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  for (const ca of ['ca', 'other-ca']) {
    run(['req', '-x509', ...ec, '-keyout', `${ca}.key`, '-out', `${ca}.pem`, '-subj', `/CN=ark test ${ca}`, '-days', '2',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  }
  run(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  fs.writeFileSync(path.join(dir, 'server.ext'),
    'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n');
  run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', '2', '-days', '2',
    '-extfile', 'server.ext', '-out', 'server.pem']);
  const p = (f) => path.join(dir, f);
  return { ca: p('ca.pem'), otherCa: p('other-ca.pem'), cert: p('server.pem'), key: p('server.key') };
}

test('TLS: a standby trusting the primary\'s CA converges over https; one with another CA never connects', async (t) => {
  const root = tempDir('repl-tls');
  const certs = makeCertificates(root);
  const pconf = path.join(root, 'primary.yaml');
  fs.writeFileSync(pconf, `tls: {cert_file: "${certs.cert}", key_file: "${certs.key}"}\n`);
  const primary = new ArkProcess(path.join(root, 'primary'), ['--config', pconf], { tls: true, ca: fs.readFileSync(certs.ca) });
  const spawned = [];
  const state = cleanupAfter(t, root, () => [...spawned, primary]);
  await primary.start();
  assert.ok(primary.endpoint.startsWith('https://'));
  const rows = Array.from({ length: 40 }, (_, i) => ({ id: i + 1, vec: Array.from({ length: 8 }, (_, k) => (i * k) / 97) }));
  await okData(call(primary, '/v2/vectordb/collections/create', {
    collectionName: COLL, dimension: 8, primaryFieldName: 'id', idType: 'Int64', autoID: false, vectorFieldName: 'vec',
  }), 'collections/create over https');
  await okData(call(primary, '/v2/vectordb/entities/insert', { collectionName: COLL, data: rows }), 'insert over https');

  // Another CA: the handshake fails, the standby retries and never streams.
  const badConf = path.join(root, 'standby-bad.yaml');
  fs.writeFileSync(badConf, `replication:\n  primary: ${primary.endpoint}\n  name: badca\n  ca_file: ${certs.otherCa}\n`);
  const bad = new ArkProcess(path.join(root, 'badca'), ['--config', badConf]);
  spawned.push(bad);
  await bad.start({ wait: false });
  const deadline = Date.now() + 30000;
  while (!/bootstrap from https:\/\/\S+ failed/.test(bad.log) && bad.alive() && Date.now() < deadline) await sleep(POLL_MS);
  assert.match(bad.log, /bootstrap from https:\/\/\S+ failed/, `the standby with another CA logs no failed bootstrap ` +
    `(exit ${JSON.stringify(bad.exit)}); log:\n${bad.log.slice(-4000)}`);
  const failure = bad.log.split('\n').find((l) => /bootstrap from https:\/\/\S+ failed/.test(l));
  assert.match(failure, /SSL|certificate|verif/i, `the failed bootstrap does not say the certificate was refused: ${failure}`);
  assert.equal(seeded(bad.dataDir), false, 'the standby with another CA seeded its directory');
  assert.doesNotMatch(bad.log, /streaming from/, 'the standby with another CA streams');
  let st = await replStatus(primary);
  assert.deepEqual(st.standbys.map((s) => s.name), [], `the primary lists standbys after a refused handshake: ${JSON.stringify(st.standbys)}`);
  t.diagnostic(`standby with another CA (${bad.alive() ? 'still retrying' : `exited ${JSON.stringify(bad.exit)}`}): ${failure.trim()}`);
  await bad.kill();

  // The right CA: converges over https.
  const goodConf = path.join(root, 'standby-good.yaml');
  fs.writeFileSync(goodConf, `replication:\n  primary: ${primary.endpoint}\n  name: tls1\n  ca_file: ${certs.ca}\n`);
  const good = new ArkProcess(path.join(root, 'tls1'), ['--config', goodConf]);
  spawned.push(good);
  await good.start();
  await converge('over https', primary, [good], [primary, good], {});
  st = await replStatus(primary);
  assert.deepEqual(st.standbys.map((s) => s.name), ['tls1'], `the primary's standbys: ${JSON.stringify(st.standbys)}`);
  const more = Array.from({ length: 10 }, (_, i) => ({ id: 1000 + i, vec: Array.from({ length: 8 }, () => i / 10) }));
  await okData(call(primary, '/v2/vectordb/entities/insert', { collectionName: COLL, data: more }), 'insert over https');
  await converge('over https, streamed', primary, [good], [primary, good], {});
  const q = await okData(call(good, '/v2/vectordb/entities/query', { collectionName: COLL, filter: 'id > 0', outputFields: ['id'], limit: 200 }),
    'query on the standby');
  assert.equal(q.length, rows.length + more.length, `the standby holds ${q.length} of ${rows.length + more.length} rows`);
  state.passed = true;
});

// ---------------------------------------------------------------------------
// 5. Cascading, and a bootstrap from a manifest past its checkpoint.

// Waits until the collection's index covers every row on `server` (no build
// pending: no file change is about to be logged).
async function indexBuilt(server, servers) {
  await waitUntil(`index of ${COLL} built on ${server.endpoint}`, 60000, servers, async () => {
    const [d] = await ok(milvus(server.endpoint, 'indexes/describe', { collectionName: COLL, indexName: 'vec_idx' }), 'indexes/describe');
    return { done: d.indexState === 'Finished' && Number(d.pendingRows) === 0, seen: d };
  });
}

test('cascading: standby B follows standby A, which follows the primary; B converges to the primary\'s rows', async (t) => {
  const root = tempDir('repl-cascade');
  const primary = new ArkServer(path.join(root, 'primary'));
  let a = null;
  let b = null;
  const state = cleanupAfter(t, root, () => [b, a, primary]);
  await primary.start();
  await createKillLoopCollection(primary.endpoint, { index_type: 'HNSW', M: 8, efConstruction: 40 });
  let nextId = 1;
  const insert = async (n) => {
    const ids = Array.from({ length: n }, () => nextId++);
    await ok(milvus(primary.endpoint, 'entities/insert', { collectionName: COLL, data: ids.map((id) => rowOf(id, 1)) }), 'insert');
  };
  const flush = () => ok(milvus(primary.endpoint, 'collections/flush', { collectionName: COLL }, 120000), 'flush');
  // Both bootstraps happen with rows unflushed and index builds under way
  // (each manifest may be past its checkpoint).
  await insert(500);
  await flush();
  await insert(200);
  a = new ArkServer(path.join(root, 'a'), standbyArgs(primary.endpoint, 'a'));
  await a.start();
  await insert(200);
  b = new ArkServer(path.join(root, 'b'), standbyArgs(a.endpoint, 'b'));
  await b.start();
  // More writes and a seal while both stream: B gets them through A.
  await insert(300);
  await flush();
  await insert(100);
  const servers = [primary, a, b];
  await converge('cascade', primary, [a, b], servers);
  const sa = await replStatus(a);
  const e = (sa.standbys || []).find((x) => x.name === 'b');
  assert.ok(e && e.connected, `standby A's status does not show B connected: ${JSON.stringify(sa.standbys)}`);
  const ids = Array.from({ length: nextId - 1 }, (_, i) => i + 1);
  const p = await readMarkers(primary.endpoint, ids, 'primary');
  const rb = await readMarkers(b.endpoint, ids, 'standby B');
  const failures = [...p.failures, ...rb.failures, ...compareReplica(p, rb), ...await compareFiles(primary, b, servers)];
  if (p.rows.size !== ids.length) failures.push(`the primary holds ${p.rows.size} of ${ids.length} inserted rows`);
  assert.deepEqual(failures, [], `standby B differs from the primary:\n${logTails(servers)}`);
  state.passed = true;
});

// An index build (a logged file change) that commits while inserted rows are
// still unflushed leaves the primary's manifest applied past its checkpoint.
// A standby bootstrapped then must open and stream the records after the
// checkpoint like any other.
test('bootstrap from a manifest past its checkpoint (an index build after unflushed inserts): the standby opens and converges', async (t) => {
  const root = tempDir('repl-ckpt');
  const primary = new ArkServer(path.join(root, 'primary'));
  let standby = null;
  const state = cleanupAfter(t, root, () => [standby, primary]);
  await primary.start();
  await createKillLoopCollection(primary.endpoint, { index_type: 'HNSW', M: 8, efConstruction: 40 });
  const ids = Array.from({ length: 1200 }, (_, i) => i + 1);
  await ok(milvus(primary.endpoint, 'entities/insert', { collectionName: COLL, data: ids.slice(0, 1000).map((id) => rowOf(id, 1)) }), 'insert');
  await ok(milvus(primary.endpoint, 'collections/flush', { collectionName: COLL }, 120000), 'flush');
  // Unflushed rows, then the build of the sealed segment commits after them.
  await ok(milvus(primary.endpoint, 'entities/insert', { collectionName: COLL, data: ids.slice(1000).map((id) => rowOf(id, 1)) }), 'insert');
  await waitUntil('the sealed segment\'s index is built (its file change logged after the unflushed insert)', 60000, [primary], async () => {
    const [d] = await ok(milvus(primary.endpoint, 'indexes/describe', { collectionName: COLL, indexName: 'vec_idx' }), 'indexes/describe');
    return { done: Number(d.indexedRows) >= 1000, seen: d };
  });
  standby = new ArkServer(path.join(root, 'standby'), standbyArgs(primary.endpoint, 'ckpt'));
  try {
    await standby.start();
  } catch (e) {
    const boot = /bootstrapping from .*/.exec(standby.log);
    assert.fail(`a standby bootstrapped from the primary's manifest (${boot ? boot[0] : '?'}; the manifest's applied position ` +
      `${(await ok(admin(primary.endpoint, 'replication/manifest', {}), 'manifest')).applied}) does not start: ${e.message.split('\n').slice(0, 8).join('\n')}`);
  }
  await converge('bootstrap past the checkpoint', primary, [standby]);
  const p = await readMarkers(primary.endpoint, ids, 'primary');
  const s = await readMarkers(standby.endpoint, ids, 'standby');
  const failures = [...p.failures, ...s.failures, ...compareReplica(p, s)];
  if (p.rows.size !== ids.length) failures.push(`the primary holds ${p.rows.size} of ${ids.length} inserted rows`);
  assert.deepEqual(failures, [], `the standby differs from the primary:\n${logTails([primary, standby])}`);
  state.passed = true;
});
