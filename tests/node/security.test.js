// The security suite of issue 7 (docs/reliability.md#security): `ark serve`
// behind TLS, its bearer authentication route by route, and secrets kept out
// of its logs and /metrics. Each test starts its own server on a free port
// with a temp data dir and a YAML config passed by --config.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const path = require('node:path');
const { arkBin, freePort, makeCertificate, runArk, tempDir } = require('./helpers');

// Routes the server must guard, copied from the documentation (not from the
// code, so a route the docs promise but the code forgets still gets tested).
// docs/server.md "## Routes", every row marked implemented:
const MILVUS_ROUTES = [
  'collections/create', 'collections/list', 'collections/has', 'collections/describe',
  'collections/drop', 'collections/rename', 'collections/get_stats', 'collections/flush',
  'collections/load', 'collections/release', 'collections/refresh_load', 'collections/get_load_state',
  'collections/compact', 'collections/get_compaction_state',
  'entities/insert', 'entities/upsert', 'entities/search', 'entities/hybrid_search',
  'entities/query', 'entities/get', 'entities/delete',
  'indexes/create', 'indexes/list', 'indexes/describe', 'indexes/drop',
  'databases/create', 'databases/list', 'databases/describe', 'databases/drop',
  'aliases/create', 'aliases/alter', 'aliases/describe', 'aliases/drop', 'aliases/list',
];
// docs/backup.md "## Admin API (`/ark/v1/`, POST, admin credential when configured)":
const ADMIN_ROUTES = [
  'backups/create', 'backups/verify', 'restores/create', 'backups/list', 'backups/describe',
  'backups/delete', 'backups/prune', 'jobs/list', 'jobs/get', 'jobs/cancel',
];

const DIM = 4;
const vec = (i) => [Math.sin(i), Math.cos(i), Math.sin(2 * i), Math.cos(3 * i)];

// One HTTP(S) request; resolves { status, headers, body, json } or rejects
// with the transport error (refused, reset, certificate, parse error).
function request(url, { method = 'POST', body, headers = {}, ca, token } = {}) {
  const u = new URL(url);
  const lib = u.protocol === 'https:' ? https : http;
  const payload = body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body));
  const h = { ...headers };
  if (token !== undefined) h.Authorization = `Bearer ${token}`;
  if (payload !== undefined) h['Content-Type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const req = lib.request(u, { method, headers: h, ca, agent: false, timeout: 10000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, headers: res.headers, body: text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`timeout on ${url}`)));
    req.on('error', reject);
    req.end(payload);
  });
}

function secret(prefix) {
  return `${prefix}-${crypto.randomBytes(16).toString('hex')}`;
}

