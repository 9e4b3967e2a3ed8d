// The kill loop (issues 5 and 7): `ark serve` is SIGKILLed at a random moment
// under mixed load — inserts, upserts, deletes by filter, searches, queries,
// flushes, compactions, HNSW index builds and (some rounds) a backup job —
// then restarted on the same data directory, and every acknowledged write is
// checked against an oracle. Writes whose answer never came are ambiguous:
// either their old or their new state is accepted, but all rows of one batch
// must agree (a batch is one WAL record).
//
// ARK_KILL_ROUNDS (default 5) rounds; ARK_KILL_SEED replays an operation mix.
// Long run: ARK_KILL_ROUNDS=50 (docs/reliability.md, "Kill loop").
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { tempDir } = require('./helpers');
const {
  COLL, ArkServer, milvus, admin, rng, rowOf, createKillLoopCollection, vectorOf, rowMismatch, stateName, sameState, Oracle,
} = require('./kill_loop_lib');

const ROUNDS = Number(process.env.ARK_KILL_ROUNDS || 5);
const SEED = Number(process.env.ARK_KILL_SEED || (Date.now() % 2147483647));
const WRITERS = 4;
const VERIFY_CHUNK = 1000;
const OUTPUT = ['ver', 'tag', 'meta', 'vec'];

function inFilter(ids) { return `id in [${ids.join(',')}]`; }

// One round's load: WRITERS sequential clients, each owning the ids
// congruent to its number (so no two in-flight writes touch one id), an admin
// client (flush, compact, HNSW index rebuilds), maybe a backup job; SIGKILL
// after `durationMs`.
class Round {
  constructor(ctx, n, next) {
    Object.assign(this, { ctx, n, next });
    this.stop = false;
    this.problems = [];  // unexpected answers during the load (fail the round)
    this.mix = { insert: 0, upsert: 0, delete: 0, query: 0, search: 0, flush: 0, compact: 0, index: 0 };
    this.backup = null;  // {name, jobId, state, supported}
  }

  get endpoint() { return this.ctx.server.endpoint; }

  // Sends one write and settles it in the oracle.
  async write(op, ids, to, route, body, countField) {
    const h = this.ctx.oracle.begin(op, ids, to);
    this.mix[op] += 1;
    let res;
    try {
      res = await milvus(this.endpoint, route, body);
    } catch (e) {
      this.ctx.oracle.settle(h, 'ambiguous');
      if (!this.stop) this.problems.push(`${op} of ids ${ids.slice(0, 5)}...: transport error before the kill: ${e.cause || e}`);
      return;
    }
    if (res.code !== 0) {
      this.ctx.oracle.settle(h, 'rejected');
      this.problems.push(`${op} of ${ids.length} ids rejected: ${JSON.stringify(res).slice(0, 300)}`);
      return;
    }
    this.ctx.oracle.settle(h, 'acked');
    // Answered, but read by this process after the signal: acknowledged at the very end.
    if (this.stop) this.ctx.stats.ackedAtKill += 1;
    const n = res.data && res.data[countField];
    if (n !== ids.length) this.problems.push(`${op} of ${ids.length} ids answered ${countField}=${n}`);
  }

  pick(c, count, pred) {
    const owned = this.ctx.owned[c];
    const out = new Set();
    for (let tries = 0; tries < count * 4 && out.size < count && owned.length; tries++) {
      const id = owned[Math.floor(this.next() * owned.length)];
      if (pred(this.ctx.oracle.ids.get(id))) out.add(id);
    }
    return [...out];
  }

  async insert(c) {
    const k = 1 + Math.floor(this.next() * 20);
    const ids = [];
    for (let i = 0; i < k; i++) {
      ids.push(this.ctx.nextId[c]);
      this.ctx.owned[c].push(this.ctx.nextId[c]);
      this.ctx.nextId[c] += WRITERS;
    }
    await this.write('insert', ids, () => ({ present: true, ver: 1 }), 'entities/insert',
      { collectionName: COLL, data: ids.map((id) => rowOf(id, 1)) }, 'insertCount');
  }

