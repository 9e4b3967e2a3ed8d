// Starting and tearing down the two-node clusters of the failover benches
// (bench/failover_bench.js, bench/switchover_bench.js): Ark (`ark serve`
// primary + standby, witness `ark monitor` or etcd) and Patroni 3.0 +
// PostgreSQL 15 + etcd 3.4 from Debian, on loopback ports. Node standard
// library only.
//
// Every process started here is in its own process group and is SIGKILLed by
// cleanupAll() (installed for exit, SIGINT, SIGTERM and SIGHUP by
// installCleanup()), with every postmaster whose data directory was
// registered in pgDataDirs and the children of it; work directories are
// removed unless setKeepDirs(true).
'use strict';

const { spawn, execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const PGBIN = process.env.PGBIN || '/usr/lib/postgresql/15/bin';

// ---------------------------------------------------------------- logging

let logTag = 'bench';
function setLogTag(tag) { logTag = tag; }
function log(msg) { process.stderr.write(`[${logTag} ${new Date().toISOString().slice(11, 23)}] ${msg}\n`); }

// ---------------------------------------------------------------- processes and cleanup

const groups = new Set();   // pgids of processes we started (detached: each leads its own group)
const pgDataDirs = new Set(); // PostgreSQL data directories whose postmaster we must kill
const workDirs = new Set();
let keepDirs = false;
function setKeepDirs(keep) { keepDirs = keep; }

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

// Kills every process group and postmaster started so far (the work
// directories stay: removeWorkDir / cleanupAll remove them).
function killAll() {
  for (const g of [...groups]) killGroup(g);
  for (const d of [...pgDataDirs]) { killPids(postgresPids(d)); pgDataDirs.delete(d); }
}

function cleanupAll() {
  killAll();
  if (!keepDirs) for (const d of [...workDirs]) { fs.rmSync(d, { recursive: true, force: true }); workDirs.delete(d); }
}

function installCleanup() {
  process.on('exit', cleanupAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => { log(`${sig}: cleaning up`); cleanupAll(); process.exit(130); });
}

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

// Runs a command to its end without blocking the event loop (a client in
// this process keeps running meanwhile); its own group, killed at exit.
function run(cmd, args, { env, timeoutMs = 120000 } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: env || process.env });
    groups.add(child.pid);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    const timer = setTimeout(() => { stderr += `\n(killed after ${timeoutMs} ms)`; killGroup(child.pid); }, timeoutMs);
    const done = (status, error) => { clearTimeout(timer); groups.delete(child.pid); resolve({ status, stdout, stderr: error ? `${stderr}${error}` : stderr }); };
    child.on('error', (e) => done(-1, e.message));
    child.on('close', (code, signal) => done(code === null ? `signal ${signal}` : code));
  });
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

