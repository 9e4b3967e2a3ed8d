// WAL archiving under SIGKILL (issue 15): `ark serve` archives into a local
// repository while writers insert marker rows (every field derived from the
// id) and an admin client flushes and compacts (file changes: the archiver
// ships the files they add). At a random moment the server is SIGKILLed;
// then, before it restarts, `ark restore --to-latest` rebuilds the database
// from the repository alone, as after the loss of the whole site, and:
//
//   - every batch acknowledged more than one archive interval plus one upload
//     (ALLOWANCE_MS) before the kill is in the restore;
//   - what the restore holds is a prefix of each writer's acknowledged
//     batches (no hole: the archive is contiguous), batches are whole (one
//     WAL record each), no row was never sent, every row's content is right;
//   - `ark archive verify` reads the whole archive back (checksums, positions,
//     files, continuity) and `ark archive status` shows no gap.
//
// Then the server restarts on its data directory and resumes archiving from
// its slot. Some rounds take a backup during the load, so restores start from
// different backups.
//
// ARK_ARCHIVE_KILL_ROUNDS (default 3) rounds; 30 for the long run
// (docs/reliability.md). ARK_ARCHIVE_KILL_SEED replays a round mix.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { tempDir, runArk, startServe } = require('./helpers');
const {
  COLL, ArkServer, milvus, admin, rng, rowOf, rowMismatch, createKillLoopCollection,
} = require('./kill_loop_lib');

const ROUNDS = Number(process.env.ARK_ARCHIVE_KILL_ROUNDS || 3);
const SEED = Number(process.env.ARK_ARCHIVE_KILL_SEED || (Date.now() % 2147483647));
const INTERVAL_S = 1;  // archive.interval_seconds: the default
// One interval plus one upload: an upload of a range on loopback takes
// milliseconds; 1 s covers a loaded CI machine under ASan.
const ALLOWANCE_MS = INTERVAL_S * 1000 + Number(process.env.ARK_ARCHIVE_UPLOAD_MS || 1000);
const WRITERS = 3;
const CHUNK = 1000;

async function ok(res, what) {
  const r = await res;
  assert.equal(r.code, 0, `${what}: ${JSON.stringify(r).slice(0, 400)}`);
  return r;
}

async function waitJob(endpoint, jobId) {
  for (;;) {
    const j = await ok(admin(endpoint, 'jobs/get', { jobId }), 'jobs/get');
    if (j.data.state !== 'running') return j.data;
    await new Promise((r) => setTimeout(r, 20));  // job status polling
  }
}

async function arkOk(args) {
  const r = await runArk(args);
  assert.equal(r.status, 0, `ark ${args.join(' ')} exited ${r.status}: ${r.stderr}${r.stdout}`);
  return r.stdout.toString();
}

class Round {
  constructor(ctx, n, next) {
    Object.assign(this, { ctx, n, next });
    this.stop = false;
    this.problems = [];
    this.backup = null;
    this.flushes = 0;
  }

  get endpoint() { return this.ctx.server.endpoint; }

  async writer(w) {
    while (!this.stop) {
      const k = 1 + Math.floor(this.next() * 30);
      const ids = [];
      for (let i = 0; i < k; i++) { ids.push(this.ctx.nextId[w]); this.ctx.nextId[w] += WRITERS; }
      const batch = { w, ids, sent: Date.now(), acked: null, ambiguous: false };
      this.ctx.batches.push(batch);
      let res;
      try {
        res = await milvus(this.endpoint, 'entities/insert', { collectionName: COLL, data: ids.map((id) => rowOf(id, 1)) });
      } catch (e) {
        batch.ambiguous = true;  // no answer: the kill (or a failure, reported below)
        if (!this.stop) this.problems.push(`insert: transport error before the kill: ${e.cause || e}`);
        return;
      }
      if (res.code !== 0) {
        this.problems.push(`insert of ${k} rows rejected: ${JSON.stringify(res).slice(0, 300)}`);
        batch.rejected = true;
        return;
      }
      batch.acked = Date.now();
    }
  }

  // Seals and compactions: file changes whose files the archiver must ship.
  async adminLoop() {
    while (!this.stop) {
      await new Promise((r) => setTimeout(r, 100 + this.next() * 400));  // shapes the load; synchronises nothing
      if (this.stop) break;
      const route = this.next() < 0.7 ? 'collections/flush' : 'collections/compact';
      try {
        const res = await milvus(this.endpoint, route, { collectionName: COLL }, 60000);
        if (res.code !== 0) this.problems.push(`${route}: ${JSON.stringify(res).slice(0, 300)}`);
        else this.flushes += 1;
      } catch (e) {
        if (!this.stop) this.problems.push(`${route}: transport error before the kill: ${e.cause || e}`);
      }
    }
  }

