// Manual failover end to end (docs/failover.md): `ark failover promote`
// turns a standby into a primary in a new epoch.
//
//   1. While its primary is alive and streaming to it, a promotion is
//      refused (two primaries), and nothing changes.
//   2. The probes: /primary answers 200 only on a server that takes
//      writes, /replica only on a streaming standby (and within ?lag=).
//   3. After SIGKILL of the primary, the standby is promoted: epoch 2 begins
//      after the last record it had, it reports nothing missing (it had
//      every record: writes stopped before the kill), takes writes, seals,
//      and a standby of it (cascaded) follows it across the epoch.
//   4. A restart opens it as a primary (the STANDBY marker is gone; a
//      PROMOTED record stays), with every row; promoting a primary is
//      refused.
//
// Synchronises only by polling with deadlines; keeps its directory and
// prints the servers' logs when it fails.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { tempDir, runArk } = require('./helpers');
const { ArkServer, milvus, admin, logTails, waitUntil } = require('./kill_loop_lib');

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
const insert = (s, list) => ok(milvus(s.endpoint, 'entities/insert', { collectionName: 'c', data: list.map(row) }), `insert on ${s.endpoint}`);
const probe = async (s, p) => {
  const r = await fetch(`${s.endpoint}${p}`);
  return { status: r.status, body: await r.json() };
};

// Waits until `follower` has applied `leader`'s last record.
async function caughtUp(leader, follower, what, servers) {
  return waitUntil(`${what}: ${follower.endpoint} applies ${leader.endpoint}'s last record`, 60000, servers, async () => {
    const l = await status(leader);
    const f = await status(follower);
    return { done: f.state === 'streaming' && f.applied === l.lastPosition, seen: { leader: l, follower: f } };
  });
}

test('a standby is promoted by hand after its primary dies', { timeout: 240000 }, async (t) => {
  const root = tempDir('failover-promote');
  const servers = [];
  let passed = false;
  const server = (dir, args, opts) => { const s = new ArkServer(path.join(root, dir), args, opts); servers.push(s); return s; };
  t.after(async () => {
    for (const s of servers) await s.kill();
    if (passed) fs.rmSync(root, { recursive: true, force: true });
    else t.diagnostic(`kept ${root}\n${logTails(servers)}`);
  });

  const primary = server('primary', [], { keepPort: true });
  await primary.start();
  await ok(milvus(primary.endpoint, 'collections/create', { collectionName: 'c', schema: SCHEMA, indexParams: INDEX }), 'create');
  await insert(primary, range(0, 300));
  await ok(milvus(primary.endpoint, 'collections/flush', { collectionName: 'c' }), 'flush');
  await insert(primary, range(300, 400));
  const standby = server('standby', [], { keepPort: true });
  standby.extraArgs = ['--standby-of', primary.endpoint, '--standby-name', 'dc2'];
  await standby.start(120000);
  const cascaded = server('cascaded', []);
  cascaded.extraArgs = ['--standby-of', standby.endpoint, '--standby-name', 'dc3'];
  await cascaded.start(120000);
  await caughtUp(primary, standby, 'before', servers);
  await caughtUp(standby, cascaded, 'before', servers);

  // 1. Refused while the primary streams to it.
  const refused = await runArk(['failover', 'promote', '--server', standby.endpoint]);
  assert.notEqual(refused.status, 0, `promotion of a streaming standby succeeded: ${refused.stdout}`);
  assert.match(refused.stderr, /alive and streaming/, refused.stderr);
  assert.equal((await status(standby)).role, 'standby');
  assert.equal((await status(standby)).state, 'streaming');

  // 2. Probes.
  assert.equal((await probe(primary, '/primary')).status, 200);
  assert.equal((await probe(primary, '/replica')).status, 503);
  assert.equal((await probe(standby, '/primary')).status, 503);
  const rep = await probe(standby, '/replica?lag=30s');
  assert.equal(rep.status, 200, JSON.stringify(rep));
  assert.equal(rep.body.state, 'streaming');
  assert.equal((await probe(standby, '/replica?lag=soon')).status, 400);

  // 3. The primary dies; the standby is promoted.
  const before = await ids(standby);
  assert.deepEqual(before, range(0, 400));
  const lastOnStandby = (await status(standby)).applied;
  await primary.kill();
  await waitUntil('the standby notices its primary is gone', 30000, servers.filter((s) => s !== primary), async () => {
    const s = await status(standby);
    return { done: s.state !== 'streaming', seen: s };
  });
  const promoted = await runArk(['failover', 'promote', '--server', standby.endpoint, '--json']);
  assert.equal(promoted.status, 0, `promote: ${promoted.stderr}`);
  const report = JSON.parse(promoted.stdout.toString());
  assert.equal(report.epoch, 2, JSON.stringify(report));
  assert.equal(report.forkPosition, lastOnStandby, JSON.stringify(report));
  assert.equal(report.recordsKnownMissing, 0, JSON.stringify(report));
  assert.equal(report.forced, false);
  const st = await status(standby);
  assert.equal(st.role, 'primary', JSON.stringify(st));
  assert.deepEqual(st.epochs.map((e) => e.epoch), [1, 2], JSON.stringify(st));
  assert.equal((await probe(standby, '/primary')).status, 200);
  assert.equal((await probe(standby, '/replica')).status, 503);
  const human = await runArk(['failover', 'status', '--server', standby.endpoint]);
  assert.equal(human.status, 0, human.stderr);
  assert.match(human.stdout.toString(), /role\s+primary/);
  assert.match(human.stdout.toString(), /promoted\s+epoch 2/);

  // Writes, a seal; the cascaded standby follows across the epoch.
  await insert(standby, range(400, 450));
  await ok(milvus(standby.endpoint, 'collections/flush', { collectionName: 'c' }), 'flush on the new primary');
  await insert(standby, range(450, 460));
  await caughtUp(standby, cascaded, 'after the promotion', servers.filter((s) => s !== primary));
  assert.deepEqual(await ids(standby), range(0, 460));
  assert.deepEqual(await ids(cascaded), range(0, 460));
  assert.deepEqual((await status(cascaded)).epochs.map((e) => e.epoch), [1, 2]);

  // 4. A restart opens it as a primary.
  await standby.stop();
  const again = server('standby', [], { keepPort: true });
  again.port = standby.port;
  await again.start();
  assert.ok(!fs.existsSync(path.join(root, 'standby', 'STANDBY')), 'the STANDBY marker is still there');
  const record = JSON.parse(fs.readFileSync(path.join(root, 'standby', 'PROMOTED'), 'utf8'));
  assert.equal(record.epoch, 2);
  assert.equal((await status(again)).role, 'primary');
  assert.deepEqual(await ids(again), range(0, 460));
  await insert(again, [460]);
  const twice = await admin(again.endpoint, 'failover/promote', {});
  assert.notEqual(twice.code, 0);
  assert.match(twice.message, /only a standby can be promoted/, JSON.stringify(twice));
  await caughtUp(again, cascaded, 'after the restart', servers.filter((s) => s.alive()));
  passed = true;
});
