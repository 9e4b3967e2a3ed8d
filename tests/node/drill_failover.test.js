// `ark drill run primary-crash | switchover` (docs/drills.md) on a real
// cluster: `ark monitor` + primary a + standby b (failover_lib.js). The
// drill's figures are checked against what the test injected and against
// the monitor's own timeline:
//   - writes paused and the standby caught up before the kill: RPO 0, no
//     marker lost, detection <= promotion <= first write;
//   - a kill under load: every marker the drill reports lost is one the
//     failback report (`ark failover rejoin`) lists as discarded;
//   - a planned switchover: nothing lost, writes resume on b.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { runArk, milvusOk } = require('./helpers');
const { admin } = require('./kill_loop_lib');
const { cluster, caughtUp, insert, ok } = require('./failover_lib');

async function drill(scenario, args, reports) {
  const r = await runArk(['drill', 'run', scenario, ...args, '--report-dir', reports, '--json']);
  let report = null;
  try { report = JSON.parse(r.stdout.toString()); } catch { /* asserted below */ }
  assert.ok(report, `no JSON report: exit ${r.status}\n${r.stderr}\n${r.stdout}`);
  return { ...r, report };
}

test('primary-crash with writes paused before the kill: RPO 0, figures agree with the monitor', async (t) => {
  const { root, a, b, monitor, servers, state } = await cluster(t, 'drill-crash-quiesced');
  await ok(insert(a, [1, 2, 3]), 'first insert');
  await milvusOk(a.endpoint, 'databases/alter', { dbName: 'default', properties: { 'ark.dr.rto_tier': 'critical', 'ark.dr.rpo_tier': 'zero' } });
  await caughtUp(a, b, 'before', servers);
  const r = await drill('primary-crash', ['--endpoint', a.endpoint, '--endpoint', b.endpoint, '--monitor', monitor.endpoint,
    '--kill-cmd', `kill -9 ${a.child.pid}`, '--quiesce', '--warmup-markers', '30'], path.join(root, 'reports'));
  assert.equal(r.status, 0, `${r.stderr}\n${JSON.stringify(r.report.checks)}`);
  const rep = r.report;
  assert.equal(rep.passed, true);
  assert.equal(rep.scenario, 'primary-crash');
  assert.equal(rep.source.primary, a.endpoint);
  assert.equal(rep.probe.newPrimary, b.endpoint);
  assert.equal(rep.measured.lostMarkers, 0);
  assert.equal(rep.measured.rpoMs, 0);
  assert.ok(rep.probe.acknowledged >= 30 + 20, JSON.stringify(rep.probe));
  const m = rep.measured;
  assert.ok(m.detectionMs > 0 && m.detectionMs <= m.promotionMs, JSON.stringify(m));
  assert.ok(m.promotionMs <= m.rtoWriteMs, JSON.stringify(m));
  assert.equal(m.rtoMs, Math.max(m.rtoWriteMs, m.rtoSearchMs));
  // The drill's detection and promotion are the monitor's own events.
  const killed = rep.timeline.find((e) => e.event === 'primary-killed').atMicros;
  const { events } = await ok(admin(monitor.endpoint, 'monitor/timeline', {}), 'monitor/timeline');
  const promoted = events.find((e) => e.event === 'promoted' && e.atMicros >= killed);
  assert.equal(m.promotionMs, Math.floor((promoted.atMicros - killed) / 1000));
  assert.equal(promoted.name, 'b');
  const names = rep.timeline.map((e) => e.event);
  for (const n of ['probe-started', 'quiesced', 'primary-killed', 'failure-detected', 'promoted', 'first-write', 'first-correct-search', 'verified']) {
    assert.ok(names.includes(n), `${n} missing from ${names}`);
  }
  for (let i = 1; i < rep.timeline.length; i++) assert.ok(rep.timeline[i].atMicros >= rep.timeline[i - 1].atMicros, names.join(','));
  // The user's collection is judged against its tier: zero RPO met, critical RTO met.
  const c = rep.collections.find((x) => x.name === 'c');
  assert.deepEqual([c.verdict.rto, c.verdict.rpo], ['pass', 'pass']);
  // Data verification: the user's rows on b are a's rows, byte for byte, and
  // their sample searches find the same neighbours.
  const checks = Object.fromEntries(rep.checks.map((x) => [x.name, x]));
  assert.equal(checks.content.passed, true, checks.content.detail);
  assert.equal(checks.searches.passed, true, checks.searches.detail);
  assert.match(c.checksumBefore, /^v1:[0-9a-f]{32}$/);
  assert.equal(c.checksumAfter, c.checksumBefore);
  assert.equal(c.contentMatches, true);
  assert.equal(c.sampleSearches, 3);
  assert.equal(c.sampleSearchesSame, 3);
  // The Markdown and the HTML show it per collection.
  const md = fs.readFileSync(path.join(rep.reportDir, 'report.md'), 'utf8');
  assert.match(md, /\| default\.c \| 3 \(3\) \| 3\/3 \| same checksum \|/);
  assert.match(fs.readFileSync(path.join(rep.reportDir, 'report.html'), 'utf8'), /<span class="pill pass">same checksum<\/span>/);
  assert.ok(!rep.collections.some((x) => x.name === 'ark_drill_probe'));
  // The probe collection is dropped afterwards.
  assert.equal((await milvusOk(b.endpoint, 'collections/has', { collectionName: 'ark_drill_probe' })).has, false);
  state.passed = true;
});