  async backupDuringLoad(delayMs) {
    await new Promise((r) => setTimeout(r, delayMs));  // when in the round the backup starts
    if (this.stop) return;
    try {
      const res = await admin(this.endpoint, 'backups/create', { repo: this.ctx.repo, name: `round-${this.n}` });
      if (res.code !== 0) { this.problems.push(`backups/create: ${JSON.stringify(res).slice(0, 300)}`); return; }
      this.backup = { name: `round-${this.n}`, jobId: res.data.jobId };
    } catch (e) {
      if (!this.stop) this.problems.push(`backups/create: transport error before the kill: ${e.cause || e}`);
    }
  }

  async run() {
    const durationMs = 1500 + this.next() * 3000;
    const killed = new Promise((resolve) => {
      setTimeout(async () => {
        this.stop = true;
        this.killAt = Date.now();
        resolve(await this.ctx.server.kill());
      }, durationMs);
    });
    const clients = [];
    for (let w = 0; w < WRITERS; w++) clients.push(this.writer(w));
    clients.push(this.adminLoop());
    if (this.n % 3 === 0) clients.push(this.backupDuringLoad(this.next() * durationMs * 0.5));
    await Promise.all(clients);
    const exit = await killed;
    if (exit.signal !== 'SIGKILL') this.problems.push(`server exited by itself before the kill: ${JSON.stringify(exit)}`);
    return durationMs;
  }
}

// Reads every id ever sent from a server on the restored directory.
async function readRestored(ctx, restoredDir) {
  const srv = await startServe('archive-kill-verify', { dataDir: restoredDir });
  try {
    const found = new Map();
    const failures = [];
    const ids = ctx.batches.flatMap((b) => b.ids);
    for (let i = 0; i < ids.length; i += CHUNK) {
      const chunk = ids.slice(i, i + CHUNK);
      const res = await milvus(srv.endpoint, 'entities/query',
        { collectionName: COLL, filter: `id in [${chunk.join(',')}]`, outputFields: ['ver', 'tag', 'meta', 'vec'] });
      assert.equal(res.code, 0, `query on the restored database: ${JSON.stringify(res).slice(0, 300)}`);
      for (const row of res.data) {
        const id = Number(row.id);
        if (found.has(id)) failures.push(`id ${id} returned twice`);
        found.set(id, row);
        const bad = rowMismatch(row, id, 1);
        if (bad) failures.push(`id ${id}: restored row content wrong: ${bad}`);
      }
    }
    const cnt = await milvus(srv.endpoint, 'entities/query', { collectionName: COLL, filter: '', outputFields: ['count(*)'] });
    const count = cnt.code === 0 ? Number(cnt.data[0]['count(*)']) : NaN;
    if (count !== found.size) failures.push(`count(*) ${JSON.stringify(cnt).slice(0, 200)} but ${found.size} rows found by id`);
    return { found, failures };
  } finally {
    await srv.cleanup();
  }
}

// Checks the restore against the batches; returns {failures, lostMs, rows}.
function check(ctx, round, found) {
  const failures = [];
  const sent = new Set(ctx.batches.flatMap((b) => b.ids));
  for (const id of found.keys()) if (!sent.has(id)) failures.push(`id ${id} was never sent, but is restored`);
  let lostMs = 0;       // age at the kill of the oldest acknowledged batch the restore lacks
  let lostRows = 0;
  for (let w = 0; w < WRITERS; w++) {
    let missingFrom = null;  // the first of this writer's batches not restored
    for (const b of ctx.batches.filter((x) => x.w === w)) {
      const have = b.ids.filter((id) => found.has(id)).length;
      if (have !== 0 && have !== b.ids.length) failures.push(`torn batch: ${have} of ids ${b.ids} restored`);
      const present = have === b.ids.length;
      if (!present && b.rejected) continue;
      if (present && missingFrom) {
        failures.push(`hole: writer ${w}'s batch sent ${b.sent - missingFrom.sent} ms after the missing batch ` +
          `${missingFrom.ids[0]}.. is restored (the archive is not a prefix of the WAL)`);
      }
      if (!present && !missingFrom) missingFrom = b;
      if (!present && b.acked !== null) {
        if (b.acked < ctx.roundStart) failures.push(`batch ${b.ids[0]}.. acknowledged in an earlier round is missing`);
        lostRows += b.ids.length;
        lostMs = Math.max(lostMs, round.killAt - b.acked);
      }
    }
  }
  if (lostMs > ALLOWANCE_MS) {
    failures.push(`an acknowledged batch ${lostMs} ms older than the kill is missing (allowed: ${ALLOWANCE_MS} ms)`);
  }
  return { failures, lostMs, lostRows };
}

