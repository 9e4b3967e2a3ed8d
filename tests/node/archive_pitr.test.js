// Point-in-time restore end to end against S3 (issue 15): `ark serve`
// archives its WAL into an encrypted repository on s3rver while marker rows
// go into two collections in phases (a seal, an index build and deletes in
// between); then the README's commands — `ark archive status`, `ark restore
// --to-time / --to-position / --to-latest`, `ark archive verify` — rebuild
// the database as of each phase boundary, and each restore holds exactly the
// markers written before its target, in every collection, with the index
// brought along.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { BUCKET, startS3rver, runArk, runArkOk, startServe, tempDir, milvusOk, clockPast } = require('./helpers');

const COLLS = ['docs', 'faq'];
const DIM = 16;

function vec(id) {
  const v = [];
  for (let i = 0; i < DIM; i++) v.push(Math.sin(id * 0.37 + i * 1.3));
  return v;
}

const call = milvusOk;

// Every id of `coll` on a server, with its marker field checked.
async function markers(endpoint, coll) {
  const rows = await call(endpoint, 'entities/query', {
    collectionName: coll, filter: 'id >= 0', outputFields: ['id', 'marker'], limit: 16384,
  });
  for (const r of rows) assert.equal(r.marker, `${coll}-${r.id}`, `row ${JSON.stringify(r)} of ${coll}`);
  return rows.map((r) => Number(r.id)).sort((a, b) => a - b);
}


