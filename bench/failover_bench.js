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
// Every process started is in its own process group and is SIGKILLed at
// exit (also on failure, SIGINT and SIGTERM), with the postmasters and their
// children; the work directories are removed unless --keep.
'use strict';

const { spawn, execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const PGBIN = process.env.PGBIN || '/usr/lib/postgresql/15/bin';
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

// ---------------------------------------------------------------- processes and cleanup

const groups = new Set();   // pgids of processes we started (detached: each leads its own group)
const pgDataDirs = new Set(); // PostgreSQL data directories whose postmaster we must kill
const workDirs = new Set();
let keepDirs = false;

function log(msg) { process.stderr.write(`[failover_bench ${new Date().toISOString().slice(11, 23)}] ${msg}\n`); }

function killGroup(pgid) {
  try { process.kill(-pgid, 'SIGKILL'); } catch { /* gone */ }
  groups.delete(pgid);
}

// pid -> ppid of every process, from /proc.
function processTable() {
  const table = new Map();
  for (const ent of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(ent)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${ent}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      table.set(Number(ent), Number(rest[1]));
    } catch { /* exited meanwhile */ }
  }
  return table;
}

function descendants(roots) {
  const table = processTable();
  const out = new Set();
  let frontier = roots.filter((p) => table.has(p));
  frontier.forEach((p) => out.add(p));
  while (frontier.length) {
    const next = [];
    for (const [pid, ppid] of table) if (frontier.includes(ppid) && !out.has(pid)) { out.add(pid); next.push(pid); }
    frontier = next;
  }
  return [...out];
}

function postmasterPid(dataDir) {
  try {
    const pid = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch { return null; }
}

// The postmaster of `dataDir` and all its children (each backend is in a
// session of its own, so a group kill would miss them).
function postgresPids(dataDir) {
  const pm = postmasterPid(dataDir);
  if (!pm) return [];
  try {
    if (!fs.readFileSync(`/proc/${pm}/cmdline`, 'utf8').includes('postgres')) return [];
  } catch { return []; }
  return descendants([pm]);
}

function killPids(pids) { for (const p of pids) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } } }

function cleanupAll() {
  for (const g of [...groups]) killGroup(g);
  for (const d of [...pgDataDirs]) { killPids(postgresPids(d)); pgDataDirs.delete(d); }
  if (!keepDirs) for (const d of [...workDirs]) { fs.rmSync(d, { recursive: true, force: true }); workDirs.delete(d); }
}
process.on('exit', cleanupAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => { log(`${sig}: cleaning up`); cleanupAll(); process.exit(130); });

// Starts a detached process (its own group) with stdout+stderr into logFile.
function start(cmd, args, { logFile, env, cwd } = {}) {
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd], env: env || process.env, cwd: cwd || '/' });
  fs.closeSync(fd);
  groups.add(child.pid);
  child.exitInfo = null;
  child.on('exit', (code, signal) => { child.exitInfo = { code, signal }; });
  child.on('error', (e) => { child.exitInfo = { error: e.message }; });
  child.logFile = logFile;
  return child;
}