  async upsert(c) {
    // Any owned id: a live one gets a new version, a deleted one comes back.
    const ids = this.pick(c, 1 + Math.floor(this.next() * 10), () => true);
    if (!ids.length) return this.insert(c);
    const to = (id, e) => ({ present: true, ver: e.lastVer + 1 });
    const vers = new Map(ids.map((id) => [id, this.ctx.oracle.entry(id).lastVer + 1]));
    return this.write('upsert', ids, to, 'entities/upsert',
      { collectionName: COLL, data: ids.map((id) => rowOf(id, vers.get(id))) }, 'upsertCount');
  }

  async remove(c) {
    const ids = this.pick(c, 1 + Math.floor(this.next() * 8), (e) => e.state.present);
    if (!ids.length) return this.insert(c);
    return this.write('delete', ids, () => ({ present: false, ver: 0 }), 'entities/delete',
      { collectionName: COLL, filter: inFilter(ids) }, 'deleteCount');
  }

  // Read-your-writes: this client's own ids (none in flight) read back as acknowledged.
  async query(c) {
    const ids = this.pick(c, 20, (e) => !e.pending);
    if (!ids.length) return;
    this.mix.query += 1;
    let res;
    try {
      res = await milvus(this.endpoint, 'entities/query', { collectionName: COLL, filter: inFilter(ids), outputFields: OUTPUT });
    } catch (e) {
      if (!this.stop) this.problems.push(`query: transport error before the kill: ${e.cause || e}`);
      return;
    }
    if (res.code !== 0) { this.problems.push(`query: ${JSON.stringify(res).slice(0, 300)}`); return; }
    const rows = new Map(res.data.map((r) => [Number(r.id), r]));
    for (const id of ids) {
      const e = this.ctx.oracle.ids.get(id);
      if (e.pending) continue;  // cannot happen for this client's ids; defensive
      const row = rows.get(id);
      const found = row ? { present: true, ver: Number(row.ver) } : { present: false, ver: 0 };
      if (!sameState(found, e.state)) {
        this.problems.push(`read-your-writes: id ${id} acknowledged ${stateName(e.state)}, query found ${stateName(found)}`);
      }
    }
  }

  async search() {
    this.mix.search += 1;
    let res;
    try {
      res = await milvus(this.endpoint, 'entities/search', {
        collectionName: COLL, data: [vectorOf(Math.floor(this.next() * 1e9), 0)], annsField: 'vec', limit: 10,
        outputFields: ['ver'], searchParams: { metricType: 'L2', params: { ef: 32 } },
      });
    } catch (e) {
      if (!this.stop) this.problems.push(`search: transport error before the kill: ${e.cause || e}`);
      return;
    }
    if (res.code !== 0 || res.data.length > 10) this.problems.push(`search: ${JSON.stringify(res).slice(0, 300)}`);
  }

  async writer(c) {
    while (!this.stop) {
      const p = this.next();
      if (p < 0.35) await this.insert(c);
      else if (p < 0.6) await this.upsert(c);
      else if (p < 0.75) await this.remove(c);
      else if (p < 0.9) await this.query(c);
      else await this.search();
    }
  }

  async adminOp(kind, route, body) {
    this.mix[kind] += 1;
    try {
      const res = await milvus(this.endpoint, route, body, 60000);
      if (res.code !== 0) this.problems.push(`${route}: ${JSON.stringify(res).slice(0, 300)}`);
    } catch (e) {
      if (!this.stop) this.problems.push(`${route}: transport error before the kill: ${e.cause || e}`);
    }
  }

  // Flushes (seals), compactions and index redefinitions (drop + create: background HNSW
  // builds over every sealed segment), spaced by random pauses that shape the
  // load (they synchronise nothing).
  async adminLoop() {
    while (!this.stop) {
      await new Promise((r) => setTimeout(r, 50 + this.next() * 250));
      if (this.stop) break;
      const p = this.next();
      if (p < 0.45) await this.adminOp('flush', 'collections/flush', { collectionName: COLL });
      else if (p < 0.7) await this.adminOp('compact', 'collections/compact', { collectionName: COLL });
      else {
        // Milvus (and Ark's API) never replaces a field's index with other
        // parameters: redefine = drop, then create (one admin loop: no race).
        let listed = null;
        try { listed = await milvus(this.endpoint, 'indexes/list', { collectionName: COLL }, 60000); } catch { listed = null; }
        if (this.stop) break;
        if (listed && listed.code === 0 && Array.isArray(listed.data) && listed.data.includes('vec_idx')) {
          await this.adminOp('index', 'indexes/drop', { collectionName: COLL, indexName: 'vec_idx' });
        }
        if (this.stop) break;
        await this.adminOp('index', 'indexes/create', {
          collectionName: COLL,
          indexParams: [{ fieldName: 'vec', indexName: 'vec_idx', metricType: 'L2', indexType: 'HNSW',
            params: { M: this.next() < 0.5 ? 8 : 16, efConstruction: 40 + Math.floor(this.next() * 40) } }],
        });
      }
    }
  }

