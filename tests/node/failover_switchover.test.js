// Planned switchover and failback (docs/failover.md), end to end with
// `ark monitor` as the witness:
//
//   1. `ark failover switchover` under a steady writer: the standby becomes
//      the primary in epoch 2 with every acknowledged row (RPO 0), the write
//      pause is measured, and the old primary comes back as its standby by
//      itself; then the same back the other way (epoch 3).
//   2. Failback after an async failover that loses rows: the standby is
//      down while the primary acknowledges rows; the primary dies; the
//      monitor promotes the standby. `ark failover rejoin` on the old
//      primary's directory lists exactly those rows (their ids), sets the
//      directory aside, and the server started as a standby converges on the
//      new primary without them.
//   3. The same with `failover.rejoin: auto`: the old primary restarted with
//      its old configuration rejoins by itself and writes the same report.
//
// Synchronises only by polling with deadlines; keeps its directory and
// prints the logs when it fails.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { runArk } = require('./helpers');
const { admin, waitUntil } = require('./kill_loop_lib');
const { ok, status, ids, insert, cluster, caughtUp } = require('./failover_lib');

test('a planned switchover loses nothing, pauses writes briefly, and the old primary follows', { timeout: 240000 }, async (t) => {
  const { a, b, servers, state } = await cluster(t, 'switchover');
  for (let i = 0; i < 100; i += 20) await ok(insert(a, Array.from({ length: 20 }, (_, k) => i + k)), 'load');
  await caughtUp(a, b, 'before', servers);

  // A writer that follows the primary: each id is inserted until acknowledged.
  const acked = new Set();
  let writing = true;
  t.after(() => { writing = false; });  // a failed assertion must not leave the writer running
  let next = 1000;
  let refusals = 0;
  let target = a;
  const writer = (async () => {
    while (writing) {
      const id = next;
      const r = await insert(target, [id]).catch((e) => ({ code: -1, message: e.message }));
      if (r.code === 0) { acked.add(id); next += 1; } else { refusals += 1; target = target === a ? b : a; }
    }
  })();
  await waitUntil('the writer is running', 30000, servers, async () => ({ done: acked.size >= 20, seen: acked.size }));

  const sw = await runArk(['failover', 'switchover', '--server', a.endpoint, '--to', b.endpoint, '--json']);
  assert.equal(sw.status, 0, `switchover: ${sw.stderr}`);
  const out = JSON.parse(sw.stdout.toString());
  assert.equal(out.epoch, 2, JSON.stringify(out));
  t.diagnostic(`switchover: write pause ${out.writePauseMs.toFixed(0)} ms (catch-up ${out.catchUpMs.toFixed(0)} ms)`);
  assert.ok(out.writePauseMs < 5000, `write pause ${out.writePauseMs} ms`);
  const atSwitch = acked.size;
  await waitUntil('the writer writes on the new primary', 30000, servers, async () => (
    { done: target === b && acked.size >= atSwitch + 20, seen: { size: acked.size, refusals, onB: target === b } }));
  writing = false;
  await writer;

  // RPO 0: every acknowledged id is on the new primary.
  const onB = new Set(await ids(b));
  const missing = [...acked].filter((id) => !onB.has(id));
  assert.deepEqual(missing, [], `acknowledged ids missing on the new primary: ${missing.slice(0, 20)}`);
  const sb = await status(b);
  assert.equal(sb.role, 'primary');
  assert.deepEqual(sb.epochs.map((e) => e.epoch), [1, 2]);
  // The old primary came back by itself as a standby of b, with every row.
  await waitUntil('a follows b', 60000, servers, async () => {
    const s = await status(a);
    return { done: s.role === 'standby' && s.state === 'streaming', seen: s };
  });
  await caughtUp(b, a, 'after the switchover', servers);
  assert.deepEqual(await ids(a), await ids(b));
  const refused = await insert(a, [99999]);
  assert.notEqual(refused.code, 0, 'the old primary took a write after the switchover');

  // And back: epoch 3 on a.
  const back = await runArk(['failover', 'switchover', '--server', b.endpoint, '--to', a.endpoint, '--json']);
  assert.equal(back.status, 0, `switchover back: ${back.stderr}`);
  assert.equal(JSON.parse(back.stdout.toString()).epoch, 3);
  await ok(insert(a, [5000]), 'insert on a after switching back');
  await waitUntil('b follows a', 60000, servers, async () => {
    const s = await status(b);
    return { done: s.role === 'standby' && s.state === 'streaming', seen: s };
  });
  await caughtUp(a, b, 'after switching back', servers);
  assert.deepEqual(await ids(b), await ids(a));

  // A lagging or unknown standby is refused, and writes go on.
  const unknown = await admin(a.endpoint, 'failover/handover', { standby: 'nobody' });
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.message, /no standby named 'nobody'/);
  await ok(insert(a, [5001]), 'a takes writes after a refused handover');
  state.passed = true;
});

