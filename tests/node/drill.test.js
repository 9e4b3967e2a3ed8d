// `ark drill run restore-check` (docs/drills.md): restore the newest backup
// into a scratch instance, verify, measure, judge against the tiers, tear
// down. Checked against what the test injected: the rows in the backup (rows
// written after it are not restored), an RPO at least the data age the test
// waited out, verdicts that follow the database's tier properties (a `zero`
// RPO tier fails a backup-only recovery), a corrupted repository fails the
// drill with a report that says why, and the source is never touched.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { runArk, runArkOk, startServe, tempDir, milvusOk, clockPast } = require('./helpers');

const DIM = 8;
const vec = (id) => Array.from({ length: DIM }, (_, i) => Math.sin(id * 0.37 + i * 1.3));

const call = milvusOk;


async function drill(args) {
  const r = await runArk(['drill', 'run', 'restore-check', ...args, '--json']);
  let report = null;
  try { report = JSON.parse(r.stdout.toString()); } catch { /* asserted by the caller */ }
  return { ...r, report };
}

test('restore-check: restores the newest backup, verifies, measures, judges the tiers and cleans up', async (t) => {
  const dir = tempDir('drill');
  const repo = path.join(dir, 'repo');
  const reports = path.join(dir, 'reports');
  const server = await startServe('drill-source');
  t.after(async () => {
    await server.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const ep = server.endpoint;
  await call(ep, 'databases/create', { dbName: 'kb' });
  await call(ep, 'databases/alter', { dbName: 'kb', properties: { 'ark.dr.rto_tier': 'critical', 'ark.dr.rpo_tier': 'very-low' } });
  const colls = [['kb', 'company_docs', 60], ['default', 'faq_docs', 25]];
  for (const [db, name, n] of colls) {
    await call(ep, 'collections/create', {
      dbName: db, collectionName: name,
      schema: {
        autoId: false, enableDynamicField: false,
        fields: [
          { fieldName: 'id', dataType: 'Int64', isPrimary: true },
          { fieldName: 'vector', dataType: 'FloatVector', elementTypeParams: { dim: DIM } },
        ],
      },
      indexParams: [{ fieldName: 'vector', indexName: 'vector', metricType: 'L2', indexType: 'HNSW', params: { M: 8, efConstruction: 64 } }],
    });
    await call(ep, 'entities/insert', { dbName: db, collectionName: name, data: Array.from({ length: n }, (_, i) => ({ id: i, vector: vec(i) })) });
  }
  await runArkOk(['backup', 'create', '--server', ep, '--repo', repo, '-n', 'base', '-q']);
  const backupDone = Date.now();
  // Written after the backup: a restore-check recovers without them.
  await call(ep, 'entities/insert', { dbName: 'kb', collectionName: 'company_docs', data: [{ id: 1000, vector: vec(1000) }] });
  // The data age this test injects: the drill's RPO must be at least this.
  await clockPast(backupDone + 1000);

  const before = Date.now();
  const r = await drill(['--repo', repo, '--report-dir', reports]);
  const after = Date.now();
  assert.equal(r.status, 0, `${r.stderr}\n${r.stdout}`);
  const rep = r.report;
  assert.equal(rep.format, 'ark-drill-report');
  assert.equal(rep.version, 1);
  assert.equal(rep.scenario, 'restore-check');
  assert.equal(rep.passed, true, JSON.stringify(rep.checks));
  assert.equal(rep.error, '');
  assert.equal(rep.source.backup, 'base');
  // RPO: from the backup's cut to the drill's start.
  assert.ok(rep.measured.rpoMs >= 1000 - 5, `rpoMs ${rep.measured.rpoMs}`);
  assert.ok(rep.measured.rpoMs <= after - backupDone + 5000, `rpoMs ${rep.measured.rpoMs}`);
  // RTO: within the drill's own run time; restore is part of it.
  assert.ok(rep.measured.rtoMs > 0 && rep.measured.rtoMs <= after - before, `rtoMs ${rep.measured.rtoMs}`);
  assert.ok(rep.measured.restoreMs <= rep.measured.rtoMs);
  assert.equal(rep.measured.rtoSearchMs, rep.measured.rtoMs);
  assert.equal(rep.measured.lostMarkers, null);
  const byName = Object.fromEntries(rep.collections.map((c) => [`${c.database}.${c.name}`, c]));
  assert.deepEqual(Object.keys(byName).sort(), ['default.faq_docs', 'kb.company_docs']);
  assert.equal(byName['kb.company_docs'].rows, 60, 'the row written after the backup is not in it');
  assert.equal(byName['kb.company_docs'].expectedRows, 60);
  assert.equal(byName['default.faq_docs'].rows, 25);
  for (const c of rep.collections) assert.equal(c.samplesFound, 5, JSON.stringify(c));
  // Content: each restored collection's checksum is the one the backup recorded at its cut.
  for (const c of rep.collections) {
    assert.match(c.checksumExpected, /^v1:[0-9a-f]{32}$/, JSON.stringify(c));
    assert.equal(c.checksum, c.checksumExpected);
    assert.equal(c.contentMatches, true);
  }
  assert.equal(rep.checks.find((c) => c.name === 'content').passed, true);
  const recorded = JSON.parse(fs.readFileSync(path.join(repo, 'backups', 'base.json'), 'utf8'));
  assert.equal(recorded.collections.find((c) => c.name === 'company_docs').checksum, byName['kb.company_docs'].checksum);
  assert.equal(byName['kb.company_docs'].targets.rtoTier, 'critical');
  assert.equal(byName['kb.company_docs'].targets.rpoTier, 'very-low');
  assert.deepEqual([byName['kb.company_docs'].verdict.rto, byName['kb.company_docs'].verdict.rpo], ['pass', 'pass']);
  assert.equal(byName['default.faq_docs'].verdict, undefined, 'no tier: no verdict');
  const events = rep.timeline.map((e) => e.event);
  assert.deepEqual(events, ['drill-started', 'source-chosen', 'restored', 'instance-started', 'instance-ready', 'verified', 'torn-down']);
  for (let i = 1; i < rep.timeline.length; i++) assert.ok(rep.timeline[i].sinceStartMs >= rep.timeline[i - 1].sinceStartMs);

  // The three files, and no scratch left behind.
  assert.equal(rep.reportDir, path.join(reports, rep.id));
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(rep.reportDir, 'report.json'))).id, rep.id);
  assert.match(fs.readFileSync(path.join(rep.reportDir, 'report.md'), 'utf8'), /# Drill .*restore-check: PASSED/);
  const html = fs.readFileSync(path.join(rep.reportDir, 'report.html'), 'utf8');
  assert.match(html, /<svg/);
  assert.match(html, /company_docs/);
  assert.deepEqual(fs.readdirSync(reports), [rep.id]);
  // The source is untouched.
  assert.equal((await call(ep, 'collections/get_stats', { dbName: 'kb', collectionName: 'company_docs' })).rowCount, 61);

  // A tier the drill could not read is refused when it is set, naming the choices; nothing changes.
  const badTier = await fetch(`${ep}/v2/vectordb/databases/alter`, {
    method: 'POST', body: JSON.stringify({ dbName: 'kb', properties: { 'ark.dr.rpo_tier': 'urgent', 'ark.dr.rto_tier': 'general' } }),
  }).then((x) => x.json());
  assert.notEqual(badTier.code, 0);
  assert.match(badTier.message, /ark\.dr\.rpo_tier.*urgent.*zero.*very-low.*low.*tolerable/);
  const props = (await call(ep, 'databases/describe', { dbName: 'kb' })).properties;
  assert.deepEqual(props.filter((p) => p.key.startsWith('ark.dr.')).sort((a, b) => a.key.localeCompare(b.key)),
    [{ key: 'ark.dr.rpo_tier', value: 'very-low' }, { key: 'ark.dr.rto_tier', value: 'critical' }]);

  // A zero-RPO tier cannot be met by a backup: the drill fails and says why.
  await call(ep, 'databases/alter', { dbName: 'kb', properties: { 'ark.dr.rpo_tier': 'zero' } });
  await runArkOk(['backup', 'create', '--server', ep, '--repo', repo, '-n', 'second', '-q']);
  const z = await drill(['--repo', repo, '--report-dir', reports]);
  assert.equal(z.status, 1, z.stderr);
  assert.equal(z.report.passed, false);
  assert.equal(z.report.source.backup, 'second', 'the newest backup');
  const kb = z.report.collections.find((c) => c.name === 'company_docs');
  assert.equal(kb.rows, 61);
  assert.equal(kb.verdict.rpo, 'fail');
  assert.equal(kb.verdict.rto, 'pass');
  assert.ok(kb.verdict.reasons.some((s) => /RPO/.test(s)), JSON.stringify(kb.verdict));
  assert.match(z.stderr, /drill \S+ failed: kb\.company_docs: RPO .*zero tier/);

  // --backup picks an older one.
  const old = await drill(['--repo', repo, '--report-dir', reports, '--backup', 'base']);
  assert.equal(old.report.source.backup, 'base');
  assert.equal(old.report.collections.find((c) => c.name === 'company_docs').rows, 60);
});

