// Every command shown in the README, run as a new user types it (issue 20:
// its object-store example once failed because `put` took the URL first).
//
// The README's ```sh blocks are split into commands (a command continues
// over `\` line ends and open quotes; comment lines are not commands). Each
// command is claimed by exactly one entry below: run by a scenario, or
// skipped with the reason. A README command nobody claims fails the first
// test, and so does an entry whose README command is gone, so a new README
// line cannot go untested silently.
//
// A command runs through `bash -c` as written, after the substitutions in
// `localize()`: the binary path, loopback ports (free ones instead of
// 19530/19531/19600/9000), the absolute paths it writes to (/srv/...,
// /tmp/demo: into a temp directory), placeholders (`<sha256>`, `...`
// credentials, the s3 bucket) and the --to-time moment (the README's date
// names no moment of this run). Relative paths (./ark-data, ./standby) stay:
// each scenario runs in its own temp directory. Long-running commands
// (serve, monitor) are started with `exec` and stopped when their test
// ends, whether it passed or not. README_DEBUG=1 prints each command and its output.
//
// Skipped: `make run` and `make test` (SKIPPED below says why). The yaml
// block is not commands; its own test serves with it.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const {
  BUCKET, arkBin, freePort, tempDir, startS3rver, startServe, milvusOk, clockPast,
} = require('./helpers');

const README = path.join(__dirname, '..', '..', 'README.md');

// ---- The README's commands -------------------------------------------------

