#!/usr/bin/env node
// Planned switchover write pause (issue 17: goal <= 2 s): Ark's
// `ark failover switchover` beside Patroni's `patronictl switchover`
// (Patroni 3.0 + PostgreSQL 15 + etcd 3.4 from Debian) in the same run,
// measured the same way by the same client. Node standard library only.
//
//   node bench/switchover_bench.js [--ark PATH] [--switchovers 10]
//       [--stacks ark,ark-etcd,patroni-default,patroni-min]
//       [--base-rows 1000] [--dim 8] [--settle-seconds 2] [--retry-ms 5]
//       [--max-pause-seconds 60] [--md docs/benchmarks/failover.md] [--json FILE] [--keep]
//   node bench/switchover_bench.js --from-json FILE [--md FILE]   (re-render a saved --json run)
//
// Per stack, one two-node cluster on loopback (Ark: `ark serve` primary a
// and standby b, the witness `ark monitor` or etcd; Patroni: etcd, node p1
// bootstraps as leader, p2 clones it), --base-rows rows, then:
//
//   1. one writer inserts rows back to back (one at a time, a new id from
//      1,000,000 for every try) for the whole run; every acknowledgement is
//      timed on the client's monotonic clock;
//   2. N times, after --settle-seconds of writing: the planned switchover to
//      the other node (Ark: `ark failover switchover --server A --to B`,
//      no monitor involved; Patroni: `patronictl -c p1.yml switchover
//      --leader X --candidate Y --force`), started without stopping the
//      writer; then wait until the writer has a write acknowledged by the
//      new primary and the old primary streams from it as a standby; the
//      next switchover goes back;
//   3. the write pause of a switchover = the longest gap between two
//      consecutive acknowledged writes from the last one before the command
//      started to the later of (the command returned, the first write the
//      new primary acknowledged); failed writes = the tries that failed in
//      that span;
//   4. at the end, rows lost = acknowledged ids missing on the final
//      primary (must be 0).
//
// How the client follows the new primary is the same on both stacks: it
// keeps writing to one node; when a write fails or is refused it switches
// to the other node and retries after --retry-ms. Ark: one keep-alive HTTP
// connection per node (fetch). PostgreSQL: one persistent psql session per
// node fed statements on stdin, each followed by `\warn ACK n :ERROR`
// (cluster_lib.js PsqlSession); a session whose connection dropped is
// restarted on the next try. (A libpq client gets the same search from a
// multi-host string `host=a,b target_session_attrs=read-write`, at connect
// time.) Each try times out after 2 s.
//
// Every process started is in its own process group and is SIGKILLed at exit
// (also on failure, SIGINT and SIGTERM), with the postmasters and their
// children; the work directories are removed unless --keep.
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {
  ROOT, setLogTag, log, setKeepDirs, killAll, cleanupAll, installCleanup, run, sleep, waitFor, makeWorkDir, removeWorkDir,
  postJson, httpStatus, arkInsert, arkLoad, runMeta, patroniMissing, usePrivateArkCopy, stats, writeMd,
  startEtcd, startArkPair, PsqlSession, psqlOnce, pgLoad, patroniLogTimes, startPatroniPair,
} = require('./cluster_lib');

const FIRST_ID = 1_000_000;
const TRY_TIMEOUT_MS = 2000;

const STACKS = {
  ark: { kind: 'ark', witness: 'monitor', label: 'Ark, witness `ark monitor` (default settings)' },
  'ark-etcd': { kind: 'ark', witness: 'etcd', label: 'Ark, witness etcd (no monitor; default settings)' },
  'patroni-default': { kind: 'patroni', dcs: null, label: "Patroni's defaults (ttl 30, loop_wait 10, retry_timeout 10)" },
  'patroni-min': { kind: 'patroni', dcs: { ttl: 20, loop_wait: 1, retry_timeout: 3 }, label: 'Patroni at its documented minimums (ttl 20, loop_wait 1, retry_timeout 3)' },
};

