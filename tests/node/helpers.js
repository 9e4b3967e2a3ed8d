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
function runArk(args, { endpoint, input, extraEnv = {} } = {}) {
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
    const child = spawn(arkBin(), args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
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
