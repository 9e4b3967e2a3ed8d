// Shared helpers for the Node tests: start s3rver on a free loopback port,
// run the ark binary, make temp dirs.
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const BUCKET = 'ark-node';

function arkBin() {
  const bin = process.env.ARK_BIN;
  if (!bin || !fs.existsSync(bin)) {
    throw new Error(`ARK_BIN must name the built ark binary (got ${JSON.stringify(bin)}); ` +
      'scripts/run-tests.sh sets it');
  }
  return bin;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.on('connect', () => { sock.destroy(); resolve(true); });
    sock.on('error', () => resolve(false));
  });
}

function tempDir(name) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `ark-node-${name}-`));
}

// Starts s3rver with one bucket; returns { port, endpoint, stop() }.
async function startS3rver() {
  const script = path.join(__dirname, 'node_modules', 's3rver', 'bin', 's3rver.js');
  const dir = tempDir('s3rver');
  const port = await freePort();
  const env = { ...process.env, NODE_OPTIONS: '--openssl-legacy-provider' };
  const child = spawn(process.execPath, [script, '-d', dir, '-a', '127.0.0.1', '-p', String(port),
    '--silent', '--configure-bucket', BUCKET], { env, stdio: 'ignore' });
  const deadline = Date.now() + 20000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`s3rver exited with ${child.exitCode}`);
    if (await canConnect(port)) {
      return {
        port,
        endpoint: `http://127.0.0.1:${port}`,
        stop: () => new Promise((resolve) => {
          child.once('exit', () => { fs.rmSync(dir, { recursive: true, force: true }); resolve(); });
          child.kill('SIGTERM');
        }),
      };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error('s3rver did not start');
}

