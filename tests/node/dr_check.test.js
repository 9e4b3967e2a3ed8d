// `ark dr check` (docs/drills.md) over `POST /ark/v1/dr/status`
// (docs/formats/dr-status.md), against real servers on loopback:
//
//   1. A database whose RPO tier is very-low on a server with only a daily
//      backup schedule: the check exits 1 and names the schedule and the
//      RPO; a critical RTO tier with no drill report fails the drill
//      cadence. After `ark drill run restore-check` writes its report into
//      the server's drills directory, dr/status lists it and the drill (and
//      restore RTO) findings are ok, while the RPO still fails.
//   2. With `archive:` (interval 1 s) beside the schedule the RPO is met by
//      the archive; with a `low` tier and no drill only warnings remain and
//      the check exits 0.
//   3. A primary, an async standby and `ark monitor`: a `zero` RPO fails
//      naming async replication; without --monitor a critical RTO fails as
//      a manual failover, with --monitor it is met by the automatic
//      failover's estimate; a standby is refused as --server (exit 2).
//
// Synchronises only by polling with deadlines; every server is stopped in
// t.after.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { runArk, runArkOk, startServe, tempDir, milvusOk } = require('./helpers');
const { cluster } = require('./failover_lib');
const { waitUntil } = require('./kill_loop_lib');

const DIM = 4;
const vec = (i) => [Math.sin(i), Math.cos(i), Math.sin(2 * i), Math.cos(3 * i)];

async function drStatus(endpoint) {
  const r = await fetch(`${endpoint}/ark/v1/dr/status`, { method: 'POST', body: '{}' });
  const j = await r.json();
  assert.equal(j.code, 0, `dr/status: ${JSON.stringify(j).slice(0, 300)}`);
  return j.data;
}

// `ark dr check ... --json`: { status, stderr, report, byTarget(db, target) }.
async function check(args) {
  const r = await runArk(['dr', 'check', ...args, '--json']);
  let report = null;
  try { report = JSON.parse(r.stdout.toString()); } catch { /* asserted below */ }
  assert.ok(report, `ark dr check --json printed no JSON (exit ${r.status}): ${r.stdout}\n${r.stderr}`);
  assert.equal(report.format, 'ark-dr-check');
  const find = (db, target) => report.findings.filter((f) => f.database === db && f.target === target);
  return { ...r, report, find };
}

const schedule = (repo) => `schedules:\n  - name: nightly\n    cron: "0 2 * * *"\n    repo: ${repo}\n    retention: {keep_last: 7}\n`;

async function seedKb(ep, properties) {
  await milvusOk(ep, 'databases/create', { dbName: 'kb' });
  await milvusOk(ep, 'databases/alter', { dbName: 'kb', properties });
  await milvusOk(ep, 'collections/create', { dbName: 'kb', collectionName: 'docs', dimension: DIM, metricType: 'L2' });
  await milvusOk(ep, 'entities/insert', { dbName: 'kb', collectionName: 'docs', data: Array.from({ length: 30 }, (_, i) => ({ id: i, vector: vec(i) })) });
}