// A new directory under the system temp dir, e.g. makeWorkDir('ark-fo', 'ark').
function makeWorkDir(prefix, name) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-${name}-`));
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

// One row `id` into collection c of the Ark server at `url`: {ok, at, err},
// `at` = performance.now() when the answer came.
async function arkInsert(url, id, dim, timeoutMs = 2000) {
  try {
    const r = await postJson(`${url}/v2/vectordb/entities/insert`, { collectionName: 'c', data: [{ id, vector: vectorOf(id, dim) }] }, timeoutMs);
    return { ok: r.code === 0, at: performance.now(), err: r.code === 0 ? null : (r.message || JSON.stringify(r)).slice(0, 200) };
  } catch (e) {
    return { ok: false, at: performance.now(), err: (e.cause && e.cause.code) || e.message };
  }
}

// Rows 0..rows-1 into collection c, 1000 per request.
async function arkLoad(url, rows, dim) {
  for (let i = 0; i < rows; i += 1000) {
    const data = [];
    for (let j = i; j < Math.min(i + 1000, rows); j++) data.push({ id: j, vector: vectorOf(j, dim) });
    const r = await postJson(`${url}/v2/vectordb/entities/insert`, { collectionName: 'c', data });
    if (r.code !== 0) throw new Error(`base load: ${JSON.stringify(r).slice(0, 300)}`);
  }
}

// ---------------------------------------------------------------- the machine and the binaries

function buildType(bin) {
  try {
    const cache = fs.readFileSync(path.join(path.dirname(bin), 'CMakeCache.txt'), 'utf8');
    const type = (cache.match(/^CMAKE_BUILD_TYPE:STRING=(.*)$/m) || [])[1] || '?';
    const san = (cache.match(/^ARK_SANITIZE:STRING=(.*)$/m) || [])[1] || '';
    return san ? `${type} + sanitizers (${san})` : type;
  } catch { return 'unknown (no CMakeCache.txt beside the binary)'; }
}

function versions() {
  const first = (cmd, args) => { try { return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0].trim(); } catch { return null; } };
  return {
    patroni: first('patroni', ['--version']),
    postgres: first(path.join(PGBIN, 'postgres'), ['--version']),
    etcd: first('etcd', ['--version']),
  };
}

// Why the Patroni stacks cannot run here, or null.
function patroniMissing(v) {
  return !v.patroni ? 'patroni not installed (scripts/install-deps.sh --bench)'
    : !v.etcd ? 'etcd not installed (scripts/install-deps.sh)'
      : !fs.existsSync(path.join(PGBIN, 'postgres')) ? `no PostgreSQL in ${PGBIN} (scripts/install-deps.sh --bench)` : null;
}

// The machine, the date and the command line, for the report.
function runMeta(script, ark) {
  return {
    date: new Date().toISOString().slice(0, 16).replace('T', ' '),
    command: ['node', script, ...process.argv.slice(2)].join(' '),
    nproc: os.availableParallelism ? os.availableParallelism() : os.cpus().length,
    kernel: os.release(),
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    load: os.loadavg().map((x) => x.toFixed(1)).join(' '),
    arkBuild: buildType(ark),
    v: versions(),
  };
}

// Runs a private copy of the Ark binary: a rebuild of the tree during the
// run (ninja relinks in place) would otherwise make later rounds fail to
// start it. Sets opts.arkOriginal and points opts.ark at the copy.
function usePrivateArkCopy(opts, prefix) {
  if (!fs.existsSync(opts.ark)) return;
  const binDir = makeWorkDir(prefix, 'bin');
  const copy = path.join(binDir, 'ark');
  fs.copyFileSync(opts.ark, copy);
  fs.chmodSync(copy, 0o755);
  const v = spawnSync(copy, ['--version'], { encoding: 'utf8' });
  if (v.status !== 0) throw new Error(`${opts.ark} does not run (${v.error || v.stderr}); is it being rebuilt?`);
  opts.arkOriginal = opts.ark;
  opts.ark = copy;
}

// ---------------------------------------------------------------- report helpers

function stats(xs) {
  const v = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  if (!v.length) return null;
  const mid = v.length >> 1;
  return { median: v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2, min: v[0], max: v[v.length - 1], n: v.length };
}

// Replaces the block between `<!-- NAME:begin ... -->` and `<!-- NAME:end -->`
// in `file` by `body` (appends the block if the file has none).
function writeMd(file, body, name, script) {
  const begin = `<!-- ${name}:begin (written by ${script} --md) -->`;
  const end = `<!-- ${name}:end -->`;
  const block = `${begin}\n${body}\n${end}`;
  let text = '';
  try { text = fs.readFileSync(file, 'utf8'); } catch { /* new file */ }
  const i = text.indexOf(`<!-- ${name}:begin`);
  const j = text.indexOf(end);
  if (i >= 0 && j > i) text = text.slice(0, i) + block + text.slice(j + end.length);
  else text = `${text}${text && !text.endsWith('\n') ? '\n' : ''}\n${block}\n`;
  fs.writeFileSync(file, text);
  log(`wrote ${file}`);
}

// ---------------------------------------------------------------- etcd

async function startEtcd(dir, name = 'fb') {
  const [client, peer] = [await freePort(), await freePort()];
  const logFile = path.join(dir, 'etcd.log');
  const proc = start('etcd', ['--name', name, '--data-dir', path.join(dir, 'etcd'),
    '--listen-client-urls', `http://127.0.0.1:${client}`, '--advertise-client-urls', `http://127.0.0.1:${client}`,
    '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
    '--initial-cluster', `${name}=http://127.0.0.1:${peer}`], { logFile });
  await waitFor('etcd', 30000, async () => ({ done: (await httpStatus(`http://127.0.0.1:${client}/health`)) === 200 }), [logFile], [proc]);
  return { proc, port: client, logFile };
}

// ---------------------------------------------------------------- Ark