function tail(file, n = 15) {
  try { return fs.readFileSync(file, 'utf8').split('\n').slice(-n - 1).join('\n'); } catch { return '(no log)'; }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

// Polls fn() until it answers {done: true}; fails at the deadline, or as soon
// as one of `procs` (children from start()) has exited.
async function waitFor(what, timeoutMs, fn, logs = [], procs = []) {
  const deadline = performance.now() + timeoutMs;
  let last;
  while (performance.now() < deadline) {
    const dead = procs.find((p) => p.exitInfo);
    if (dead) {
      throw new Error(`${path.basename(dead.spawnfile)} exited (${JSON.stringify(dead.exitInfo)}) while waiting for ${what}\n` +
        logs.map((f) => `--- ${f}\n${tail(f)}`).join('\n'));
    }
    try { last = await fn(); if (last && last.done) return last; } catch (e) { last = { error: e.message }; }
    await sleep(50);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(last).slice(0, 400)}\n` +
    logs.map((f) => `--- ${f}\n${tail(f)}`).join('\n'));
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
    srv.on('error', reject);
  });
}

function canConnect(port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => { sock.destroy(); resolve(false); }, timeoutMs);
    sock.on('connect', () => { clearTimeout(timer); sock.destroy(); resolve(true); });
    sock.on('error', () => { clearTimeout(timer); resolve(false); });
  });
}

function makeWorkDir(name) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `ark-fo-${name}-`));
  workDirs.add(d);
  return d;
}

function removeWorkDir(d) {
  if (keepDirs) { log(`kept ${d}`); return; }
  fs.rmSync(d, { recursive: true, force: true });
  workDirs.delete(d);
}

// ---------------------------------------------------------------- HTTP

async function postJson(url, body, timeoutMs = 30000) {
  const r = await fetch(url, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await r.text();
  try { return JSON.parse(text); } catch { return { code: -1, message: `HTTP ${r.status}: ${text.slice(0, 200)}` }; }
}

async function httpStatus(url, timeoutMs = 1000) {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await r.arrayBuffer();
    return r.status;
  } catch { return 0; }
}

function vectorOf(id, dim) {
  const v = new Array(dim);
  for (let i = 0; i < dim; i++) v[i] = ((id * 31 + i * 7) % 101) / 101;
  return v;
}

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

function buildType(bin) {
  try {
    const cache = fs.readFileSync(path.join(path.dirname(bin), 'CMakeCache.txt'), 'utf8');
    const type = (cache.match(/^CMAKE_BUILD_TYPE:STRING=(.*)$/m) || [])[1] || '?';
    const san = (cache.match(/^ARK_SANITIZE:STRING=(.*)$/m) || [])[1] || '';
    return san ? `${type} + sanitizers (${san})` : type;
  } catch { return 'unknown (no CMakeCache.txt beside the binary)'; }
}

async function arkRound(opts, round) {
  const dir = makeWorkDir('ark');
  try {
    const [pm, pa, pb] = [await freePort(), await freePort(), await freePort()];
    const mon = `http://127.0.0.1:${pm}`;
    const A = `http://127.0.0.1:${pa}`;
    const B = `http://127.0.0.1:${pb}`;
    const logs = ['monitor', 'a', 'b'].map((n) => path.join(dir, `${n}.log`));
    const monitor = start(opts.ark, ['monitor', '--listen', `127.0.0.1:${pm}`, '--data-dir', path.join(dir, 'monitor'),
      '--node', `a=${A}`, '--node', `b=${B}`], { logFile: logs[0] });
    await waitFor('the monitor', 60000, async () => ({ done: await canConnect(pm) }), logs, [monitor]);
    // A random phase between the monitor's 1 s checks and the primary's 1 s lease renewals (both
    // timers start with their process): without it every round has about the same one.
    await sleep(Math.random() * 1000);
    const a = start(opts.ark, ['serve', '--data-dir', path.join(dir, 'a'), '--listen', `127.0.0.1:${pa}`,
      '--witness', mon, '--node-name', 'a', '--no-access-log'], { logFile: logs[1] });
    await waitFor('primary a ready', 120000, async () => ({ done: (await httpStatus(`${A}/readyz`)) === 200 }), logs, [monitor, a]);
    const created = await postJson(`${A}/v2/vectordb/collections/create`, { collectionName: 'c', dimension: opts.dim });
    if (created.code !== 0) throw new Error(`create: ${JSON.stringify(created)}`);
    for (let i = 0; i < opts.baseRows; i += 1000) {
      const data = [];
      for (let j = i; j < Math.min(i + 1000, opts.baseRows); j++) data.push({ id: j, vector: vectorOf(j, opts.dim) });
      const r = await postJson(`${A}/v2/vectordb/entities/insert`, { collectionName: 'c', data });
      if (r.code !== 0) throw new Error(`base load: ${JSON.stringify(r).slice(0, 300)}`);
    }
    const b = start(opts.ark, ['serve', '--data-dir', path.join(dir, 'b'), '--listen', `127.0.0.1:${pb}`,
      '--witness', mon, '--node-name', 'b', '--standby-of', A, '--standby-name', 'b', '--no-access-log'], { logFile: logs[2] });
    const all = [monitor, a, b];
    await waitFor('standby b ready', 120000, async () => ({ done: (await httpStatus(`${B}/readyz`)) === 200 }), logs, all);
    await waitFor('standby b caught up', 120000, async () => {
      const p = (await postJson(`${A}/ark/v1/replication/status`, {})).data;
      const s = (await postJson(`${B}/ark/v1/replication/status`, {})).data;
      return { done: s.state === 'streaming' && s.applied === p.lastPosition, seen: { p: p.lastPosition, s: s.applied, state: s.state } };
    }, logs, all);
    await waitFor('the monitor watching a', 30000, async () => {
      const st = (await postJson(`${mon}/ark/v1/monitor/status`, {})).data;
      return { done: st.phase === 'watching' && st.leader && st.leader.holder === 'a', seen: st.phase };
    }, logs, all);

    const insert = async (url, id) => {
      try {
        const r = await postJson(`${url}/v2/vectordb/entities/insert`,
          { collectionName: 'c', data: [{ id, vector: vectorOf(id, opts.dim) }] }, 2000);
        return { ok: r.code === 0, at: performance.now(), err: r.code === 0 ? null : (r.message || JSON.stringify(r)).slice(0, 200) };
      } catch (e) {
        return { ok: false, at: performance.now(), err: (e.cause && e.cause.code) || e.message };
      }
    };
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
    for (const g of [...groups]) killGroup(g);
    await sleep(200);
    removeWorkDir(dir);
  }
}