// ---------------------------------------------------------------- options

function parseArgs(argv) {
  const o = {
    ark: null, switchovers: 10, stacks: 'ark,ark-etcd,patroni-default,patroni-min', baseRows: 1000, dim: 8, settleSeconds: 2,
    retryMs: 5, maxPauseSeconds: 60, md: null, json: null, keep: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => { if (i + 1 >= argv.length) usage(`${a} needs a value`); return argv[++i]; };
    const num = () => { const v = Number(val()); if (!Number.isFinite(v) || v < 0) usage(`${a} needs a number`); return v; };
    switch (a) {
      case '--ark': o.ark = val(); break;
      case '--switchovers': o.switchovers = num(); break;
      case '--stacks': o.stacks = val(); break;
      case '--base-rows': o.baseRows = num(); break;
      case '--dim': o.dim = num(); break;
      case '--settle-seconds': o.settleSeconds = num(); break;
      case '--retry-ms': o.retryMs = num(); break;
      case '--max-pause-seconds': o.maxPauseSeconds = num(); break;
      case '--md': o.md = val(); break;
      case '--json': o.json = val(); break;
      case '--from-json': o.fromJson = val(); break;
      case '--keep': o.keep = true; break;
      case '-h': case '--help': usage(); break;
      default: usage(`unknown argument ${a}`);
    }
  }
  o.stacks = o.stacks.split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of o.stacks) if (!STACKS[s]) usage(`unknown stack ${s}`);
  if (!Number.isInteger(o.switchovers) || o.switchovers < 1) usage('--switchovers must be a positive integer');
  if (!o.ark) {
    const rel = path.join(ROOT, 'build/release/ark');
    o.ark = fs.existsSync(rel) ? rel : path.join(ROOT, 'build/asan/ark');
  }
  o.ark = path.resolve(o.ark);
  return o;
}

function usage(msg) {
  if (msg) console.error(`error: ${msg}`);
  console.error('usage: node bench/switchover_bench.js [--ark PATH] [--switchovers 10] [--stacks ' + Object.keys(STACKS).join(',') + ']\n' +
    '         [--base-rows 1000] [--dim 8] [--settle-seconds 2] [--retry-ms 5] [--max-pause-seconds 60]\n' +
    '         [--md FILE] [--json FILE] [--keep]\n' +
    '       node bench/switchover_bench.js --from-json FILE [--md FILE]   (re-render a saved run)');
  process.exit(msg ? 2 : 0);
}

setLogTag('switchover_bench');
installCleanup();

// ---------------------------------------------------------------- the writer

// One writer for the whole run: inserts back to back into `target`; on a
// failed or refused insert it switches to the other node and waits retryMs.
class Writer {
  constructor({ insert, first, other, retryMs }) {
    this.insert = insert;   // (node, id) -> {ok, at, err}
    this.target = first;
    this.other = other;     // node -> the other node
    this.retryMs = retryMs;
    this.nextId = FIRST_ID;
    this.acks = [];         // {at, node, id}, in order
    this.failures = [];     // {at, node, err}
    this.running = false;
  }

  start() { this.running = true; this.done = this.loop(); }

  async loop() {
    while (this.running) {
      const id = this.nextId++;
      const node = this.target;
      const r = await this.insert(node, id);
      if (r.ok) { this.acks.push({ at: r.at, node, id }); continue; }
      this.failures.push({ at: r.at, node, err: r.err });
      this.target = this.other(node);
      await sleep(this.retryMs);
    }
  }

  async stop() { this.running = false; await this.done; }

  // The first acknowledgement by `node` after time t, or null.
  firstAckOn(node, t) {
    let first = null;
    for (let i = this.acks.length - 1; i >= 0 && this.acks[i].at > t; i--) if (this.acks[i].node === node) first = this.acks[i];
    return first;
  }
}

