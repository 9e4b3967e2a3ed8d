// The DR dashboard (`GET /ui`, docs/drills.md#dashboard) in headless Chromium
// against real servers on loopback: a primary with an admin token, a backup
// schedule, a WAL archive and a tiered database; a standby streaming from
// it; a restore-check drill written into the primary's drills directory.
// The page Chromium renders must show what `POST /ark/v1/dr/status` says —
// the role and epoch, the standby connected, the schedule's last backup, the
// drill's id, verdict and measured RTO, its timeline — and the drill's link
// must open its report. Opened with ?token=, as a person would; without a
// credential it is refused.
//
// Set ARK_DASHBOARD_SCREENSHOT=docs/images/dashboard.png to refresh the
// screenshot in the docs. Skipped only when Chromium is not installed
// (scripts/install-deps.sh installs it). Synchronises only by polling with
// deadlines; every process is stopped in t.after.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { runArk, runArkOk, startServe, tempDir } = require('./helpers');

const TOKEN = 'dash&board-admin';
const DIM = 4;
const vec = (i) => [Math.sin(i), Math.cos(i), Math.sin(2 * i), Math.cos(3 * i)];

function findChromium() {
  for (const name of ['chromium', 'chromium-browser']) {
    for (const dir of (process.env.PATH || '').split(path.delimiter)) {
      const file = path.join(dir, name);
      try {
        fs.accessSync(file, fs.constants.X_OK);
        return file;
      } catch { /* not here */ }
    }
  }
  return null;
}