test('dr check: a daily schedule cannot meet a very-low RPO; a restore-check drill meets the cadence', async (t) => {
  const dir = tempDir('dr-check-daily');
  const repo = path.join(dir, 'repo');
  const server = await startServe('dr-check-daily', { yaml: schedule(repo) });
  t.after(async () => {
    await server.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const ep = server.endpoint;
  await seedKb(ep, { 'ark.dr.rpo_tier': 'very-low', 'ark.dr.rto_tier': 'critical' });

  // The document (docs/formats/dr-status.md).
  const before = Date.now();
  const d = await drStatus(ep);
  assert.equal(d.format, 'ark-dr-status');
  assert.equal(d.version, 1);
  assert.ok(Math.abs(d.nowMicros / 1000 - before) < 60000, `nowMicros ${d.nowMicros}`);
  assert.equal(d.server.url, ep);
  assert.equal(d.server.dataDir, server.dataDir);
  assert.equal(d.role, 'primary');
  assert.equal(d.replication.role, 'primary');
  assert.deepEqual(d.replication.standbys, []);
  assert.deepEqual(d.archive, { enabled: false });
  assert.equal(d.failover, null);
  assert.equal(d.schedules.length, 1);
  assert.equal(d.schedules[0].name, 'nightly');
  assert.equal(d.schedules[0].cron, '0 2 * * *');
  assert.equal(d.schedules[0].maxGapSeconds, 86400);
  assert.equal(d.schedules[0].retention, 'keep_last=7');
  assert.equal(typeof d.schedules[0].nextRunMicros, 'number');
  const kbTier = d.tiers.find((x) => x.database === 'kb');
  assert.equal(kbTier.targets.rpoTier, 'very-low');
  assert.equal(kbTier.targets.rtoTier, 'critical');
  assert.equal(d.tiers.find((x) => x.database === 'default').targets, null);
  assert.deepEqual(d.collections, [{ database: 'kb', name: 'docs', rows: 30 }]);
  assert.equal(d.drills.reportDir, path.join(server.dataDir, 'drills'));
  assert.deepEqual(d.drills.recent, []);

  // The human table: exit 1, the failing RPO names the schedule.
  const human = await runArk(['dr', 'check', '--server', ep]);
  assert.equal(human.status, 1, human.stderr);
  const out = human.stdout.toString();
  assert.match(out, /FAIL\s+rpo\s+kb\s+RPO 24 h exceeds the very-low tier's 1 h by 23 h: .*backup schedule 'nightly'/);
  assert.match(out, /FAIL\s+drill\s+kb\s+no passing drill on record/);
  assert.match(out, /WARN\s+rpo\s+default\s+no RPO tier set/);
  assert.match(out, /NOT MET: 2 fail/);
  assert.match(human.stderr, /not met/);

  const first = await check(['--server', ep]);
  assert.equal(first.status, 1, first.stderr);
  assert.equal(first.report.passed, false);
  const [rpo] = first.find('kb', 'rpo');
  assert.equal(rpo.severity, 'fail');
  assert.match(rpo.message, /RPO 24 h .*very-low.*'nightly'.*schedule backups under 3600 s apart/);
  assert.equal(first.find('kb', 'drill')[0].severity, 'fail');
  assert.match(first.find('kb', 'drill')[0].message, /critical RTO tier needs a passing drill every 92 d/);
  assert.equal(first.find('kb', 'rto')[0].severity, 'warn', 'no restore drill measured the RTO yet');

  // A restore-check drill into the server's drills directory.
  await runArkOk(['backup', 'create', '--server', ep, '--repo', repo, '-n', 'base', '-q']);
  const drill = await runArk(['drill', 'run', 'restore-check', '--repo', repo, '--report-dir', d.drills.reportDir, '--json']);
  assert.equal(drill.status, 0, drill.stderr);
  const report = JSON.parse(drill.stdout.toString());
  assert.equal(report.passed, true);

  const after = await drStatus(ep);
  assert.equal(after.drills.recent.length, 1);
  const recent = after.drills.recent[0];
  assert.equal(recent.id, report.id);
  assert.equal(recent.scenario, 'restore-check');
  assert.equal(recent.passed, true);
  assert.equal(recent.measured.rtoMs, report.measured.rtoMs);
  assert.equal(recent.reportDir, path.join(d.drills.reportDir, report.id));
  assert.deepEqual(recent.verdicts, [{ database: 'kb', name: 'docs', rto: 'pass', rpo: 'pass' }]);

  const second = await check(['--server', ep]);
  assert.equal(second.status, 1, 'the RPO still fails');
  const [drillFinding] = second.find('kb', 'drill');
  assert.equal(drillFinding.severity, 'ok', JSON.stringify(drillFinding));
  assert.match(drillFinding.message, /restore-check drill/);
  assert.equal(second.find('kb', 'rto')[0].severity, 'ok', JSON.stringify(second.find('kb', 'rto')));
  assert.equal(second.find('kb', 'rpo')[0].severity, 'fail');
  assert.deepEqual(second.report.findings.filter((f) => f.severity === 'fail').map((f) => f.target), ['rpo']);
});

test('dr check: the WAL archive beside a schedule meets a very-low RPO; warnings alone exit 0', async (t) => {
  const dir = tempDir('dr-check-archive');
  const repo = path.join(dir, 'repo');
  const server = await startServe('dr-check-archive', {
    yaml: `${schedule(repo)}archive:\n  repo: ${repo}\n  interval_seconds: 1\n`,
  });
  t.after(async () => {
    await server.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const ep = server.endpoint;
  await seedKb(ep, { 'ark.dr.rpo_tier': 'very-low' });

  const d = await drStatus(ep);
  assert.equal(d.archive.enabled, true);
  assert.equal(d.archive.intervalSeconds, 1);
  assert.equal(typeof d.archive.state, 'string');
  assert.equal(d.archive.repository.includes(repo), true, JSON.stringify(d.archive));

  const r = await check(['--server', ep]);
  const [rpo] = r.find('kb', 'rpo');
  assert.equal(rpo.severity, 'ok', JSON.stringify(rpo));
  assert.match(rpo.message, /RPO at worst 1 s from the WAL archive/);
  // Only the drill cadence (quarterly for very-low) fails.
  assert.equal(r.status, 1);
  assert.deepEqual(r.report.findings.filter((f) => f.severity === 'fail').map((f) => `${f.database} ${f.target}`), ['kb drill']);

  // A `low` tier needs a drill only yearly (a warning when there is none).
  await milvusOk(ep, 'databases/alter', { dbName: 'kb', properties: { 'ark.dr.rpo_tier': 'low' } });
  const low = await check(['--server', ep]);
  assert.equal(low.status, 0, `${low.stderr}\n${JSON.stringify(low.report.findings)}`);
  assert.equal(low.report.passed, true);
  assert.equal(low.report.counts.fail, 0);
  assert.ok(low.report.counts.warn > 0);
  assert.equal(low.find('kb', 'drill')[0].severity, 'warn');

  // A collection's own tier overrides its database's on that scale: kb.docs
  // asks for a zero RPO, which a 1 s archive cannot meet; its RTO (unset)
  // stays the database's.
  await milvusOk(ep, 'collections/alter_properties', { dbName: 'kb', collectionName: 'docs', properties: { 'ark.dr.rpo_tier': 'zero' } });
  const own = (await drStatus(ep)).collectionTiers;
  assert.equal(own.length, 1, JSON.stringify(own));
  assert.deepEqual([own[0].database, own[0].name, own[0].error], ['kb', 'docs', '']);
  assert.equal(own[0].targets.rpoTier, 'zero');
  assert.equal(own[0].targets.source, 'collection kb.docs');
  const zero = await check(['--server', ep]);
  assert.equal(zero.status, 1, JSON.stringify(zero.report.findings));
  const [docsRpo] = zero.find('kb.docs', 'rpo');
  assert.equal(docsRpo.severity, 'fail', JSON.stringify(docsRpo));
  assert.match(docsRpo.message, /zero/);
  assert.equal(zero.find('kb', 'rpo')[0].severity, 'ok', 'the database itself is still met');
  // Dropping the property puts the collection back under its database.
  await milvusOk(ep, 'collections/drop_properties', { dbName: 'kb', collectionName: 'docs', propertyKeys: ['ark.dr.rpo_tier'] });
  assert.deepEqual((await drStatus(ep)).collectionTiers, []);
  assert.equal((await check(['--server', ep])).status, 0);
});

test('dr check: async replication cannot meet a zero RPO; the monitor makes a critical RTO automatic', async (t) => {
  const { a, b, monitor, servers, state } = await cluster(t, 'dr-check-cluster');
  await milvusOk(a.endpoint, 'databases/alter', { dbName: 'default', properties: { 'ark.dr.rpo_tier': 'zero', 'ark.dr.rto_tier': 'critical' } });
  const connected = await waitUntil('the standby is connected in dr/status', 60000, servers, async () => {
    const d = await drStatus(a.endpoint);
    return { done: d.replication.standbys.some((s) => s.connected), seen: d };
  });
  assert.equal(connected.failover.name, 'a');
  assert.equal(connected.failover.witness, monitor.endpoint);
  assert.equal(connected.failover.lease.state, 'held');

  const manual = await check(['--server', a.endpoint]);
  assert.equal(manual.status, 1, manual.stderr);
  const [rpo] = manual.find('default', 'rpo');
  assert.equal(rpo.severity, 'fail');
  assert.match(rpo.message, /zero tier's 0: async replication can lose the last acknowledged writes/);
  const [rto] = manual.find('default', 'rto');
  assert.equal(rto.severity, 'fail');
  assert.match(rto.message, /failover is manual \(no ark monitor watches the primary\)/);
  assert.match(manual.stderr, new RegExp(`pass --monitor ${monitor.endpoint}`));

  const watched = await check(['--server', a.endpoint, '--monitor', monitor.endpoint]);
  assert.equal(watched.status, 1, 'the zero RPO still fails');
  const [auto] = watched.find('default', 'rto');
  assert.equal(auto.severity, 'ok', JSON.stringify(auto));
  // The cluster's monitor: 3 failed checks x 200 ms, lease ttl 2 s, 5 s to act.
  assert.match(auto.message, /automatic failover to a connected standby takes about 7.6 s/);
  assert.equal(watched.find('default', 'rpo')[0].severity, 'fail');

  // A standby is not what the check judges.
  const standby = await runArk(['dr', 'check', '--server', b.endpoint]);
  assert.equal(standby.status, 2, standby.stderr);
  assert.match(standby.stderr, new RegExp(`--server ${b.endpoint} is a standby \\(of ${a.endpoint}\\)`));
  // A monitor that does not watch the server is refused, naming what it watches.
  const wrong = await runArk(['dr', 'check', '--server', a.endpoint, '--monitor', a.endpoint]);
  assert.notEqual(wrong.status, 0);
  assert.match(wrong.stderr, new RegExp(`reading the monitor status of ${a.endpoint}`));
  state.passed = true;
});

test('the server checks itself: drills.check_interval_seconds puts the verdict on /metrics and follows a tier change', async (t) => {
  const dir = tempDir('dr-check-self');
  const repo = path.join(dir, 'repo');
  const server = await startServe('dr-check-self', { yaml: `${schedule(repo)}drills:\n  check_interval_seconds: 1\n` });
  t.after(async () => {
    await server.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const ep = server.endpoint;
  const metric = async (name) => {
    const text = await (await fetch(`${ep}/metrics`)).text();
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  };
  const alive = { alive: () => server.alive(), endpoint: ep, dataDir: server.dataDir, exit: server.exit() };
  // A daily backup cannot meet a very-low RPO: the server's own check says so.
  await seedKb(ep, { 'ark.dr.rpo_tier': 'very-low' });
  await waitUntil('the check fails', 15000, [alive], async () => {
    const passed = await metric('ark_dr_check_passed');
    return { done: passed === 0 && (await metric('ark_dr_check_findings\\{severity="fail"\\}')) >= 1, seen: passed };
  });
  // Relaxed to a tier the daily schedule meets: the next check passes.
  await milvusOk(ep, 'databases/alter', { dbName: 'kb', properties: { 'ark.dr.rpo_tier': 'low' } });
  const before = await metric('ark_dr_check_last_run_timestamp_seconds');
  await waitUntil('the check passes', 15000, [alive], async () => {
    const passed = await metric('ark_dr_check_passed');
    return { done: passed === 1 && (await metric('ark_dr_check_last_run_timestamp_seconds')) > before, seen: passed };
  });
  assert.match(server.output(), /dr check: kb rpo target not met/);
});