// The write pause of one switchover (all times ms on the client's clock).
// cmdStart/cmdEnd: the command ran; firstNew: the first write the new
// primary acknowledged; settleMs: the steady writing before it (for the gap
// a write normally takes).
function measure(writer, { cmdStart, cmdEnd, firstNew, settleMs }) {
  const acks = writer.acks;
  let i0 = acks.length - 1;
  while (i0 > 0 && acks[i0].at > cmdStart) i0--;
  const end = Math.max(cmdEnd, firstNew);
  let pause = 0;
  let pauseFrom = acks[i0].at;
  for (let k = i0; k + 1 < acks.length && acks[k].at < end; k++) {
    const gap = acks[k + 1].at - acks[k].at;
    if (gap > pause) { pause = gap; pauseFrom = acks[k].at; }
  }
  const failed = writer.failures.filter((f) => f.at > acks[i0].at && f.at <= end);
  const steady = [];
  for (let k = i0; k > 0 && acks[k - 1].at >= cmdStart - settleMs; k--) steady.push(acks[k].at - acks[k - 1].at);
  const s = stats(steady);
  return {
    pauseMs: pause, pauseStartMs: pauseFrom - cmdStart, failedWrites: failed.length,
    failedKinds: [...new Set(failed.map((f) => (f.err || '').replace(/\d+/g, 'N').slice(0, 100)))].slice(0, 4),
    firstNewMs: firstNew - cmdStart, commandMs: cmdEnd - cmdStart,
    steadyGapMedianMs: s ? s.median : null, steadyGapMaxMs: s ? s.max : null, steadyWrites: steady.length,
  };
}

// Runs N switchovers back and forth on a running cluster. `cluster`:
// {nodes: [x, y] (x the primary), name(node), insert(node, id),
// switchover(from, to) -> {ok, detail, extra}, rejoined(from, to) -> bool,
// optional phases(from, to, cmdStartWallMs) -> {name: ms after the start}}.
async function switchoverRounds(opts, stack, cluster, logs) {
  const [x, y] = cluster.nodes;
  const writer = new Writer({ insert: cluster.insert, first: x, other: (n) => (n === x ? y : x), retryMs: opts.retryMs });
  writer.start();
  const rounds = [];
  let from = x;
  let to = y;
  try {
    for (let round = 1; round <= opts.switchovers; round++) {
      await sleep(opts.settleSeconds * 1000);
      const recent = writer.acks.filter((a) => a.at > performance.now() - opts.settleSeconds * 1000);
      if (!recent.length || recent.some((a) => a.node !== from)) {
        throw new Error(`round ${round}: the writer is not writing steadily on ${cluster.name(from)} ` +
          `(${recent.length} acks in ${opts.settleSeconds} s; last failure: ${JSON.stringify(writer.failures.at(-1) || null)})`);
      }
      const cmdStart = performance.now();
      const sw = await cluster.switchover(from, to);
      const cmdEnd = performance.now();
      if (!sw.ok) throw new Error(`round ${round}: switchover ${cluster.name(from)} -> ${cluster.name(to)} failed: ${sw.detail}`);
      const ack = await waitFor(`round ${round}: a write acknowledged by ${cluster.name(to)}`, opts.maxPauseSeconds * 1000, async () => {
        const a = writer.firstAckOn(to, cmdStart);
        return { done: !!a, at: a && a.at, lastFailure: writer.failures.at(-1) };
      }, logs);
      const m = measure(writer, { cmdStart, cmdEnd, firstNew: ack.at, settleMs: opts.settleSeconds * 1000 });
      await waitFor(`round ${round}: ${cluster.name(from)} streams from ${cluster.name(to)}`, 120000,
        async () => ({ done: await cluster.rejoined(from, to) }), logs);
      const phases = cluster.phases ? cluster.phases(from, to, performance.timeOrigin + cmdStart) : {};
      const r = { round, from: cluster.name(from), to: cluster.name(to), ...m, ...sw.extra, ...phases };
      rounds.push(r);
      log(`${stack} switchover ${round} ${r.from} -> ${r.to}: write pause ${f1(r.pauseMs)} ms, ${r.failedWrites} failed writes, ` +
        `first write on ${r.to} at +${f1(r.firstNewMs)} ms, command ${f1(r.commandMs)} ms` +
        (r.serverPauseMs !== undefined ? `, server-side pause ${f1(r.serverPauseMs)} ms` : '') +
        (r.failedKinds.length ? ` (${r.failedKinds.join('; ')})` : ''));
      [from, to] = [to, from];
    }
  } catch (e) {
    e.rounds = rounds;  // the report keeps the switchovers that were measured
    throw e;
  } finally {
    await writer.stop();
  }
  return { rounds, writer, primary: from, standby: to };
}