// Runs `ark args...` with S3 settings pointing at `endpoint`. Asynchronous, so
// that servers living in this process (the recording proxy) keep serving.
function runArk(args, { endpoint, input, extraEnv = {}, cwd } = {}) {
  const env = {
    ...process.env,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REGION: 'us-east-1',
    ...(endpoint ? { AWS_ENDPOINT_URL: endpoint } : {}),
    ...extraEnv,
  };
  if (!extraEnv.AWS_SESSION_TOKEN) delete env.AWS_SESSION_TOKEN;
  return new Promise((resolve, reject) => {
    const child = spawn(arkBin(), args, { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (c) => out.push(c));
    child.stderr.on('data', (c) => err.push(c));
    child.on('error', reject);
    child.on('close', (status) => resolve({
      status, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString(),
    }));
    child.stdin.end(input === undefined ? '' : input);
  });
}

async function runArkOk(args, opts) {
  const r = await runArk(args, opts);
  if (r.status !== 0) {
    throw new Error(`ark ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  }
  return r;
}

module.exports = { BUCKET, arkBin, freePort, startS3rver, runArk, runArkOk, tempDir };

// --- Additions for the bad-input matrix and the soak (bad_input.test.js, soak_lib.js) ---

// Starts `ark serve` on a free loopback port with a temp data dir (or
// `dataDir`) and, when `yaml` is given, a config file. Resolves once /readyz
// answers 200; rejects (with the server's output) if it exits first.
// `env` adds variables to the server's environment, `args` arguments to
// `ark serve` (e.g. ['--standby-of', URL]).
// Returns { endpoint, port, pid, dir, dataDir, output(), alive(), exited, stop(), cleanup() }.
async function startServe(name, { yaml, dataDir, accessLog = false, timeoutMs = 60000, env, args: extraArgs = [] } = {}) {
  const dir = tempDir(name);
  const port = await freePort();
  const data = dataDir || path.join(dir, 'data');
  const args = ['serve', '--data-dir', data, '--listen', `127.0.0.1:${port}`];
  if (yaml !== undefined) {
    const configFile = path.join(dir, 'ark.yaml');
    fs.writeFileSync(configFile, yaml);
    args.push('--config', configFile);
  }
  if (!accessLog) args.push('--no-access-log');
  args.push(...extraArgs);
  const child = spawn(arkBin(), args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ? { ...process.env, ...env } : process.env });
  const chunks = [];
  let kept = 0;
  const keep = (c) => {  // the last 4 MiB of output is plenty for a report
    chunks.push(c);
    kept += c.length;
    while (kept > (4 << 20) && chunks.length > 1) kept -= chunks.shift().length;
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exit = null;
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => {
    exit = { code, signal };
    resolve(exit);
  }));
  const endpoint = `http://127.0.0.1:${port}`;
  const server = {
    endpoint, port, pid: child.pid, dir, dataDir: data, exited,
    output: () => Buffer.concat(chunks).toString(),
    alive: () => exit === null,
    exit: () => exit,
    stop: async () => {
      if (exit === null) child.kill('SIGTERM');
      return exited;
    },
    cleanup: async () => {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exit !== null) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw new Error(`ark serve exited during startup (${JSON.stringify(exit)}): ${server.output()}`);
    }
    if (Date.now() > deadline) {
      await server.cleanup();
      throw new Error(`ark serve not ready after ${timeoutMs} ms: ${server.output()}`);
    }
    try {
      const r = await fetch(`${endpoint}/readyz`, { signal: AbortSignal.timeout(2000) });
      if (r.status === 200) return server;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 25));  // readiness polling interval
  }
}

// POSTs raw bytes (a Buffer or string, sent as given) and resolves
// { status, headers, body, json } (json undefined when the answer is not
// JSON); rejects on a transport error. `agent: false`: one connection each.
function rawPost(endpoint, route, payload, { headers = {}, timeoutMs = 30000, method = 'POST' } = {}) {
  const http = require('node:http');
  const buf = payload === undefined ? undefined : (Buffer.isBuffer(payload) ? payload : Buffer.from(payload));
  const h = { 'Accept-Type-Allow-Int64': 'true', ...headers };
  if (buf !== undefined) {
    h['Content-Type'] = h['Content-Type'] || 'application/json';
    h['Content-Length'] = String(buf.length);
  }
  return new Promise((resolve, reject) => {
    const req = http.request(`${endpoint}${route}`, { method, headers: h, agent: false }, (res) => {
      const parts = [];
      res.on('data', (c) => parts.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(parts).toString();
        let json;
        try { json = JSON.parse(body); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, headers: res.headers, body, json });
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout on ${route}`)));
    req.on('error', reject);
    req.end(buf);
  });
}

module.exports.startServe = startServe;
module.exports.rawPost = rawPost;

// mulberry32: a small seeded PRNG, so that a test's operation sequence can be
// replayed from its seed (kill loop, soak, SDK workflow).
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
module.exports.rng = rng;

// POSTs a Milvus REST v2 route and returns its `data`, asserting code 0 (the
// message and the start of the answer name the route when it is not).
async function milvusOk(endpoint, route, body) {
  const r = await fetch(`${endpoint}/v2/vectordb/${route}`, {
    method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' },
  });
  const j = await r.json();
  require('node:assert/strict').equal(j.code, 0, `${route}: ${JSON.stringify(j).slice(0, 300)}`);
  return j.data;
}
module.exports.milvusOk = milvusOk;

// Waits for the wall clock to pass `t` (ms since the epoch): for tests whose
// input is a span of time (records on either side of a target time, the data
// age a drill must report), not for synchronisation.
async function clockPast(t) {
  while (Date.now() <= t) await new Promise((r) => setTimeout(r, t - Date.now() + 1));
}
module.exports.clockPast = clockPast;

// A self-signed certificate for 127.0.0.1 in `dir` (key.pem-style files k.pem
// and c.pem), for the TLS tests. No silent skip: without the openssl CLI
// (Debian package `openssl`) the certificate cannot be made and the test
// must fail, saying so. Returns { key, cert, ca } (paths, and the PEM bytes).
function makeCertificate(dir) {
  const assert = require('node:assert/strict');
  const { spawnSync } = require('node:child_process');
  const probe = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  assert.equal(probe.error, undefined,
    'the openssl CLI (Debian package openssl) is needed to make a test certificate: ' + probe.error);
  const key = path.join(dir, 'k.pem');
  const cert = path.join(dir, 'c.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key,
    '-out', cert, '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1'],
  { encoding: 'utf8' });
  assert.equal(r.status, 0, `openssl req failed: ${r.stderr}`);
  return { key, cert, ca: fs.readFileSync(cert) };
}
module.exports.makeCertificate = makeCertificate;