// ---------------------------------------------------------------- Patroni

const runAsPostgres = process.getuid && process.getuid() === 0;

function chownPostgres(p) {
  if (runAsPostgres) execFileSync('chown', ['-R', 'postgres:', p]);
}

// One long-lived psql reading statements from a pipe.
class PsqlSession {
  constructor(port, name, dir) { this.port = port; this.name = name; this.dir = dir; this.proc = null; this.seq = 0; this.spawns = 0; }

  start() {
    const env = { ...process.env, PGCONNECT_TIMEOUT: '1', PGPASSWORD: 'bench' };
    const p = spawn(path.join(PGBIN, 'psql'), ['-X', '-q', '-At', '-h', '127.0.0.1', '-p', String(this.port), '-U', 'postgres', '-d', 'postgres'],
      { detached: true, stdio: ['pipe', 'ignore', 'pipe'], env });
    this.spawns++;
    groups.add(p.pid);
    p.pending = new Map();
    p.lastErr = '';
    let buf = '';
    p.stderr.on('data', (chunk) => {
      buf += chunk.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = line.match(/^ACK (\d+) (true|false)$/);
        if (m) {
          const w = p.pending.get(Number(m[1]));
          if (w) { p.pending.delete(Number(m[1])); w({ ok: m[2] === 'false', at: performance.now(), err: m[2] === 'true' ? p.lastErr : null }); }
        } else if (line.trim()) {
          p.lastErr = line.trim().slice(0, 200);
        }
      }
    });
    p.stdin.on('error', () => { /* psql exited: answered by 'exit' */ });
    p.on('error', (e) => { p.lastErr = e.message; });
    p.on('exit', () => {
      p.done = true;
      groups.delete(p.pid);
      if (this.proc === p) this.proc = null;
      for (const [, w] of p.pending) w({ ok: false, at: performance.now(), err: `psql exited: ${p.lastErr}` });
      p.pending.clear();
    });
    this.proc = p;
  }

  // Runs one statement (one line, ending in ';'); {ok, at, err}.
  async exec(sql, timeoutMs = 2000) {
    if (!this.proc) {
      if (!(await canConnect(this.port, 1000))) return { ok: false, at: performance.now(), err: 'connection refused' };
      this.start();
    }
    const p = this.proc;
    if (p.done) { this.proc = null; return { ok: false, at: performance.now(), err: `psql exited: ${p.lastErr}` }; }
    const tag = ++this.seq;
    const answer = new Promise((resolve) => p.pending.set(tag, resolve));
    p.stdin.write(`${sql}\n\\warn ACK ${tag} :ERROR\n`);
    let timer;
    const late = new Promise((resolve) => { timer = setTimeout(() => resolve(null), timeoutMs); });
    const r = await Promise.race([answer, late]);
    clearTimeout(timer);
    if (r) return r;
    p.pending.delete(tag);
    killGroup(p.pid);  // a hung session is dropped; the next try reconnects
    return { ok: false, at: performance.now(), err: `no answer in ${timeoutMs} ms` };
  }

  close() { if (this.proc) killGroup(this.proc.pid); }
}

