// Restore into a running server (docs/backup.md, "Restore into a running
// server"): `ark restore --server URL` and /ark/v1/restores/create without
// targetDir bring a backup's collections back into the live database while
// other clients write to other collections, and a streaming standby follows.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { runArk, runArkOk, tempDir, startServe, rawPost, milvusOk } = require('./helpers');

const DIM = 8;

function vec(i) {
  const v = [];
  for (let d = 0; d < DIM; d++) v.push(Math.sin(i * 0.37 + d * 1.3));
  return v;
}
function rows(first, n) {
  const out = [];
  for (let i = first; i < first + n; i++) out.push({ id: i, vector: vec(i), title: `doc ${i}` });
  return out;
}

async function admin(endpoint, route, body) {
  const r = await rawPost(endpoint, `/ark/v1/${route}`, JSON.stringify(body));
  return r.json || { code: -1, message: r.body };
}
async function adminOk(endpoint, route, body) {
  const r = await admin(endpoint, route, body);
  assert.equal(r.code, 0, `${route}: ${JSON.stringify(r)}`);
  return r.data;
}
async function waitJob(endpoint, jobId) {
  for (const deadline = Date.now() + 50000; ;) {
    const job = await adminOk(endpoint, 'jobs/get', { jobId });
    if (job.state !== 'running') return job;
    assert.ok(Date.now() < deadline, `job ${jobId} still running: ${JSON.stringify(job)}`);
    await new Promise((r) => setTimeout(r, 25));  // job polling interval
  }
}
async function createCollection(endpoint, name) {
  await milvusOk(endpoint, 'collections/create', {
    collectionName: name,
    schema: {
      autoId: false, enableDynamicField: false,
      fields: [
        { fieldName: 'id', dataType: 'Int64', isPrimary: true },
        { fieldName: 'vector', dataType: 'FloatVector', elementTypeParams: { dim: DIM } },
        { fieldName: 'title', dataType: 'VarChar', elementTypeParams: { max_length: 64 } },
      ],
    },
    indexParams: [{ fieldName: 'vector', indexName: 'vector', metricType: 'L2', indexType: 'HNSW', params: { M: 8, efConstruction: 32 } }],
  });
}
async function indexState(endpoint, name) {
  const d = await milvusOk(endpoint, 'indexes/describe', { collectionName: name, indexName: 'vector' });
  return d[0];
}
async function waitIndexed(endpoint, name) {
  for (const deadline = Date.now() + 30000; ;) {
    const d = await indexState(endpoint, name);
    if (d.indexState === 'Finished' && Number(d.pendingRows) === 0) return;
    assert.ok(Date.now() < deadline, `index of ${name} not built: ${JSON.stringify(d)}`);
    await new Promise((r) => setTimeout(r, 25));  // index build polling interval
  }
}
async function checksum(endpoint, name) {
  const r = await admin(endpoint, 'collections/checksum', { collectionName: name });
  return r.code === 0 ? r.data.collections[0] : null;
}
async function names(endpoint) {
  return (await milvusOk(endpoint, 'collections/list', {})).sort();
}
async function count(endpoint, name) {
  const d = await milvusOk(endpoint, 'entities/query', { collectionName: name, filter: '', outputFields: ['count(*)'] });
  return Number(d[0]['count(*)']);
}
async function liveFiles(endpoint) {
  return new Set((await adminOk(endpoint, 'replication/manifest', {})).files);
}