  // Starts a backup job after `delayMs` and follows it until the kill.
  async backupLoop(delayMs) {
    await new Promise((r) => setTimeout(r, delayMs));
    if (this.stop || this.ctx.backupSupported === false) return;
    const name = `round-${this.n}`;
    this.backup = { name, jobId: null, state: 'not started' };
    let res;
    try {
      res = await admin(this.endpoint, 'backups/create', { repo: this.ctx.repo, name });
    } catch (e) {
      if (!this.stop) this.problems.push(`backups/create: transport error before the kill: ${e.cause || e}`);
      this.backup.state = 'create unanswered';
      return;
    }
    if (res.code !== 0) {
      if (/backups\/create is not supported/.test(res.message || '')) {  // an older binary: skip backups
        this.ctx.backupSupported = false;
        this.backup = null;
        return;
      }
      this.problems.push(`backups/create: ${JSON.stringify(res).slice(0, 300)}`);
      this.backup.state = 'create rejected';
      return;
    }
    this.ctx.backupSupported = true;
    this.backup.jobId = res.data.jobId;
    this.backup.state = 'running';
    while (!this.stop && this.backup.state === 'running') {
      try {
        const j = await admin(this.endpoint, 'jobs/get', { jobId: this.backup.jobId });
        if (j.code === 0 && !this.stop) this.backup.state = j.data.state;
        if (j.code === 0 && j.data.state === 'failed') this.problems.push(`backup job failed: ${JSON.stringify(j.data)}`);
      } catch { break; }
      if (this.backup.state === 'running') await new Promise((r) => setTimeout(r, 20));  // job status polling
    }
  }

  async run() {
    const durationMs = 300 + this.next() * 1700;
    const withBackup = this.n % 2 === 0 || this.next() < 0.3;
    // Half the backups start within ~60 ms of the kill, so some are cut off mid-upload.
    const backupDelay = this.next() < 0.5 ? this.next() * durationMs * 0.6
      : Math.max(0, durationMs - 5 - this.next() * 60);
    const killed = new Promise((resolve) => {
      setTimeout(async () => {
        this.stop = true;  // before the signal: answers failing from here on are the kill's
        resolve(await this.ctx.server.kill());
      }, durationMs);
    });
    const clients = [];
    for (let c = 0; c < WRITERS; c++) clients.push(this.writer(c));
    clients.push(this.adminLoop());
    if (withBackup) clients.push(this.backupLoop(backupDelay));
    await Promise.all(clients);
    const exit = await killed;
    if (exit.signal !== 'SIGKILL') {
      this.problems.push(`server exited by itself before the kill: ${JSON.stringify(exit)}`);
    }
    return durationMs;
  }
}

