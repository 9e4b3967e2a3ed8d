// `ark demo dr` (README, docs/drills.md "The demo"): one command starts a
// monitor, a primary and a standby on loopback, loads the seed's knowledge
// base, runs a primary-crash drill and a restore-check, prints the measured
// RTO/RPO with the reports' paths, and stops everything it started.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { runArk, tempDir } = require('./helpers');

const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };

test('ark demo dr: the knowledge base survives a primary crash, and its backup restores', async (t) => {
  const dir = path.join(tempDir('demo-dr'), 'demo');
  t.after(() => fs.rmSync(path.dirname(dir), { recursive: true, force: true }));
  const r = await runArk(['demo', 'dr', '--dir', dir, '--rows', '150']);
  const out = r.stdout.toString();
  assert.equal(r.status, 0, `${r.stderr}\n${out}`);
  assert.match(out, /primary-crash: PASSED/);
  assert.match(out, /restore-check: PASSED/);
  // Each collection is judged against its own tier; faq_docs takes its RPO from database kb.
  assert.match(out, /kb\.company_docs +tier RTO critical +RPO very-low +-> RTO pass, RPO pass/);
  assert.match(out, /kb\.product_docs +tier RTO important +RPO very-low +-> RTO pass, RPO pass/);
  assert.match(out, /kb\.faq_docs +tier RTO general +RPO low +-> RTO pass, RPO pass/);
  // The processes it started are gone.
  const pids = [...out.matchAll(/\(pid (\d+),/g)].map((m) => Number(m[1]));
  assert.equal(pids.length, 3, out);
  for (const pid of pids) assert.ok(!alive(pid), `pid ${pid} still runs`);
  // The reports it names exist and agree with what it printed.
  const reports = [...out.matchAll(/report: (\S+)\/report\.html/g)].map((m) => m[1]);
  assert.equal(reports.length, 2);
  const crash = JSON.parse(fs.readFileSync(path.join(reports[0], 'report.json')));
  assert.equal(crash.scenario, 'primary-crash');
  assert.equal(crash.passed, true);
  assert.ok(out.includes(`(${crash.measured.lostMarkers} acknowledged marker(s) lost)`), out);
  const docs = crash.collections.filter((c) => c.database === 'kb').map((c) => [c.name, c.rows]).sort();
  assert.deepEqual(docs, [['company_docs', 150], ['faq_docs', 150], ['product_docs', 150]]);
  const faq = crash.collections.find((c) => c.name === 'faq_docs');
  assert.equal(faq.targets.source, 'collection kb.faq_docs (RTO), database kb (RPO)');
  // The data verification compared every knowledge-base collection before and after.
  for (const c of crash.collections.filter((x) => x.database === 'kb')) {
    assert.equal(c.contentMatches, true, JSON.stringify(c));
    assert.equal(c.checksumAfter, c.checksumBefore);
  }
  const check = JSON.parse(fs.readFileSync(path.join(reports[1], 'report.json')));
  assert.equal(check.scenario, 'restore-check');
  assert.equal(check.source.backup, 'kb-daily');
  assert.ok(fs.existsSync(path.join(reports[1], 'report.html')));
  // A --dir with something in it is refused and left alone.
  fs.writeFileSync(path.join(dir, 'keep-me'), 'x');
  const again = await runArk(['demo', 'dr', '--dir', dir]);
  assert.notEqual(again.status, 0);
  assert.match(again.stderr, /--dir must be new or empty/);
  assert.equal(fs.readFileSync(path.join(dir, 'keep-me'), 'utf8'), 'x');
});