test('restore into a running server: rows, indexes, names, refusals, restart and a standby', async (t) => {
  const dir = tempDir('restore-live');
  const repo = path.join(dir, 'repo');
  const primary = await startServe('restore-live-p', { dataDir: path.join(dir, 'data') });
  let standby = null;
  t.after(async () => {
    if (standby) await standby.cleanup();
    await primary.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const P = primary.endpoint;

  // docs: sealed rows, a tail after the seal and deletes of sealed rows (the
  // staging side compacts them away); notes: sealed and indexed only.
  await createCollection(P, 'docs');
  await createCollection(P, 'notes');
  await createCollection(P, 'live');
  await milvusOk(P, 'entities/insert', { collectionName: 'docs', data: rows(0, 400) });
  await milvusOk(P, 'collections/flush', { collectionName: 'docs' });
  await milvusOk(P, 'entities/insert', { collectionName: 'docs', data: rows(400, 50) });
  await milvusOk(P, 'entities/delete', { collectionName: 'docs', filter: 'id in [3, 4, 420]' });
  await milvusOk(P, 'entities/insert', { collectionName: 'notes', data: rows(1000, 300) });
  await milvusOk(P, 'collections/flush', { collectionName: 'notes' });
  await waitIndexed(P, 'docs');
  await waitIndexed(P, 'notes');

  await runArkOk(['backup', 'create', '--server', P, '--repo', repo, '-n', 'b1', '-q']);
  const described = JSON.parse((await runArkOk(['backup', 'describe', 'b1', '--repo', repo, '--json'])).stdout);
  const recorded = Object.fromEntries(described.collections.map((c) => [c.name, c]));
  assert.equal(recorded.docs.rows, 447);
  assert.ok(recorded.docs.checksum && recorded.notes.checksum, JSON.stringify(described.collections));
  const backupBlobs = new Set(described.blobs.map((b) => b.hash));

  // A standby streaming from the primary.
  standby = await startServe('restore-live-s', { args: ['--standby-of', P, '--standby-name', 'sb'] });

  // Writers to another collection, all through the restores below.
  let writing = true;
  let nextId = 0;
  let writeError = null;
  const writer = (async () => {
    while (writing) {
      const batch = rows(nextId, 5);
      try {
        await milvusOk(P, 'entities/insert', { collectionName: 'live', data: batch });
        nextId += 5;
      } catch (e) {
        writeError = e;
        return;
      }
    }
  })();

  // 1. notes under a suffix through the CLI: the index files are the backup's.
  // (The original is dropped first: files are content-addressed, so while it
  // lives the restored copy would share its files and add none.)
  await milvusOk(P, 'collections/drop', { collectionName: 'notes' });
  const before = await liveFiles(P);
  const cli = await runArkOk(['restore', '--server', P, '-n', 'b1', '--repo', repo, '-c', 'notes', '--suffix', '_r', '-q']);
  assert.match(String(cli.stdout), /default\.notes_r\s+300 rows/);
  const added = [...await liveFiles(P)].filter((f) => !before.has(f));
  assert.ok(added.length >= 2, `a segment and its index file: ${added}`);
  for (const f of added) assert.ok(backupBlobs.has(f), `file ${f} of notes_r is not the backup's (rebuilt?)`);
  const notesState = await indexState(P, 'notes_r');
  assert.equal(notesState.indexState, 'Finished', JSON.stringify(notesState));
  assert.equal(Number(notesState.indexedRows), 300);
  assert.equal(Number(notesState.pendingRows), 0);
  assert.equal((await checksum(P, 'notes_r')).checksum, recorded.notes.checksum);

  // 2. docs renamed through the admin API (a job): rows equal the backup's.
  const started = await adminOk(P, 'restores/create', { repo, name: 'b1', collections: ['docs'], rename: { docs: 'docs_back' } });
  assert.deepEqual(started.collections, ['default.docs_back']);
  const job = await waitJob(P, started.jobId);
  assert.equal(job.state, 'succeeded', JSON.stringify(job));
  const docsSum = await checksum(P, 'docs_back');
  assert.equal(docsSum.rows, 447);
  assert.equal(docsSum.checksum, recorded.docs.checksum);
  const docsState = await indexState(P, 'docs_back');
  assert.equal(Number(docsState.pendingRows), 0, JSON.stringify(docsState));
  const hits = await milvusOk(P, 'entities/search', { collectionName: 'docs_back', data: [vec(17)], limit: 3, outputFields: ['title'] });
  assert.equal(hits[0].title, 'doc 17');

  // 3. A clash is refused before anything changes, naming the collection.
  const sumBefore = await checksum(P, 'docs');
  const clash = await admin(P, 'restores/create', { repo, name: 'b1', collections: ['docs'] });
  assert.notEqual(clash.code, 0);
  assert.match(clash.message, /'docs'/);
  const clashCli = await runArk(['restore', '--server', P, '-n', 'b1', '--repo', repo, '-c', 'notes', '--rename', 'notes:docs']);
  assert.notEqual(clashCli.code, 0);
  assert.match(String(clashCli.stderr), /'docs'.*already exists/);
  const sumAfter = await checksum(P, 'docs');
  assert.deepEqual([sumAfter.rows, sumAfter.checksum], [sumBefore.rows, sumBefore.checksum]);
  assert.deepEqual((await names(P)).filter((n) => n.startsWith('notes')), ['notes_r']);

  // 4. A damaged blob fails the job; no collection, no staging left behind.
  const repo2 = path.join(dir, 'repo2');
  fs.cpSync(repo, repo2, { recursive: true });
  const blobFiles = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (!p.includes(`${path.sep}backups${path.sep}`) && !p.endsWith('.json')) blobFiles.push(p);
    }
  };
  walk(repo2);
  const largest = blobFiles.sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0];
  const bytes = fs.readFileSync(largest);
  bytes[Math.floor(bytes.length / 2)] ^= 0xff;
  fs.writeFileSync(largest, bytes);
  const bad = await adminOk(P, 'restores/create', { repo: repo2, name: 'b1', suffix: '_bad' });
  const badJob = await waitJob(P, bad.jobId);
  assert.equal(badJob.state, 'failed', JSON.stringify(badJob));
  assert.ok(!(await names(P)).some((n) => n.endsWith('_bad')), `${await names(P)}`);
  assert.deepEqual(fs.readdirSync(primary.dataDir).filter((n) => n.startsWith('restore-staging-')), []);

  // 5. Cancelled: all or nothing.
  const c = await adminOk(P, 'restores/create', { repo, name: 'b1', suffix: '_c' });
  await admin(P, 'jobs/cancel', { jobId: c.jobId });
  const cJob = await waitJob(P, c.jobId);
  const listed = await names(P);
  t.diagnostic(`cancelled restore ended ${cJob.state}; the clash answered code ${clash.code}: ${clash.message}`);
  if (cJob.state === 'succeeded') {
    assert.equal((await checksum(P, 'docs_c')).checksum, recorded.docs.checksum);
  } else {
    assert.equal(cJob.state, 'cancelled', JSON.stringify(cJob));
    assert.ok(!listed.some((n) => n.endsWith('_c')), `${listed}`);
  }

  // The writers lost nothing.
  writing = false;
  await writer;
  assert.equal(writeError, null, String(writeError));
  assert.ok(nextId > 0);
  assert.equal(await count(P, 'live'), nextId);
  t.diagnostic(`${nextId} rows written to another collection during the restores`);

  // The standby shows the restored collections with the same rows.
  for (const deadline = Date.now() + 30000; ;) {
    const s = await checksum(standby.endpoint, 'docs_back');
    const n = await checksum(standby.endpoint, 'notes_r');
    if (s && n && s.checksum === recorded.docs.checksum && n.checksum === recorded.notes.checksum) break;
    assert.ok(Date.now() < deadline, `standby: ${JSON.stringify([s, n])}`);
    await new Promise((r) => setTimeout(r, 50));  // replication polling interval
  }

  // A restart keeps them, with their indexes.
  await primary.stop();
  const again = await startServe('restore-live-p2', { dataDir: primary.dataDir });
  t.after(() => again.cleanup());
  assert.equal((await checksum(again.endpoint, 'docs_back')).checksum, recorded.docs.checksum);
  assert.equal((await checksum(again.endpoint, 'notes_r')).checksum, recorded.notes.checksum);
  assert.equal(Number((await indexState(again.endpoint, 'notes_r')).pendingRows), 0);
  assert.equal(await count(again.endpoint, 'live'), nextId);
});
