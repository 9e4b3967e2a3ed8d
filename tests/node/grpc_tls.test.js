// The Milvus gRPC API behind TLS (docs/grpc.md "Transport", issue 19): with
// `tls.cert_file`/`key_file` set, REST is HTTPS on --listen and gRPC listens
// with the same certificate on `grpc.tls_port`, or on the REST port + 1 when
// that is unset. The real Node SDK MilvusClient connects over TLS trusting the
// test CA, writes and searches; REST over HTTPS reads back what gRPC wrote;
// plaintext gRPC and untrusting clients are refused without hurting the
// server; auth applies over TLS gRPC as over HTTPS REST.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const https = require('node:https');
const net = require('node:net');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const { MilvusClient, DataType } = require('@zilliz/milvus2-sdk-node');
const { arkBin, freePort, makeCertificate, tempDir } = require('./helpers');

const DIM = 4;
const vec = (i) => [Math.sin(i), Math.cos(i), Math.sin(2 * i), Math.cos(3 * i)].map(Math.fround);
const CHECK_HEALTH = '/milvus.proto.milvus.MilvusService/CheckHealth';

// One HTTPS request trusting `ca`; resolves { status, body, json }.
function httpsPost(url, body, { ca, token } = {}) {
  const payload = JSON.stringify(body);
  const headers = { 'Content-Type': 'application/json', 'Accept-Type-Allow-Int64': 'true' };
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: body === undefined ? 'GET' : 'POST', headers, ca, agent: false, timeout: 10000 },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let json;
          try { json = JSON.parse(text); } catch { /* not JSON */ }
          resolve({ status: res.statusCode, body: text, json });
        });
      });
    req.on('timeout', () => req.destroy(new Error(`timeout on ${url}`)));
    req.on('error', reject);
    req.end(body === undefined ? undefined : payload);
  });
}

function portFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

// A free port whose successor is free too (for the "REST port + 1" default).
async function freePortPair() {
  for (let i = 0; i < 50; i++) {
    const p = await freePort();
    if (p < 65535 && await portFree(p + 1)) return p;
  }
  throw new Error('no free pair of adjacent ports');
}

// Starts `ark serve` with TLS and the given extra YAML; ready once /readyz
// answers 200 over HTTPS. Returns { port, grpcPort, endpoint, output(), stop() }.
async function startTlsServe(name, certs, extraYaml = '') {
  const dir = tempDir(`grpc-tls-${name}`);
  const port = await freePortPair();
  const configFile = path.join(dir, 'ark.yaml');
  fs.writeFileSync(configFile, `tls: {cert_file: "${certs.cert}", key_file: "${certs.key}"}\n${extraYaml}`);
  const child = spawn(arkBin(), ['serve', '--config', configFile, '--data-dir', path.join(dir, 'data'),
    '--listen', `127.0.0.1:${port}`, '--no-access-log'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = [];
  child.stdout.on('data', (c) => out.push(c));
  child.stderr.on('data', (c) => out.push(c));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const server = {
    port,
    endpoint: `https://127.0.0.1:${port}`,
    output: () => Buffer.concat(out).toString(),
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const e = await exited;
      fs.rmSync(dir, { recursive: true, force: true });
      return e;
    },
  };
  const deadline = Date.now() + 60000;
  for (;;) {
    if (!server.alive()) throw new Error(`ark serve exited: ${server.output()}`);
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`ark serve not ready: ${server.output()}`);
    }
    try {
      if ((await httpsPost(`${server.endpoint}/readyz`, undefined, { ca: certs.ca })).status === 200) break;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 50));  // readiness polling interval
  }
  // The port gRPC says it listens on (logged once it is up, before ready).
  const m = server.output().match(/Milvus gRPC API \(TLS\) on port (\d+)/);
  assert.ok(m, `no gRPC TLS port in the log: ${server.output().slice(-2000)}`);
  server.grpcPort = Number(m[1]);
  return server;
}

// A raw CheckHealth over `creds`; resolves { err, res } (never hangs: deadline).
function rawCheckHealth(address, creds, metadata = new grpc.Metadata()) {
  const client = new grpc.Client(address, creds);
  return new Promise((resolve) => {
    client.makeUnaryRequest(CHECK_HEALTH, (b) => b, (b) => b, Buffer.alloc(0), metadata,
      { deadline: Date.now() + 10000 }, (err, res) => { client.close(); resolve({ err, res }); });
  });
}

function okStatus(res, what) {
  const status = res.status || res;
  assert.equal(status.code, 0, `${what}: ${JSON.stringify(status)}`);
  assert.equal(status.error_code, 'Success', `${what}: ${JSON.stringify(status)}`);
  return res;
}