// Starts `ark serve` primary a and standby b of a in `dir`, with the witness
// an `ark monitor` (witness 'monitor', the default; it also fails over) or
// etcd at etcdPort (no monitor). Between the monitor and the primary it
// sleeps `beforePrimaryMs`; `load(A)` runs before the standby starts.
// Returns when the standby has replayed everything (and the monitor, if
// any, is watching a): {monitor, a, b, A, B, mon, procs, logs}.
async function startArkPair({ ark, dir, dim, witness = 'monitor', etcdPort = null, beforePrimaryMs = 0, load = null }) {
  const [pa, pb] = [await freePort(), await freePort()];
  const A = `http://127.0.0.1:${pa}`;
  const B = `http://127.0.0.1:${pb}`;
  const logs = ['a', 'b'].map((n) => path.join(dir, `${n}.log`));
  const procs = [];
  let monitor = null;
  let mon = null;
  if (witness === 'monitor') {
    const pm = await freePort();
    mon = `http://127.0.0.1:${pm}`;
    logs.unshift(path.join(dir, 'monitor.log'));
    monitor = start(ark, ['monitor', '--listen', `127.0.0.1:${pm}`, '--data-dir', path.join(dir, 'monitor'),
      '--node', `a=${A}`, '--node', `b=${B}`], { logFile: logs[0] });
    procs.push(monitor);
    await waitFor('the monitor', 60000, async () => ({ done: await canConnect(pm) }), logs, procs);
  }
  const witnessUrl = mon || `etcd://127.0.0.1:${etcdPort}`;
  await sleep(beforePrimaryMs);
  const a = start(ark, ['serve', '--data-dir', path.join(dir, 'a'), '--listen', `127.0.0.1:${pa}`,
    '--witness', witnessUrl, '--node-name', 'a', '--no-access-log'], { logFile: logs[logs.length - 2] });
  procs.push(a);
  await waitFor('primary a ready', 120000, async () => ({ done: (await httpStatus(`${A}/readyz`)) === 200 }), logs, procs);
  const created = await postJson(`${A}/v2/vectordb/collections/create`, { collectionName: 'c', dimension: dim });
  if (created.code !== 0) throw new Error(`create: ${JSON.stringify(created)}`);
  if (load) await load(A);
  const b = start(ark, ['serve', '--data-dir', path.join(dir, 'b'), '--listen', `127.0.0.1:${pb}`,
    '--witness', witnessUrl, '--node-name', 'b', '--standby-of', A, '--standby-name', 'b', '--no-access-log'], { logFile: logs[logs.length - 1] });
  procs.push(b);
  await waitFor('standby b ready', 120000, async () => ({ done: (await httpStatus(`${B}/readyz`)) === 200 }), logs, procs);
  await waitFor('standby b caught up', 120000, async () => {
    const p = (await postJson(`${A}/ark/v1/replication/status`, {})).data;
    const s = (await postJson(`${B}/ark/v1/replication/status`, {})).data;
    return { done: s.state === 'streaming' && s.applied === p.lastPosition, seen: { p: p.lastPosition, s: s.applied, state: s.state } };
  }, logs, procs);
  if (monitor) {
    await waitFor('the monitor watching a', 30000, async () => {
      const st = (await postJson(`${mon}/ark/v1/monitor/status`, {})).data;
      return { done: st.phase === 'watching' && st.leader && st.leader.holder === 'a', seen: st.phase };
    }, logs, procs);
  }
  return { monitor, a, b, A, B, mon, procs, logs };
}

// ---------------------------------------------------------------- Patroni

const runAsPostgres = process.getuid && process.getuid() === 0;

function chownPostgres(p) {
  if (runAsPostgres) execFileSync('chown', ['-R', 'postgres:', p]);
}

// One long-lived psql reading statements from a pipe; each statement is
// followed by `\warn ACK n :ERROR`, so its answer is timed to the
// millisecond without starting a process per statement. A psql whose
// connection dropped exits; the next exec() first makes a plain TCP connect
// to the node and, only if that succeeds, starts a new psql (a refused
// connect is what psql would get, without its ~25 ms of CPU).
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
    { env: { ...process.env, PGCONNECT_TIMEOUT: '2', PGPASSWORD: 'bench' }, encoding: 'utf8', timeout: 60000, maxBuffer: 256 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`psql on ${port}: ${(r.stderr || r.error || '').toString().trim()}`);
  return r.stdout.trim();
}