// psql -c as a one-off (setup and checks).
function psqlOnce(port, sql) {
  const r = spawnSync(path.join(PGBIN, 'psql'), ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-c', sql],
    { env: { ...process.env, PGCONNECT_TIMEOUT: '2', PGPASSWORD: 'bench' }, encoding: 'utf8', timeout: 60000 });
  if (r.status !== 0) throw new Error(`psql on ${port}: ${(r.stderr || '').trim()}`);
  return r.stdout.trim();
}

function patroniYaml({ name, dir, rest, pg, etcd, dcs }) {
  const lines = [
    'scope: failover-bench',
    `name: ${name}`,
    'log:', '  level: INFO', `  dir: ${dir}`,
    'restapi:', `  listen: 127.0.0.1:${rest}`, `  connect_address: 127.0.0.1:${rest}`,
    'etcd3:', `  hosts: 127.0.0.1:${etcd}`,
    'bootstrap:',
  ];
  // Patroni 3.0.2 needs the section; empty = its defaults.
  lines.push(dcs ? '  dcs:' : '  dcs: {}', ...Object.entries(dcs || {}).map(([k, v]) => `    ${k}: ${v}`));
  lines.push(
    '  initdb:', '  - encoding: UTF8', '  - no-locale',
    '  pg_hba:', '  - local all all trust', '  - host all all 127.0.0.1/32 trust', '  - host replication all 127.0.0.1/32 trust',
    'postgresql:', `  listen: 127.0.0.1:${pg}`, `  connect_address: 127.0.0.1:${pg}`,
    `  data_dir: ${dir}/data`, `  bin_dir: ${PGBIN}`, `  pgpass: ${dir}/pgpass`,
    '  authentication:', '    superuser: {username: postgres, password: bench}', '    replication: {username: replicator, password: bench}',
    '  parameters:', `    unix_socket_directories: '${dir}'`,
  );
  return `${lines.join('\n')}\n`;
}

// Patroni's log time ("2026-12-06 20:18:49,315", local time) in epoch ms.
function patroniLogTimes(file) {
  const out = [];
  let text = '';
  try { text = fs.readFileSync(file, 'utf8'); } catch { return out; }
  for (const line of text.split('\n')) {
    const m = line.match(/^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d),(\d{3}) (.*)$/);
    if (m) out.push({ ms: new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], +m[7]).getTime(), text: m[8] });
  }
  return out;
}