// Reads every id the oracle knows back from the restarted server and checks
// it; returns {failures, found, lost, present}.
async function verify(ctx, round) {
  const { oracle, server } = ctx;
  const failures = [];
  const found = new Map();
  const ids = [...oracle.ids.keys()];
  for (let i = 0; i < ids.length; i += VERIFY_CHUNK) {
    const chunk = ids.slice(i, i + VERIFY_CHUNK);
    const res = await milvus(server.endpoint, 'entities/query',
      { collectionName: COLL, filter: inFilter(chunk), outputFields: OUTPUT });
    if (res.code !== 0) { failures.push(`verify query: ${JSON.stringify(res).slice(0, 300)}`); return { failures, found, lost: 0, present: 0 }; }
    for (const row of res.data) {
      const id = Number(row.id);
      if (found.has(id)) { failures.push(`id ${id}: returned twice (${JSON.stringify(row).slice(0, 200)})`); continue; }
      if (!oracle.ids.has(id)) { failures.push(`id ${id}: never written, but found`); continue; }
      const ver = Number(row.ver);
      found.set(id, { present: true, ver });
      const bad = rowMismatch(row, id, ver);
      if (bad) failures.push(`id ${id} v${ver}: row content wrong: ${bad}`);
    }
  }
  let lost = 0;
  for (const id of ids) {
    const got = found.get(id) || { present: false, ver: 0 };
    const allowed = oracle.allowed(id);
    if (!allowed.some((s) => sameState(s, got))) {
      const e = oracle.ids.get(id);
      if (!e.pending) lost += 1;
      failures.push(`id ${id}: expected ${allowed.map(stateName).join(' or ')}` +
        `${e.pending ? ' (write in flight at the kill)' : ' (acknowledged)'}, found ${stateName(got)}`);
    }
  }
  // A batch is one WAL record: after the kill it is applied whole or not at all.
  for (const h of oracle.ambiguous) {
    const changing = h.ids.filter((id) => !sameState(h.from.get(id), h.to.get(id)));
    const state = (id) => found.get(id) || { present: false, ver: 0 };
    const applied = changing.filter((id) => sameState(state(id), h.to.get(id)));
    const notApplied = changing.filter((id) => sameState(state(id), h.from.get(id)));
    if (applied.length && notApplied.length) {
      failures.push(`torn ${h.op} batch: ids ${applied} applied, ids ${notApplied} not`);
    }
  }
  const present = [...found.values()].length;
  const { lo, hi } = oracle.countBounds();
  const cnt = await milvus(server.endpoint, 'entities/query', { collectionName: COLL, filter: '', outputFields: ['count(*)'] });
  const count = cnt.code === 0 ? Number(cnt.data[0]['count(*)']) : NaN;
  if (count !== present || count < lo || count > hi) {
    failures.push(`count(*) ${JSON.stringify(cnt).slice(0, 200)}: want ${present} rows found by id, oracle bounds [${lo}, ${hi}]`);
  }
  const s = await milvus(server.endpoint, 'entities/search', {
    collectionName: COLL, data: [vectorOf(round, 12345)], annsField: 'vec', limit: 10, outputFields: ['ver'],
    searchParams: { metricType: 'L2', params: { ef: 64 } },
  });
  if (s.code !== 0) {
    failures.push(`search after restart: ${JSON.stringify(s).slice(0, 300)}`);
  } else {
    if (s.data.length !== Math.min(10, present)) failures.push(`search after restart: ${s.data.length} hits of ${present} rows`);
    for (const hit of s.data) {
      const got = found.get(Number(hit.id));
      if (!got || got.ver !== Number(hit.ver)) failures.push(`search after restart: hit ${JSON.stringify(hit)} is not a live row`);
    }
  }
  return { failures, found, lost, present };
}

// Polls a verify job of `name` to its end; returns its final state.
async function verifyBackup(ctx, name) {
  const res = await admin(ctx.server.endpoint, 'backups/verify', { repo: ctx.repo, name });
  if (res.code !== 0) return `verify refused: ${JSON.stringify(res).slice(0, 300)}`;
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline) {
    const j = await admin(ctx.server.endpoint, 'jobs/get', { jobId: res.data.jobId });
    if (j.code !== 0) return `jobs/get: ${JSON.stringify(j).slice(0, 300)}`;
    if (j.data.state !== 'running') return j.data.state === 'succeeded' ? 'succeeded' : JSON.stringify(j.data).slice(0, 300);
    await new Promise((r) => setTimeout(r, 20));  // job status polling
  }
  return 'verify job still running after 60 s';
}

// A backup whose job succeeded before the kill must be listed; a listed one
// (whatever its job showed) must verify.
async function checkBackup(ctx, round, failures) {
  const b = round.backup;
  if (!b || !b.jobId) return;
  ctx.stats.backupsStarted += 1;
  if (b.state === 'succeeded') ctx.stats.backupsSucceeded += 1;
  const res = await admin(ctx.server.endpoint, 'backups/list', { repo: ctx.repo });
  if (res.code !== 0) {
    // No repository yet is fine only if nothing had succeeded.
    if (b.state === 'succeeded') failures.push(`backups/list after backup ${b.name} succeeded: ${JSON.stringify(res).slice(0, 300)}`);
    return;
  }
  const listed = res.data.some((m) => m.name === b.name);
  if (b.state === 'succeeded' && !listed) failures.push(`backup ${b.name} succeeded before the kill but is not listed`);
  if (!listed) return;
  ctx.stats.backupsListed += 1;
  const v = await verifyBackup(ctx, b.name);
  if (v !== 'succeeded') failures.push(`backup ${b.name} (job ${b.state} at the kill) is listed but does not verify: ${v}`);
  else ctx.stats.backupsVerified += 1;
}