// Table t (id bigint primary key, v real[dim]) with rows 0..rows-1.
function pgLoad(port, rows, dim) {
  psqlOnce(port, 'CREATE TABLE t (id bigint PRIMARY KEY, v real[])');
  if (rows > 0) psqlOnce(port, `INSERT INTO t SELECT g, array_fill(0.5::real, ARRAY[${dim}]) FROM generate_series(0, ${rows - 1}) g`);
}

function patroniYaml({ scope = 'failover-bench', name, dir, rest, pg, etcd, dcs }) {
  const lines = [
    `scope: ${scope}`,
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

// Starts etcd and Patroni nodes p1 (bootstraps, leader) and p2 (clones p1)
// in `dir` with Patroni's dynamic settings `dcs` (null = its defaults).
// `load(p1)` runs on the leader before p2 starts. Returns when p2 streams and
// has replayed everything: {etcd, nodes, leader, other, logs, procs()}; each
// node {name, dir, rest, pg, yml, log, out, proc}.
async function startPatroniPair({ dir, dcs, scope, load = null }) {
  fs.chmodSync(dir, 0o755);
  const nodes = [];
  for (const name of ['p1', 'p2']) {
    const ndir = path.join(dir, name);
    fs.mkdirSync(ndir, { mode: 0o700 });
    nodes.push({ name, dir: ndir, rest: await freePort(), pg: await freePort() });
  }
  const etcd = await startEtcd(dir);
  for (const n of nodes) {
    n.yml = path.join(n.dir, 'patroni.yml');
    fs.writeFileSync(n.yml, patroniYaml({ ...n, scope, etcd: etcd.port, dcs }));
    n.log = path.join(n.dir, 'patroni.log');
    n.out = path.join(n.dir, 'patroni.out');
    pgDataDirs.add(path.join(n.dir, 'data'));
  }
  chownPostgres(dir);
  const logs = [etcd.logFile, ...nodes.flatMap((n) => [n.out, n.log])];
  const startNode = (n) => {
    const cmd = runAsPostgres ? ['runuser', ['-u', 'postgres', '--', 'patroni', n.yml]] : ['patroni', [n.yml]];
    n.proc = start(cmd[0], cmd[1], { logFile: n.out, cwd: n.dir });
  };
  const [p1, p2] = nodes;
  startNode(p1);
  await waitFor('p1 leader (GET /primary 200)', 120000, async () => ({ done: (await httpStatus(`http://127.0.0.1:${p1.rest}/primary`)) === 200 }), logs, [etcd.proc, p1.proc]);
  if (load) await load(p1);
  startNode(p2);
  await waitFor('p2 replica (GET /replica 200)', 120000, async () => ({ done: (await httpStatus(`http://127.0.0.1:${p2.rest}/replica`)) === 200 }), logs, [etcd.proc, p1.proc, p2.proc]);
  await waitFor('p2 streaming and caught up', 120000, async () => {
    const r = psqlOnce(p1.pg, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' AND replay_lsn = pg_current_wal_lsn()");
    return { done: r === '1', seen: r };
  }, logs, [etcd.proc, p1.proc, p2.proc]);
  // The leader is the node whose Patroni answers GET /primary with 200.
  const leader = (await httpStatus(`http://127.0.0.1:${p1.rest}/primary`)) === 200 ? p1 : p2;
  const other = leader === p1 ? p2 : p1;
  if ((await httpStatus(`http://127.0.0.1:${other.rest}/primary`)) === 200) throw new Error('both nodes answer /primary');
  return { etcd, nodes, leader, other, logs, procs: () => [etcd.proc, ...nodes.map((n) => n.proc)] };
}

module.exports = {
  ROOT, PGBIN, setLogTag, log,
  groups, pgDataDirs, setKeepDirs, killGroup, postgresPids, killPids, killAll, cleanupAll, installCleanup,
  start, run, tail, sleep, waitFor, freePort, canConnect, makeWorkDir, removeWorkDir,
  postJson, httpStatus, vectorOf, arkInsert, arkLoad, buildType, versions, patroniMissing, runMeta, usePrivateArkCopy, stats, writeMd,
  startEtcd, startArkPair,
  runAsPostgres, chownPostgres, PsqlSession, psqlOnce, pgLoad, patroniYaml, patroniLogTimes, startPatroniPair,
};