test('restore-check: bad input and a corrupted repository fail with a report that says why', async (t) => {
  const dir = tempDir('drill-bad');
  const repo = path.join(dir, 'repo');
  const reports = path.join(dir, 'reports');
  const server = await startServe('drill-bad-source');
  t.after(async () => {
    await server.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const ep = server.endpoint;
  await call(ep, 'collections/create', { collectionName: 'c', dimension: DIM, metricType: 'L2' });
  await call(ep, 'entities/insert', { collectionName: 'c', data: Array.from({ length: 40 }, (_, i) => ({ id: i, vector: vec(i) })) });

  // Nothing to recover from yet.
  const empty = await runArk(['drill', 'run', 'restore-check', '--repo', path.join(dir, 'nothing'), '--report-dir', reports]);
  assert.notEqual(empty.status, 0);
  assert.match(empty.stderr, /nothing/);
  const unknown = await runArk(['drill', 'run', 'volcano', '--repo', repo]);
  assert.equal(unknown.status, 2, unknown.stderr);
  assert.match(unknown.stderr, /unknown drill scenario 'volcano': one of restore-check/);
  const noRepo = await runArk(['drill', 'run', 'restore-check']);
  assert.equal(noRepo.status, 2, noRepo.stderr);
  assert.match(noRepo.stderr, /--repo/);

  const emptyRepo = path.join(dir, 'empty-repo');
  await runArkOk(['backup', 'init', '--repo', emptyRepo]);
  const none = await drill(['--repo', emptyRepo, '--report-dir', reports]);
  assert.equal(none.status, 1);
  assert.match(none.report.error, /no backup in .*empty-repo/);
  assert.match(none.stderr, /no backup in/);
  await runArkOk(['backup', 'create', '--server', ep, '--repo', repo, '-n', 'b1', '-q']);
  const latest = await drill(['--repo', repo, '--report-dir', reports, '--to-latest']);
  assert.equal(latest.status, 1);
  assert.match(latest.report.error, /--to-latest needs a WAL archive/);
  const scratch = path.join(dir, 'scratch');
  fs.mkdirSync(scratch);
  fs.writeFileSync(path.join(scratch, 'precious'), 'x');
  const busy = await drill(['--repo', repo, '--report-dir', reports, '--work-dir', scratch]);
  assert.equal(busy.status, 1);
  assert.match(busy.report.error, /not empty|exists/);
  assert.equal(fs.readFileSync(path.join(scratch, 'precious'), 'utf8'), 'x', 'a non-empty work dir is left alone');

  // A backup whose recorded content checksum disagrees with what it restores
  // (as a lost or altered row would): the content check fails, naming it.
  const manifestPath = path.join(repo, 'backups', 'b1.json');
  const original = fs.readFileSync(manifestPath, 'utf8');
  const altered = JSON.parse(original);
  const realSum = altered.collections[0].checksum;
  altered.collections[0].checksum = `v1:${'0'.repeat(32)}`;
  fs.writeFileSync(manifestPath, JSON.stringify(altered, null, 2));
  const differs = await drill(['--repo', repo, '--report-dir', reports]);
  assert.equal(differs.status, 1, differs.stderr);
  const content = differs.report.checks.find((c) => c.name === 'content');
  assert.ok(content, JSON.stringify(differs.report));
  assert.equal(content.passed, false);
  assert.match(content.detail, new RegExp(`default\\.c: ${realSum} \\(the backup recorded v1:0{32}\\)`));
  assert.equal(differs.report.collections[0].contentMatches, false);
  fs.writeFileSync(manifestPath, original);
  // An unreadable recorded checksum is refused when the manifest is read.
  altered.collections[0].checksum = 'sha1:abc';
  fs.writeFileSync(manifestPath, JSON.stringify(altered, null, 2));
  const unreadable = await drill(['--repo', repo, '--report-dir', reports]);
  assert.equal(unreadable.status, 1, unreadable.stderr);
  assert.match(unreadable.report.error, /checksum/);
  fs.writeFileSync(manifestPath, original);

  // Flip a byte in the biggest blob: the restore refuses it.
  const files = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p); else files.push({ p, size: fs.statSync(p).size });
    }
  };
  walk(repo);
  const victim = files.sort((a, b) => b.size - a.size)[0].p;
  const buf = fs.readFileSync(victim);
  buf[Math.floor(buf.length / 2)] ^= 0xff;
  fs.writeFileSync(victim, buf);
  const bad = await drill(['--repo', repo, '--report-dir', reports]);
  assert.equal(bad.status, 1, bad.stderr);
  assert.equal(bad.report.passed, false);
  assert.notEqual(bad.report.error, '');
  assert.ok(fs.existsSync(path.join(bad.report.reportDir, 'report.json')));
  assert.equal(bad.report.timeline.at(-1).event, 'torn-down');
  assert.ok(!fs.existsSync(path.join(reports, `${bad.report.id}.scratch`)), 'the scratch directory is removed');
  // The source still serves its rows.
  assert.equal((await call(ep, 'collections/get_stats', { collectionName: 'c' })).rowCount, 40);
});

