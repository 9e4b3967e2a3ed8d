// Scheduled drills inside `ark serve` (docs/drills.md, "Scheduled drills"):
// `drills.schedules` runs restore-check at its cron times and exports the
// last results on /metrics.
//
//   1. A server with a backup in its repository and a schedule on
//      `* * * * *`: at the next minute the drill runs; /metrics then shows
//      ark_drill_last_passed 1, an RTO within the time the test waited, an
//      RPO at least the data age the test injected, and the newest report
//      per scenario; the report is in drills.report_dir, and after SIGTERM
//      (which waits for a drill in progress) no scratch directory is left.
//      There is no admin route to fire a schedule now (backups have none
//      either; docs/drills.md says why), so the test waits for the minute,
//      polling /metrics with a deadline.
//   2. A disruptive scenario in drills.schedules: `ark serve` refuses to
//      start and says why.
//
// Synchronises only by polling with deadlines; every server is stopped in
// t.after.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { runArk, runArkOk, startServe, tempDir, milvusOk, clockPast } = require('./helpers');

const DIM = 4;
const vec = (i) => [Math.sin(i), Math.cos(i), Math.sin(2 * i), Math.cos(3 * i)];

// The value of one sample of /metrics (labels in the order the server renders
// them: sorted by name), or undefined when absent.
async function metric(endpoint, name, labels) {
  const text = await (await fetch(`${endpoint}/metrics`)).text();
  const l = labels ? `{${Object.keys(labels).sort().map((k) => `${k}="${labels[k]}"`).join(',')}}` : '';
  const line = text.split('\n').find((x) => x.startsWith(`${name}${l} `));
  return line === undefined ? undefined : Number(line.slice(name.length + l.length + 1));
}

