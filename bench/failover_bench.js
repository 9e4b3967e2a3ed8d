#!/usr/bin/env node
// Automatic failover RTO (issue 17): primary death -> first write accepted on
// the new primary, for Ark (`ark monitor` + two `ark serve`, default
// settings) and, in the same run, Patroni 3.0 + PostgreSQL 15 + etcd 3.4
// from Debian (two nodes on loopback; Patroni's defaults, and tighter
// timings labelled as such). Node standard library only.
//
//   node bench/failover_bench.js [--ark PATH] [--rounds 5]
//       [--stacks ark,patroni-default,patroni-min,patroni-5s]
//       [--base-rows 10000] [--dim 8] [--warm-seconds 3] [--jitter-ms 2000]
//       [--max-rto-seconds 120]
//       [--md docs/benchmarks/failover.md] [--json FILE] [--keep]
//   node bench/failover_bench.js --from-json FILE [--md FILE]   (re-render a saved --json run)
//
// One round (every round on fresh directories and ports):
//   1. start the cluster (Ark: monitor = witness, primary a, standby b of a;
//      Patroni: etcd, node p1 bootstraps as leader, node p2 clones it), load
//      --base-rows rows, wait until the standby has replayed everything;
//   2. a client inserts one row every 20 ms into the primary for
//      --warm-seconds plus a uniformly random 0..--jitter-ms (Patroni: up to
//      its loop_wait if longer), so the kill falls at a random phase of the
//      health checks, lease renewals and Patroni's loop, not just after the
//      check that ended the setup (Ark's primary also starts a random 0-1 s
//      after the monitor: the phase between checks and renewals);
//      ids from 1,000,000, acknowledged ids are remembered;
//   3. t0 = performance.now(), then SIGKILL the whole primary node (Ark: the
//      `ark serve` process; Patroni: the patroni process group, the
//      postmaster and every child of it) while the client keeps going;
//   4. from then on the client tries, every 20 ms, one insert on the old
//      primary (dead: refused) and one on the standby, until the standby
//      acknowledges one: t1. RTO = t1 - t0, on the client's monotonic clock;
//   5. RPO = acknowledged ids (on the old primary) missing on the new one.
// Ark's phases come from the monitor's timeline (/ark/v1/monitor/timeline):
// detection = the last failed check, lease wait, promotion; Patroni's from
// the surviving node's log: the first line after t0 that is not its steady
// "no action" line (the leader key in etcd expired and Patroni woke) and
// "promoted self to leader by acquiring session lock".
//
// The Patroni client keeps one `psql` per node reading statements from a
// pipe (PGCONNECT_TIMEOUT=1); each insert is followed by `\warn ACK n :ERROR`
// on stderr, so an answer is timed to the millisecond without starting a
// process per insert. A psql whose connection dropped exits; the next try
// first makes a plain TCP connect to the node and, only if that succeeds,
// starts a new psql (a refused connect is what psql would get, without its
// ~25 ms of CPU every 20 ms on a 2-core machine).
//
// Starting, checking and tearing down the clusters is bench/cluster_lib.js,
// shared with bench/switchover_bench.js. Every process started is in its own
// process group and is SIGKILLed at exit (also on failure, SIGINT and
// SIGTERM), with the postmasters and their children; the work directories
// are removed unless --keep.
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {
  ROOT, setLogTag, log, setKeepDirs, killGroup, postgresPids, killPids, killAll, cleanupAll, installCleanup,
  sleep, waitFor, makeWorkDir, removeWorkDir, postJson, arkInsert, arkLoad, runMeta, patroniMissing, usePrivateArkCopy, stats, writeMd,
  startArkPair, PsqlSession, psqlOnce, pgLoad, patroniLogTimes, startPatroniPair,
} = require('./cluster_lib');

const TICK_MS = 20;
const FIRST_ID = 1_000_000;

// ---------------------------------------------------------------- options