test('point-in-time restore from an encrypted S3 repository, by time, position and latest', async (t) => {
  const s3 = await startS3rver();
  const dir = tempDir('archive-pitr');
  const s3env = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: s3.endpoint };
  const opts = { endpoint: s3.endpoint };
  const repo = `s3://${BUCKET}/pitr`;
  const key = path.join(dir, 'backup.key');
  fs.writeFileSync(key, crypto.randomBytes(32).toString('hex'));
  await runArkOk(['backup', 'init', '--encrypt', '--repo', repo, '--key-file', key], opts);
  const server = await startServe('archive-pitr-source', {
    yaml: `archive:\n  repo: ${repo}\n  key_file: ${key}\n  interval_seconds: 0.2\n`, env: s3env,
  });
  const restoredServers = [];
  t.after(async () => {
    for (const s of restoredServers) await s.cleanup();
    await server.cleanup();
    await s3.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const ep = server.endpoint;
  for (const coll of COLLS) {
    await call(ep, 'collections/create', {
      collectionName: coll,
      schema: {
        autoId: false, enableDynamicField: false,
        fields: [
          { fieldName: 'id', dataType: 'Int64', isPrimary: true },
          { fieldName: 'vector', dataType: 'FloatVector', elementTypeParams: { dim: DIM } },
          { fieldName: 'marker', dataType: 'VarChar', elementTypeParams: { max_length: 64 } },
        ],
      },
      indexParams: [{ fieldName: 'vector', indexName: 'vector', metricType: 'L2', indexType: 'HNSW', params: { M: 8, efConstruction: 64 } }],
    });
  }
  const insert = async (coll, first, n) => call(ep, 'entities/insert', {
    collectionName: coll, data: Array.from({ length: n }, (_, i) => ({ id: first + i, vector: vec(first + i), marker: `${coll}-${first + i}` })),
  });

  // Phase 0, then a backup: every restore starts from it.
  for (const coll of COLLS) await insert(coll, 0, 300);
  const b = JSON.parse((await runArkOk(['backup', 'create', '--server', ep, '--repo', repo, '--key-file', key,
    '-n', 'base', '--json'], opts)).stdout);
  assert.equal(b.state, 'succeeded');

  // The phases after the backup, each ending at a target time; `expect[k]`
  // is each collection's ids at the end of phase k.
  const expect = [];
  const targets = [];
  const live = Object.fromEntries(COLLS.map((c) => [c, new Set(Array.from({ length: 300 }, (_, i) => i))]));
  const snapshot = () => Object.fromEntries(COLLS.map((c) => [c, [...live[c]].sort((x, y) => x - y)]));
  const endPhase = async () => {
    expect.push(snapshot());
    const at = Date.now() + 1;  // after every acknowledged record of the phase
    targets.push(at);
    await clockPast(at);        // before any record of the next phase
  };
  // 1: more markers in both collections.
  for (const coll of COLLS) { await insert(coll, 1000, 200); for (let i = 1000; i < 1200; i++) live[coll].add(i); }
  await endPhase();
  // 2: a seal (a file change: the segment and its index are shipped by hash) and more markers.
  for (const coll of COLLS) await call(ep, 'collections/flush', { collectionName: coll });
  await insert('docs', 2000, 150); for (let i = 2000; i < 2150; i++) live.docs.add(i);
  await endPhase();
  // 3: deletes of rows from the backup and from phase 1, and markers in faq.
  await call(ep, 'entities/delete', { collectionName: 'docs', filter: 'id in [1, 2, 3, 1001, 1002]' });
  for (const id of [1, 2, 3, 1001, 1002]) live.docs.delete(id);
  await insert('faq', 3000, 100); for (let i = 3000; i < 3100; i++) live.faq.add(i);
  await endPhase();
  // 4: a compaction and the last markers.
  await call(ep, 'collections/compact', { collectionName: 'docs' });
  await insert('docs', 4000, 50); for (let i = 4000; i < 4050; i++) live.docs.add(i);
  expect.push(snapshot());

  // Everything acknowledged is durable; wait for the archive to hold it.
  for (;;) {
    const r = await (await fetch(`${ep}/readyz`)).json();
    const a = r.details.archive;
    assert.ok(a.state !== 'stopped', `archiving stopped: ${JSON.stringify(a)}`);
    if (a.lagSeconds === 0) break;
    await new Promise((res) => setTimeout(res, 50));  // archive progress polling
  }

  const status = JSON.parse((await runArkOk(['archive', 'status', '--repo', repo, '--key-file', key, '--json'], opts)).stdout);
  assert.deepEqual(status.gaps, []);
  assert.equal(status.windows.length, 1, JSON.stringify(status));
  assert.equal(status.windows[0].backup, 'base');
  assert.ok(status.lastMicros >= targets[2] * 1000, `archive ends at ${status.last} (${status.lastMicros})`);

  // Restores into fresh directories; each is served and read back.
  let n = 0;
  const restore = async (args) => {
    const target = path.join(dir, `restored-${n++}`);
    const r = await runArk(['restore', '--repo', repo, '--key-file', key, '--data-dir', target, '--json', ...args], opts);
    assert.equal(r.status, 0, `ark restore ${args.join(' ')}: ${r.stderr}`);
    const report = JSON.parse(r.stdout.toString());
    const srv = await startServe('archive-pitr-restored', { dataDir: target });
    restoredServers.push(srv);
    const got = {};
    for (const coll of COLLS) got[coll] = await markers(srv.endpoint, coll);
    return { report, got, srv };
  };
  for (let k = 0; k < targets.length; k++) {
    const when = new Date(targets[k]).toISOString();
    const { report, got } = await restore(['--to-time', when]);
    assert.equal(report.backup, 'base');
    assert.ok(report.reachedMicros <= targets[k] * 1000, `reached ${report.reachedTime} past ${when}`);
    assert.deepEqual(got, expect[k], `restore --to-time ${when} (end of phase ${k + 1})`);
    // The same point by position: the position the time restore reached.
    if (k === 1) {
      const byPos = await restore(['--to-position', report.reached]);
      assert.equal(byPos.report.reached, report.reached);
      assert.deepEqual(byPos.got, expect[k], `restore --to-position ${report.reached}`);
    }
  }
  const latest = await restore(['--to-latest']);
  assert.deepEqual(latest.got, expect[3], 'restore --to-latest');
  assert.ok(latest.report.newEpoch > 1, JSON.stringify(latest.report));
  // The index came along: a search on the restored server finds a marker by its own vector.
  const hits = await call(latest.srv.endpoint, 'entities/search', {
    collectionName: 'docs', data: [vec(4007)], annsField: 'vector', limit: 1, outputFields: ['marker'],
  });
  assert.equal(hits[0].marker, 'docs-4007');
  // It writes in its new epoch.
  await call(latest.srv.endpoint, 'entities/insert', { collectionName: 'docs', data: [{ id: 9999, vector: vec(9999), marker: 'docs-9999' }] });

  const verified = await runArkOk(['archive', 'verify', '--repo', repo, '--key-file', key, '-q'], opts);
  assert.match(verified.stdout.toString(), /intact/);
  // A target before the backup is refused, naming the reason, and leaves nothing behind.
  const early = path.join(dir, 'too-early');
  const refused = await runArk(['restore', '--repo', repo, '--key-file', key, '--data-dir', early,
    '--to-time', new Date(targets[0] - 3600e3).toISOString()], opts);
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /backup/);
  assert.equal(fs.existsSync(early) && fs.readdirSync(early).length > 0, false);
});