test('drills.schedules: a restore-check runs at its cron time and its results are on /metrics', async (t) => {
  const dir = tempDir('drill-schedule');
  const repo = path.join(dir, 'repo');
  const reports = path.join(dir, 'reports');
  const dataDir = path.join(dir, 'data');
  const servers = [];
  t.after(async () => {
    for (const s of servers) await s.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  // The server's data and a backup of it.
  const first = await startServe('drill-schedule-seed', { dataDir });
  servers.push(first);
  await milvusOk(first.endpoint, 'collections/create', { collectionName: 'docs', dimension: DIM, metricType: 'L2' });
  await milvusOk(first.endpoint, 'entities/insert', {
    collectionName: 'docs', data: Array.from({ length: 40 }, (_, i) => ({ id: i, vector: vec(i) })),
  });
  await runArkOk(['backup', 'create', '--server', first.endpoint, '--repo', repo, '-n', 'base', '-q']);
  const backupDone = Date.now();
  await first.stop();
  // The data age this test injects: the drill's RPO is at least this.
  await clockPast(backupDone + 1000);

  // The same data directory, now with the schedule.
  const yaml = `drills:\n  report_dir: ${reports}\n  schedules:\n`
    + `    - {name: every-minute, scenario: restore-check, cron: "* * * * *", repo: ${repo}, samples: 3}\n`;
  const started = Date.now();
  const server = await startServe('drill-schedule', { dataDir, yaml });
  servers.push(server);
  const ep = server.endpoint;
  const labels = { schedule: 'every-minute', scenario: 'restore-check' };

  // Before its first run: counted, no verdict yet.
  assert.equal(await metric(ep, 'ark_drill_runs_total', labels), 0);
  assert.equal(await metric(ep, 'ark_drill_last_run_timestamp_seconds', labels), 0);
  const nextRun = await metric(ep, 'ark_drill_next_run_timestamp_seconds', labels);
  assert.equal(nextRun % 60, 0, 'a minute boundary');
  assert.ok(nextRun * 1000 > started && nextRun * 1000 <= Date.now() + 60000, `next run ${nextRun}`);
  assert.equal(await metric(ep, 'ark_drill_last_passed', labels), undefined, 'no verdict before a run');

  // The minute passes and the drill runs: poll until its verdict is exported.
  const deadline = Date.now() + 180000;
  let passed;
  while ((passed = await metric(ep, 'ark_drill_last_passed', labels)) === undefined) {
    assert.ok(Date.now() < deadline, `no drill verdict on /metrics after 180 s; server output:\n${server.output()}`);
    assert.ok(server.alive(), `ark serve exited: ${server.output()}`);
    await new Promise((r) => setTimeout(r, 200));  // the /metrics polling interval
  }
  const observed = Date.now();
  assert.equal(passed, 1, server.output());
  const lastRun = await metric(ep, 'ark_drill_last_run_timestamp_seconds', labels);
  // The first run is the one at the next minute (it starts within a second or so of it).
  assert.ok(lastRun >= nextRun && lastRun < nextRun + 3, `last run ${lastRun}, due ${nextRun}`);
  const rto = await metric(ep, 'ark_drill_last_rto_seconds', labels);
  assert.ok(rto > 0 && rto * 1000 <= observed - lastRun * 1000, `RTO ${rto} s within the drill's run time`);
  const rpo = await metric(ep, 'ark_drill_last_rpo_seconds', labels);
  assert.ok(rpo * 1000 >= lastRun * 1000 - backupDone - 5, `RPO ${rpo} s: from the backup to the drill's start`);
  assert.ok(rpo * 1000 <= lastRun * 1000 - backupDone + 5000, `RPO ${rpo} s`);
  t.diagnostic(`scheduled restore-check at ${new Date(lastRun * 1000).toISOString()}: RTO ${rto} s, RPO ${rpo} s`);
  assert.ok(await metric(ep, 'ark_drill_runs_total', labels) >= 1);
  assert.equal(await metric(ep, 'ark_drill_failures_total', labels), 0);
  // The newest report per scenario, read from the report directory.
  assert.equal(await metric(ep, 'ark_drill_latest_passed', { scenario: 'restore-check' }), 1);
  assert.ok(await metric(ep, 'ark_drill_latest_timestamp_seconds', { scenario: 'restore-check' }) >= lastRun);

  // The report, in drills.report_dir.
  const id = fs.readdirSync(reports).filter((n) => !n.endsWith('.scratch')).sort()[0];
  const report = JSON.parse(fs.readFileSync(path.join(reports, id, 'report.json')));
  assert.equal(report.scenario, 'restore-check');
  assert.equal(report.passed, true, JSON.stringify(report.checks));
  assert.equal(Math.floor(report.startedMicros / 1e6), lastRun);
  assert.equal(report.source.backup, 'base');
  assert.equal(report.measured.rtoMs, Math.round(rto * 1000));
  assert.deepEqual(report.collections.map((c) => [c.name, c.rows, c.samplesFound]), [['docs', 40, 3]]);

  // SIGTERM waits for a drill in progress (the next minute's may be running):
  // a clean exit, and no scratch directory left behind.
  await server.stop();
  assert.equal(server.exit().code, 0, server.output());
  const left = fs.readdirSync(reports);
  assert.deepEqual(left.filter((n) => n.endsWith('.scratch')), [], `left: ${left}`);
  for (const n of left) assert.ok(fs.existsSync(path.join(reports, n, 'report.json')), `${n} has its report`);
});

test('drills.schedules: a disruptive scenario is refused at start, saying why', async (t) => {
  const dir = tempDir('drill-schedule-refused');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const config = path.join(dir, 'ark.yaml');
  fs.writeFileSync(config, 'drills:\n  schedules:\n'
    + '    - {name: chaos, scenario: site-loss, cron: "0 3 * * 0", repo: /srv/ark-backups}\n');
  const r = await runArk(['serve', '--config', config, '--data-dir', path.join(dir, 'data'), '--listen', '127.0.0.1:0']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /drills\.schedules\[0\]\.scenario 'site-loss' cannot be scheduled: it is disruptive and breaks production/);
  assert.match(r.stderr, /ark drill run site-loss/);
  assert.ok(!fs.existsSync(path.join(dir, 'data')), 'nothing was started');
});