test('archive kill loop: SIGKILL during archiving; restore --to-latest loses nothing older than an interval and an upload', async (t) => {
  const root = tempDir('archive-kill');
  const repo = path.join(root, 'repo');
  const config = path.join(root, 'ark.yaml');
  fs.writeFileSync(config, `archive:\n  repo: ${repo}\n  interval_seconds: ${INTERVAL_S}\n`);
  const ctx = {
    server: new ArkServer(path.join(root, 'data'), ['--config', config]),
    repo, batches: [], nextId: Array.from({ length: WRITERS }, (_, w) => w + 1), roundStart: 0,
  };
  let passed = false;
  t.after(async () => {
    await ctx.server.kill();
    if (passed) fs.rmSync(root, { recursive: true, force: true });
    else t.diagnostic(`archive kill loop: kept ${root}`);
  });
  t.diagnostic(`archive kill loop: seed ${SEED}, ${ROUNDS} rounds ` +
    `(replay: ARK_ARCHIVE_KILL_SEED=${SEED} ARK_ARCHIVE_KILL_ROUNDS=${ROUNDS})`);

  await ctx.server.start();
  await createKillLoopCollection(ctx.server.endpoint, { index_type: 'HNSW', M: 8, efConstruction: 40 });
  // The base backup every restore can start from.
  const base = await ok(admin(ctx.server.endpoint, 'backups/create', { repo, name: 'base' }), 'backups/create');
  assert.equal((await waitJob(ctx.server.endpoint, base.data.jobId)).state, 'succeeded');

  let maxLostMs = 0;
  let lostRows = 0;
  let restoredFrom = new Set();
  let ranges = 0;
  const started = Date.now();
  for (let n = 1; n <= ROUNDS; n++) {
    ctx.roundStart = Date.now();
    const round = new Round(ctx, n, rng(SEED + n * 7919));
    const durationMs = await round.run();
    const killedLog = ctx.server.log;
    const restored = path.join(root, `restored-${n}`);
    const failures = round.problems.map((p) => `during load: ${p}`);
    const r = await runArk(['restore', '--repo', repo, '--data-dir', restored, '--to-latest', '--json']);
    if (r.status !== 0) {
      failures.push(`restore --to-latest exited ${r.status}: ${r.stderr}`);
    } else {
      const report = JSON.parse(r.stdout.toString());
      restoredFrom.add(report.backup);
      const { found, failures: readFailures } = await readRestored(ctx, restored);
      failures.push(...readFailures);
      const c = check(ctx, round, found);
      failures.push(...c.failures);
      maxLostMs = Math.max(maxLostMs, c.lostMs);
      lostRows += c.lostRows;
    }
    fs.rmSync(restored, { recursive: true, force: true });
    const v = await runArk(['archive', 'verify', '--repo', repo, '--json', '-q']);
    if (v.status !== 0) failures.push(`archive verify exited ${v.status}: ${v.stderr}${v.stdout}`);
    else ranges = JSON.parse(v.stdout.toString()).ranges;
    const s = await runArk(['archive', 'status', '--repo', repo, '--json']);
    if (s.status !== 0) failures.push(`archive status exited ${s.status}: ${s.stderr}`);
    else if (JSON.parse(s.stdout.toString()).gaps.length) failures.push(`archive status shows gaps: ${s.stdout}`);
    if (failures.length) {
      assert.fail(`round ${n} (seed ${SEED}, killed after ${durationMs.toFixed(0)} ms, ${round.flushes} flushes/compactions, ` +
        `backup ${JSON.stringify(round.backup)}): ${failures.length} failures:\n  ${failures.slice(0, 30).join('\n  ')}\n` +
        `log of the killed run:\n${killedLog.slice(-8000)}`);
    }
    // The acknowledged-but-unarchived tail is in the server's own WAL: after
    // the restart it is archived, and the next round's restore must have it.
    await ctx.server.start().catch((e) => {
      throw new Error(`round ${n}: server does not restart after the kill: ${e.message}\nlog of the killed run:\n${killedLog}`);
    });
    // Unanswered batches: the restarted server shows whether they were
    // applied; from here on they count as what it holds.
    const pending = ctx.batches.filter((b) => b.ambiguous && b.acked === null);
    for (const b of pending) {
      const res = await ok(milvus(ctx.server.endpoint, 'entities/query',
        { collectionName: COLL, filter: `id in [${b.ids.join(',')}]`, outputFields: ['ver'] }), 'query');
      if (res.data.length === b.ids.length) b.acked = ctx.roundStart;  // durable: must reach the archive
      else if (res.data.length === 0) b.rejected = true;
      else assert.fail(`torn batch after restart: ${res.data.length} of ids ${b.ids} present`);
      b.ambiguous = false;
    }
  }
  t.diagnostic(`archive kill loop summary: ${ROUNDS} rounds, ${ctx.batches.length} batches ` +
    `(${ctx.batches.reduce((a, b) => a + b.ids.length, 0)} rows), ${ranges} archived ranges; restores started from ` +
    `backups ${[...restoredFrom].join(', ')}; acknowledged rows missing from a restore in total ${lostRows}, the oldest ` +
    `${maxLostMs} ms before its kill (allowed ${ALLOWANCE_MS} ms); ${((Date.now() - started) / 1000).toFixed(0)} s, seed ${SEED}`);
  passed = true;
});