test('kill loop: SIGKILL under mixed load loses no acknowledged write', async (t) => {
  const root = tempDir('kill-loop');
  const ctx = {
    server: new ArkServer(path.join(root, 'data')),
    repo: path.join(root, 'repo'),
    oracle: new Oracle(),
    owned: Array.from({ length: WRITERS }, () => []),
    nextId: Array.from({ length: WRITERS }, (_, c) => c + 1),
    backupSupported: undefined,
    stats: { ackedAtKill: 0, backupsStarted: 0, backupsSucceeded: 0, backupsListed: 0, backupsVerified: 0 },
  };
  let passed = false;
  t.after(async () => {
    await ctx.server.kill();
    if (passed) fs.rmSync(root, { recursive: true, force: true });
    else t.diagnostic(`kill loop: data directory kept at ${root}`);
  });
  t.diagnostic(`kill loop: seed ${SEED}, ${ROUNDS} rounds (replay: ARK_KILL_SEED=${SEED} ARK_KILL_ROUNDS=${ROUNDS})`);

  await ctx.server.start();
  await createKillLoopCollection(ctx.server.endpoint, { index_type: 'FLAT' });
  let kills = 0;
  let lost = 0;
  let maxRestartMs = 0;
  let rows = 0;
  const started = Date.now();
  for (let n = 1; n <= ROUNDS; n++) {
    const round = new Round(ctx, n, rng(SEED + n * 7919));
    const durationMs = await round.run();
    kills += 1;
    const killedLog = ctx.server.log;
    const restartMs = await ctx.server.start().catch((e) => {
      throw new Error(`round ${n}: server does not restart after the kill (seed ${SEED}): ${e.message}\n` +
        `log of the killed run:\n${killedLog}`);
    });
    maxRestartMs = Math.max(maxRestartMs, restartMs);
    const v = await verify(ctx, n);
    await checkBackup(ctx, round, v.failures);
    lost += v.lost;
    rows = v.present;
    const failures = [...round.problems.map((p) => `during load: ${p}`), ...v.failures];
    if (failures.length) {
      assert.fail(`round ${n} (seed ${SEED}, killed after ${durationMs.toFixed(0)} ms, ` +
        `op mix ${JSON.stringify(round.mix)}, backup ${JSON.stringify(round.backup)}): ` +
        `${failures.length} failures, ${v.lost} acknowledged writes lost:\n  ${failures.slice(0, 30).join('\n  ')}\n` +
        `log of the killed run:\n${killedLog.slice(-8000)}\nlog after restart:\n${ctx.server.log.slice(-8000)}`);
    }
    ctx.oracle.resolve(v.found);
  }
  const tot = ctx.oracle.totals;
  const backups = ctx.backupSupported === false ? 'backups: admin API not in this binary' :
    `backups started ${ctx.stats.backupsStarted}, succeeded before the kill ${ctx.stats.backupsSucceeded}, ` +
    `listed after restart ${ctx.stats.backupsListed}, verified ${ctx.stats.backupsVerified}`;
  t.diagnostic(`kill loop summary: ${ROUNDS} rounds, ${kills} kills, acked rows: ${tot.inserts} inserted, ` +
    `${tot.upserts} upserted, ${tot.deletes} deleted; ambiguous at the kill: ${tot.ambiguousOps} writes ` +
    `(${tot.ambiguousIds} ids), ` +
    `${ctx.stats.ackedAtKill} writes acknowledged as the kill was sent; rows at the end ${rows}; max restart-to-ready ${maxRestartMs} ms; ` +
    `${backups}; data lost: ${lost}; ${((Date.now() - started) / 1000).toFixed(0)} s, seed ${SEED}`);
  assert.equal(lost, 0);
  passed = true;
});
