// `ark backup` and `ark restore` end to end, as an operator runs them: a real
// server filled through the Milvus REST API, backups through its admin API to
// S3 (s3rver) and offline to a directory, restore into a new directory, and
// a second server on the restored data answering the same searches.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { BUCKET, freePort, startS3rver, runArk, runArkOk, tempDir, milvusOk } = require('./helpers');

// The server reads S3 credentials from its environment, as in production.
async function startServer(dataDir, s3endpoint) {
  const port = await freePort();
  const env = { ...process.env, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: s3endpoint };
  const child = spawn(process.env.ARK_BIN, ['serve', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`,
    '--no-access-log'], { stdio: ['ignore', 'ignore', 'pipe'], env });
  const stderr = [];
  child.stderr.on('data', (c) => stderr.push(c));
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`ark serve exited ${child.exitCode}: ${Buffer.concat(stderr)}`);
    if (Date.now() > deadline) throw new Error('ark serve did not become ready');
    try {
      if ((await fetch(`${endpoint}/readyz`)).status === 200) break;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    endpoint,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) { resolve(child.exitCode); return; }
      child.once('exit', resolve);
      child.kill('SIGTERM');
    }),
  };
}

const call = milvusOk;

function vec(i) {
  const v = [];
  for (let d = 0; d < 16; d++) v.push(Math.sin(i * 0.37 + d * 1.3));
  return v;
}

function rows(first, n, version = 0) {
  const out = [];
  for (let i = first; i < first + n; i++) {
    out.push({ id: i, vector: vec(i + version * 1000), title: `doc ${i} v${version}`, meta: { tenant: i % 7, version } });
  }
  return out;
}

async function searches(endpoint) {
  const out = [];
  for (let q = 0; q < 5; q++) {
    const data = await call(endpoint, 'entities/search', {
      collectionName: 'docs', data: [vec(q * 131 + 7)], limit: 10, outputFields: ['id', 'title'],
      filter: q % 2 ? 'meta["tenant"] == 3' : '',
    });
    out.push(data.map((h) => [h.id, h.title]));
  }
  return out;
}

async function count(endpoint) {
  const data = await call(endpoint, 'entities/query', { collectionName: 'docs', filter: '', outputFields: ['count(*)'] });
  return data[0]['count(*)'];
}

test('backup through a running server to S3, restore, and serve the same answers', async (t) => {
  const s3 = await startS3rver();
  const dir = tempDir('backup-cli');
  const server = await startServer(path.join(dir, 'data'), s3.endpoint);
  t.after(async () => {
    await server.stop();
    await s3.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const s3opts = { endpoint: s3.endpoint };
  const repo = `s3://${BUCKET}/repo`;

  await call(server.endpoint, 'collections/create', {
    collectionName: 'docs',
    schema: {
      autoId: false, enableDynamicField: false,
      fields: [
        { fieldName: 'id', dataType: 'Int64', isPrimary: true },
        { fieldName: 'vector', dataType: 'FloatVector', elementTypeParams: { dim: 16 } },
        { fieldName: 'title', dataType: 'VarChar', elementTypeParams: { max_length: 64 } },
        { fieldName: 'meta', dataType: 'JSON' },
      ],
    },
    indexParams: [{ fieldName: 'vector', indexName: 'vector', metricType: 'COSINE', indexType: 'HNSW', params: { M: 8, efConstruction: 64 } }],
  });
  for (let b = 0; b < 3; b++) await call(server.endpoint, 'entities/insert', { collectionName: 'docs', data: rows(b * 1000, 1000) });
  await call(server.endpoint, 'collections/flush', { collectionName: 'docs' });
  await call(server.endpoint, 'entities/insert', { collectionName: 'docs', data: rows(3000, 200) });
  await call(server.endpoint, 'entities/delete', { collectionName: 'docs', filter: 'id in [5, 6, 3100]' });

  // The graph of the sealed segment is built in the background: the first
  // backup must hold it, or the second (incremental) one uploads it as new.
  for (const deadline = Date.now() + 60000; ;) {
    const d = await call(server.endpoint, 'indexes/describe', { collectionName: 'docs', indexName: 'vector' });
    if (d[0].indexState === 'Finished' && Number(d[0].pendingRows) === 0) break;
    assert.ok(Date.now() < deadline, `the index was not built in 60 s: ${JSON.stringify(d)}`);
    await new Promise((r) => setTimeout(r, 50));  // index build polling interval
  }
  // A full backup through the server's admin API.
  const first = await runArkOk(['backup', 'create', '--server', server.endpoint, '--repo', repo, '-n', 'first', '--json'], s3opts);
  const job = JSON.parse(first.stdout.toString());
  assert.equal(job.state, 'succeeded');
  assert.equal(job.result.collections[0].rows, 3197);

  // 1% of the rows change; the second backup uploads only the new blobs.
  await call(server.endpoint, 'entities/upsert', { collectionName: 'docs', data: rows(100, 32, 1) });
  const expectedSearches = await searches(server.endpoint);
  const expectedCount = await count(server.endpoint);
  await runArkOk(['backup', 'create', '--server', server.endpoint, '--repo', repo, '-n', 'second', '-q'], s3opts);
  const described = JSON.parse((await runArkOk(['backup', 'describe', 'second', '--repo', repo, '--json'], s3opts)).stdout);
  assert.equal(described.parent, 'first');
  assert.equal(described.collections[0].rows, expectedCount);
  assert.ok(described.stats.newBytes * 10 < described.stats.totalBytes,
    `incremental: ${described.stats.newBytes} new of ${described.stats.totalBytes}`);
  const listed = JSON.parse((await runArkOk(['backup', 'list', '--repo', repo, '--json'], s3opts)).stdout);
  assert.deepEqual(listed.map((b) => b.name), ['first', 'second']);
  const verified = await runArkOk(['backup', 'verify', 'second', '--repo', repo, '-q'], s3opts);
  assert.match(verified.stdout.toString(), /intact/);

  // While the server runs, an offline backup of its directory is refused clearly.
  const locked = await runArk(['backup', 'create', '--data-dir', path.join(dir, 'data'), '--repo', path.join(dir, 'local')]);
  assert.notEqual(locked.status, 0);
  assert.match(locked.stderr, /lock|in use|running/i);

  // Restore into a new directory and serve it.
  const restored = path.join(dir, 'restored');
  const r = await runArkOk(['restore', '-n', 'second', '--repo', repo, '--data-dir', restored, '-q'], s3opts);
  assert.match(r.stdout.toString(), new RegExp(`default\\.docs\\s+${expectedCount} rows`));
  const again = await runArk(['restore', '-n', 'second', '--repo', repo, '--data-dir', restored, '-q'], s3opts);
  assert.notEqual(again.status, 0, 'a restore never writes over a non-empty directory');
  assert.match(again.stderr, /not empty/);

  const second = await startServer(restored, s3.endpoint);
  try {
    assert.equal(await count(second.endpoint), expectedCount);
    assert.deepEqual(await searches(second.endpoint), expectedSearches);
    const idx = await call(second.endpoint, 'indexes/describe', { collectionName: 'docs', indexName: 'vector' });
    assert.equal(idx[0].indexType, 'HNSW');
  } finally {
    await second.stop();
  }

  // Offline backup of the stopped original, to a local encrypted repository.
  await server.stop();
  const keyFile = path.join(dir, 'key');
  fs.writeFileSync(keyFile, 'ab'.repeat(32) + '\n');
  const wrongKey = path.join(dir, 'wrong');
  fs.writeFileSync(wrongKey, 'cd'.repeat(32) + '\n');
  const local = path.join(dir, 'enc');
  await runArkOk(['backup', 'init', '--repo', local, '--encrypt', '--key-file', keyFile]);
  const offline = await runArkOk(['backup', 'create', '--data-dir', path.join(dir, 'data'), '--repo', local,
    '--key-file', keyFile, '-n', 'offline']);
  assert.match(offline.stdout.toString(), /backup\s+offline/);
  const noKey = await runArk(['backup', 'list', '--repo', local]);
  assert.notEqual(noKey.status, 0);
  assert.match(noKey.stderr, /encrypted/);
  const bad = await runArk(['backup', 'list', '--repo', local, '--key-file', wrongKey]);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /wrong encryption key/);
  for (const out of [offline.stdout.toString(), offline.stderr, noKey.stderr, bad.stderr]) {
    assert.ok(!out.includes('ab'.repeat(32)) && !out.includes('cd'.repeat(32)), 'a key never appears in output');
  }
  const pruned = JSON.parse((await runArkOk(['backup', 'prune', '--repo', repo, '--keep-last', '1', '--grace', '0s', '--json'], s3opts)).stdout);
  assert.deepEqual(pruned.removed, ['first']);
  await runArkOk(['backup', 'verify', 'second', '--repo', repo, '-q'], s3opts);
});