async function patroniRound(opts, stack, round) {
  const dir = makeWorkDir('patroni');
  try {
    fs.chmodSync(dir, 0o755);
    const [ec, ep] = [await freePort(), await freePort()];
    const nodes = [];
    for (const name of ['p1', 'p2']) {
      const ndir = path.join(dir, name);
      fs.mkdirSync(ndir, { mode: 0o700 });
      nodes.push({ name, dir: ndir, rest: await freePort(), pg: await freePort() });
    }
    const etcdLog = path.join(dir, 'etcd.log');
    const etcd = start('etcd', ['--name', 'fb', '--data-dir', path.join(dir, 'etcd'),
      '--listen-client-urls', `http://127.0.0.1:${ec}`, '--advertise-client-urls', `http://127.0.0.1:${ec}`,
      '--listen-peer-urls', `http://127.0.0.1:${ep}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${ep}`,
      '--initial-cluster', `fb=http://127.0.0.1:${ep}`], { logFile: etcdLog });
    await waitFor('etcd', 30000, async () => ({ done: (await httpStatus(`http://127.0.0.1:${ec}/health`)) === 200 }), [etcdLog], [etcd]);
    for (const n of nodes) {
      n.yml = path.join(n.dir, 'patroni.yml');
      fs.writeFileSync(n.yml, patroniYaml({ ...n, etcd: ec, dcs: STACKS[stack].dcs }));
      n.log = path.join(n.dir, 'patroni.log');
      n.out = path.join(n.dir, 'patroni.out');
      pgDataDirs.add(path.join(n.dir, 'data'));
    }
    chownPostgres(dir);
    const logs = [etcdLog, ...nodes.flatMap((n) => [n.out, n.log])];
    const startNode = (n) => {
      const cmd = runAsPostgres ? ['runuser', ['-u', 'postgres', '--', 'patroni', n.yml]] : ['patroni', [n.yml]];
      n.proc = start(cmd[0], cmd[1], { logFile: n.out, cwd: n.dir });
    };
    const [p1, p2] = nodes;
    startNode(p1);
    await waitFor('p1 leader (GET /primary 200)', 120000, async () => ({ done: (await httpStatus(`http://127.0.0.1:${p1.rest}/primary`)) === 200 }), logs, [etcd, p1.proc]);
    psqlOnce(p1.pg, 'CREATE TABLE t (id bigint PRIMARY KEY, v real[])');
    psqlOnce(p1.pg, `INSERT INTO t SELECT g, array_fill(0.5::real, ARRAY[${opts.dim}]) FROM generate_series(0, ${opts.baseRows - 1}) g`);
    startNode(p2);
    await waitFor('p2 replica (GET /replica 200)', 120000, async () => ({ done: (await httpStatus(`http://127.0.0.1:${p2.rest}/replica`)) === 200 }), logs, [etcd, p1.proc, p2.proc]);
    await waitFor('p2 streaming and caught up', 120000, async () => {
      const r = psqlOnce(p1.pg, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' AND replay_lsn = pg_current_wal_lsn()");
      return { done: r === '1', seen: r };
    }, logs, [etcd, p1.proc, p2.proc]);
    // The leader is the node whose Patroni answers GET /primary with 200.
    const leader = (await httpStatus(`http://127.0.0.1:${p1.rest}/primary`)) === 200 ? p1 : p2;
    const other = leader === p1 ? p2 : p1;
    if ((await httpStatus(`http://127.0.0.1:${other.rest}/primary`)) === 200) throw new Error('both nodes answer /primary');

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
    for (const g of [...groups]) killGroup(g);
    for (const d of [...pgDataDirs]) { killPids(postgresPids(d)); pgDataDirs.delete(d); }
    await sleep(300);
    removeWorkDir(dir);
  }
}

// ---------------------------------------------------------------- report

function stats(xs) {
  const v = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  if (!v.length) return null;
  const mid = v.length >> 1;
  return { median: v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2, min: v[0], max: v[v.length - 1], n: v.length };
}
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

function versions() {
  const first = (cmd, args) => { try { return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0].trim(); } catch { return null; } };
  return {
    patroni: first('patroni', ['--version']),
    postgres: first(path.join(PGBIN, 'postgres'), ['--version']),
    etcd: first('etcd', ['--version']),
  };
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

function writeMd(file, body) {
  const begin = '<!-- failover_bench:begin (written by bench/failover_bench.js --md) -->';
  const end = '<!-- failover_bench:end -->';
  const block = `${begin}\n${body}\n${end}`;
  let text = '';
  try { text = fs.readFileSync(file, 'utf8'); } catch { /* new file */ }
  const i = text.indexOf(begin.slice(0, 28));
  const j = text.indexOf(end);
  if (i >= 0 && j > i) text = text.slice(0, i) + block + text.slice(j + end.length);
  else text = `${text}${text && !text.endsWith('\n') ? '\n' : ''}\n${block}\n`;
  fs.writeFileSync(file, text);
  log(`wrote ${file}`);
}

// ---------------------------------------------------------------- main

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  keepDirs = opts.keep;
  if (opts.fromJson) {
    // Re-render the tables of a saved run (--json) without running anything.
    const saved = JSON.parse(fs.readFileSync(opts.fromJson, 'utf8'));
    const md = report(saved.opts, saved.results, saved.meta);
    process.stdout.write(`${md}\n`);
    if (opts.md) writeMd(path.resolve(opts.md), md);
    return 0;
  }
  const meta = {
    date: new Date().toISOString().slice(0, 16).replace('T', ' '),
    command: ['node', 'bench/failover_bench.js', ...process.argv.slice(2)].join(' '),
    nproc: os.availableParallelism ? os.availableParallelism() : os.cpus().length,
    kernel: os.release(),
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    load: os.loadavg().map((x) => x.toFixed(1)).join(' '),
    arkBuild: buildType(opts.ark),
    v: versions(),
  };
  log(`ark ${opts.ark} (${meta.arkBuild}); stacks ${opts.stacks.join(', ')}; ${opts.rounds} rounds each`);
  // Run a private copy: a rebuild of the tree during the run (ninja relinks
  // in place) would otherwise make later rounds fail to start it.
  if (opts.stacks.some((s) => STACKS[s].kind === 'ark') && fs.existsSync(opts.ark)) {
    const binDir = makeWorkDir('bin');
    const copy = path.join(binDir, 'ark');
    fs.copyFileSync(opts.ark, copy);
    fs.chmodSync(copy, 0o755);
    const v = spawnSync(copy, ['--version'], { encoding: 'utf8' });
    if (v.status !== 0) throw new Error(`${opts.ark} does not run (${v.error || v.stderr}); is it being rebuilt?`);
    opts.arkOriginal = opts.ark;
    opts.ark = copy;
  }
  const results = {};
  const patroniMissing = !meta.v.patroni ? 'patroni not installed (scripts/install-deps.sh --bench)'
    : !meta.v.etcd ? 'etcd not installed (scripts/install-deps.sh)'
      : !fs.existsSync(path.join(PGBIN, 'postgres')) ? `no PostgreSQL in ${PGBIN} (scripts/install-deps.sh --bench)` : null;
  for (const stack of opts.stacks) {
    const kind = STACKS[stack].kind;
    if (kind === 'ark' && !fs.existsSync(opts.ark)) { results[stack] = { skipped: `no ark binary at ${opts.ark}` }; continue; }
    if (kind === 'patroni' && patroniMissing) { results[stack] = { skipped: patroniMissing }; log(`${stack}: ${patroniMissing}`); continue; }
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
  if (opts.md) writeMd(path.resolve(opts.md), md);
  if (opts.json) fs.writeFileSync(opts.json, JSON.stringify({ meta, opts, results }, null, 2));
  const anyFailed = Object.values(results).some((rs) => Array.isArray(rs) && rs.some((r) => !r.ok));
  return anyFailed ? 1 : 0;
}

main().then((code) => { cleanupAll(); process.exitCode = code; }, (e) => { console.error(e); cleanupAll(); process.exitCode = 1; });