const f1 = (x) => (typeof x === 'number' ? x.toFixed(1) : '—');
const f0 = (x) => (typeof x === 'number' ? x.toFixed(0) : '—');

// ---------------------------------------------------------------- Ark

// The ids from FIRST_ID below `below` present on the Ark server at url.
async function arkIds(url, below) {
  const have = new Set();
  for (let lo = FIRST_ID; lo < below; lo += 10000) {
    const q = await postJson(`${url}/v2/vectordb/entities/query`,
      { collectionName: 'c', filter: `id >= ${lo} and id < ${Math.min(lo + 10000, below)}`, outputFields: ['id'], limit: 16384 });
    if (q.code !== 0) throw new Error(`query on ${url}: ${JSON.stringify(q).slice(0, 300)}`);
    for (const r of q.data) have.add(Number(r.id));
  }
  return have;
}

async function arkStack(opts, stack) {
  const dir = makeWorkDir('ark-so', stack);
  try {
    const witness = STACKS[stack].witness;
    const etcd = witness === 'etcd' ? await startEtcd(dir) : null;
    const { A, B, logs } = await startArkPair({
      ark: opts.ark, dir, dim: opts.dim, witness, etcdPort: etcd && etcd.port,
      load: (url) => arkLoad(url, opts.baseRows, opts.dim),
    });
    if (etcd) logs.unshift(etcd.logFile);
    const names = { [A]: 'a', [B]: 'b' };
    log(`${stack}: cluster up (primary a, standby b), ${opts.baseRows} rows; writer running`);
    const cluster = {
      nodes: [A, B],
      name: (u) => names[u],
      insert: (u, id) => arkInsert(u, id, opts.dim, TRY_TIMEOUT_MS),
      switchover: async (from, to) => {
        const r = await run(opts.ark, ['failover', 'switchover', '--server', from, '--to', to, '--json']);
        if (r.status !== 0) return { ok: false, detail: `exit ${r.status}: ${(r.stderr || r.stdout).trim().slice(0, 400)}` };
        const out = JSON.parse(r.stdout);
        return { ok: true, extra: { serverPauseMs: out.writePauseMs, catchUpMs: out.catchUpMs, epoch: out.epoch } };
      },
      rejoined: async (from, to) => {
        if ((await httpStatus(`${from}/readyz`)) !== 200) return false;
        const s = (await postJson(`${from}/ark/v1/replication/status`, {}, 2000)).data || {};
        const p = (await postJson(`${to}/ark/v1/replication/status`, {}, 2000)).data || {};
        return s.role === 'standby' && s.state === 'streaming' && p.role === 'primary';
      },
    };
    const res = await switchoverRounds(opts, stack, cluster, logs);
    const have = await arkIds(res.primary, res.writer.nextId);
    return summarize(res, have, names[res.primary]);
  } finally {
    killAll();
    await sleep(200);
    removeWorkDir(dir);
  }
}

// ---------------------------------------------------------------- Patroni