// The commands of the README's ```sh blocks, in order: { text, key, block }.
// `text` is the command as written (continuation lines included, trailing
// comments removed), `key` the same with whitespace collapsed (for matching).
function readmeCommands() {
  const lines = fs.readFileSync(README, 'utf8').split('\n');
  const commands = [];
  let lang = null;  // inside a fence: its language; outside: null
  let block = 0;
  let pending = [];
  let quote = null;  // open quote carried across lines
  for (const line of lines) {
    const fence = line.match(/^```(\S*)/);
    if (fence) {
      assert.ok(pending.length === 0, `README: unterminated command before a fence: ${pending.join('\n')}`);
      lang = lang === null ? fence[1] : null;
      if (lang !== null) BLOCK_LANGUAGES.push(lang);
      if (lang === 'yaml') YAML_BLOCKS.push('');
      block++;
      continue;
    }
    if (lang === 'yaml') YAML_BLOCKS[YAML_BLOCKS.length - 1] += `${line}\n`;
    if (lang !== 'sh') continue;
    const { code, open, continued } = scanLine(line, quote);
    quote = open;
    if (pending.length === 0 && code.trim() === '') continue;  // blank or comment-only line
    pending.push(code.replace(/\s+$/, ''));
    if (open || continued) continue;
    const text = pending.join('\n');
    commands.push({ text, key: text.replace(/\\\n/g, ' ').replace(/\s+/g, ' ').trim(), block });
    pending = [];
  }
  return commands;
}

// One line of shell: the code without a trailing comment, the quote still
// open at its end, and whether it ends in a `\` continuation.
function scanLine(line, quote) {
  let out = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote === "'") { if (c === "'") quote = null; out += c; continue; }
    if (quote === '"') {
      if (c === '\\') { out += c + (line[i + 1] ?? ''); i++; continue; }
      if (c === '"') quote = null;
      out += c;
      continue;
    }
    if (c === '\\') { out += c + (line[i + 1] ?? ''); i++; continue; }
    if (c === "'" || c === '"') { quote = c; out += c; continue; }
    if (c === '#' && (i === 0 || /\s/.test(line[i - 1]))) break;  // a comment
    out += c;
  }
  return { code: out, open: quote, continued: quote === null && /\\$/.test(out.trimEnd()) };
}

const BLOCK_LANGUAGES = [];  // of every fenced block, in order
const YAML_BLOCKS = [];      // the text of each yaml block
const COMMANDS = readmeCommands();
const claimed = new Map();  // key -> what claimed it

// The one README command whose key contains `fragment` (all fragments, when
// an array); claims it. Throws at load if none or several match, so a
// changed README fails loudly here rather than silently running less.
function readme(fragment, claimant = 'run') {
  const parts = Array.isArray(fragment) ? fragment : [fragment];
  const hits = COMMANDS.filter((c) => parts.every((p) => c.key.includes(p)));
  if (hits.length !== 1) {
    throw new Error(`README.md: ${hits.length} commands contain ${JSON.stringify(parts)}` +
      (hits.length ? `: ${hits.map((h) => h.key).join(' | ')}` : ' (the README changed: update readme.test.js)'));
  }
  const [c] = hits;
  if (claimed.has(c.key)) throw new Error(`README command claimed twice: ${c.key}`);
  claimed.set(c.key, claimant);
  return c.text;
}

// Commands that cannot run in a test, with the reason.
const SKIPPED = [
  [readme('make run', 'skip'), 'builds the release tree and serves in the foreground until Ctrl-C; ' +
    'the `ark serve` it runs is the tour\'s first command, run below'],
  [readme('make test', 'skip'), 'the command that runs this test'],
];

// Fenced blocks that hold no commands, by language, with the reason.
// The yaml block is the config file: its own test below serves with it.
const NOT_COMMANDS = { yaml: 'a configuration file, not commands: served with by its own test' };

// The tour: a server and the Milvus API.
const TOUR = {
  serve: readme('ark serve --data-dir ./ark-data --listen 127.0.0.1:19530'),
  p: readme('P=http://127.0.0.1:19530/v2/vectordb'),
  create: readme('collections/create'),
  insert: readme('entities/insert'),
  get: readme('entities/get'),
  search: readme('entities/search'),
  query: readme('entities/query'),
  delete: readme('entities/delete'),
  describeIndex: readme('indexes/describe'),
  flush: readme('collections/flush'),
  compact: readme('collections/compact'),
  alias: readme('aliases/create'),
  stats: readme('collections/get_stats'),
  health: readme('/readyz'),
};
// A standby, replication status, and manual failover.
const STANDBY = {
  serve: readme(['ark serve --data-dir ./standby', '--standby-name dc2']),
  statusStandby: readme('ark replication status --server http://127.0.0.1:19531'),
  statusPrimary: readme('ark replication status --server http://127.0.0.1:19530'),
  promote: readme('ark failover promote'),
  failoverStatus: readme('ark failover status'),
};
// Automatic failover: the monitor and two servers holding its lease.
const MONITOR = {
  monitor: readme('ark monitor'),
  a: readme(['ark serve', '--node-name a']),
  b: readme(['ark serve', '--node-name b']),
};
// Backups, restore, archive and point-in-time restore; then the drills.
const BACKUP = {
  create: readme('ark backup create'),
  list: readme('ark backup list'),
  describe: readme('ark backup describe'),
  verify: readme('ark backup verify'),
  restore: readme('ark restore -n before-upgrade'),
  serveRestored: readme('ark serve --data-dir ./restored'),
  prune: readme('ark backup prune'),
  archiveStatus: readme('ark archive status'),
  pitr: readme('ark restore --repo /srv/ark-backups --data-dir ./pitr --to-time'),
  archiveVerify: readme('ark archive verify'),
  tiers: readme('databases/alter'),
  drill: readme('ark drill run restore-check'),
};
const DEMO_DR = readme('ark demo dr');
// The storage engine.
const ENGINE = {
  demo: readme('ark demo --data-dir /tmp/demo'),
  manifest: readme('ark inspect manifest'),
  wal: readme('ark inspect wal'),
  segment: readme('ark inspect segment'),
};
// Object storage.
const OBJECTS = {
  put: readme('ark objectstore put'),
  ls: readme('ark objectstore ls /srv/repo/some/'),
  s3: readme('s3://bucket/prefix'),
};

// ---- Running them ----------------------------------------------------------

// The README command as this run types it (see the header).
function localize(text, ctx = {}) {
  let s = text.replaceAll('build/release/ark', path.resolve(arkBin()));
  const ports = { 19530: ctx.portA, 19531: ctx.portB, 19600: ctx.portM, 9000: ctx.s3Port };
  for (const [readmePort, port] of Object.entries(ports)) {
    if (!port) continue;
    s = s.replaceAll(`127.0.0.1:${readmePort}`, `127.0.0.1:${port}`).replaceAll(`localhost:${readmePort}`, `localhost:${port}`);
  }
  if (ctx.dir) {
    s = s.replaceAll('/srv/ark-backups', path.join(ctx.dir, 'srv-ark-backups'))
      .replaceAll('/srv/repo', path.join(ctx.dir, 'srv-repo'))
      .replaceAll('/tmp/demo', path.join(ctx.dir, 'tmp-demo'));
  }
  if (ctx.sha256) s = s.replaceAll('<sha256>', ctx.sha256);
  if (ctx.toTime) s = s.replace(/--to-time \S+/, `--to-time ${ctx.toTime}`);
  if (ctx.s3Port) {
    s = s.replaceAll('AWS_ACCESS_KEY_ID=...', 'AWS_ACCESS_KEY_ID=S3RVER')
      .replaceAll('AWS_SECRET_ACCESS_KEY=...', 'AWS_SECRET_ACCESS_KEY=S3RVER')
      .replaceAll('s3://bucket/', `s3://${BUCKET}/`);
  }
  // `ark serve` without --listen listens on the README's default port, 19530.
  if (/ ark serve /.test(` ${text.replaceAll('build/release/ark', 'ark')} `) && !text.includes('--listen') && ctx.portA) {
    s += ` --listen 127.0.0.1:${ctx.portA}`;
  }
  return s;
}

// Runs a (localized) command to completion: { status, stdout, stderr }.
// A command still running after `timeoutMs` is killed (status null).
function sh(command, cwd, timeoutMs = 120000) {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, AWS_REGION: 'us-east-1' };
    const child = spawn('bash', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    const timer = setTimeout(() => { err.push(Buffer.from(`\n(killed after ${timeoutMs} ms)`)); child.kill('SIGKILL'); }, timeoutMs);
    child.stdout.on('data', (c) => out.push(c));
    child.stderr.on('data', (c) => err.push(c));
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

// Runs a README command and asserts it exits 0; returns its output.
async function run(readmeText, ctx, cwd) {
  if (process.env.README_DEBUG) console.error(localize(readmeText, ctx));
  const command = localize(readmeText, ctx);
  const r = await sh(command, cwd);
  assert.equal(r.status, 0, `README command exited ${r.status}:\n${command}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  if (process.env.README_DEBUG) console.error(r.stdout, r.stderr);
  return r.stdout;
}

// Runs a README curl command (after the P= line) and returns its Milvus
// answer's data, asserting code 0.
async function curl(readmeText, ctx, cwd) {
  const out = await run(`${TOUR.p}\n${readmeText}`, ctx, cwd);
  let j;
  try { j = JSON.parse(out); } catch { assert.fail(`not JSON from ${readmeText}: ${out}`); }
  assert.equal(j.code, 0, `${readmeText}: ${out}`);
  return j.data;
}

// Starts a long-running README command (serve, monitor); `exec`, so the
// child is the ark process itself (and a Ctrl-C of the test reaches it).
// `ready()` resolves true once it is up. Stopped by stop() and at the end of the test.
async function start(t, readmeText, ctx, cwd, ready, timeoutMs = 60000) {
  const command = localize(readmeText, ctx);
  const child = spawn('bash', ['-c', `exec ${command}`], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (c) => { output = (output + c.toString()).slice(-64 * 1024); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exit = null;
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => { exit = { code, signal }; resolve(exit); }));
  const proc = {
    output: () => output,
    exited,
    stop: async () => {
      if (exit === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
        await exited;
        clearTimeout(timer);
      }
      return exit;
    },
  };
  defer(t, proc.stop);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exit !== null) assert.fail(`README command exited during startup (${JSON.stringify(exit)}):\n${command}\n${output}`);
    if (Date.now() > deadline) assert.fail(`README command not ready after ${timeoutMs} ms:\n${command}\n${output}`);
    if (await ready()) return proc;
    await new Promise((r) => setTimeout(r, 25));  // readiness polling interval
  }
}

const readyz = (port) => async () => {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) });
    return r.status === 200;
  } catch { return false; }
};

// Cleanups of a test, run last-registered first (t.after runs in
// registration order, which would remove a directory before the server
// using it stops). Every one runs; the first error is rethrown.
const stacks = new WeakMap();
function defer(t, fn) {
  let stack = stacks.get(t);
  if (!stack) {
    stack = [];
    stacks.set(t, stack);
    t.after(async () => {
      let first = null;
      while (stack.length) {
        try { await stack.pop()(); } catch (e) { first = first || e; }
      }
      if (first) throw first;
    });
  }
  stack.push(fn);
}

async function scenarioDir(t, name) {
  const dir = tempDir(`readme-${name}`);
  defer(t, () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// ---- The tests -------------------------------------------------------------

test('every README command is run by this test or skipped with a reason', () => {
  assert.ok(COMMANDS.length >= 40, `only ${COMMANDS.length} commands parsed from the README`);
  const unclaimed = COMMANDS.filter((c) => !claimed.has(c.key)).map((c) => c.key);
  assert.deepEqual(unclaimed, [], 'README commands neither run nor skipped by readme.test.js');
  for (const [text, reason] of SKIPPED) assert.ok(reason.length > 10, `skip of ${text} needs a reason`);
  const unknown = BLOCK_LANGUAGES.filter((l) => l !== 'sh' && !(l in NOT_COMMANDS));
  assert.deepEqual(unknown, [], 'README code blocks in a language this test neither runs (sh) nor lists in NOT_COMMANDS');
});

test('the README tour: ark serve, the curl commands, a standby, failover', async (t) => {
  const dir = await scenarioDir(t, 'tour');
  const ctx = { portA: await freePort(), portB: await freePort(), dir };
  const primary = await start(t, TOUR.serve, ctx, dir, readyz(ctx.portA));
  assert.ok(fs.existsSync(path.join(dir, 'ark-data')), 'serve did not use ./ark-data');

  await curl(TOUR.create, ctx, dir);
  const ins = await curl(TOUR.insert, ctx, dir);
  assert.equal(ins.insertCount, 1, JSON.stringify(ins));
  const got = await curl(TOUR.get, ctx, dir);
  assert.deepEqual(got.map((r) => [Number(r.id), r.title]), [[1, 'hello']]);
  const hits = await curl(TOUR.search, ctx, dir);
  assert.equal(Number(hits[0]?.id), 1, `search did not find id 1: ${JSON.stringify(hits)}`);
  assert.equal(hits[0].title, 'hello');
  const count = await curl(TOUR.query, ctx, dir);
  assert.equal(Number(count[0]['count(*)']), 1, JSON.stringify(count));
  await curl(TOUR.delete, ctx, dir);
  const idx = await curl(TOUR.describeIndex, ctx, dir);
  assert.equal(idx[0]?.indexName, 'vector', JSON.stringify(idx));
  await curl(TOUR.flush, ctx, dir);
  await curl(TOUR.compact, ctx, dir);
  await curl(TOUR.alias, ctx, dir);
  const alias = await milvusOk(`http://127.0.0.1:${ctx.portA}`, 'aliases/describe', { aliasName: 'kb' });
  assert.equal(alias.collectionName, 'docs');
  const stats = await curl(TOUR.stats, ctx, dir);
  assert.equal(Number(stats.rowCount), 0, `rowCount after the README deleted its one row: ${JSON.stringify(stats)}`);
  const health = await run(TOUR.health, ctx, dir);
  assert.match(health, /ready/i);
  assert.match(health, /^ark_\w+/m, `no ark_ metric in the first lines of /metrics: ${health}`);

  // A standby of it, and replication status from both sides. A row written
  // on the primary reaches the standby.
  const standby = await start(t, STANDBY.serve, ctx, dir, readyz(ctx.portB));
  const ep = `http://127.0.0.1:${ctx.portA}`;
  await milvusOk(ep, 'entities/insert', { collectionName: 'docs', data: [{ id: 2, vector: [0.4, 0.3, 0.2, 0.1], title: 'two' }] });
  const onStandby = async () => (await fetch(`http://127.0.0.1:${ctx.portB}/v2/vectordb/entities/get`, {
    method: 'POST', body: JSON.stringify({ collectionName: 'docs', id: [2] }),
  }).then((r) => r.json())).data ?? [];
  const deadline = Date.now() + 30000;
  while ((await onStandby()).length === 0) {
    assert.ok(Date.now() < deadline, 'the row never reached the standby');
    await new Promise((r) => setTimeout(r, 50));  // replication polling interval
  }
  const fromStandby = await run(STANDBY.statusStandby, ctx, dir);
  assert.match(fromStandby, /^role +standby/m, fromStandby);
  assert.match(fromStandby, /^state +streaming/m, fromStandby);
  const fromPrimary = await run(STANDBY.statusPrimary, ctx, dir);
  assert.match(fromPrimary, /^role +primary/m, fromPrimary);
  assert.match(fromPrimary, /^dc2 +yes/m, fromPrimary);

  // The primary is gone: promote the standby, which then takes writes.
  const stopped = await primary.stop();
  assert.equal(stopped.code, 0, `the primary did not exit 0 on SIGTERM: ${JSON.stringify(stopped)}`);
  assert.match(await run(STANDBY.promote, ctx, dir), /epoch 2 begins/);
  const promoted = await run(STANDBY.failoverStatus, ctx, dir);
  assert.match(promoted, /^role +primary/m, promoted);
  assert.match(promoted, /^history +1 from \S+ -> 2 from/m, promoted);
  await milvusOk(`http://127.0.0.1:${ctx.portB}`, 'entities/insert', {
    collectionName: 'docs', data: [{ id: 3, vector: [0.1, 0.1, 0.1, 0.1], title: 'after failover' }],
  });
  await standby.stop();
});

test('the README\'s automatic failover: ark monitor and two servers holding its lease', async (t) => {
  const dir = await scenarioDir(t, 'monitor');
  const ctx = { portA: await freePort(), portB: await freePort(), portM: await freePort(), dir };
  const monitorUp = async () => {
    try {
      const r = await fetch(`http://127.0.0.1:${ctx.portM}/ark/v1/monitor/status`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(2000) });
      return (await r.json()).code === 0;
    } catch { return false; }
  };
  await start(t, MONITOR.monitor, ctx, dir, monitorUp);
  await start(t, MONITOR.a, ctx, dir, readyz(ctx.portA));
  await start(t, MONITOR.b, ctx, dir, readyz(ctx.portB));
  // The primary takes writes once it holds the lease; the standby gets them.
  const a = `http://127.0.0.1:${ctx.portA}/v2/vectordb`;
  const post = (url, body) => fetch(url, { method: 'POST', body: JSON.stringify(body) }).then((r) => r.json());
  const deadline = Date.now() + 30000;
  for (;;) {
    const r = await post(`${a}/collections/create`, { collectionName: 'docs', dimension: 4 });
    if (r.code === 0) break;
    assert.ok(Date.now() < deadline, `the primary never took a write: ${JSON.stringify(r)}`);
    await new Promise((res) => setTimeout(res, 50));  // lease polling interval
  }
  await milvusOk(`http://127.0.0.1:${ctx.portA}`, 'entities/insert', { collectionName: 'docs', data: [{ id: 1, vector: [1, 2, 3, 4] }] });
  for (;;) {
    const r = await post(`http://127.0.0.1:${ctx.portB}/v2/vectordb/entities/get`, { collectionName: 'docs', id: [1] });
    if (r.code === 0 && r.data.length === 1) break;
    assert.ok(Date.now() < deadline, `the row never reached the standby: ${JSON.stringify(r)}`);
    await new Promise((res) => setTimeout(res, 50));  // replication polling interval
  }
  const status = await post(`http://127.0.0.1:${ctx.portM}/ark/v1/monitor/status`, {});
  assert.match(JSON.stringify(status.data), /"a"/, JSON.stringify(status));
});

test('the README\'s backups, restore, archive, point-in-time restore and drill', async (t) => {
  const dir = await scenarioDir(t, 'backup');
  const ctx = { portB: await freePort(), dir };
  const repo = path.join(dir, 'srv-ark-backups');
  // The source server (not a README line): the README's archive: config.
  const source = await startServe('readme-backup-source', { yaml: `archive:\n  repo: ${repo}\n  interval_seconds: 0.2\n` });
  defer(t, () => source.cleanup());
  ctx.portA = source.port;
  const ep = source.endpoint;
  const row = (id) => ({ id, vector: [id, 1, 2, 3], title: `row ${id}` });
  await milvusOk(ep, 'collections/create', { collectionName: 'docs', dimension: 4 });
  await milvusOk(ep, 'entities/insert', { collectionName: 'docs', data: [1, 2, 3].map(row) });
  const ids = async (endpoint) => (await milvusOk(endpoint, 'entities/query', {
    collectionName: 'docs', filter: 'id > 0', outputFields: ['id'], limit: 100,
  })).map((r) => Number(r.id)).sort((x, y) => x - y);

  await run(BACKUP.create, ctx, dir);
  assert.match(await run(BACKUP.list, ctx, dir), /before-upgrade/);
  const described = await run(BACKUP.describe, ctx, dir);
  assert.match(described, /default\.docs +3 rows/, described);
  assert.match(await run(BACKUP.verify, ctx, dir), /is intact/);
  assert.match(await run(BACKUP.restore, ctx, dir), /default\.docs +3 rows/);
  const restored = await start(t, BACKUP.serveRestored, ctx, dir, readyz(ctx.portB));
  assert.deepEqual(await ids(`http://127.0.0.1:${ctx.portB}`), [1, 2, 3]);
  await restored.stop();
  await run(BACKUP.prune, ctx, dir);
  assert.match(await run(BACKUP.list, ctx, dir), /before-upgrade/, 'prune removed the only backup');

  // Row 4 before the target time, row 5 after it; wait for the archive to hold both.
  await milvusOk(ep, 'entities/insert', { collectionName: 'docs', data: [row(4)] });
  const at = Date.now() + 1;
  await clockPast(at);
  await milvusOk(ep, 'entities/insert', { collectionName: 'docs', data: [row(5)] });
  for (const deadline = Date.now() + 30000; ;) {
    const a = (await (await fetch(`${ep}/readyz`)).json()).details.archive;
    assert.ok(a.state !== 'stopped', `archiving stopped: ${JSON.stringify(a)}`);
    if (a.lagSeconds === 0) break;
    assert.ok(Date.now() < deadline, `the archive never caught up: ${JSON.stringify(a)}`);
    await new Promise((res) => setTimeout(res, 50));  // archive progress polling
  }
  const archived = await run(BACKUP.archiveStatus, ctx, dir);
  assert.match(archived, /^gaps +none/m, archived);
  assert.match(archived, /^ +before-upgrade +1\/\d+ /m, archived);
  ctx.toTime = new Date(at).toISOString();
  await run(BACKUP.pitr, ctx, dir);
  const pitr = await startServe('readme-pitr', { dataDir: path.join(dir, 'pitr') });
  defer(t, () => pitr.cleanup());
  assert.deepEqual(await ids(pitr.endpoint), [1, 2, 3, 4], `restore --to-time ${ctx.toTime}`);
  await pitr.stop();
  assert.match(await run(BACKUP.archiveVerify, ctx, dir), /archive is intact/);

  // DR tiers, then a restore-check drill of the newest backup.
  const alter = JSON.parse(await run(BACKUP.tiers, ctx, dir));
  assert.equal(alter.code, 0, JSON.stringify(alter));
  // The drill restores the newest backup: one taken after the tiers were set.
  const withTiers = await sh(`${path.resolve(arkBin())} backup create --server ${ep} --repo ${repo} -n with-tiers`, dir);
  assert.equal(withTiers.status, 0, withTiers.stderr);
  const drill = await run(BACKUP.drill, ctx, dir);
  // (judged against the tiers: a collection without them reads "no tier")
  assert.match(drill, /default\.docs +5 rows +samples 5\/5 +RTO pass, RPO pass/, drill);
  const drills = fs.readdirSync(path.join(dir, 'ark-drills'));
  assert.equal(drills.length, 1, `one drill report in ./ark-drills: ${drills}\n${drill}`);
  const report = JSON.parse(fs.readFileSync(path.join(dir, 'ark-drills', drills[0], 'report.json')));
  assert.equal(report.scenario, 'restore-check');
  assert.equal(report.passed, true, drill);
  assert.equal(report.source.backup, 'with-tiers');
});

test('the README\'s ark demo dr', async (t) => {
  const dir = await scenarioDir(t, 'demo-dr');
  const r = await sh(localize(DEMO_DR), dir);
  const where = r.stdout.match(/ark demo dr in (\S+)/);
  if (where) defer(t, () => fs.rmSync(where[1], { recursive: true, force: true }));
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /primary-crash: PASSED/);
  assert.match(r.stdout, /restore-check: PASSED/);
});

