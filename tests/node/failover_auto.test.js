// Automatic failover end to end (docs/failover.md): `ark monitor` watches
// the primary, waits for its leader lease to expire at the witness, promotes
// the most advanced standby in a new epoch, and switches traffic (DNS
// dynamic update, hook); the leader lease fences a primary that lost it.
//
//   1. SIGKILL of the primary: the monitor fails over (timeline in order),
//      DNS (BIND 9 named, TSIG) and the hook follow, nothing acknowledged is
//      lost, the RTO is measured; the old primary restarted is fenced.
//   2. SIGSTOP of the primary: once the standby is promoted, the frozen
//      primary acknowledges nothing it received after the freeze, refuses
//      writes after SIGCONT and fences itself.
//   3. A partition between the primary and the monitor/witness (TcpProxy):
//      the primary stops acknowledging before the standby is promoted.
//      ARK_FAILOVER_ROUNDS rounds (3 by default; 30 for the long mode).
//   4. etcd as the witness: the same failover, and fencing.
//   5. `ark failover promote` by hand with a witness: the lease decides,
//      not --force.
//
// Timings are short: monitor checks every 200 ms (3 failures, 300 ms check
// timeout), leases of 2 s. Synchronises only by polling with deadlines;
// keeps its directory and prints the servers', monitor's, named's and
// etcd's logs when it fails.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn, execFile } = require('node:child_process');
const dgram = require('node:dgram');
const net = require('node:net');
const fs = require('node:fs');
const path = require('node:path');
const { arkBin, freePort, tempDir, runArk } = require('./helpers');
const { ArkServer, milvus, admin, logTails, waitUntil } = require('./kill_loop_lib');
const { TcpProxy } = require('./tcp_proxy');

const DIM = 8;
const SCHEMA = {
  autoID: false,
  enableDynamicField: false,
  fields: [
    { fieldName: 'id', dataType: 'Int64', isPrimary: true },
    { fieldName: 'vec', dataType: 'FloatVector', elementTypeParams: { dim: DIM } },
  ],
};
const INDEX = [{ fieldName: 'vec', indexName: 'vec', metricType: 'L2', indexType: 'FLAT', params: {} }];
const row = (id) => ({ id, vec: Array.from({ length: DIM }, (_, i) => ((id * 31 + i * 7) % 101) / 101) });
const range = (a, b) => Array.from({ length: b - a }, (_, i) => a + i);

const LEASE_TTL_MS = 2000;
const MONITOR_TIMING = ['--check-interval-ms', '200', '--failures', '3', '--check-timeout-ms', '300'];
const ROUNDS = Number(process.env.ARK_FAILOVER_ROUNDS || 3);
const ETCD_BIN = process.env.ARK_ETCD_BIN || '/usr/bin/etcd';
const NAMED = '/usr/sbin/named';
const TSIG_KEYGEN = '/usr/sbin/tsig-keygen';
const DIG = '/usr/bin/dig';

// Whether the tools a test needs are installed; without them the test fails
// and says how to get them, unless `skipVar`=1 (as the C++ DNS and etcd
// tests do).
function haveTools(t, tools, skipVar) {
  const missing = tools.filter((f) => { try { fs.accessSync(f, fs.constants.X_OK); return false; } catch { return true; } });
  if (missing.length === 0) return true;
  if (process.env[skipVar] === '1') {
    t.skip(`${missing.join(', ')} missing and ${skipVar}=1`);
    return false;
  }
  assert.fail(`${missing.join(', ')} missing: run scripts/install-deps.sh, or set ${skipVar}=1 to skip this test`);
}

async function ok(promise, what) {
  const r = await promise;
  assert.equal(r.code, 0, `${what}: ${JSON.stringify(r).slice(0, 600)}`);
  return r.data;
}
const status = (s) => ok(admin(s.endpoint, 'replication/status', {}), `replication/status on ${s.endpoint}`);
const monitorStatus = (m) => ok(admin(m.endpoint, 'monitor/status', {}), 'monitor/status');
const timeline = async (m) => (await ok(admin(m.endpoint, 'monitor/timeline', {}), 'monitor/timeline')).events;
async function ids(s) {
  const d = await ok(milvus(s.endpoint, 'entities/query', { collectionName: 'c', filter: 'id >= 0', outputFields: ['id'], limit: 16384 }),
    `query on ${s.endpoint}`);
  return d.map((r) => Number(r.id)).sort((a, b) => a - b);
}
const tryInsert = (s, list) => milvus(s.endpoint, 'entities/insert', { collectionName: 'c', data: list.map(row) });
const insert = (s, list) => ok(tryInsert(s, list), `insert on ${s.endpoint}`);
const probe = async (s, p) => {
  const r = await fetch(`${s.endpoint}${p}`, { signal: AbortSignal.timeout(5000) });
  return { status: r.status, body: await r.json() };
};
const run = (bin, args) => new Promise((resolve) => {
  execFile(bin, args, { timeout: 20000 }, (error, stdout, stderr) => resolve({ error, stdout, stderr }));
});

// Waits until `follower` has applied `leader`'s last record.
async function caughtUp(leader, follower, what, servers) {
  return waitUntil(`${what}: ${follower.endpoint} applies ${leader.endpoint}'s last record`, 60000, servers, async () => {
    const l = await status(leader);
    const f = await status(follower);
    return { done: f.state === 'streaming' && f.applied === l.lastPosition, seen: { leader: l, follower: f } };
  });
}