// One headless Chromium run with its own profile; resolves { status, stdout, stderr }.
// Every child is remembered so that t.after can stop one still running.
function runChromium(bin, profile, args, children) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
      '--hide-scrollbars', `--user-data-dir=${profile}`, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60000, killSignal: 'SIGKILL' });
    children.add(child);
    const out = [];
    const err = [];
    child.stdout.on('data', (c) => out.push(c));
    child.stderr.on('data', (c) => err.push(c));
    child.on('error', reject);
    child.on('close', (status, signal) => {
      children.delete(child);
      resolve({ status, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

async function dumpDom(bin, profile, url, children) {
  const r = await runChromium(bin, profile, ['--dump-dom', url], children);
  assert.equal(r.status, 0, `chromium --dump-dom ${url} exited ${r.status} ${r.signal}: ${r.stderr.slice(-2000)}`);
  return r.stdout;
}

// dr/drill/tiers.cc FormatDuration: truncated to its two largest units.
function formatDuration(ms) {
  ms = Math.floor(ms);
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60000) {
    const tenths = Math.floor(ms / 100);
    return tenths % 10 === 0 ? `${tenths / 10} s` : `${Math.floor(tenths / 10)}.${tenths % 10} s`;
  }
  const two = (big, bigUnit, small, smallUnit) => (small === 0 ? `${big} ${bigUnit}` : `${big} ${bigUnit} ${small} ${smallUnit}`);
  if (ms < 3600000) return two(Math.floor(ms / 60000), 'min', Math.floor((ms % 60000) / 1000), 's');
  if (ms < 2 * 86400000) return two(Math.floor(ms / 3600000), 'h', Math.floor((ms % 3600000) / 60000), 'min');
  return two(Math.floor(ms / 86400000), 'd', Math.floor((ms % 86400000) / 3600000), 'h');
}

const auth = { Authorization: `Bearer ${TOKEN}` };

async function call(ep, route, body) {
  const r = await fetch(`${ep}/v2/vectordb/${route}`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
  const j = await r.json();
  assert.equal(j.code, 0, `${route}: ${JSON.stringify(j).slice(0, 300)}`);
  return j.data;
}

async function drStatus(ep) {
  const r = await fetch(`${ep}/ark/v1/dr/status`, { method: 'POST', headers: auth, body: '{}' });
  const j = await r.json();
  assert.equal(j.code, 0, `dr/status: ${JSON.stringify(j).slice(0, 300)}`);
  return j.data;
}

// Polls dr/status until `done(status)`, failing with the last one seen.
async function statusWhen(ep, what, timeoutMs, done, servers) {
  const deadline = Date.now() + timeoutMs;
  let seen;
  for (;;) {
    for (const s of servers) assert.ok(s.alive(), `${what}: ${s.endpoint} exited: ${s.output().slice(-3000)}`);
    seen = await drStatus(ep);
    if (done(seen)) return seen;
    assert.ok(Date.now() < deadline, `${what}: not after ${timeoutMs} ms; dr/status ${JSON.stringify(seen).slice(0, 3000)}`);
    await new Promise((r) => setTimeout(r, 200));  // the polling interval
  }
}

// The <tr> holding `marker` (an attribute of the row or of a link in it).
function rowWith(dom, marker) {
  const at = dom.indexOf(marker);
  assert.ok(at >= 0, `no ${marker} in the page`);
  const start = dom.lastIndexOf('<tr', at);
  return dom.slice(start, dom.indexOf('</tr>', at) + 5);
}

test('dashboard: Chromium shows what dr/status says, and the drill link opens its report', async (t) => {
  const chromium = findChromium();
  if (!chromium) {
    t.skip('chromium is not installed (scripts/install-deps.sh installs it): the dashboard is not tested in a browser');
    return;
  }
  const dir = tempDir('dashboard');
  const repo = path.join(dir, 'repo');
  const archiveRepo = path.join(dir, 'archive-repo');
  const children = new Set();
  const servers = [];
  t.after(async () => {
    for (const child of children) child.kill('SIGKILL');
    for (const s of servers.reverse()) await s.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const primary = await startServe('dashboard-primary', {
    yaml: `auth: {admin_token: "${TOKEN}"}\n` +
      `schedules:\n  - name: every-minute\n    cron: "* * * * *"\n    repo: ${repo}\n` +
      `archive: {repo: ${archiveRepo}, interval_seconds: 1}\n`,
  });
  servers.push(primary);
  const ep = primary.endpoint;
  await call(ep, 'databases/create', { dbName: 'kb' });
  await call(ep, 'databases/alter', { dbName: 'kb', properties: { 'ark.dr.rto_tier': 'critical', 'ark.dr.rpo_tier': 'very-low' } });
  for (const [name, rows] of [['company_docs', 60], ['faq_docs', 25]]) {
    await call(ep, 'collections/create', { dbName: 'kb', collectionName: name, dimension: DIM, metricType: 'L2' });
    await call(ep, 'entities/insert', { dbName: 'kb', collectionName: name, data: Array.from({ length: rows }, (_, i) => ({ id: i, vector: vec(i) })) });
  }
  const standby = await startServe('dashboard-standby', {
    yaml: `replication: {token: "${TOKEN}"}\n`,
    args: ['--standby-of', ep, '--standby-name', 'standby-b'],
  });
  servers.push(standby);

  // A backup, then the drill into the primary's drills directory.
  const before = await drStatus(ep);
  assert.equal(before.drills.reportDir, path.join(primary.dataDir, 'drills'));
  await runArkOk(['backup', 'create', '--server', ep, '--token', TOKEN, '--repo', repo, '-n', 'base', '-q']);
  const drill = await runArk(['drill', 'run', 'restore-check', '--repo', repo, '--backup', 'base',
    '--report-dir', before.drills.reportDir, '--json']);
  assert.equal(drill.status, 0, drill.stderr);
  const report = JSON.parse(drill.stdout.toString());
  assert.equal(report.passed, true, JSON.stringify(report.checks));

  // The schedule's first run (within a minute), the standby streaming, the drill listed.
  const status = await statusWhen(ep, 'the schedule ran, the standby is connected, the drill is listed', 150000, (d) =>
    d.schedules[0]?.lastSuccessMicros != null &&
    d.replication.standbys.some((s) => s.name === 'standby-b' && s.connected) &&
    d.drills.recent[0]?.id === report.id, servers);
  const recent = status.drills.recent[0];
  assert.equal(recent.passed, true);
  const rtoText = formatDuration(recent.measured.rtoMs);

  // Refused without a credential.
  const refused = await fetch(`${ep}/ui`);
  assert.equal(refused.status, 401);
  assert.match(await refused.text(), /\?token=/);

  const profile = path.join(dir, 'chromium-profile');
  const url = `${ep}/ui?token=${encodeURIComponent(TOKEN)}`;
  const dom = await dumpDom(chromium, profile, url, children);
  assert.match(dom, /<title>Ark primary — (healthy|warning)<\/title>/);
  assert.match(dom, /<span class="role" id="role">primary<\/span>/);
  assert.match(dom, new RegExp(`<dt>Epoch</dt><dd>${status.epoch}</dd>`));
  assert.match(dom, /id="figure-standbys"><div class="label">Standbys connected<\/div><div class="value">1 \/ 1<\/div>/);
  const standbyRow = rowWith(dom, 'data-standby="standby-b"');
  assert.match(standbyRow, /<span class="pill pass">connected<\/span>/);
  const scheduleRow = rowWith(dom, 'data-schedule="every-minute"');
  assert.match(scheduleRow, /<code>every-minute<\/code><span class="sub">\* \* \* \* \*<\/span>/);
  assert.match(scheduleRow, /<span class="pill pass">on time<\/span>( <span class="pill none">running<\/span>)?<\/td><td class="num">1 min<\/td>/);
  assert.match(dom, /id="figure-last-backup"><div class="label">Last backup<\/div><div class="value">[^<]* ago<\/div><div class="sub">schedule every-minute<\/div>/);
  assert.match(dom, /<dt>State<\/dt><dd><span class="pill (pass|none)">(archiving|starting)<\/span><\/dd>/);
  assert.match(dom, /<code>kb<\/code><\/td><td>critical · &lt; 1 h<\/td><td>very-low · &lt; 1 h<\/td><td class="num">2<\/td><td class="num">85<\/td>/);
  const drillRow = rowWith(dom, `data-drill="${report.id}"`);
  assert.match(drillRow, /<span class="badge passed small">PASSED<\/span>/);
  assert.ok(drillRow.includes(`<td class="num rto">${rtoText}</td>`), `RTO ${rtoText} in ${drillRow}`);
  assert.ok(drillRow.includes(`<td class="num rpo">${formatDuration(recent.measured.rpoMs)}</td>`), drillRow);
  assert.match(drillRow, /<code>kb\.company_docs<\/code> <span class="pill pass">RTO pass<\/span><span class="pill pass">RPO pass<\/span>/);
  assert.ok(dom.includes(`<h3>Newest drill <code>${report.id}</code>`), 'the newest drill heads the timeline');
  assert.equal((dom.match(/<svg class="timeline"/g) || []).length, 1);
  assert.equal((dom.match(/<circle /g) || []).length, report.timeline.length, 'one marker per timeline event');
  assert.ok(dom.includes(`>RTO ${rtoText}</text>`), 'the RTO band');

  // The drill's link carries the token and opens its report.
  const href = /<a href="([^"]+)" data-drill="/.exec(drillRow)[1].replaceAll('&amp;', '&');
  assert.equal(href, `ui/drills/${report.id}/report.html?token=${encodeURIComponent(TOKEN)}`);
  const reportDom = await dumpDom(chromium, profile, new URL(href, url).href, children);
  assert.match(reportDom, /<span class="badge passed"[^>]*>PASSED<\/span>/);
  assert.ok(reportDom.includes(report.id));
  assert.ok(reportDom.includes(`<div class="value">${rtoText}</div>`), 'the report shows the same RTO');
  assert.equal((reportDom.match(/<circle /g) || []).length, report.timeline.length);
  const traversal = await fetch(`${ep}/ui/drills/..%2f..%2fark.yaml/report.html`, { headers: auth });
  assert.equal(traversal.status, 404);

  // A screenshot: the page as a person sees it.
  const png = path.join(dir, 'dashboard.png');
  const shot = await runChromium(chromium, profile, [`--screenshot=${png}`, '--window-size=1280,1740', url], children);
  assert.equal(shot.status, 0, shot.stderr.slice(-2000));
  assert.deepEqual([...fs.readFileSync(png).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'a PNG');
  if (process.env.ARK_DASHBOARD_SCREENSHOT) fs.copyFileSync(png, process.env.ARK_DASHBOARD_SCREENSHOT);
});