test('the README\'s storage engine demo and inspect commands', async (t) => {
  const dir = await scenarioDir(t, 'engine');
  const ctx = { dir };
  const demo = await run(ENGINE.demo, ctx, dir);
  assert.match(demo, /verified after reopen: (\d+) rows \(expected \1\)/, demo);
  const manifest = await run(ENGINE.manifest, ctx, dir);
  const segment = manifest.match(/segment ([0-9a-f]{64})/);
  assert.ok(segment, `inspect manifest lists no segment: ${manifest}`);
  const wal = await run(ENGINE.wal, ctx, dir);
  assert.match(wal, / insert +collection 1 /, wal);
  assert.match(wal, new RegExp(`file_change[^]*\\+ ${segment[1]}`), wal);
  ctx.sha256 = segment[1];
  const seg = await run(ENGINE.segment, ctx, dir);
  assert.match(seg, /rows 2950 /, seg);
  assert.match(seg, /\(matches the file name\)/, seg);
});

test('the README\'s object-store commands, local and on S3', async (t) => {
  const dir = await scenarioDir(t, 'objectstore');
  const s3 = await startS3rver();
  defer(t, () => s3.stop());
  const ctx = { dir, s3Port: s3.port };
  const repo = path.join(dir, 'srv-repo');
  fs.mkdirSync(repo);
  const bytes = Buffer.from(`file.bin of the README test ${Date.now()}\n`);
  fs.writeFileSync(path.join(dir, 'file.bin'), bytes);
  await run(OBJECTS.put, ctx, dir);
  assert.deepEqual(fs.readFileSync(path.join(repo, 'some', 'key')), bytes, 'put stored other bytes');
  assert.match(await run(OBJECTS.ls, ctx, dir), /key/);
  // The old order still works, saying what to type instead; stdin with one argument.
  const bin = path.resolve(arkBin());
  const old = await sh(`${bin} objectstore put ${repo}/old ${dir}/file.bin`, dir);
  assert.equal(old.status, 0, old.stderr);
  assert.match(old.stderr, /deprecated; use put .*file\.bin .*old/, old.stderr);
  assert.deepEqual(fs.readFileSync(path.join(repo, 'old')), bytes);
  const piped = await sh(`echo -n 'from stdin' | ${bin} objectstore put ${repo}/piped`, dir);
  assert.equal(piped.status, 0, piped.stderr);
  assert.equal(fs.readFileSync(path.join(repo, 'piped'), 'utf8'), 'from stdin');
  // The S3 line lists what is under the prefix.
  const url = `s3://${BUCKET}/prefix/readme.bin?endpoint=${s3.endpoint}&path_style=true`;
  const put = await sh(`AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER ${bin} objectstore put file.bin '${url}'`, dir);
  assert.equal(put.status, 0, put.stderr);
  assert.match(await run(OBJECTS.s3, ctx, dir), /PRE +prefix\//);
});

test('the README\'s config file serves as written (TLS, auth, schedules, archive, replication, drills)', async (t) => {
  assert.equal(YAML_BLOCKS.length, 1, 'one yaml block (the config file) in the README');
  const dir = await scenarioDir(t, 'config');
  const port = await freePort();
  // Its absolute paths go into the temp directory, its port is a free one;
  // the certificate it names is made here (relative paths: the server runs in `dir`).
  const yaml = YAML_BLOCKS[0].replaceAll('/var/lib/ark', path.join(dir, 'data'))
    .replaceAll('/srv/ark-backups', path.join(dir, 'srv-ark-backups'))
    .replaceAll('127.0.0.1:19530', `127.0.0.1:${port}`);
  fs.writeFileSync(path.join(dir, 'ark.yaml'), yaml);
  const cert = await sh('openssl req -x509 -newkey rsa:2048 -nodes -keyout server.key -out server.pem ' +
    '-days 1 -subj /CN=127.0.0.1', dir);
  assert.equal(cert.status, 0, `openssl (Debian package openssl) made no certificate: ${cert.stderr}`);
  const https = require('node:https');
  const get = (route, token) => new Promise((resolve) => {
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    const req = https.request(`https://127.0.0.1:${port}${route}`, { method: 'POST', headers, rejectUnauthorized: false, timeout: 2000 },
      (res) => { let b = ''; res.on('data', (c) => { b += c; }); res.on('end', () => resolve({ status: res.statusCode, body: b })); });
    req.on('error', () => resolve(null));
    req.on('timeout', () => req.destroy());
    req.end('{}');
  });
  const server = await start(t, `${path.resolve(arkBin())} serve --config ark.yaml`, {}, dir,
    async () => (await get('/v2/vectordb/collections/list', 'secret'))?.status === 200);
  const ok = JSON.parse((await get('/v2/vectordb/collections/list', 'secret')).body);
  assert.equal(ok.code, 0, JSON.stringify(ok));
  const anonymous = await get('/v2/vectordb/collections/list');
  assert.notEqual(JSON.parse(anonymous.body).code, 0, `served without the token: ${anonymous.body}`);
  const log = server.output();
  assert.match(log, /1 backup schedule\(s\) active/, log);
  assert.match(log, /1 drill schedule\(s\) active/, log);
  assert.match(log, /serving on https:/, log);
});