// An `ark serve` on a port chosen before it starts (the monitor names it).
// startServing() is for a server that is never ready by design (a fenced
// primary: /readyz 503): it waits until the server answers its admin routes
// (/healthz answers 200 already while the data directory opens).
class Node extends ArkServer {
  constructor(dataDir, extraArgs, port) {
    super(dataDir, extraArgs, { keepPort: true });
    this.port = port;
    this.endpoint = `http://127.0.0.1:${port}`;
  }

  start(timeoutMs) {
    const started = super.start(timeoutMs);  // has spawned by the time it returns
    this.watchSpawn();
    return started;
  }

  // A binary that cannot be started (being relinked: EACCES) emits 'error'
  // and no 'exit': note it as the exit, so that start() fails at once.
  watchSpawn() {
    this.child.once('error', (e) => {
      this.log += `spawn error: ${e.message}\n`;
      this.exit = { error: e.message };
    });
  }

  // ArkServer.start() with another readiness probe (same spawn, same log
  // keeping).
  async startServing(timeoutMs = 120000) {
    this.log = '';
    this.exit = null;
    const child = spawn(arkBin(), ['serve', '--data-dir', this.dataDir, '--listen', `127.0.0.1:${this.port}`,
      '--no-access-log', ...this.extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => { this.exit = { code, signal }; resolve(this.exit); });
    });
    this.watchSpawn();
    const keep = (c) => { this.log = (this.log + c.toString()).slice(-64 * 1024); };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const started = Date.now();
    while (Date.now() - started < timeoutMs) {
      if (this.exit) throw new Error(`ark serve on ${this.dataDir} exited during startup (${JSON.stringify(this.exit)}); log:\n${this.log}`);
      try {
        if ((await admin(this.endpoint, 'replication/status', {}, 2000)).code === 0) return Date.now() - started;
      } catch { /* not listening yet */ }
      await new Promise((r) => setTimeout(r, 20));  // readiness polling interval
    }
    throw new Error(`ark serve on ${this.dataDir}: not serving after ${timeoutMs} ms; log:\n${this.log}`);
  }
}

// Another child process (ark monitor, named, etcd) with the fields
// logTails() and waitUntil() use: endpoint, dataDir, log, exit, alive().
class Proc {
  constructor(name, dataDir, bin, args, endpoint) {
    this.name = name;
    this.dataDir = dataDir;
    this.bin = bin;
    this.args = args;
    this.endpoint = endpoint;
    this.log = '';
    this.exit = null;
    this.child = null;
  }

  // Spawns and polls `ready()` (resolving true once up) until `timeoutMs`.
  async start(ready, timeoutMs = 30000) {
    this.log = '';
    this.exit = null;
    const child = spawn(this.bin, this.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => { this.exit = { code, signal }; resolve(this.exit); });
    });
    child.once('error', (e) => {  // could not be started: no 'exit' follows
      this.log += `spawn error: ${e.message}\n`;
      this.exit = { error: e.message };
      this.child = null;
    });
    const keep = (c) => { this.log = (this.log + c.toString()).slice(-64 * 1024); };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.exit) throw new Error(`${this.name} exited during startup (${JSON.stringify(this.exit)}); log:\n${this.log}`);
      try {
        if (await ready()) return;
      } catch { /* not up yet */ }
      if (Date.now() > deadline) throw new Error(`${this.name} not ready after ${timeoutMs} ms; log:\n${this.log}`);
      await new Promise((r) => setTimeout(r, 25));  // readiness polling interval
    }
  }

  alive() { return this.child !== null && this.exit === null; }

  async kill() {
    if (!this.alive()) return this.exit;
    process.kill(this.child.pid, 'SIGKILL');
    return this.exited;
  }
}

// `n` distinct free loopback ports (all held open until all are chosen).
async function freePorts(n) {
  const servers = [];
  for (let i = 0; i < n; i++) {
    const srv = net.createServer();
    await new Promise((resolve, reject) => { srv.once('error', reject); srv.listen(0, '127.0.0.1', resolve); });
    servers.push(srv);
  }
  const ports = servers.map((srv) => srv.address().port);
  await Promise.all(servers.map((srv) => new Promise((resolve) => srv.close(resolve))));
  return ports;
}

async function httpOk(url) {
  const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
  return r.status === 200;
}