// The workflow over TLS gRPC, checked over HTTPS REST: create, insert,
// index/load, an exact search against brute force, and the rows read back.
async function workflow(client, server, ca, token) {
  const coll = 'tls_docs';
  okStatus(await client.createCollection({ collection_name: coll, fields: [
    { name: 'id', data_type: DataType.Int64, is_primary_key: true },
    { name: 'tag', data_type: DataType.VarChar, max_length: 32 },
    { name: 'v', data_type: DataType.FloatVector, dim: DIM }] }), 'createCollection');
  okStatus(await client.createIndex({ collection_name: coll, field_name: 'v', index_type: 'FLAT', metric_type: 'L2' }),
    'createIndex');
  okStatus(await client.loadCollectionSync({ collection_name: coll }), 'load');
  const rows = Array.from({ length: 50 }, (_, i) => ({ id: i + 1, tag: `t${i + 1}`, v: vec(i + 1) }));
  const ins = okStatus(await client.insert({ collection_name: coll, data: rows }), 'insert');
  assert.equal(Number(ins.insert_cnt), rows.length);

  // Exact (FLAT) search: the ids of the 5 nearest rows by brute force.
  const q = vec(17.3);
  const l2 = (a) => a.reduce((s, x, k) => s + (x - q[k]) ** 2, 0);
  const expected = [...rows].sort((a, b) => l2(a.v) - l2(b.v)).slice(0, 5).map((r) => String(r.id));
  const found = okStatus(await client.search({ collection_name: coll, data: [q], limit: 5, output_fields: ['tag'] }),
    'search');
  assert.deepEqual(found.results.map((h) => String(h.id)), expected, 'TLS gRPC search vs brute force');
  assert.deepEqual(found.results.map((h) => h.tag), expected.map((id) => `t${id}`));

  // REST over HTTPS sees exactly what gRPC wrote.
  const back = await httpsPost(`${server.endpoint}/v2/vectordb/entities/query`,
    { collectionName: coll, filter: 'id > 0', outputFields: ['id', 'tag', 'v'], limit: 100 }, { ca, token });
  assert.equal(back.json?.code, 0, back.body);
  const got = back.json.data.sort((a, b) => Number(a.id) - Number(b.id));
  assert.deepEqual(got.map((r) => [Number(r.id), r.tag]), rows.map((r) => [r.id, r.tag]));
  got.forEach((r, i) => r.v.forEach((x, k) => assert.ok(Math.abs(x - rows[i].v[k]) < 1e-6, `row ${r.id} v[${k}]`)));
  // And a row written over HTTPS REST is found over TLS gRPC.
  const restIns = await httpsPost(`${server.endpoint}/v2/vectordb/entities/insert`,
    { collectionName: coll, data: [{ id: 1000, tag: 'rest', v: vec(1000) }] }, { ca, token });
  assert.equal(restIns.json?.code, 0, restIns.body);
  const viaGrpc = okStatus(await client.query({ collection_name: coll, filter: 'id == 1000', output_fields: ['tag'] }),
    'query');
  assert.deepEqual(viaGrpc.data.map((r) => [String(r.id), r.tag]), [['1000', 'rest']]);
}