async function patroniStack(opts, stack) {
  const dir = makeWorkDir('ark-so', stack);
  const sessions = new Map();
  try {
    const { nodes, leader, other, logs } = await startPatroniPair({
      dir, dcs: STACKS[stack].dcs, scope: 'switchover-bench', load: (p1) => pgLoad(p1.pg, opts.baseRows, opts.dim),
    });
    for (const n of nodes) sessions.set(n, new PsqlSession(n.pg, n.name, n.dir));
    const vec = `'{${Array(opts.dim).fill('0.5').join(',')}}'`;
    log(`${stack}: cluster up (leader ${leader.name}), ${opts.baseRows} rows; writer running`);
    const cluster = {
      nodes: [leader, other],
      name: (n) => n.name,
      insert: (n, id) => sessions.get(n).exec(`INSERT INTO t VALUES (${id}, ${vec});`, TRY_TIMEOUT_MS),
      switchover: async (from, to) => {
        const r = await run('patronictl', ['-c', from.yml, 'switchover', '--leader', from.name, '--candidate', to.name, '--force']);
        const text = `${r.stdout}\n${r.stderr}`;
        if (r.status !== 0 || !/Successfully switched over/.test(text)) return { ok: false, detail: `exit ${r.status}: ${text.trim().slice(0, 600)}` };
        return { ok: true, extra: {} };
      },
      rejoined: async (from, to) => {
        if ((await httpStatus(`http://127.0.0.1:${from.rest}/replica`)) !== 200) return false;
        if ((await httpStatus(`http://127.0.0.1:${to.rest}/primary`)) !== 200) return false;
        return psqlOnce(to.pg, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") === '1';
      },
      // Patroni's account, from its logs (wall clock, ms resolution).
      phases: (from, to, t0) => {
        const at = (n, re) => {
          const l = patroniLogTimes(n.log).find((x) => x.ms >= t0 - 1 && re.test(x.text));
          return l ? l.ms - t0 : null;
        };
        return {
          requestMs: at(from, /received switchover request/), demoteMs: at(from, /Demoting self/),
          releasedMs: at(from, /Leader key released/), lockMs: at(to, /promoted self to leader/),
        };
      },
    };
    const res = await switchoverRounds(opts, stack, cluster, logs);
    const rows = psqlOnce(res.primary.pg, `SELECT id FROM t WHERE id >= ${FIRST_ID}`);
    const have = new Set(rows.split('\n').filter(Boolean).map(Number));
    const out = summarize(res, have, res.primary.name);
    out.psqlSpawns = nodes.map((n) => `${n.name}: ${sessions.get(n).spawns}`).join(', ');
    return out;
  } finally {
    for (const s of sessions.values()) s.close();
    killAll();
    await sleep(300);
    removeWorkDir(dir);
  }
}

function summarize(res, have, finalPrimary) {
  const w = res.writer;
  const span = w.acks.length > 1 ? (w.acks.at(-1).at - w.acks[0].at) / 1000 : 0;
  return {
    rounds: res.rounds, acked: w.acks.length, tries: w.nextId - FIRST_ID, failedTotal: w.failures.length,
    lost: w.acks.filter((a) => !have.has(a.id)).length, writesPerSecond: span ? w.acks.length / span : null, finalPrimary,
  };
}

// ---------------------------------------------------------------- report

const cell = (xs, f) => { const s = stats(xs); return s ? `${f(s.median)} (${f(s.min)}–${f(s.max)})` : '—'; };

function stackTable(stack, res) {
  const ark = STACKS[stack].kind === 'ark';
  const cols = [
    ['write pause ms', 'pauseMs', f1], ['pause starts at ms', 'pauseStartMs', f1], ['failed writes', 'failedWrites', String],
    ['first write on the new primary at ms', 'firstNewMs', f1], ['command returned at ms', 'commandMs', f1],
    ...(ark ? [['pause the command reports, ms', 'serverPauseMs', f1], ['of which catch-up ms', 'catchUpMs', f1], ['epoch', 'epoch', String]]
      : [['old leader: request received at ms', 'requestMs', f0], ['demoting (graceful) at ms', 'demoteMs', f0],
        ['leader key released at ms', 'releasedMs', f0], ['candidate takes the lock at ms', 'lockMs', f0]]),
    ['steady gap between writes before, median / max ms', null, null],
  ];
  const head = ['switchover', ...cols.map((c) => c[0])];
  const out = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of res.rounds) {
    out.push(`| ${r.round}: ${r.from} → ${r.to} | ${cols.map(([, k, f]) => (k ? f(r[k]) : `${f1(r.steadyGapMedianMs)} / ${f1(r.steadyGapMaxMs)}`)).join(' | ')} |`);
  }
  if (res.rounds.length) {
    out.push(`| **median (min–max)** | ${cols.map(([, k, f]) => (k && k !== 'epoch' ? `**${cell(res.rounds.map((r) => r[k]), f)}**` : '')).join(' | ')} |`);
  }
  return out.join('\n');
}