test('site-loss: the primary and its data directory are destroyed; a fresh instance recovers from backup + archive', async (t) => {
  const dir = tempDir('drill-site');
  const repo = path.join(dir, 'repo');
  const reports = path.join(dir, 'reports');
  const server = await startServe('drill-site-source', { yaml: `archive:\n  repo: ${repo}\n  interval_seconds: 0.2\n` });
  t.after(async () => {
    await server.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const ep = server.endpoint;
  await call(ep, 'databases/alter', { dbName: 'default', properties: { 'ark.dr.rto_tier': 'critical', 'ark.dr.rpo_tier': 'very-low' } });
  await call(ep, 'collections/create', { collectionName: 'company_docs', dimension: DIM, metricType: 'L2' });
  await call(ep, 'entities/insert', { collectionName: 'company_docs', data: Array.from({ length: 80 }, (_, i) => ({ id: i, vector: vec(i) })) });
  await runArkOk(['backup', 'create', '--server', ep, '--repo', repo, '-n', 'base', '-q']);
  // After the backup: only the archive carries these.
  await call(ep, 'entities/insert', { collectionName: 'company_docs', data: Array.from({ length: 20 }, (_, i) => ({ id: 100 + i, vector: vec(100 + i) })) });

  const r = await runArk(['drill', 'run', 'site-loss', '--repo', repo, '--endpoint', ep, '--report-dir', reports, '--json',
    '--kill-cmd', `kill -9 ${server.pid} && rm -rf '${server.dataDir}'`, '--warmup-markers', '30']);
  const rep = JSON.parse(r.stdout.toString());
  assert.equal(r.status, 0, `${r.stderr}\n${JSON.stringify(rep.checks)}\n${rep.error}`);
  assert.equal(rep.passed, true);
  assert.ok(!fs.existsSync(server.dataDir), 'the kill command destroyed the data directory');
  assert.equal(rep.source.pointInTime, 'latest');
  assert.equal(rep.source.backup, 'base');
  const docs = rep.collections.find((c) => c.name === 'company_docs');
  assert.equal(docs.rows, 100, 'the rows written after the backup came back from the archive');
  assert.deepEqual([docs.verdict.rto, docs.verdict.rpo], ['pass', 'pass']);
  // Data verification: the fresh instance holds the primary's rows value for
  // value (backup + archive), and its searches find what the primary found.
  assert.equal(docs.contentMatches, true, JSON.stringify(docs));
  assert.equal(docs.checksumAfter, docs.checksumBefore);
  assert.equal(docs.rowsBefore, 100);
  assert.equal(docs.sampleSearchesSame, 3);
  assert.equal(rep.checks.find((c) => c.name === 'content').passed, true);
  assert.equal(rep.checks.find((c) => c.name === 'searches').passed, true);
  // Lost markers are only the newest ones (not yet archived at the kill), and few at a 0.2 s interval.
  const m = rep.measured;
  assert.equal(m.lostMarkers, rep.probe.lostIds.length);
  assert.ok(m.rpoMs < 5000, JSON.stringify(m));
  assert.ok(rep.probe.acknowledged >= 30 + 20);
  assert.ok(m.restoreMs < m.rtoMs, JSON.stringify(m));
  const names = rep.timeline.map((e) => e.event);
  for (const n of ['fingerprinted', 'probe-started', 'site-lost', 'source-chosen', 'restored', 'instance-ready', 'first-write', 'verified', 'torn-down']) {
    assert.ok(names.includes(n), `${n} missing from ${names}`);
  }
  assert.deepEqual(fs.readdirSync(reports), [rep.id], 'the fresh instance directory is removed');
  t.diagnostic(`site-loss: RTO ${m.rtoMs} ms (restore ${m.restoreMs} ms), RPO ${m.rpoMs} ms, ${m.lostMarkers} marker(s) lost`);
});