test('primary-crash under load: the markers the drill reports lost are the ones failback discards', async (t) => {
  const { root, a, b, monitor, state, proxy } = await cluster(t, 'drill-crash-load', { viaProxy: true });
  await ok(insert(a, [1]), 'first insert');
  const reports = path.join(root, 'reports');
  const args = ['--endpoint', a.endpoint, '--endpoint', b.endpoint, '--monitor', monitor.endpoint, '--keep-probe',
    '--warmup-markers', '40'];
  // The kill command sees the drill's environment: without PID_A it fails, and so does the drill.
  const bad = await drill('primary-crash', [...args, '--kill-cmd', 'kill -9 "$PID_A"'], reports);
  assert.equal(bad.status, 1, 'PID_A is unset: the kill command fails');
  assert.match(bad.report.error, /kill command .* failed/);

  // Injected loss: b streams through a proxy process. It is frozen for
  // 600 ms while a acknowledges markers on its own (async): they reach the
  // proxy's socket, never b. Then a dies and the proxy with what it held.
  process.env.PID_A = String(a.child.pid);
  process.env.PID_PROXY = String(proxy.pid);
  t.after(() => { delete process.env.PID_A; delete process.env.PID_PROXY; });
  const r = await drill('primary-crash',
    [...args, '--kill-cmd', 'kill -STOP "$PID_PROXY" && sleep 0.6 && kill -9 "$PID_A" "$PID_PROXY"'], reports);
  // An async loss is a measured RPO, not a failed drill (no tier here asks for zero).
  assert.equal(r.status, 0, `${r.stderr}\n${JSON.stringify(r.report.checks)}`);
  const lost = r.report.probe.lostIds;
  assert.ok(lost.length >= 5, `the freeze should lose markers: ${JSON.stringify(r.report.probe)}`);
  assert.equal(r.report.measured.lostMarkers, lost.length);
  assert.ok(r.report.measured.rpoMs >= 20, JSON.stringify(r.report.measured));
  const fb = await runArk(['failover', 'rejoin', '--data-dir', a.dataDir, '--primary', b.endpoint, '--json']);
  assert.equal(fb.status, 0, fb.stderr);
  const discarded = new Set(JSON.parse(fb.stdout.toString()).discarded
    .filter((d) => String(d.collection).endsWith('ark_drill_probe'))
    .flatMap((d) => d.keys || []).map(Number));
  assert.deepEqual(lost.filter((id) => !discarded.has(id)), [], `lost ${lost} but discarded ${[...discarded]}`);
  t.diagnostic(`RTO ${r.report.measured.rtoMs} ms, RPO ${r.report.measured.rpoMs} ms: ${lost.length} marker(s) lost, all in the failback report (${discarded.size} discarded)`);
  state.passed = true;
});

test('network-partition: the primary cut from its witness stops acknowledging before the standby is promoted, and stays fenced', async (t) => {
  const { root, a, b, monitor, servers, state, partition } = await cluster(t, 'drill-partition', { partitionable: true });
  await ok(insert(a, [1]), 'first insert');
  await caughtUp(a, b, 'before', servers);
  const pids = partition.pids.join(' ');
  const r = await drill('network-partition', ['--endpoint', a.endpoint, '--endpoint', b.endpoint, '--monitor', monitor.endpoint,
    '--fault-cmd', `kill -STOP ${pids}`, '--heal-cmd', `kill -CONT ${pids}`, '--warmup-markers', '30'], path.join(root, 'reports'));
  assert.equal(r.status, 0, `${r.stderr}\n${JSON.stringify(r.report.checks)}\n${r.report.error}`);
  const checks = Object.fromEntries(r.report.checks.map((c) => [c.name, c]));
  assert.equal(checks['split-brain'].passed, true, checks['split-brain'].detail);
  assert.equal(checks.fenced.passed, true, checks.fenced.detail);
  assert.match(checks.fenced.detail, /fenced/);
  assert.equal(r.report.probe.newPrimary, b.endpoint);
  // Clients still reached a during the cut: it refused them once its lease lapsed.
  assert.ok(r.report.probe.refusals > 0);
  const names = r.report.timeline.map((e) => e.event);
  for (const n of ['partitioned', 'failure-detected', 'lease-expired', 'promoted', 'first-write', 'healed']) {
    assert.ok(names.includes(n), `${n} missing from ${names}`);
  }
  t.diagnostic(`partition: RTO ${r.report.measured.rtoMs} ms, ${r.report.measured.lostMarkers} marker(s) lost; ${checks['split-brain'].detail}`);
  state.passed = true;
});

test('switchover drill: nothing lost, writes move to the standby', async (t) => {
  const { root, a, b, servers, state } = await cluster(t, 'drill-switchover');
  await ok(insert(a, [1]), 'first insert');
  await caughtUp(a, b, 'before', servers);
  const r = await drill('switchover', ['--endpoint', a.endpoint, '--endpoint', b.endpoint, '--warmup-markers', '30'],
    path.join(root, 'reports'));
  assert.equal(r.status, 0, `${r.stderr}\n${JSON.stringify(r.report.checks)}`);
  assert.equal(r.report.measured.lostMarkers, 0);
  assert.equal(r.report.probe.newPrimary, b.endpoint);
  assert.equal(r.report.source.switchoverTo, b.endpoint);
  assert.ok(r.report.measured.rtoWriteMs < 10000, JSON.stringify(r.report.measured));
  t.diagnostic(`switchover: first write after ${r.report.measured.rtoWriteMs} ms`);
  state.passed = true;
});