function parseArgs(argv) {
  const o = {
    ark: null, rounds: 5, stacks: 'ark,patroni-default,patroni-min,patroni-5s', baseRows: 10000, dim: 8,
    warmSeconds: 3, jitterMs: 2000, maxRtoSeconds: 120, md: null, json: null, keep: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => { if (i + 1 >= argv.length) usage(`${a} needs a value`); return argv[++i]; };
    const num = () => { const v = Number(val()); if (!Number.isFinite(v) || v < 0) usage(`${a} needs a number`); return v; };
    switch (a) {
      case '--ark': o.ark = val(); break;
      case '--rounds': o.rounds = num(); break;
      case '--stacks': o.stacks = val(); break;
      case '--base-rows': o.baseRows = num(); break;
      case '--dim': o.dim = num(); break;
      case '--warm-seconds': o.warmSeconds = num(); break;
      case '--jitter-ms': o.jitterMs = num(); break;
      case '--max-rto-seconds': o.maxRtoSeconds = num(); break;
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
  if (!Number.isInteger(o.rounds) || o.rounds < 1) usage('--rounds must be a positive integer');
  if (!o.ark) {
    const rel = path.join(ROOT, 'build/release/ark');
    o.ark = fs.existsSync(rel) ? rel : path.join(ROOT, 'build/asan/ark');
  }
  o.ark = path.resolve(o.ark);
  return o;
}

function usage(msg) {
  if (msg) console.error(`error: ${msg}`);
  console.error('usage: node bench/failover_bench.js [--ark PATH] [--rounds 5] [--stacks ' + Object.keys(STACKS).join(',') + ']\n' +
    '         [--base-rows 10000] [--dim 8] [--warm-seconds 3] [--jitter-ms 2000] [--max-rto-seconds 120]\n' +
    '         [--md FILE] [--json FILE] [--keep]\n' +
    '       node bench/failover_bench.js --from-json FILE [--md FILE]   (re-render a saved run)');
  process.exit(2);
}

// Patroni's dynamic settings per stack; null = Patroni's defaults (none set).
const STACKS = {
  ark: { kind: 'ark', label: 'Ark (`ark monitor` defaults: check every 1 s, 3 failures, 1 s timeout; lease ttl 5 s, renewed every 1 s)' },
  'patroni-default': { kind: 'patroni', dcs: null, label: "Patroni's defaults (ttl 30, loop_wait 10, retry_timeout 10)" },
  'patroni-min': { kind: 'patroni', dcs: { ttl: 20, loop_wait: 1, retry_timeout: 3 }, label: "Patroni at its documented minimums (ttl 20, loop_wait 1, retry_timeout 3)" },
  'patroni-5s': { kind: 'patroni', dcs: { ttl: 5, loop_wait: 1, retry_timeout: 2 }, label: "Patroni tuned like Ark's lease (ttl 5, loop_wait 1, retry_timeout 2; below the documented minimums, 3.0.2 accepts it)" },
};

setLogTag('failover_bench');
installCleanup();

// ---------------------------------------------------------------- the client

// Runs the workload of one round against `primary` and `standby` (opaque
// handles for `insert(node, id)` -> {ok, at, err}) and kills the primary
// after warmMs: `prepareKill()` runs just before t0 and returns the function
// that kills (finding the processes is not inside the measured time).
// Returns timings and the acknowledged ids.
async function clientRound({ insert, primary, standby, prepareKill, warmMs, maxMs }) {
  const acked = [];         // acknowledged by the old primary
  let id = FIRST_ID;
  let t0 = null;
  let t0Wall = null;
  const killTimer = setTimeout(() => {
    const kill = prepareKill();
    t0 = performance.now();
    t0Wall = performance.timeOrigin + t0;
    kill();
  }, warmMs);
  let warmTries = 0;
  try {
    while (t0 === null) {
      const s = performance.now();
      const myId = id++;
      const r = await insert(primary, myId);
      warmTries++;
      if (r.ok) acked.push(myId);
      else if (t0 === null) throw new Error(`insert on the primary failed before the kill: ${r.err}`);
      await sleep(s + TICK_MS - performance.now());
    }
  } finally {
    clearTimeout(killTimer);
  }
  let tries = 0;
  let oldAccepted = 0;
  let lastStandbyErr = null;
  while (true) {
    const s = performance.now();
    if (s - t0 > maxMs) throw new Error(`no write accepted on the standby within ${maxMs} ms of the kill (last error: ${lastStandbyErr})`);
    const idOld = id++;
    const idNew = id++;
    const [ro, rn] = await Promise.all([insert(primary, idOld), insert(standby, idNew)]);
    tries++;
    if (ro.ok) { oldAccepted++; acked.push(idOld); }
    if (rn.ok) {
      return { t0, t0Wall, t1: rn.at, rtoMs: rn.at - t0, acked, warmTries, tries, oldAccepted, lastStandbyErr, firstNewId: idNew };
    }
    lastStandbyErr = rn.err;
    await sleep(s + TICK_MS - performance.now());
  }
}

// The client's time before the kill: --warm-seconds + uniform 0..jitter, where
// jitter is --jitter-ms, or Patroni's loop_wait if longer (its leader key is
// refreshed once per loop: the kill should fall anywhere in that loop).
function warmMs(opts, loopWaitS = 0) { return opts.warmSeconds * 1000 + Math.random() * Math.max(opts.jitterMs, loopWaitS * 1000); }

// ---------------------------------------------------------------- Ark

async function arkRound(opts, round) {
  const dir = makeWorkDir('ark-fo', 'ark');
  try {
    // A random phase between the monitor's 1 s checks and the primary's 1 s lease renewals (both
    // timers start with their process): without it every round has about the same one.
    const { a, A, B, mon, logs } = await startArkPair({
      ark: opts.ark, dir, dim: opts.dim, beforePrimaryMs: Math.random() * 1000,
      load: (url) => arkLoad(url, opts.baseRows, opts.dim),
    });
    const insert = (url, id) => arkInsert(url, id, opts.dim);
    log(`ark round ${round}: cluster up, ${opts.baseRows} rows; client running, kill in ${opts.warmSeconds} s + 0..${opts.jitterMs} ms`);
    const c = await clientRound({
      insert, primary: A, standby: B, warmMs: warmMs(opts), maxMs: opts.maxRtoSeconds * 1000,
      prepareKill: () => () => killGroup(a.pid),
    });
    // What the new primary has of the acknowledged rows.
    const q = await postJson(`${B}/v2/vectordb/entities/query`,
      { collectionName: 'c', filter: `id >= ${FIRST_ID}`, outputFields: ['id'], limit: 16384 });
    if (q.code !== 0) throw new Error(`query on the new primary: ${JSON.stringify(q).slice(0, 300)}`);
    const have = new Set(q.data.map((r) => Number(r.id)));
    const missing = c.acked.filter((x) => !have.has(x)).length;
    // The monitor's account (wall clock micros) relative to the kill.
    let tl = [];
    await waitFor('the monitor reports new-primary-ready', 30000, async () => {
      tl = (await postJson(`${mon}/ark/v1/monitor/timeline`, {})).data.events;
      return { done: tl.some((e) => e.event === 'new-primary-ready') };
    }, logs);
    const t0us = c.t0Wall * 1000;
    const after = tl.filter((e) => e.atMicros >= t0us - 2000);
    const at = (name, pred = () => true) => {
      const e = after.find((x) => x.event === name && pred(x));
      return e ? (e.atMicros - t0us) / 1e6 : null;
    };
    const detected = at('check-failed', (e) => e.failure === e.of);
    const leaseExpired = at('lease-expired');
    const claimed = at('lease-claimed');
    const promoted = at('promoted');
    const ready = at('new-primary-ready');
    const firstFailed = at('check-failed', (e) => e.failure === 1);
    return {
      ok: true, round, rto: c.rtoMs / 1000, acked: c.acked.length, missing, oldAccepted: c.oldAccepted,
      firstFailed, detected, leaseExpired, claimed, promoted, ready, tries: c.tries, lastStandbyErr: c.lastStandbyErr,
    };
  } finally {
    killAll();
    await sleep(200);
    removeWorkDir(dir);
  }
}



// ---------------------------------------------------------------- Patroni

async function patroniRound(opts, stack, round) {
  const dir = makeWorkDir('ark-fo', 'patroni');
  try {
    const { nodes, leader, other } = await startPatroniPair({
      dir, dcs: STACKS[stack].dcs, scope: 'failover-bench', load: (p1) => pgLoad(p1.pg, opts.baseRows, opts.dim),
    });

    const loopWait = (STACKS[stack].dcs || {}).loop_wait || 10;  // Patroni's default
    const sessions = new Map(nodes.map((n) => [n, new PsqlSession(n.pg, n.name, n.dir)]));
    const vec = `'{${Array(opts.dim).fill('0.5').join(',')}}'`;
    const insert = (n, id) => sessions.get(n).exec(`INSERT INTO t VALUES (${id}, ${vec});`);
    log(`${stack} round ${round}: cluster up (leader ${leader.name}), ${opts.baseRows} rows; client running, kill in ${opts.warmSeconds} s + 0..${Math.max(opts.jitterMs, loopWait * 1000)} ms`);
    let c;
    try {
      c = await clientRound({
        insert, primary: leader, standby: other, warmMs: warmMs(opts, loopWait), maxMs: opts.maxRtoSeconds * 1000,
        prepareKill: () => {
          // The whole node: Patroni (runuser and patroni: one group), then the postmaster and its children.
          const pgPids = postgresPids(path.join(leader.dir, 'data'));
          return () => {
            killGroup(leader.proc.pid);
            killPids(pgPids);
            killPids(postgresPids(path.join(leader.dir, 'data')));  // anything forked since the list was made
          };
        },
      });
    } finally {
      for (const s of sessions.values()) s.close();
    }
    const rows = psqlOnce(other.pg, `SELECT id FROM t WHERE id >= ${FIRST_ID}`);
    const have = new Set(rows.split('\n').filter(Boolean).map(Number));
    const missing = c.acked.filter((x) => !have.has(x)).length;
    // The surviving node's account: Patroni logs every loop_wait "no action. I am (p2), a secondary,
    // and following a leader (p1)"; the first other line after the kill is its HA loop waking on
    // the leader key's expiry (the etcd watch fires) and starting the leader race.
    const lines = patroniLogTimes(other.log).filter((l) => l.ms >= c.t0Wall - 1);
    const woke = lines.find((l) => !/no action/.test(l.text));
    const lock = lines.find((l) => /promoted self to leader by acquiring session lock/.test(l.text));
    return {
      ok: true, round, rto: c.rtoMs / 1000, acked: c.acked.length, missing, oldAccepted: c.oldAccepted,
      woke: woke ? (woke.ms - c.t0Wall) / 1000 : null, lock: lock ? (lock.ms - c.t0Wall) / 1000 : null,
      tries: c.tries, lastStandbyErr: c.lastStandbyErr, psqlSpawns: [...sessions.values()].map((s) => s.spawns),
    };
  } finally {
    killAll();
    await sleep(300);
    removeWorkDir(dir);
  }
}


// ---------------------------------------------------------------- report

const f2 = (x) => (typeof x === 'number' ? x.toFixed(2) : '—');
const f3 = (x) => (typeof x === 'number' ? x.toFixed(3) : '—');

function tableFor(stack, rounds) {
  const ark = STACKS[stack].kind === 'ark';
  const diff = (a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : null);
  rounds = rounds.map((r) => (r.ok && ark ? { ...r, leaseWait: diff(r.leaseExpired, r.detected), promotion: diff(r.promoted, r.leaseExpired) } : r));
  const cols = ark
    ? [['RTO s (client)', 'rto', f3], ['1st failed check at s', 'firstFailed', f2], ['detected at s (3rd failed check)', 'detected', f2],
      ['lease expired at s', 'leaseExpired', f2], ['lease wait s (expired − detected)', 'leaseWait', f2],
      ['promoted at s', 'promoted', f2], ['promotion s (claim + promote call)', 'promotion', f2],
      ['monitor: new primary ready at s', 'ready', f2]]
    : [['RTO s (client)', 'rto', f3], ['p2 wakes (leader key expired) at s', 'woke', f2], ['p2 takes the leader lock at s', 'lock', f2]];
  const head = ['round', ...cols.map((c) => c[0]), 'acked rows', 'RPO: acked rows missing'];
  const out = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rounds) {
    if (!r.ok) { out.push(`| ${r.round} | failed: ${r.error.split('\n')[0].replace(/\|/g, '/').slice(0, 200)} |`); continue; }
    out.push(`| ${r.round} | ${cols.map(([, k, f]) => f(r[k])).join(' | ')} | ${r.acked} | ${r.missing} |`);
  }
  const ok = rounds.filter((r) => r.ok);
  if (ok.length) {
    const cell = (k, f) => { const s = stats(ok.map((r) => r[k])); return s ? `${f(s.median)} (${f(s.min)}–${f(s.max)})` : '—'; };
    out.push(`| **median (min–max)** | ${cols.map(([, k, f]) => `**${cell(k, f)}**`).join(' | ')} | | ${cell('missing', (x) => String(x))} |`);
  }
  return out.join('\n');
}

function report(opts, results, meta) {
  const md = [];
  md.push(`Run ${meta.date} (UTC): \`${meta.command}\``);
  md.push('');
  md.push(`Machine: ${meta.nproc} cores (\`nproc\`), Linux ${meta.kernel}, ${meta.memGiB} GiB, load average ${meta.load} at the start` +
    ` and ${meta.loadEnd} at the end. Ark binary \`${path.relative(ROOT, opts.arkOriginal || opts.ark)}\`${opts.arkOriginal ? ' (run from a private copy)' : ''}: ${meta.arkBuild}.` +
    (meta.v.patroni ? ` ${meta.v.patroni}, ${meta.v.postgres}, ${meta.v.etcd} (Debian packages).` : '') +
    ` ${opts.baseRows} base rows of ${opts.dim}-d, one insert every ${TICK_MS} ms, kill after ${opts.warmSeconds} s + uniform 0–${opts.jitterMs} ms (Patroni: 0–max(that, loop_wait)); Ark's primary starts 0–1 s (uniform) after its monitor.`);
  md.push('');
  md.push('Times are seconds after the SIGKILL (t0). RTO is the client\'s: t0 → the first insert the new primary acknowledged.');
  const summary = ['| stack | settings | rounds ok | RTO median s | min s | max s | RPO rows (median, max) | ≤ 10 s? |', '|---|---|---|---|---|---|---|---|'];
  for (const stack of opts.stacks) {
    const rounds = results[stack];
    if (!rounds) continue;
    md.push('', `### ${STACKS[stack].label}`, '');
    if (rounds.skipped) { md.push(`Not run: ${rounds.skipped}`); summary.push(`| ${stack} | ${STACKS[stack].label} | not run | | | | | |`); continue; }
    md.push(tableFor(stack, rounds));
    const s = stats(rounds.filter((r) => r.ok).map((r) => r.rto));
    const rpo = stats(rounds.filter((r) => r.ok).map((r) => r.missing));
    summary.push(`| ${stack} | ${STACKS[stack].label} | ${rounds.filter((r) => r.ok).length}/${rounds.length} | ` +
      (s ? `**${f2(s.median)}** | ${f2(s.min)} | ${f2(s.max)} | ${rpo.median}, ${rpo.max} | ${s.max <= 10 ? 'yes' : s.median <= 10 ? 'median yes, max no' : 'no'} |` : '— | — | — | — | — |'));
  }
  md.push('', '### Summary', '', ...summary);
  return md.join('\n');
}

// ---------------------------------------------------------------- main

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  setKeepDirs(opts.keep);
  if (opts.fromJson) {
    // Re-render the tables of a saved run (--json) without running anything.
    const saved = JSON.parse(fs.readFileSync(opts.fromJson, 'utf8'));
    const md = report(saved.opts, saved.results, saved.meta);
    process.stdout.write(`${md}\n`);
    if (opts.md) writeMd(path.resolve(opts.md), md, 'failover_bench', 'bench/failover_bench.js');
    return 0;
  }
  const meta = runMeta('bench/failover_bench.js', opts.ark);
  log(`ark ${opts.ark} (${meta.arkBuild}); stacks ${opts.stacks.join(', ')}; ${opts.rounds} rounds each`);
  if (opts.stacks.some((s) => STACKS[s].kind === 'ark')) usePrivateArkCopy(opts, 'ark-fo');
  const results = {};
  const missing = patroniMissing(meta.v);
  for (const stack of opts.stacks) {
    const kind = STACKS[stack].kind;
    if (kind === 'ark' && !fs.existsSync(opts.ark)) { results[stack] = { skipped: `no ark binary at ${opts.ark}` }; continue; }
    if (kind === 'patroni' && missing) { results[stack] = { skipped: missing }; log(`${stack}: ${missing}`); continue; }
    results[stack] = [];
    for (let round = 1; round <= opts.rounds; round++) {
      let r;
      try {
        r = kind === 'ark' ? await arkRound(opts, round) : await patroniRound(opts, stack, round);
        log(`${stack} round ${round}: RTO ${f3(r.rto)} s, RPO ${r.missing} of ${r.acked} acked rows` +
          (kind === 'ark' ? `, detected ${f2(r.detected)} s, lease expired ${f2(r.leaseExpired)} s, promoted ${f2(r.promoted)} s`
            : `, woke ${f2(r.woke)} s, lock ${f2(r.lock)} s`));
        if (r.oldAccepted) log(`WARNING: the killed primary acknowledged ${r.oldAccepted} inserts after the kill`);
      } catch (e) {
        log(`${stack} round ${round} FAILED: ${e.stack || e.message}`);
        r = { ok: false, round, error: e.message };
      }
      results[stack].push(r);
    }
  }
  meta.loadEnd = os.loadavg().map((x) => x.toFixed(1)).join(' ');
  const md = report(opts, results, meta);
  process.stdout.write(`${md}\n`);
  if (opts.md) writeMd(path.resolve(opts.md), md, 'failover_bench', 'bench/failover_bench.js');
  if (opts.json) fs.writeFileSync(opts.json, JSON.stringify({ meta, opts, results }, null, 2));
  const anyFailed = Object.values(results).some((rs) => Array.isArray(rs) && rs.some((r) => !r.ok));
  return anyFailed ? 1 : 0;
}

main().then((code) => { cleanupAll(); process.exitCode = code; }, (e) => { console.error(e); cleanupAll(); process.exitCode = 1; });