test('TLS gRPC on the REST port + 1: MilvusClient works with the CA; plaintext and untrusting clients are refused',
  { timeout: 90000 }, async (t) => {
    const certDir = tempDir('grpc-tls-cert');
    t.after(() => fs.rmSync(certDir, { recursive: true, force: true }));
    const certs = makeCertificate(certDir);
    const server = await startTlsServe('default-port', certs);
    t.after(() => server.stop());
    assert.equal(server.grpcPort, server.port + 1, 'grpc.tls_port unset: gRPC is on the REST port + 1');
    const address = `127.0.0.1:${server.grpcPort}`;

    const client = new MilvusClient({ address, ssl: true, tls: { rootCert: certs.ca }, timeout: 15000 });
    t.after(() => client.closeConnection());
    await workflow(client, server, certs.ca);

    // Plaintext gRPC to the TLS port: the handshake fails, the call ends
    // UNAVAILABLE before its deadline, never with an answer.
    const plain = await rawCheckHealth(address, grpc.credentials.createInsecure());
    assert.equal(plain.res, undefined, 'plaintext gRPC got an answer from the TLS port');
    assert.equal(plain.err?.code, grpc.status.UNAVAILABLE, `plaintext gRPC: ${plain.err}`);
    // A TLS client that does not trust the self-signed certificate.
    const untrusting = await rawCheckHealth(address, grpc.credentials.createSsl());
    assert.equal(untrusting.err?.code, grpc.status.UNAVAILABLE, `untrusting TLS client: ${untrusting.err}`);
    // Plaintext gRPC to the HTTPS REST port (no gRPC is served inside TLS there).
    const plainRest = await rawCheckHealth(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
    assert.equal(plainRest.res, undefined, 'plaintext gRPC got an answer from the HTTPS port');
    assert.ok(plainRest.err && plainRest.err.code !== grpc.status.OK, `plaintext gRPC to HTTPS: ${plainRest.err}`);
    // A trusting raw client still gets through: the failed handshakes hurt nothing.
    const good = await rawCheckHealth(address, grpc.credentials.createSsl(certs.ca));
    assert.equal(good.err, null, String(good.err));
    assert.ok(good.res.length > 0, 'CheckHealth answered an empty message');
    assert.equal((await httpsPost(`${server.endpoint}/readyz`, undefined, { ca: certs.ca })).status, 200);
    await client.closeConnection();
    const exit = await server.stop();
    assert.deepEqual(exit, { code: 0, signal: null }, `ark serve did not stop cleanly: ${server.output().slice(-2000)}`);
  });

test('TLS gRPC on grpc.tls_port with auth: the token applies as over HTTPS REST', { timeout: 90000 }, async (t) => {
  const certDir = tempDir('grpc-tls-cert');
  t.after(() => fs.rmSync(certDir, { recursive: true, force: true }));
  const certs = makeCertificate(certDir);
  const grpcPort = await freePort();
  const token = 'tls-s3cret-token';
  const server = await startTlsServe('auth', certs,
    `grpc: {tls_port: ${grpcPort}}\nauth:\n  token: ${token}\n  users:\n    alice: wonderland\n`);
  t.after(() => server.stop());
  assert.equal(server.grpcPort, grpcPort, 'gRPC listens on grpc.tls_port');
  const address = `127.0.0.1:${grpcPort}`;
  // The REST port + 1 is not where gRPC is: nothing answers gRPC there
  // (unless another process took the port: then it is simply not Ark's).
  if (grpcPort !== server.port + 1 && await portFree(server.port + 1)) {
    const none = await rawCheckHealth(`127.0.0.1:${server.port + 1}`, grpc.credentials.createSsl(certs.ca));
    assert.equal(none.err?.code, grpc.status.UNAVAILABLE, String(none.err));
  }

  const client = new MilvusClient({ address, ssl: true, tls: { rootCert: certs.ca }, token, timeout: 15000 });
  const user = new MilvusClient({ address, ssl: true, tls: { rootCert: certs.ca }, username: 'alice',
    password: 'wonderland', timeout: 15000 });
  const bad = new MilvusClient({ address, ssl: true, tls: { rootCert: certs.ca }, token: 'wrong', timeout: 15000,
    maxRetries: 0 });
  const badConnect = bad.connectPromise.then(() => 'connected', (e) => e);  // refused too: awaited below
  t.after(async () => { await client.closeConnection(); await user.closeConnection(); await bad.closeConnection(); });
  await workflow(client, server, certs.ca, token);
  assert.deepEqual(okStatus(await user.showCollections(), 'user:password').data.map((c) => c.name), ['tls_docs']);

  // A wrong token: gRPC UNAUTHENTICATED over TLS, as REST answers 401/1800 over HTTPS.
  assert.match(String(await badConnect), /UNAUTHENTICATED/);
  await assert.rejects(bad.showCollections(), /UNAUTHENTICATED|auth/i);
  const wrongMeta = new grpc.Metadata();
  wrongMeta.set('authorization', Buffer.from('wrong').toString('base64'));
  const wrong = await rawCheckHealth(address, grpc.credentials.createSsl(certs.ca), wrongMeta);
  assert.equal(wrong.err?.code, grpc.status.UNAUTHENTICATED, String(wrong.err));
  const none = await rawCheckHealth(address, grpc.credentials.createSsl(certs.ca));
  assert.equal(none.err?.code, grpc.status.UNAUTHENTICATED, String(none.err));
  const goodMeta = new grpc.Metadata();
  goodMeta.set('authorization', Buffer.from(token).toString('base64'));
  const good = await rawCheckHealth(address, grpc.credentials.createSsl(certs.ca), goodMeta);
  assert.equal(good.err, null, String(good.err));
  const rest = await httpsPost(`${server.endpoint}/v2/vectordb/collections/list`, {}, { ca: certs.ca, token: 'wrong' });
  assert.equal(rest.status, 401, rest.body);
  assert.equal(rest.json?.code, 1800, rest.body);
  // The refused calls changed nothing: still the 51 rows the workflow wrote.
  const count = await httpsPost(`${server.endpoint}/v2/vectordb/entities/query`,
    { collectionName: 'tls_docs', filter: '', outputFields: ['count(*)'] }, { ca: certs.ca, token });
  assert.equal(count.json?.code, 0, count.body);
  assert.equal(Number(count.json.data[0]['count(*)']), 51);
});