function report(opts, results, meta) {
  const md = [];
  md.push(`Run ${meta.date} (UTC): \`${meta.command}\``);
  md.push('');
  md.push(`Machine: ${meta.nproc} cores (\`nproc\`, a VM), Linux ${meta.kernel}, ${meta.memGiB} GiB, load average ${meta.load} at the start` +
    ` and ${meta.loadEnd} at the end. Ark binary \`${path.relative(ROOT, opts.arkOriginal || opts.ark)}\`${opts.arkOriginal ? ' (run from a private copy)' : ''}: ${meta.arkBuild}.` +
    (meta.v.patroni ? ` ${meta.v.patroni}, ${meta.v.postgres}, ${meta.v.etcd} (Debian packages).` : '') +
    ` ${opts.baseRows} base rows of ${opts.dim}-d; ${opts.switchovers} switchovers per stack, back and forth, each after ${opts.settleSeconds} s of steady writing.`);
  md.push('');
  md.push('Client, the same on every stack: one writer inserting one row at a time, back to back, a new id per try. It writes to one node; ' +
    `when an insert fails or is refused it switches to the other node and retries after ${opts.retryMs} ms (each try times out after ${TRY_TIMEOUT_MS / 1000} s). ` +
    'Ark: one keep-alive HTTP connection per node. PostgreSQL: one persistent `psql` session per node (a statement, then a `\\warn` marker), ' +
    'restarted when its connection dropped; libpq\'s `host=a,b target_session_attrs=read-write` is the same search at connect time. ' +
    'Ark\'s switchover: `ark failover switchover --server OLD --to NEW` (no monitor involved). Patroni\'s: `patronictl -c OLD.yml switchover --leader OLD --candidate NEW --force`.');
  md.push('');
  md.push('Write pause = the longest gap between two consecutive acknowledged writes, from the last one before the command started to the later of ' +
    '(the command returned, the first write the new primary acknowledged). Times in ms after the command started, on the client\'s clock. ' +
    'Rows lost = acknowledged ids missing on the final primary.');
  const summary = ['| stack | switchovers ok | write pause median ms | min–max ms | failed writes per switchover, median (max) | first write on the new primary, median ms | command time, median ms | writes acked (per s) | rows lost | ≤ 2 s? |',
    '|---|---|---|---|---|---|---|---|---|---|'];
  for (const stack of opts.stacks) {
    const res = results[stack];
    if (!res) continue;
    md.push('', `### ${STACKS[stack].label}`, '');
    if (res.skipped) { md.push(`Not run: ${res.skipped}`); summary.push(`| ${STACKS[stack].label} | not run | | | | | | | | |`); continue; }
    if (res.error) md.push(`**Failed:** ${res.error.split('\n')[0].replace(/\|/g, '/').slice(0, 400)}`, '');
    md.push(stackTable(stack, res));
    if (res.acked !== undefined) {
      md.push('', `${res.acked} writes acknowledged (${f1(res.writesPerSecond)}/s) of ${res.tries} tries; final primary ${res.finalPrimary}; ` +
        `rows lost: **${res.lost}**${res.psqlSpawns ? `; psql sessions started per node: ${res.psqlSpawns}` : ''}.`);
    }
    const p = stats(res.rounds.map((r) => r.pauseMs));
    const fw = stats(res.rounds.map((r) => r.failedWrites));
    const ok = `${res.rounds.length}/${opts.switchovers}`;
    summary.push(`| ${STACKS[stack].label} | ${ok} | ` + (p ? `**${f1(p.median)}** | ${f1(p.min)}–${f1(p.max)} | ${fw.median} (${fw.max}) | ` +
      `${f1(stats(res.rounds.map((r) => r.firstNewMs)).median)} | ${f1(stats(res.rounds.map((r) => r.commandMs)).median)} | ` +
      `${res.acked ?? '—'} (${f1(res.writesPerSecond)}) | ${res.lost ?? '—'} | ${p.max <= 2000 && !res.error ? 'yes' : p.median <= 2000 ? 'median yes' : 'no'} |`
      : '— | — | — | — | — | — | — | no |'));
  }
  md.push('', '### Summary', '', ...summary);
  return md.join('\n');
}

