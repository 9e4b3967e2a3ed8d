// A collection's Milvus properties and load state are durable (the engine's
// WAL ops 108/109 and the manifest's per-collection "properties" and
// "loadState", docs/formats/manifest.md), against real `ark serve` processes:
//
//   1. Set on a primary: properties, a partly loaded collection (only
//      partition `jan`), a released collection. After SIGKILL and a restart
//      on the same data (WAL replay) every one reads back the same.
//   2. A backup of that server restored into a new directory and served:
//      the same again.
//   3. A standby of it: the same once it has caught up; changing the load
//      state or the properties there is refused naming the primary, while
//      asking for the state it already has is answered.
//
// Synchronises only by polling with deadlines; every server is stopped in
// t.after.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { runArkOk, startServe, tempDir, milvusOk } = require('./helpers');

const DIM = 4;
const vec = (i) => [Math.sin(i), Math.cos(i), Math.sin(2 * i), Math.cos(3 * i)];
const PROPS = [{ key: 'ark.dr.rto_tier', value: 'critical' }, { key: 'team', value: 'search' }];

async function milvus(endpoint, route, body) {
  const r = await fetch(`${endpoint}/v2/vectordb/${route}`, { method: 'POST', body: JSON.stringify(body) });
  return r.json();
}

async function seed(ep) {
  await milvusOk(ep, 'collections/create', { collectionName: 'docs', dimension: DIM, metricType: 'L2' });
  await milvusOk(ep, 'collections/create', { collectionName: 'other', dimension: DIM, metricType: 'L2' });
  for (const p of ['jan', 'feb']) await milvusOk(ep, 'partitions/create', { collectionName: 'docs', partitionName: p });
  await milvusOk(ep, 'entities/insert', { collectionName: 'docs', data: [{ id: 1, vector: vec(1) }] });
  await milvusOk(ep, 'entities/insert', { collectionName: 'docs', partitionName: 'jan', data: [{ id: 2, vector: vec(2) }] });
  await milvusOk(ep, 'entities/insert', { collectionName: 'docs', partitionName: 'feb', data: [{ id: 3, vector: vec(3) }] });
  await milvusOk(ep, 'collections/alter_properties', { collectionName: 'docs', properties: { 'ark.dr.rto_tier': 'critical', team: 'search', gone: 1 } });
  await milvusOk(ep, 'collections/drop_properties', { collectionName: 'docs', propertyKeys: ['gone'] });
  await milvusOk(ep, 'partitions/release', { collectionName: 'docs', partitionNames: ['_default', 'feb'] });
  await milvusOk(ep, 'collections/release', { collectionName: 'other' });
}

// What a client sees of the state set by seed().
async function expectState(ep, where) {
  const d = await milvusOk(ep, 'collections/describe', { collectionName: 'docs' });
  assert.deepEqual(d.properties, PROPS, `${where}: properties`);
  const q = await milvusOk(ep, 'entities/query', { collectionName: 'docs', filter: 'id >= 0', limit: 10 });
  assert.deepEqual(q.map((r) => Number(r.id)), [2], `${where}: only partition jan is loaded`);
  const feb = await milvus(ep, 'collections/get_load_state', { collectionName: 'docs', partitionNames: ['feb'] });
  assert.equal(feb.data?.loadState, 'LoadStateNotLoad', `${where}: ${JSON.stringify(feb)}`);
  const other = await milvusOk(ep, 'collections/get_load_state', { collectionName: 'other' });
  assert.equal(other.loadState, 'LoadStateNotLoad', `${where}: other is released`);
  const read = await milvus(ep, 'entities/query', { collectionName: 'other', filter: 'id >= 0', limit: 1 });
  assert.equal(read.code, 101, `${where}: ${JSON.stringify(read)}`);
}

async function waitUntil(what, fn, ms = 60000) {
  const deadline = Date.now() + ms;
  for (;;) {
    let last;
    try {
      if (await fn()) return;
    } catch (e) { last = e; }
    if (Date.now() > deadline) throw new Error(`${what} not reached in ${ms} ms${last ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));  // polling interval
  }
}

test('properties and load state survive a crash, a backup restore and replication', async (t) => {
  const dir = tempDir('collection-state');
  const servers = [];
  t.after(async () => {
    for (const s of servers) await s.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const data = path.join(dir, 'data');
  const first = await startServe('collection-state-a', { dataDir: data });
  servers.push(first);
  await seed(first.endpoint);
  await expectState(first.endpoint, 'before the crash');

  // 1. SIGKILL: nothing but the WAL (no manifest commit since the writes).
  process.kill(first.pid, 'SIGKILL');
  await first.exited;
  const primary = await startServe('collection-state-b', { dataDir: data });
  servers.push(primary);
  await expectState(primary.endpoint, 'after SIGKILL and a restart');

  // 2. Backup and restore.
  const repo = path.join(dir, 'repo');
  await runArkOk(['backup', 'create', '--server', primary.endpoint, '--repo', repo, '-n', 'b1', '-q']);
  const restoredDir = path.join(dir, 'restored');
  await runArkOk(['restore', '-n', 'b1', '--repo', repo, '--data-dir', restoredDir, '-q']);
  const restored = await startServe('collection-state-r', { dataDir: restoredDir });
  servers.push(restored);
  await expectState(restored.endpoint, 'restored');

  // 3. A standby.
  const standby = await startServe('collection-state-s', { args: ['--standby-of', primary.endpoint, '--standby-name', 'cs'] });
  servers.push(standby);
  await waitUntil('the standby has the properties', async () => {
    const d = await milvus(standby.endpoint, 'collections/describe', { collectionName: 'docs' });
    return d.code === 0 && d.data.properties.length === PROPS.length;
  });
  await milvusOk(primary.endpoint, 'collections/alter_properties', { collectionName: 'docs', properties: { late: 'x' } });
  await milvusOk(primary.endpoint, 'collections/drop_properties', { collectionName: 'docs', propertyKeys: ['late'] });
  await waitUntil('the standby has the last change', async () => {
    const d = await milvus(standby.endpoint, 'collections/describe', { collectionName: 'docs' });
    return d.code === 0 && !d.data.properties.some((p) => p.key === 'late') &&
      JSON.stringify(d.data.properties) === JSON.stringify(PROPS);
  });
  await expectState(standby.endpoint, 'on the standby');
  for (const [route, body] of [
    ['collections/release', { collectionName: 'docs' }],
    ['collections/load', { collectionName: 'other' }],
    ['collections/alter_properties', { collectionName: 'docs', properties: { a: 'b' } }],
  ]) {
    const r = await milvus(standby.endpoint, route, body);
    assert.notEqual(r.code, 0, `${route} on a standby: ${JSON.stringify(r)}`);
    assert.match(r.message, /standby|read-only/, `${route}: ${r.message}`);
  }
  // Asking for the state it has writes nothing, so a standby answers it.
  await milvusOk(standby.endpoint, 'partitions/load', { collectionName: 'docs', partitionNames: ['jan'] });
  await milvusOk(standby.endpoint, 'collections/release', { collectionName: 'other' });
  await expectState(standby.endpoint, 'on the standby, after the refusals');
});