// A port free on 127.0.0.1 for TCP and UDP both (named listens on both).
async function freeDnsPort() {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await freePort();
    const free = await new Promise((resolve) => {
      const s = dgram.createSocket('udp4');
      s.once('error', () => resolve(false));
      s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no port free for both TCP and UDP');
}

// BIND 9 serving zone ark.test (db.ark.test A 127.0.0.1), updatable with
// TSIG key ark-key (in `keyFile`, as tsig-keygen writes it).
async function startNamed(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const key = await run(TSIG_KEYGEN, ['-a', 'hmac-sha256', 'ark-key']);
  assert.equal(key.error, null, `tsig-keygen: ${key.error} ${key.stderr}`);
  const keyFile = path.join(dir, 'ark-key.conf');
  fs.writeFileSync(keyFile, key.stdout);
  fs.writeFileSync(path.join(dir, 'ark.test.zone'), [
    '$TTL 300',
    '@  IN SOA ns.ark.test. admin.ark.test. 1 3600 600 86400 60',
    '@  IN NS  ns.ark.test.',
    'ns IN A   127.0.0.1',
    'db IN A   127.0.0.1',
    '',
  ].join('\n'));
  const port = await freeDnsPort();
  // controls {}: no rndc channel on the shared port 953.
  fs.writeFileSync(path.join(dir, 'named.conf'), [
    `include "${keyFile}";`,
    'controls { };',
    'options {',
    `  directory "${dir}"; pid-file "${dir}/named.pid"; session-keyfile "${dir}/session.key";`,
    `  listen-on port ${port} { 127.0.0.1; }; listen-on-v6 { none; };`,
    '  recursion no; dnssec-validation no;',
    '};',
    `zone "ark.test" { type primary; file "${dir}/ark.test.zone"; allow-update { key "ark-key"; }; };`,
    '',
  ].join('\n'));
  const named = new Proc('named', dir, NAMED, ['-g', '-c', path.join(dir, 'named.conf')], `dns://127.0.0.1:${port}`);
  named.port = port;
  named.keyFile = keyFile;
  named.dig = async (name) => {
    const r = await run(DIG, ['@127.0.0.1', '-p', String(port), '+time=2', '+tries=1', '+short', name, 'A']);
    if (r.error) throw new Error(`dig: ${r.error.message} ${r.stderr}`);
    return r.stdout.split('\n').filter(Boolean);
  };
  await named.start(async () => (await named.dig('db.ark.test')).includes('127.0.0.1'));
  return named;
}

// One etcd on free loopback ports, data in `dir`.
async function startEtcd(dir) {
  const [client, peer] = await freePorts(2);
  const c = `http://127.0.0.1:${client}`;
  const p = `http://127.0.0.1:${peer}`;
  const etcd = new Proc('etcd', dir, ETCD_BIN, ['--name', 't', '--data-dir', path.join(dir, 'data'),
    '--listen-client-urls', c, '--advertise-client-urls', c, '--listen-peer-urls', p,
    '--initial-advertise-peer-urls', p, '--initial-cluster', `t=${p}`], c);
  etcd.port = client;
  await etcd.start(async () => {
    const r = await fetch(`${c}/health`, { signal: AbortSignal.timeout(1000) });
    return r.status === 200 && (await r.text()).includes('"true"');
  });
  return etcd;
}

// A test's processes and directory: kept (with every log printed) unless
// the test passed.
function scene(t, name) {
  const sc = { root: tempDir(name), procs: [], proxies: [], passed: false };
  sc.add = (p) => { sc.procs.push(p); return p; };
  sc.logs = () => logTails(sc.procs, 8000);
  sc.cleanup = async () => {
    for (const p of sc.procs) {
      try {
        if (p.alive()) process.kill(p.child.pid, 'SIGCONT');  // a stopped process dies of SIGKILL too; be sure
        await p.kill();
      } catch (e) {
        t.diagnostic(`cannot kill ${p.endpoint}: ${e.message}`);
      }
    }
    for (const x of sc.proxies) await x.stop();
  };
  t.after(async () => {
    await sc.cleanup();
    if (sc.passed) fs.rmSync(sc.root, { recursive: true, force: true });
    else t.diagnostic(`kept ${sc.root}\n${sc.logs()}`);
  }, { timeout: 60000 });
  return sc;
}

// The monitor, primary a (holding the lease in epoch 1, collection 'c'
// created) and standby b of a. `etcd`: the witness is etcd, not the
// monitor. `aWitness` / `aNodeUrl`: what a dials for the witness and what the
// monitor dials to check a (proxies in the partition test). `dns`: named.
async function startCluster(sc, { dir = sc.root, monitorArgs = [], etcd = null, aWitness, aNodeUrl, dns = null, hook = null,
  monitorPort, aPort, bPort } = {}) {
  const [pm, pa, pb] = monitorPort ? [monitorPort, aPort, bPort] : await freePorts(3);
  const aUrl = `http://127.0.0.1:${pa}`;
  const bUrl = `http://127.0.0.1:${pb}`;
  const witness = etcd ? `etcd://127.0.0.1:${etcd.port}` : `http://127.0.0.1:${pm}`;
  const margs = ['monitor', '--listen', `127.0.0.1:${pm}`, '--data-dir', path.join(dir, 'monitor'),
    '--node', `a=${aNodeUrl || aUrl}${dns ? '@127.0.0.1' : ''}`, '--node', `b=${bUrl}${dns ? '@127.0.0.2' : ''}`,
    ...MONITOR_TIMING];
  if (etcd) margs.push('--witness', witness);
  if (dns) {
    margs.push('--dns-server', `127.0.0.1:${dns.port}`, '--dns-zone', 'ark.test', '--dns-name', 'db.ark.test',
      '--dns-key-file', dns.keyFile);
  }
  if (hook) margs.push('--hook', hook);
  margs.push(...monitorArgs);
  const monitor = sc.add(new Proc('monitor', path.join(dir, 'monitor'), arkBin(), margs, `http://127.0.0.1:${pm}`));
  await monitor.start(() => httpOk(`${monitor.endpoint}/healthz`));

  const yaml = path.join(dir, 'failover.yaml');
  fs.writeFileSync(yaml, `failover:\n  lease_ttl_ms: ${LEASE_TTL_MS}\n`);
  const common = ['--config', yaml];
  const a = sc.add(new Node(path.join(dir, 'a'), [...common, '--witness', aWitness || witness, '--node-name', 'a'], pa));
  await a.start(120000);
  await ok(milvus(a.endpoint, 'collections/create', { collectionName: 'c', schema: SCHEMA, indexParams: INDEX }), 'create');
  const b = sc.add(new Node(path.join(dir, 'b'), [...common, '--witness', witness, '--node-name', 'b',
    '--standby-of', aUrl, '--standby-name', 'b'], pb));
  await b.start(120000);
  return { monitor, a, b, witness, aUrl, bUrl };
}

// Inserts one row at a time to `s` until stop: records every answer with
// the client's wall clock when it came (ms). A refusal is retried after a
// short pause (a rate limit so the loop does not starve the servers of CPU,
// not a wait for anything).
function startWriter(s, firstId) {
  const w = { acks: [], refusals: [], errors: [], stop: false, next: firstId, inFlight: null };
  w.done = (async () => {
    while (!w.stop) {
      const id = w.next++;
      const sentAt = Date.now();
      w.inFlight = { id, sentAt };
      let r;
      try {
        r = await tryInsert(s, [id]);
      } catch (e) {
        w.errors.push({ id, sentAt, at: Date.now(), message: e.message });
        await new Promise((res) => setTimeout(res, 20));  // rate limit
        continue;
      } finally {
        w.inFlight = null;
      }
      const at = Date.now();
      if (r.code === 0) {
        w.acks.push({ id, sentAt, at });
      } else {
        w.refusals.push({ id, sentAt, at, code: r.code, message: r.message });
        await new Promise((res) => setTimeout(res, 20));  // rate limit
      }
    }
  })();
  return w;
}

// The kinds of timeline events, in order.
const names = (events) => events.map((e) => e.event);

// Waits for the monitor's failover number `n` and the new primary b
// answering /primary 200; returns its `promoted` event and the timeline.
async function failedOver(sc, monitor, b, n, timeoutMs, live) {
  await waitUntil(`the monitor fails over (failovers == ${n}) and b answers /primary 200`, timeoutMs, sc.procs, async () => {
    const m = await monitorStatus(monitor);
    if (m.failovers < n) return { done: false, seen: m };
    const p = await probe(b, '/primary');
    return { done: p.status === 200, seen: { monitor: m, primary: p } };
  }, live);
  const events = await timeline(monitor);
  const promoted = events.filter((e) => e.event === 'promoted');
  assert.equal(promoted.length, n, JSON.stringify(events));
  return { promoted: promoted[n - 1], events };
}

test('the monitor fails over when the primary is killed; DNS and the hook follow', { timeout: 240000 }, async (t) => {
  if (!haveTools(t, [NAMED, TSIG_KEYGEN, DIG], 'ARK_SKIP_DNS')) return;
  const sc = scene(t, 'failover-auto-kill');
  const named = sc.add(await startNamed(path.join(sc.root, 'named')));
  assert.deepEqual(await named.dig('db.ark.test'), ['127.0.0.1']);
  const hookOut = path.join(sc.root, 'hook.out');
  const hook = path.join(sc.root, 'hook.sh');
  fs.writeFileSync(hook, `#!/bin/sh\necho "$@" >> '${hookOut}'\n`, { mode: 0o755 });
  const { monitor, a, b, aUrl, bUrl } = await startCluster(sc, { dns: named, hook });
  const servers = sc.procs;

  // The monitor watches a, which holds the lease of epoch 1.
  await waitUntil('the monitor watches a', 30000, servers, async () => {
    const m = await monitorStatus(monitor);
    return { done: m.phase === 'watching' && m.leader.holder === 'a' && m.leader.epoch === 1 && m.leader.live, seen: m };
  });
  const sa = await status(a);
  assert.equal(sa.lease.state, 'held', JSON.stringify(sa.lease));
  assert.equal(sa.lease.epoch, 1);
  assert.equal((await status(b)).role, 'standby');
  assert.equal((await probe(b, '/primary')).status, 503);

  // Acknowledged writes (the oracle), then b catches up; writes stop.
  const acked = [];
  for (let i = 0; i < 10; i++) {
    const list = range(i * 30, i * 30 + 30);
    await insert(a, list);
    acked.push(...list);
  }
  await caughtUp(a, b, 'before the kill', servers);

  const killedAt = Date.now();
  await a.kill();
  // An insert on b: refused until promoted (a standby is read-only).
  let firstOk = null;
  let attempts = 0;
  let lastRefusal = null;
  await waitUntil('an insert on b succeeds', 30000, servers, async () => {
    attempts += 1;
    const r = await tryInsert(b, [100000]);
    if (r.code === 0) { firstOk = Date.now(); return { done: true }; }
    lastRefusal = r;
    return { done: false, seen: r };
  }, servers.filter((p) => p !== a));
  const rtoSeconds = (firstOk - killedAt) / 1000;
  t.diagnostic(`RTO (SIGKILL of a -> first insert acknowledged by b): ${rtoSeconds.toFixed(2)} s ` +
    `(${attempts} attempts; the last refusal: ${JSON.stringify(lastRefusal).slice(0, 300)})`);
  assert.ok(rtoSeconds < 15, `RTO ${rtoSeconds} s`);

  // The timeline since the kill, in order.
  let events;
  await waitUntil('the timeline has new-primary-ready', 30000, servers, async () => {
    events = (await timeline(monitor)).filter((e) => e.atMicros >= killedAt * 1000);
    return { done: names(events).includes('new-primary-ready'), seen: names(events) };
  }, [monitor, b]);
  // waiting-for-lease comes after the third failure while a's lease still
  // runs (it does with these timings, unless the machine is very slow:
  // then the lease may have run out by the third check).
  const waiting = events.filter((e) => e.event === 'waiting-for-lease');
  assert.ok(waiting.length <= 1, JSON.stringify(waiting));
  if (waiting.length === 0) t.diagnostic('no waiting-for-lease event: the lease had run out by the third failed check');
  assert.deepEqual(names(events).filter((n) => n !== 'waiting-for-lease'), ['check-failed', 'check-failed', 'check-failed',
    'lease-expired', 'candidate-chosen', 'lease-claimed', 'promoted', 'dns-updated', 'hook-ran', 'new-primary-ready'],
  JSON.stringify(events, null, 1));
  if (waiting.length) assert.equal(names(events)[3], 'waiting-for-lease', JSON.stringify(names(events)));
  assert.deepEqual(events.filter((e) => e.event === 'check-failed').map((e) => e.failure), [1, 2, 3]);
  const ev = (kind) => events.find((e) => e.event === kind);
  assert.equal(ev('check-failed').leader, 'a');
  assert.equal(ev('lease-expired').leader, 'a');
  assert.equal(ev('lease-expired').epoch, 1);
  assert.equal(ev('candidate-chosen').name, 'b');
  assert.equal(ev('lease-claimed').name, 'b');
  assert.equal(ev('lease-claimed').epoch, 2);
  assert.equal(ev('promoted').name, 'b');
  assert.equal(ev('promoted').epoch, 2);
  assert.equal(ev('promoted').report.recordsKnownMissing, 0, JSON.stringify(ev('promoted')));
  assert.equal(ev('dns-updated').value, '127.0.0.2');
  assert.equal(ev('new-primary-ready').name, 'b');
  // The lease was waited for: b's claim came no earlier than the time the
  // witness said a's lease had left, and (a renewed every ttl/5) at least
  // about ttl - ttl/5 after the kill (1000 ms: room for a renewal lost to a
  // loaded machine).
  const waitedMs = ev('lease-claimed').atMicros / 1000 - killedAt;
  t.diagnostic(`lease claimed for b ${waitedMs.toFixed(0)} ms after the kill; ` +
    `detection ${(ev('check-failed').atMicros / 1000 - killedAt).toFixed(0)} ms`);
  assert.ok(waitedMs >= 1000, `lease claimed ${waitedMs} ms after the kill`);
  if (waiting.length) {
    const leaseEndMs = waiting[0].atMicros / 1000 + waiting[0].remainingMs;
    assert.ok(ev('lease-claimed').atMicros / 1000 >= leaseEndMs - 2,
      `b's lease claimed before a's ran out (${JSON.stringify(waiting[0])})`);
  }
  const m = await monitorStatus(monitor);
  assert.equal(m.failovers, 1, JSON.stringify(m));
  assert.equal(m.lastFailover.from, 'a');
  assert.equal(m.lastFailover.to, 'b');
  assert.equal(m.lastFailover.epoch, 2);
  assert.equal(m.leader.holder, 'b', JSON.stringify(m));
  assert.equal(m.leader.epoch, 2);

  // DNS and the hook.
  assert.deepEqual(await named.dig('db.ark.test'), ['127.0.0.2']);
  assert.equal(fs.readFileSync(hookOut, 'utf8'), `failover b ${bUrl} a ${aUrl} 2\n`);

  // b: a primary of epoch 2 holding the lease; every acknowledged id (RPO 0).
  const sb = await status(b);
  assert.equal(sb.role, 'primary', JSON.stringify(sb));
  assert.deepEqual(sb.epochs.map((e) => e.epoch), [1, 2], JSON.stringify(sb.epochs));
  assert.equal(sb.lease.state, 'held', JSON.stringify(sb.lease));
  assert.equal(sb.lease.epoch, 2);
  const onB = await ids(b);
  assert.deepEqual(onB, [...acked, 100000]);

  // a comes back (same data, port and flags): fenced. It is never ready.
  await a.startServing();
  const refused = await tryInsert(a, [200000]);
  assert.notEqual(refused.code, 0, `the old primary took a write: ${JSON.stringify(refused)}`);
  assert.match(refused.message, /fenced/, JSON.stringify(refused));
  const pa = await probe(a, '/primary');
  assert.equal(pa.status, 503, JSON.stringify(pa));
  assert.equal(pa.body.role, 'fenced', JSON.stringify(pa));
  assert.equal((await fetch(`${a.endpoint}/readyz`)).status, 503);
  const sa2 = await status(a);
  assert.equal(sa2.lease.state, 'fenced', JSON.stringify(sa2.lease));
  assert.equal(sa2.lease.leader.holder, 'b');
  assert.equal(sa2.lease.leader.epoch, 2);
  assert.ok(!(await ids(a)).includes(200000));
  // b is unaffected: same rows, still the primary, still takes writes.
  assert.deepEqual(await ids(b), onB);
  await insert(b, [100001]);
  assert.equal((await probe(b, '/primary')).status, 200);
  assert.equal((await monitorStatus(monitor)).failovers, 1);
  sc.passed = true;
});

// A request that a's thread had already passed the last lease check for
// when SIGSTOP froze it (gdb showed the thread inside send() of the
// response) is answered when a resumes — after b's promotion: that
// acknowledgement was decided while a held its lease, only its delivery is
// late. No lease can fence that (it fences decisions, not answers already
// on their way), and in async mode such a write may be missing on b like any
// write acknowledged just before a failover. So what is checked is: an
// acknowledgement received after the promotion is for a request in flight at
// the freeze; nothing a receives after it resumes is acknowledged.
test('a frozen primary takes no write after its lease lapsed', { timeout: 180000 }, async (t) => {
  const sc = scene(t, 'failover-auto-stop');
  const { monitor, a, b } = await startCluster(sc);
  const servers = sc.procs;
  await insert(a, range(0, 50));
  await caughtUp(a, b, 'before the freeze', servers);

  // Three writers: at the freeze, requests are likely caught at every stage
  // (before the first lease check, waiting for durability — then the final
  // check refuses them — or past it).
  const writers = [10000, 20000, 30000].map((first) => startWriter(a, first));
  const acks = () => writers.flatMap((w) => w.acks);
  await waitUntil('the writers have acknowledgements', 30000, servers, async () => ({ done: acks().length >= 30, seen: acks().length }));
  const stoppedAt = Date.now();
  process.kill(a.child.pid, 'SIGSTOP');
  const inFlight = writers.map((w) => w.inFlight).filter(Boolean);
  const { promoted, events } = await failedOver(sc, monitor, b, 1, 30000, [monitor, b]);
  const promotedMs = promoted.atMicros / 1000;
  const claimed = events.find((e) => e.event === 'lease-claimed');
  t.diagnostic(`SIGSTOP -> lease claimed for b in ${(claimed.atMicros / 1000 - stoppedAt).toFixed(0)} ms, ` +
    `promoted in ${(promotedMs - stoppedAt).toFixed(0)} ms; in flight at the freeze: ${JSON.stringify(inFlight)}`);
  await insert(b, [500000]);

  // a wakes up: a new write is refused at once.
  for (const w of writers) w.stop = true;
  process.kill(a.child.pid, 'SIGCONT');
  const r = await tryInsert(a, [600000]);
  assert.notEqual(r.code, 0, `the frozen primary acknowledged a write after it woke: ${JSON.stringify(r)}`);
  t.diagnostic(`a's answer after SIGCONT: ${JSON.stringify(r).slice(0, 400)}`);
  await Promise.all(writers.map((w) => w.done));
  await waitUntil("a's lease becomes fenced", 10000, servers, async () => {
    const s = await status(a);
    return { done: s.lease.state === 'fenced', seen: s.lease };
  });
  const pa = await probe(a, '/primary');
  assert.equal(pa.status, 503, JSON.stringify(pa));
  assert.equal(pa.body.role, 'fenced', JSON.stringify(pa));

  const refusals = writers.flatMap((w) => w.refusals);
  const errors = writers.flatMap((w) => w.errors);
  assert.equal(errors.length, 0, JSON.stringify(errors));
  const inFlightIds = new Set(inFlight.map((x) => x.id));
  const late = acks().filter((x) => x.at >= promotedMs);
  assert.deepEqual(late.filter((x) => !inFlightIds.has(x.id)), [],
    `a acknowledged writes it received after the freeze, after b's promotion at ${promotedMs}`);
  const sb = await status(b);
  assert.equal(sb.role, 'primary');
  assert.deepEqual(acks().filter((x) => x.at >= sb.promotion.promotedMicros / 1000 && !inFlightIds.has(x.id)), [],
    JSON.stringify(sb.promotion));
  // What became of the requests in flight at the freeze.
  const fate = inFlight.map((x) => {
    const ack = acks().find((y) => y.id === x.id);
    if (ack && ack.at < promotedMs) return `${x.id}: acknowledged before the freeze`;
    if (ack) return `${x.id}: acknowledged ${(ack.at - promotedMs).toFixed(0)} ms after the promotion (decided before the freeze)`;
    const ref = refusals.find((y) => y.id === x.id);
    return `${x.id}: refused (${ref ? ref.message.slice(0, 90) : '?'})`;
  });
  const onB = new Set(await ids(b));
  const missing = acks().filter((x) => !onB.has(x.id)).map((x) => x.id);
  t.diagnostic(`writers: ${acks().length} acknowledged, ${refusals.length} refused; in flight at the freeze: ` +
    `${fate.join('; ')}; acknowledged by a but not on b: ${missing.length} ${JSON.stringify(missing)}`);
  // (async replication: the last acknowledged writes may not have reached b before the freeze)
  assert.ok(!(await ids(a)).includes(600000));

  // Found by this test (fixed): b's promotion waited for its replication
  // feedback thread, whose POST to the frozen primary gave up only after
  // its 10 s read timeout; Standby::Stop() now shuts that connection too.
  // lease-claimed -> promoted must stay short when the primary hangs.
  const promoteMs = promotedMs - claimed.atMicros / 1000;
  assert.ok(promoteMs < 3000, `the promotion took ${promoteMs.toFixed(0)} ms after the lease was claimed for b ` +
    '(Standby::Stop() waits for the feedback POST to the frozen primary to time out)');
  sc.passed = true;
});

test('a primary cut off from the witness stops taking writes before the standby is promoted', { timeout: ROUNDS * 90000 }, async (t) => {
  const sc = scene(t, 'failover-auto-partition');
  const totals = { acked: 0, refused: 0, missingOnB: 0, marginsMs: [] };
  for (let round = 1; round <= ROUNDS; round++) {
    const dir = path.join(sc.root, `round-${round}`);
    fs.mkdirSync(dir);
    const toWitness = new TcpProxy();   // a -> monitor (the witness)
    const toA = new TcpProxy();         // monitor -> a (health checks)
    await toWitness.start();
    await toA.start();
    sc.proxies.push(toWitness, toA);
    const [pm, pa, pb] = await freePorts(3);  // after the proxies took theirs
    toWitness.setTarget(pm);
    toA.setTarget(pa);
    const { monitor, a, b } = await startCluster(sc, { dir, monitorPort: pm, aPort: pa, bPort: pb,
      aWitness: toWitness.endpoint, aNodeUrl: toA.endpoint });
    const servers = [monitor, a, b];
    await insert(a, range(0, 50));
    await caughtUp(a, b, `round ${round}: before the partition`, servers);
    await waitUntil(`round ${round}: the monitor watches a`, 30000, servers, async () => {
      const m = await monitorStatus(monitor);
      return { done: m.phase === 'watching' && m.leader.holder === 'a', seen: m };
    });

    const w = startWriter(a, 1000);
    await waitUntil(`round ${round}: the writer has acknowledgements`, 30000, servers, async () => ({ done: w.acks.length >= 20, seen: w.acks.length }));
    const cutAt = Date.now();
    toWitness.setRefusing(true);
    toA.setRefusing(true);
    toWitness.cut();
    toA.cut();
    const { promoted } = await failedOver(sc, monitor, b, 1, 30000, servers);
    const promotedMs = promoted.atMicros / 1000;
    await insert(b, [500000]);
    // a is still cut off: it refuses.
    const after = await tryInsert(a, [600000]);
    w.stop = true;
    await w.done;
    assert.notEqual(after.code, 0, `round ${round}: a took a write after the failover: ${JSON.stringify(after)}`);
    assert.match(after.message, /lease/, JSON.stringify(after));

    const late = w.acks.filter((x) => x.at >= promotedMs);
    assert.deepEqual(late, [], `round ${round}: a acknowledged writes after b's promotion at ${promotedMs}`);
    const refusedBefore = w.refusals.filter((x) => x.at < promotedMs && /lease/.test(x.message));
    assert.ok(refusedBefore.length > 0, `round ${round}: a refused no write (for its lease) before the promotion; ` +
      `refusals ${JSON.stringify(w.refusals).slice(0, 600)}`);
    assert.equal(w.errors.length, 0, JSON.stringify(w.errors));
    const lastAck = w.acks[w.acks.length - 1];
    const firstRefusal = refusedBefore[0];
    const onB = new Set(await ids(b));
    const missing = w.acks.filter((x) => !onB.has(x.id)).map((x) => x.id);
    assert.ok(!onB.has(600000));
    const sb = await status(b);
    assert.equal(sb.role, 'primary');
    assert.deepEqual(sb.epochs.map((e) => e.epoch), [1, 2]);
    const sa = await status(a);
    assert.equal(sa.lease.state, 'expired', JSON.stringify(sa.lease));  // cut off: not told it is superseded
    t.diagnostic(`round ${round}: cut -> last ack ${lastAck.at - cutAt} ms, first lease refusal ${firstRefusal.at - cutAt} ms ` +
      `(${JSON.stringify(firstRefusal.message).slice(0, 160)}), promoted ${(promotedMs - cutAt).toFixed(0)} ms; ` +
      `${w.acks.length} acked, ${w.refusals.length} refused; acknowledged by a but not on b: ${missing.length}`);
    totals.acked += w.acks.length;
    totals.refused += w.refusals.length;
    totals.missingOnB += missing.length;
    totals.marginsMs.push(Math.round(promotedMs - lastAck.at));

    // The next round starts from scratch (and a failure shows its logs only).
    await sc.cleanup();
    sc.procs.length = 0;
    sc.proxies.length = 0;
    fs.rmSync(dir, { recursive: true, force: true });
  }
  t.diagnostic(`${ROUNDS} rounds: ${totals.acked} acknowledged, ${totals.refused} refused, ${totals.missingOnB} ` +
    `acknowledged but missing on b; last ack -> promotion margins (ms): ${totals.marginsMs.join(' ')}`);
  sc.passed = true;
});

test('the etcd witness serves the same failover', { timeout: 180000 }, async (t) => {
  if (!haveTools(t, [ETCD_BIN], 'ARK_SKIP_ETCD')) return;
  const sc = scene(t, 'failover-auto-etcd');
  const etcd = sc.add(await startEtcd(path.join(sc.root, 'etcd')));
  const { monitor, a, b } = await startCluster(sc, { etcd });
  const servers = sc.procs;
  const sa = await status(a);
  assert.equal(sa.lease.state, 'held', JSON.stringify(sa.lease));
  assert.match(sa.lease.witness, /etcd/, JSON.stringify(sa.lease));
  await waitUntil('the monitor watches a', 30000, servers, async () => {
    const m = await monitorStatus(monitor);
    return { done: m.phase === 'watching' && m.leader.holder === 'a' && m.leader.epoch === 1, seen: m };
  });
  assert.match((await monitorStatus(monitor)).witness, /etcd/);
  await insert(a, range(0, 100));
  await caughtUp(a, b, 'before the kill', servers);

  const killedAt = Date.now();
  await a.kill();
  const live = servers.filter((p) => p !== a);
  const { promoted } = await failedOver(sc, monitor, b, 1, 30000, live);
  assert.equal(promoted.name, 'b');
  assert.equal(promoted.epoch, 2);
  t.diagnostic(`etcd witness: SIGKILL -> promoted in ${(promoted.atMicros / 1000 - killedAt).toFixed(0)} ms`);
  await insert(b, [100000]);
  const sb = await status(b);
  assert.equal(sb.role, 'primary');
  assert.deepEqual(sb.epochs.map((e) => e.epoch), [1, 2]);
  assert.equal(sb.lease.state, 'held', JSON.stringify(sb.lease));
  assert.deepEqual(await ids(b), [...range(0, 100), 100000]);
  const m = await monitorStatus(monitor);
  assert.equal(m.leader.holder, 'b', JSON.stringify(m));
  assert.equal(m.leader.epoch, 2);

  await a.startServing();
  const refused = await tryInsert(a, [200000]);
  assert.notEqual(refused.code, 0, `the old primary took a write: ${JSON.stringify(refused)}`);
  assert.match(refused.message, /fenced/, JSON.stringify(refused));
  const pa = await probe(a, '/primary');
  assert.equal(pa.status, 503, JSON.stringify(pa));
  assert.equal(pa.body.role, 'fenced');
  await insert(b, [100001]);
  sc.passed = true;
});

test('promotion by hand respects the lease', { timeout: 180000 }, async (t) => {
  const sc = scene(t, 'failover-auto-manual');
  const { monitor, a, b } = await startCluster(sc, { monitorArgs: ['--no-auto-failover'] });
  const servers = sc.procs;
  await insert(a, range(0, 100));
  await caughtUp(a, b, 'before', servers);

  // a is alive and holds its lease: refused, with or without --force.
  for (const force of [[], ['--force']]) {
    const r = await runArk(['failover', 'promote', '--server', b.endpoint, ...force]);
    assert.notEqual(r.status, 0, `promotion ${force.join(' ')} succeeded while a holds its lease: ${r.stdout}`);
    assert.match(r.stderr, /still holds the leader lease/, r.stderr);
    assert.ok(r.stderr.includes(`a (${a.endpoint}) still holds the leader lease of epoch 1`), r.stderr);
    const sb = await status(b);
    assert.equal(sb.role, 'standby', JSON.stringify(sb));
    assert.equal(sb.lease.state, 'idle', JSON.stringify(sb.lease));
  }
  assert.equal((await status(a)).lease.state, 'held');
  await insert(a, [100]);  // a still takes writes

  await caughtUp(a, b, 'before the kill', servers);
  await a.kill();
  const live = servers.filter((p) => p !== a);
  // The monitor does not fail over; it reports the lease lapsing.
  await waitUntil("a's lease expires at the monitor", 30000, servers, async () => {
    const m = await monitorStatus(monitor);
    return { done: m.leader.live === false, seen: m };
  }, live);
  const m = await monitorStatus(monitor);
  assert.equal(m.failovers, 0, JSON.stringify(m));
  assert.equal(m.leader.holder, 'a');
  assert.match(m.phase, /automatic failover is off/, JSON.stringify(m));

  const r = await runArk(['failover', 'promote', '--server', b.endpoint, '--json']);
  assert.equal(r.status, 0, `promote: ${r.stderr}`);
  const report = JSON.parse(r.stdout.toString());
  assert.equal(report.epoch, 2, JSON.stringify(report));
  assert.equal(report.forced, false);
  assert.equal(report.leaseClaimed, true);
  assert.equal(report.recordsKnownMissing, 0);
  const sb = await status(b);
  assert.equal(sb.role, 'primary');
  assert.equal(sb.lease.state, 'held', JSON.stringify(sb.lease));
  assert.equal(sb.lease.epoch, 2);
  // Renewed past a whole ttl: still held, and the witness names b.
  const renewals = sb.lease.renewals;
  await waitUntil("b renews its lease past the ttl", 20000, servers, async () => {
    const s = await status(b);
    return { done: s.lease.state === 'held' && s.lease.renewals >= renewals + 6, seen: s.lease };
  }, live);
  const m2 = await monitorStatus(monitor);
  assert.equal(m2.leader.holder, 'b', JSON.stringify(m2));
  assert.equal(m2.leader.epoch, 2);
  assert.equal(m2.leader.live, true);
  await insert(b, [101]);
  assert.deepEqual(await ids(b), range(0, 102));
  sc.passed = true;
});