test('bad input to backup and restore gets a clear error and changes nothing', async (t) => {
  const dir = tempDir('backup-bad');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const data = path.join(dir, 'data');
  const server = await startServer(data, 'http://127.0.0.1:9');
  await call(server.endpoint, 'collections/create', { collectionName: 'docs', dimension: 4 });
  await call(server.endpoint, 'entities/insert', { collectionName: 'docs', data: [{ id: 1, vector: [1, 0, 0, 0] }] });
  await server.stop();
  const repo = path.join(dir, 'repo');
  await runArkOk(['backup', 'create', '--data-dir', data, '--repo', repo, '-n', 'good', '-q']);
  const before = fs.readdirSync(path.join(repo, 'backups')).sort();

  const cases = [
    [['backup', 'describe', 'nope', '--repo', repo], /no backup named 'nope'/],
    [['backup', 'verify', 'nope', '--repo', repo], /no backup named 'nope'/],
    [['restore', '-n', 'nope', '--repo', repo, '--data-dir', path.join(dir, 'r1')], /no backup named 'nope'/],
    [['backup', 'create', '--data-dir', data, '--repo', repo, '-c', 'missing'], /default\.missing/],
    [['restore', '-n', 'good', '--repo', repo, '--data-dir', path.join(dir, 'r2'), '-c', 'missing'], /default\.missing/],
    [['backup', 'list', '--repo', 's3://'], /bucket|URL/i],
    [['backup', 'list', '--repo', 'ftp://host/x'], /ftp|scheme|URL/i],
    [['backup', 'create', '--data-dir', data, '--repo', repo, '-n', '../escape'], /name/],
    [['backup', 'create', '--data-dir', data, '--repo', repo, '-n', 'a/b'], /name/],
    [['backup', 'describe', '..', '--repo', repo], /name/],
    [['backup', 'create', '--data-dir', data, '--repo', repo, '-n', 'good'], /already exists/],
    [['restore', '-n', 'good', '--repo', repo, '--data-dir', path.join(dir, 'r3'), '--rename', 'docs'], /OLD:NEW/],
    [['backup', 'prune', '--repo', repo, '--keep-last', '-1'], /keep-last/],
    [['backup', 'prune', '--repo', repo, '--keep-last', '1', '--grace', 'soon'], /duration/],
  ];
  for (const [args, pattern] of cases) {
    const r = await runArk(args);
    assert.notEqual(r.status, 0, `ark ${args.join(' ')} should fail`);
    assert.match(r.stderr, pattern, `ark ${args.join(' ')}: ${r.stderr}`);
  }
  // A repository written by a newer Ark is refused, not misread.
  const newer = path.join(dir, 'newer');
  fs.mkdirSync(newer);
  const desc = JSON.parse(fs.readFileSync(path.join(repo, 'ark-repo.json')));
  desc.formatVersion = 2;
  fs.writeFileSync(path.join(newer, 'ark-repo.json'), JSON.stringify(desc));
  const r = await runArk(['backup', 'list', '--repo', newer]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /formatVersion 2 is newer/);
  assert.deepEqual(fs.readdirSync(path.join(repo, 'backups')).sort(), before, 'nothing was added or removed');
  assert.ok(!fs.existsSync(path.join(dir, 'r1')) && !fs.existsSync(path.join(dir, 'r2')));
});