// ---------------------------------------------------------------- main

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  setKeepDirs(opts.keep);
  if (opts.fromJson) {
    const saved = JSON.parse(fs.readFileSync(opts.fromJson, 'utf8'));
    const md = report(saved.opts, saved.results, saved.meta);
    process.stdout.write(`${md}\n`);
    if (opts.md) writeMd(path.resolve(opts.md), md, 'switchover_bench', 'bench/switchover_bench.js');
    return 0;
  }
  const meta = runMeta('bench/switchover_bench.js', opts.ark);
  log(`ark ${opts.ark} (${meta.arkBuild}); stacks ${opts.stacks.join(', ')}; ${opts.switchovers} switchovers each`);
  if (opts.stacks.some((s) => STACKS[s].kind === 'ark')) usePrivateArkCopy(opts, 'ark-so');
  const missing = patroniMissing(meta.v);
  const results = {};
  let failed = false;
  for (const stack of opts.stacks) {
    const kind = STACKS[stack].kind;
    if (kind === 'ark' && !fs.existsSync(opts.ark)) { results[stack] = { skipped: `no ark binary at ${opts.ark}` }; continue; }
    if (kind !== 'ark' && missing) { results[stack] = { skipped: missing }; log(`${stack}: ${missing}`); continue; }
    if (STACKS[stack].witness === 'etcd' && !meta.v.etcd) { results[stack] = { skipped: 'etcd not installed' }; continue; }
    try {
      results[stack] = kind === 'ark' ? await arkStack(opts, stack) : await patroniStack(opts, stack);
      const r = results[stack];
      const p = stats(r.rounds.map((x) => x.pauseMs));
      log(`${stack}: write pause median ${f1(p.median)} ms (${f1(p.min)}–${f1(p.max)}), ${r.acked} writes acknowledged, ${r.lost} lost`);
      if (r.lost) failed = true;
    } catch (e) {
      log(`${stack} FAILED: ${e.stack || e.message}`);
      results[stack] = { rounds: e.rounds || [], error: e.message };
      failed = true;
    }
  }
  meta.loadEnd = os.loadavg().map((x) => x.toFixed(1)).join(' ');
  const md = report(opts, results, meta);
  process.stdout.write(`${md}\n`);
  if (opts.md) writeMd(path.resolve(opts.md), md, 'switchover_bench', 'bench/switchover_bench.js');
  if (opts.json) fs.writeFileSync(opts.json, JSON.stringify({ meta, opts, results }, null, 2));
  return failed ? 1 : 0;
}

main().then((code) => { cleanupAll(); process.exitCode = code; }, (e) => { console.error(e); cleanupAll(); process.exitCode = 1; });