// Starts `ark serve --config <yaml>`; keeps stdout+stderr for the log checks.
async function startServer(name, yaml, { tls = false, ca, accessLog = false } = {}) {
  const dir = tempDir(`security-${name}`);
  const port = await freePort();
  const configFile = path.join(dir, 'ark.yaml');
  fs.writeFileSync(configFile, yaml);
  const args = ['serve', '--config', configFile, '--data-dir', path.join(dir, 'data'),
    '--listen', `127.0.0.1:${port}`];
  if (!accessLog) args.push('--no-access-log');
  const child = spawn(arkBin(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = [];
  child.stdout.on('data', (c) => output.push(c));
  child.stderr.on('data', (c) => output.push(c));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const endpoint = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const server = {
    dir, port, endpoint,
    output: () => Buffer.concat(output).toString(),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const code = await exited;
      return code;
    },
    cleanup: async () => {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + 30000;
  for (;;) {
    if (child.exitCode !== null) {
      await exited;
      throw new Error(`ark serve exited ${child.exitCode}: ${server.output()}`);
    }
    if (Date.now() > deadline) {
      await server.cleanup();
      throw new Error('ark serve did not become ready');
    }
    try {
      if ((await request(`${endpoint}/readyz`, { method: 'GET', ca })).status === 200) break;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  return server;
}

// ---------------------------------------------------------------------------
// 1. TLS
// ---------------------------------------------------------------------------

test('TLS: HTTPS with the trusted certificate works; plain HTTP and untrusted clients fail', async (t) => {
  const certDir = tempDir('security-cert');
  t.after(() => fs.rmSync(certDir, { recursive: true, force: true }));
  const { key, cert, ca } = makeCertificate(certDir);
  const server = await startServer('tls', `tls: {cert_file: "${cert}", key_file: "${key}"}\n`, { tls: true, ca });
  t.after(() => server.cleanup());

  const health = await request(`${server.endpoint}/healthz`, { method: 'GET', ca });
  assert.equal(health.status, 200);
  assert.equal(health.json.status, 'alive');
  const created = await request(`${server.endpoint}/v2/vectordb/collections/create`,
    { ca, body: { collectionName: 'docs', dimension: DIM } });
  assert.equal(created.json.code, 0, created.body);
  const list = await request(`${server.endpoint}/v2/vectordb/collections/list`, { ca, body: {} });
  assert.equal(list.status, 200);
  assert.deepEqual(list.json, { code: 0, data: ['docs'] });

  // Plain HTTP to the TLS port: the TLS handshake fails, so the client sees
  // a reset, a closed socket or bytes that are not HTTP, never an answer.
  const plainUrl = `http://127.0.0.1:${server.port}`;
  for (const [method, route, body] of [['GET', '/healthz', undefined],
    ['POST', '/v2/vectordb/collections/list', {}]]) {
    await assert.rejects(request(`${plainUrl}${route}`, { method, body }),
      (err) => {
        assert.ok(['ECONNRESET', 'HPE_INVALID_CONSTANT', 'HPE_INVALID_VERSION', 'HPE_INVALID_METHOD',
          'ECONNREFUSED'].includes(err.code) || /socket hang up|Parse Error/.test(err.message),
        `plain HTTP ${method} ${route}: unexpected error ${err.code} ${err.message}`);
        return true;
      }, `plain HTTP ${method} ${route} got an HTTP answer`);
  }

  // A client that does not trust the self-signed certificate refuses it.
  await assert.rejects(request(`${server.endpoint}/healthz`, { method: 'GET' }), (err) => {
    assert.match(String(err.code), /SELF_SIGNED|UNABLE_TO_VERIFY|CERT/, `${err.code} ${err.message}`);
    return true;
  });
  // The certificate names 127.0.0.1 only: a trusting client reaching the
  // server under another name rejects it too (hostname check is on).
  await assert.rejects(request(`https://localhost:${server.port}/healthz`, { method: 'GET', ca }),
    (err) => {
      assert.match(String(err.code), /ERR_TLS_CERT_ALTNAME_INVALID|ECONNREFUSED/, `${err.code} ${err.message}`);
      return true;
    });

  // The failed handshakes did not hurt the server.
  const again = await request(`${server.endpoint}/readyz`, { method: 'GET', ca });
  assert.equal(again.status, 200);
  assert.equal(await server.stop(), 0, `ark serve did not stop cleanly: ${server.output()}`);
});

test('TLS: a missing certificate or key file stops `ark serve` with a message naming it', async (t) => {
  const dir = tempDir('security-badtls');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const { key, cert } = makeCertificate(dir);
  const missingCert = path.join(dir, 'no-such-cert.pem');
  const missingKey = path.join(dir, 'no-such-key.pem');
  for (const [certFile, keyFile, missing] of [[missingCert, key, missingCert], [cert, missingKey, missingKey]]) {
    const configFile = path.join(dir, 'ark.yaml');
    fs.writeFileSync(configFile, `tls: {cert_file: "${certFile}", key_file: "${keyFile}"}\n`);
    const port = await freePort();
    const r = await runArk(['serve', '--config', configFile, '--data-dir', path.join(dir, 'data'),
      '--listen', `127.0.0.1:${port}`, '--no-access-log']);
    assert.notEqual(r.status, 0, `ark serve with ${missing} missing exited 0`);
    assert.ok(r.stderr.includes(missing), `stderr does not name ${missing}: ${r.stderr}`);
  }
});

// ---------------------------------------------------------------------------
// 2. Authentication, route by route
// ---------------------------------------------------------------------------

// Bodies that would change the fixture (or read it) if the request got
// through: every unauthenticated attempt uses these.
function harmfulBody(route, repo, restoreDir) {
  const bodies = {
    'collections/create': { collectionName: 'evil', dimension: DIM },
    'collections/drop': { collectionName: 'docs' },
    'collections/rename': { collectionName: 'docs', newCollectionName: 'evil' },
    'collections/release': { collectionName: 'docs' },
    'entities/insert': { collectionName: 'docs', data: [{ id: 100, vector: vec(100) }] },
    'entities/upsert': { collectionName: 'docs', data: [{ id: 101, vector: vec(101) }] },
    'entities/search': { collectionName: 'docs', data: [vec(1)], limit: 3 },
    'entities/hybrid_search': { collectionName: 'docs', search: [{ data: [vec(1)], annsField: 'vector', limit: 3 }], limit: 3 },
    'entities/query': { collectionName: 'docs', filter: 'id >= 0', limit: 10 },
    'entities/get': { collectionName: 'docs', id: [1, 2] },
    'entities/delete': { collectionName: 'docs', filter: 'id >= 0' },
    'indexes/create': { collectionName: 'docs', indexParams: [{ fieldName: 'vector', indexName: 'vector', metricType: 'L2', indexType: 'FLAT' }] },
    'indexes/drop': { collectionName: 'docs', indexName: 'vector' },
    'indexes/describe': { collectionName: 'docs', indexName: 'vector' },
    'databases/create': { dbName: 'evil' },
    'databases/drop': { dbName: 'keep' },
    'databases/describe': { dbName: 'keep' },
    'aliases/create': { collectionName: 'docs', aliasName: 'evil' },
    'aliases/alter': { collectionName: 'other', aliasName: 'kb' },
    'aliases/drop': { aliasName: 'kb' },
    'aliases/describe': { aliasName: 'kb' },
    'backups/create': { repo, name: 'evil' },
    'backups/verify': { repo, name: 'evil' },
    'restores/create': { repo, name: 'evil', targetDir: restoreDir },
    'backups/list': { repo },
    'backups/describe': { repo, name: 'evil' },
    'backups/delete': { repo, name: 'evil' },
    'backups/prune': { repo, keepLast: 0 },
    'jobs/get': { jobId: '1' },
    'jobs/cancel': { jobId: '1' },
  };
  return bodies[route] || { collectionName: 'docs' };
}

// What the fixture looks like, read with a valid credential.
async function snapshot(server, token) {
  const call = async (route, body) => {
    const r = await request(`${server.endpoint}/v2/vectordb/${route}`, { token, body });
    assert.equal(r.json?.code, 0, `${route}: ${r.body}`);
    return r.json.data;
  };
  return {
    collections: (await call('collections/list', {})).sort(),
    databases: (await call('databases/list', {})).sort(),
    count: (await call('entities/query', { collectionName: 'docs', filter: '', outputFields: ['count(*)'] }))[0]['count(*)'],
    rows: await call('entities/get', { collectionName: 'docs', id: [1, 2, 3], outputFields: ['vector'] }),
    aliases: await call('aliases/describe', { aliasName: 'kb' }),
    loadState: await call('collections/get_load_state', { collectionName: 'docs' }),
    indexes: await call('indexes/describe', { collectionName: 'docs', indexName: 'vector' }),
  };
}

function assertUnauthenticated(r, what) {
  assert.equal(r.status, 401, `${what}: HTTP ${r.status} ${r.body}`);
  assert.equal(r.json?.code, 1800, `${what}: ${r.body}`);
  assert.equal(r.json.data, undefined, `${what} returned data: ${r.body}`);
}

function assertAccepted(r, what) {
  assert.notEqual(r.status, 401, `${what}: ${r.body}`);
  assert.ok(r.json && typeof r.json.code === 'number', `${what}: not a JSON envelope: ${r.body}`);
  assert.notEqual(r.json.code, 1800, `${what}: ${r.body}`);
}

test('auth: every documented route refuses missing or wrong credentials and changes nothing', async (t) => {
  const token = secret('tok');
  const adminToken = secret('adm');
  const password = secret('pw');
  const server = await startServer('auth',
    `auth: {token: "${token}", admin_token: "${adminToken}", users: {alice: "${password}"}}\n`);
  t.after(() => server.cleanup());
  const repo = path.join(server.dir, 'repo');
  fs.mkdirSync(repo);
  const restoreDir = path.join(server.dir, 'restored');
  const v2 = (route) => `${server.endpoint}/v2/vectordb/${route}`;
  const admin = (route) => `${server.endpoint}/ark/v1/${route}`;

  // The fixture, written with the token: a collection with rows and an
  // index, a second collection, a database and an alias.
  const setup = async (route, body) => {
    const r = await request(v2(route), { token, body });
    assert.equal(r.json?.code, 0, `${route}: ${r.body}`);
  };
  await setup('collections/create', { collectionName: 'docs', dimension: DIM });
  await setup('collections/create', { collectionName: 'other', dimension: DIM });
  await setup('entities/insert', { collectionName: 'docs', data: [1, 2, 3].map((id) => ({ id, vector: vec(id) })) });
  await setup('databases/create', { dbName: 'keep' });
  await setup('aliases/create', { collectionName: 'docs', aliasName: 'kb' });
  const before = await snapshot(server, token);
  assert.equal(before.count, 3);

  const wrong = secret('tok');
  const refused = [
    ['no Authorization', {}],
    ['a wrong token', { token: wrong }],
    ['alice with a wrong password', { token: `alice:${secret('pw')}` }],
    ['an unknown user', { token: `mallory:${password}` }],
    ['the token without "Bearer "', { headers: { Authorization: token } }],
    ['Basic instead of Bearer', { headers: { Authorization: `Basic ${Buffer.from(`alice:${password}`).toString('base64')}` } }],
    ['an empty bearer', { headers: { Authorization: 'Bearer ' } }],
  ];
  for (const route of MILVUS_ROUTES) {
    for (const [what, opts] of refused) {
      const r = await request(v2(route), { ...opts, body: harmfulBody(route) });
      assertUnauthenticated(r, `${route} with ${what}`);
    }
  }
  for (const route of ADMIN_ROUTES) {
    const refusedAdmin = [...refused,
      ['the user token', { token }],
      ["alice's password", { token: `alice:${password}` }]];
    for (const [what, opts] of refusedAdmin) {
      const r = await request(admin(route), { ...opts, body: harmfulBody(route, repo, restoreDir) });
      assertUnauthenticated(r, `admin ${route} with ${what}`);
    }
  }
  // Unknown routes under either prefix are refused before they are looked up.
  assertUnauthenticated(await request(v2('partitions/create'), { body: {} }), 'unknown v2 route');
  assertUnauthenticated(await request(admin('nothing/here'), { token, body: {} }), 'unknown admin route');

  // Nothing happened: same collections, rows, alias, database, index and load
  // state; no backup written, no restore started, no job.
  assert.deepEqual(await snapshot(server, token), before);
  assert.deepEqual(fs.readdirSync(repo), []);
  assert.equal(fs.existsSync(restoreDir), false);
  const jobs = await request(admin('jobs/list'), { token: adminToken, body: {} });
  assert.equal(jobs.json?.code, 0, jobs.body);
  assert.deepEqual(jobs.json.data, []);

  // Valid credentials reach every route (its own answer: data or an error
  // about the empty body, never 1800). Empty bodies keep the fixture intact.
  for (const route of MILVUS_ROUTES) {
    assertAccepted(await request(v2(route), { token, body: {} }), `${route} with the token`);
    assertAccepted(await request(v2(route), { token: `alice:${password}`, body: {} }), `${route} as alice`);
  }
  for (const route of ADMIN_ROUTES) {
    assertAccepted(await request(admin(route), { token: adminToken, body: {} }), `admin ${route} with the admin token`);
  }
  // The admin token is a superuser credential (like Milvus's root): it also
  // reaches every Milvus route (docs/server.md#authentication).
  for (const route of MILVUS_ROUTES) {
    assertAccepted(await request(v2(route), { token: adminToken, body: {} }), `${route} with the admin token`);
  }
  const adminCount = await request(v2('entities/query'),
    { token: adminToken, body: { collectionName: 'docs', filter: '', outputFields: ['count(*)'] } });
  assert.deepEqual(adminCount.json, { code: 0, data: [{ 'count(*)': 3 }] });
  // The accepted calls answer as the route does: a read returns the data.
  const count = await request(v2('entities/query'),
    { token: `alice:${password}`, body: { collectionName: 'docs', filter: '', outputFields: ['count(*)'] } });
  assert.deepEqual(count.json, { code: 0, data: [{ 'count(*)': 3 }] });

  // Health, readiness and metrics stay open (README: `curl -s .../readyz;
  // curl -s .../metrics`; docs/server.md puts only /v2 and /ark/v1 behind auth).
  for (const route of ['/healthz', '/readyz', '/metrics']) {
    const r = await request(`${server.endpoint}${route}`, { method: 'GET' });
    assert.equal(r.status, 200, `${route}: ${r.body}`);
  }
  // GET on an API route goes through the same check.
  assertUnauthenticated(await request(v2('collections/list'), { method: 'GET' }), 'GET collections/list');
});

test('auth: with only admin_token, it guards both APIs; with only token, the token opens both', async (t) => {
  const adminToken = secret('adm');
  const onlyAdmin = await startServer('auth-admin-only', `auth: {admin_token: "${adminToken}"}\n`);
  t.after(() => onlyAdmin.cleanup());
  const token = secret('tok');
  const onlyUser = await startServer('auth-user-only', `auth: {token: "${token}"}\n`);
  t.after(() => onlyUser.cleanup());

  // admin_token alone turns authentication on for every route: no
  // credential and a wrong one are refused on /v2 and /ark alike.
  for (const [prefix, routes] of [['/v2/vectordb/', MILVUS_ROUTES], ['/ark/v1/', ADMIN_ROUTES]]) {
    for (const route of routes) {
      const url = `${onlyAdmin.endpoint}${prefix}${route}`;
      assertUnauthenticated(await request(url, { body: {} }), `${prefix}${route} without a credential (admin_token only)`);
      assertUnauthenticated(await request(url, { token: secret('tok'), body: {} }), `${prefix}${route} with a wrong token (admin_token only)`);
      assertAccepted(await request(url, { token: adminToken, body: {} }), `${prefix}${route} with the admin token (admin_token only)`);
    }
  }
  // token without admin_token: the user credential guards the admin API too
  // (there is no separate admin credential to ask for).
  for (const route of ADMIN_ROUTES) {
    const url = `${onlyUser.endpoint}/ark/v1/${route}`;
    assertUnauthenticated(await request(url, { body: {} }), `/ark/v1/${route} without a credential (token only)`);
    assertAccepted(await request(url, { token, body: {} }), `/ark/v1/${route} with the token (token only)`);
  }
  const created = await request(`${onlyAdmin.endpoint}/v2/vectordb/collections/create`,
    { token: adminToken, body: { collectionName: 'docs', dimension: DIM } });
  assert.equal(created.json?.code, 0, created.body);
});

// ---------------------------------------------------------------------------
// 3. Secrets never in logs or /metrics
// ---------------------------------------------------------------------------

test('secrets: tokens and passwords never appear in the access log, other logs or /metrics', async (t) => {
  const token = secret('tok');
  const adminToken = secret('adm');
  const password = secret('pw');
  const wrong = secret('wrong');
  const server = await startServer('secrets',
    `auth: {token: "${token}", admin_token: "${adminToken}", users: {alice: "${password}"}}\n`,
    { accessLog: true });
  t.after(() => server.cleanup());
  const v2 = (route) => `${server.endpoint}/v2/vectordb/${route}`;

  const credentials = [token, adminToken, `alice:${password}`, wrong, `alice:${wrong}`, password];
  assert.equal((await request(v2('collections/create'), { token, body: { collectionName: 'docs', dimension: DIM } })).json.code, 0);
  for (const credential of credentials) {
    for (const [route, body] of [
      ['collections/list', {}],
      ['entities/insert', { collectionName: 'docs', data: [{ id: 1, vector: vec(1) }] }],
      ['entities/search', { collectionName: 'docs', data: [vec(1)], limit: 1 }],
      ['no/such/route', {}],
    ]) {
      await request(v2(route), { token: credential, body });
    }
    await request(`${server.endpoint}/ark/v1/jobs/list`, { token: credential, body: {} });
    await request(`${server.endpoint}/ark/v1/backups/list`, { token: credential, body: { repo: '/nonexistent' } });
    // Secrets in other headers a client might send by mistake.
    await request(v2('collections/list'), { headers: { Authorization: credential, 'X-Api-Key': credential }, body: {} });
  }
  const metrics = await request(`${server.endpoint}/metrics`, { method: 'GET' });
  assert.equal(metrics.status, 200);
  assert.match(metrics.body, /ark_http_requests_total/);
  assert.equal(await server.stop(), 0);

  const log = server.output();
  // The access log is on and did record the requests (so the check below
  // looks at a log that saw them).
  assert.match(log, /collections\/list/);
  assert.match(log, /code=1800/);
  for (const [name, value] of [['token', token], ['admin token', adminToken], ['password', password], ['wrong token', wrong]]) {
    assert.ok(!log.includes(value), `the ${name} appears in the server's output`);
    assert.ok(!metrics.body.includes(value), `the ${name} appears in /metrics`);
  }
});

test('secrets: a config error in the auth section names the key, not the secret', async (t) => {
  const dir = tempDir('security-badauth');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const s = secret('cfg');
  for (const [yaml, key] of [
    [`auth: {token: ["${s}"]}`, 'auth.token'],
    [`auth: {users: {alice: ["${s}"]}}`, 'auth.users'],
    [`auth: {tokn: "${s}"}`, 'auth.tokn'],
    [`auth: {admin_token: {x: "${s}"}}`, 'auth.admin_token'],
  ]) {
    const configFile = path.join(dir, 'ark.yaml');
    fs.writeFileSync(configFile, `${yaml}\n`);
    const r = await runArk(['serve', '--config', configFile, '--data-dir', path.join(dir, 'data'),
      '--listen', '127.0.0.1:0', '--no-access-log']);
    assert.notEqual(r.status, 0, `${yaml} was accepted`);
    assert.ok(r.stderr.includes(key), `${yaml}: the error does not name ${key}: ${r.stderr}`);
    assert.ok(!(r.stderr + r.stdout).includes(s), `${yaml}: the secret appears in the error: ${r.stderr}`);
  }
});
