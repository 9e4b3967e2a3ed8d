// Pieces of the failover suites (failover_switchover.test.js,
// failover_kill.test.js): `ark monitor` as a child process and a cluster of
// a monitor, a primary `a` and its standby `b` on loopback.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { tempDir, freePort, arkBin } = require('./helpers');
const { ArkServer, milvus, admin, logTails, waitUntil } = require('./kill_loop_lib');

const row = (id) => ({ id, vector: [id % 7, (id * 3) % 11, 1, (id * 5) % 13] });

async function ok(promise, what) {
  const r = await promise;
  assert.equal(r.code, 0, `${what}: ${JSON.stringify(r).slice(0, 600)}`);
  return r.data;
}
const status = (s) => ok(admin(s.endpoint, 'replication/status', {}), `replication/status on ${s.endpoint}`);
async function ids(s) {
  const d = await ok(milvus(s.endpoint, 'entities/query', { collectionName: 'c', filter: 'id >= 0', outputFields: ['id'], limit: 16384 }),
    `query on ${s.endpoint}`);
  return d.map((r) => Number(r.id)).sort((a, b) => a - b);
}
const insert = (s, list) => milvus(s.endpoint, 'entities/insert', { collectionName: 'c', data: list.map(row) }, 10000);

// `ark monitor` as a child process; `log` keeps its output.
class Monitor {
  constructor(dir, nodes) {
    this.dir = dir;
    this.nodes = nodes;
    this.log = '';
    this.exit = null;
    this.dataDir = dir;
  }
  async start() {
    this.port = await freePort();
    this.endpoint = `http://127.0.0.1:${this.port}`;
    const args = ['monitor', '--listen', `127.0.0.1:${this.port}`, '--data-dir', this.dir,
      '--check-interval-ms', '200', '--check-timeout-ms', '300', '--failures', '3'];
    for (const [name, s] of Object.entries(this.nodes)) args.push('--node', `${name}=http://127.0.0.1:${s.port}`);
    this.child = spawn(arkBin(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((r) => this.child.once('exit', (code, signal) => { this.exit = { code, signal }; r(); }));
    const keep = (c) => { this.log = (this.log + c.toString()).slice(-65536); };
    this.child.stdout.on('data', keep);
    this.child.stderr.on('data', keep);
    const deadline = Date.now() + 30000;
    while (Date.now() < deadline) {
      if (this.exit) throw new Error(`ark monitor exited: ${this.log}`);
      try {
        if ((await fetch(`${this.endpoint}/healthz`)).status === 200) return;
      } catch { /* not yet */ }
      await new Promise((r) => setTimeout(r, 20));  // readiness polling interval
    }
    throw new Error(`ark monitor not up: ${this.log}`);
  }
  alive() { return this.child && !this.exit; }
  async kill() {
    if (this.alive()) { this.child.kill('SIGKILL'); await this.exited; }
  }
  status() { return ok(admin(this.endpoint, 'monitor/status', {}), 'monitor/status'); }
}

// The fault-injecting proxy as a child process (tcp_proxy_child.js) in front
// of `targetPort`: {pid, port}; SIGSTOP freezes it, SIGKILL loses what it holds.
async function startProxyChild(t, targetPort) {
  const child = spawn(process.execPath, [path.join(__dirname, 'tcp_proxy_child.js'), String(targetPort)], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => { child.kill('SIGCONT'); child.kill('SIGKILL'); });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
      const m = /port (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`tcp_proxy_child exited ${code}`)));
  });
  return { pid: child.pid, port };
}

// A cluster: monitor + primary a + standby b, with a lease ttl of 2 s.
// `viaProxy`: b streams from a through a TcpProxy child process (`proxy`:
// {pid, port}), which a test can freeze or kill to lose what it holds.
// `partitionable`: the monitor reaches a, and a reaches its witness (the
// monitor), only through two proxy children (`partition`: {pids}); freezing
// them cuts a from the witness but not from clients.
async function cluster(t, name, { rejoinAuto = false, mode = 'async', viaProxy = false, partitionable = false } = {}) {
  const root = tempDir(name);
  const servers = [];
  const state = { passed: false };
  t.after(async () => {
    for (const s of servers) await s.kill();
    if (state.passed) fs.rmSync(root, { recursive: true, force: true });
    else t.diagnostic(`kept ${root}\n${logTails(servers)}`);
  });
  const a = new ArkServer(path.join(root, 'a'), [], { keepPort: true });
  const b = new ArkServer(path.join(root, 'b'), [], { keepPort: true });
  a.port = await freePort();
  b.port = await freePort();
  const toA = partitionable ? await startProxyChild(t, a.port) : null;
  const monitor = new Monitor(path.join(root, 'monitor'), { a: toA || a, b });
  servers.push(monitor, a, b);
  await monitor.start();
  const toMonitor = partitionable ? await startProxyChild(t, monitor.port) : null;
  const witnessOf = (node) => (node === 'a' && toMonitor ? `http://127.0.0.1:${toMonitor.port}` : monitor.endpoint);
  const partition = partitionable ? { pids: [toA.pid, toMonitor.pid] } : null;
  const yaml = (node) => {
    const file = path.join(root, `${node}.yaml`);
    fs.writeFileSync(file, `failover:\n  witness: ${witnessOf(node)}\n  name: ${node}\n  lease_ttl_ms: 2000\n` +
      `  rejoin: ${rejoinAuto ? 'auto' : 'manual'}\n` +
      // The primary's replication mode (sync: its writes wait for b); b,
      // once promoted, has no standby to wait for.
      (node === 'a' ? `replication:\n  mode: ${mode}\n  sync_timeout_ms: 20000\n` : ''));
    return file;
  };
  a.extraArgs = ['--config', yaml('a')];
  const proxy = viaProxy ? await startProxyChild(t, a.port) : null;
  b.extraArgs = ['--config', yaml('b'), '--standby-of', `http://127.0.0.1:${proxy ? proxy.port : a.port}`, '--standby-name', 'b'];
  await a.start();
  await b.start(120000);  // before any write: in sync mode the first one waits for it
  await ok(milvus(a.endpoint, 'collections/create', { collectionName: 'c', dimension: 4 }), 'create');
  return { root, a, b, monitor, servers, state, proxy, partition };
}

async function caughtUp(leader, follower, what, servers) {
  return waitUntil(`${what}: ${follower.endpoint} applies ${leader.endpoint}'s last record`, 60000, servers, async () => {
    const l = await status(leader);
    const f = await status(follower);
    return { done: f.state === 'streaming' && f.applied === l.lastPosition, seen: { leader: l.lastPosition, follower: f } };
  });
}


module.exports = { row, ok, status, ids, insert, Monitor, cluster, caughtUp };