// Kills b, writes rows only a acknowledges, kills a; the monitor promotes b.
async function loseRowsInAFailover(t, c) {
  const { a, b, monitor, servers } = c;
  await ok(insert(a, [1, 2, 3]), 'insert');
  await caughtUp(a, b, 'before', servers);
  await b.kill();
  const lost = [100, 101, 102, 103];
  await ok(insert(a, lost.slice(0, 2)), 'insert while the standby is down');
  await ok(insert(a, lost.slice(2)), 'insert while the standby is down');
  await a.kill();
  // b comes back as a standby of the dead a; the monitor promotes it.
  await b.start(60000).catch(() => {});  // /readyz: a standby that cannot reach its primary may still be ready
  await waitUntil('the monitor promotes b', 60000, [monitor, b], async () => {
    const s = await status(b);
    return { done: s.role === 'primary', seen: { b: s.role, monitor: (await monitor.status()).phase } };
  });
  await ok(insert(b, [200]), 'insert on the new primary');
  return lost;
}

test('failback: rejoin lists the rows only the old primary had and it then follows', { timeout: 240000 }, async (t) => {
  const c = await cluster(t, 'failback');
  const { a, b, servers, state } = c;
  const lost = await loseRowsInAFailover(t, c);

  const dry = await runArk(['failover', 'rejoin', '--data-dir', a.dataDir, '--primary', b.endpoint, '--dry-run', '--json']);
  assert.equal(dry.status, 0, dry.stderr);
  assert.ok(fs.existsSync(path.join(a.dataDir, 'MANIFEST')) || fs.readdirSync(a.dataDir).length > 0, 'a dry run changed the directory');
  const r = await runArk(['failover', 'rejoin', '--data-dir', a.dataDir, '--primary', b.endpoint, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout.toString());
  const keys = report.discarded.flatMap((d) => d.keys || []).map(Number).sort((x, y) => x - y);
  assert.deepEqual(keys, lost, JSON.stringify(report.discarded));
  assert.equal(report.discardedRows, lost.length);
  assert.ok(report.discarded.every((d) => d.collection === 'c' && d.op === 'insert'), JSON.stringify(report.discarded));
  assert.ok(fs.existsSync(report.setAside), 'the old directory was not kept');
  assert.ok(fs.existsSync(report.reportFile));
  assert.ok(report.filesLinked >= 0);

  a.extraArgs = [...a.extraArgs, '--standby-of', b.endpoint, '--standby-name', 'a'];
  await a.start(120000);
  await caughtUp(b, a, 'after the rejoin', servers);
  const onA = await ids(a);
  assert.deepEqual(onA, [1, 2, 3, 200]);
  assert.deepEqual(onA, await ids(b));
  assert.equal((await status(a)).role, 'standby');
  state.passed = true;
});

test('failback: with failover.rejoin auto the fenced old primary rejoins by itself', { timeout: 240000 }, async (t) => {
  const c = await cluster(t, 'failback-auto', { rejoinAuto: true });
  const { a, b, servers, state } = c;
  const lost = await loseRowsInAFailover(t, c);
  // Restarted with its old configuration (a primary): fenced, then a standby.
  await a.start(120000).catch(() => {});
  await waitUntil('a rejoins b by itself', 60000, servers.filter((s) => s !== a), async () => {
    const s = await status(a);
    return { done: s.role === 'standby' && s.state === 'streaming', seen: s };
  }, []);
  await caughtUp(b, a, 'after the automatic rejoin', servers);
  assert.deepEqual(await ids(a), [1, 2, 3, 200]);
  const reports = fs.readdirSync(a.dataDir).filter((f) => f.startsWith('FAILBACK-'));
  assert.equal(reports.length, 1, fs.readdirSync(a.dataDir).join(' '));
  const report = JSON.parse(fs.readFileSync(path.join(a.dataDir, reports[0]), 'utf8'));
  assert.deepEqual(report.discarded.flatMap((d) => d.keys || []).map(Number).sort((x, y) => x - y), lost);
  state.passed = true;
});
