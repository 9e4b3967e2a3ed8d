// The README's commands, run as a new user types them (issue 20: its
// object-store example once failed because `put` took the URL first).
//
// Today: every `build/release/ark objectstore ...` line of the README whose
// URL is a local path, with `build/release/ark` replaced by ARK_BIN and the
// README's /srv/repo by a temp directory, run in a directory holding
// ./file.bin. Each must exit 0, and what `put` stored must be the file's
// bytes. Both argument orders of `put` are checked: FILE URL, and the old
// URL FILE (accepted with a deprecation warning).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { runArk, tempDir } = require('./helpers');

const README = path.join(__dirname, '..', '..', 'README.md');

function readmeLines(prefix) {
  const text = fs.readFileSync(README, 'utf8');
  const lines = [];
  for (const block of text.split('```').filter((_, i) => i % 2 === 1)) {
    for (const line of block.split('\n')) {
      const cmd = line.replace(/\s+#.*$/, '').trim();
      if (cmd.startsWith(prefix)) lines.push(cmd);
    }
  }
  return lines;
}

test('the README\'s local object-store commands run as written', async (t) => {
  const dir = tempDir('readme-objectstore');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const repo = path.join(dir, 'srv-repo');
  fs.mkdirSync(repo);
  const bytes = Buffer.from(`file.bin of the README test ${Date.now()}\n`);
  fs.writeFileSync(path.join(dir, 'file.bin'), bytes);
  const lines = readmeLines('build/release/ark objectstore').filter((l) => !l.includes('s3://'));
  assert.ok(lines.some((l) => l.includes(' put ')), `no put line in the README: ${JSON.stringify(lines)}`);
  for (const line of lines) {
    const args = line.split(/\s+/).slice(1).map((a) => a.replaceAll('/srv/repo', repo));
    const r = await runArk(args, { cwd: dir });
    assert.equal(r.status, 0, `README line "${line}" exited ${r.status}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /deprecated/, `README line "${line}" uses a deprecated form: ${r.stderr}`);
  }
  assert.deepEqual(fs.readFileSync(path.join(repo, 'some', 'key')), bytes, 'put stored other bytes');

  // The old order still works, saying what to type instead; stdin with one argument.
  const old = await runArk(['objectstore', 'put', path.join(repo, 'old'), path.join(dir, 'file.bin')]);
  assert.equal(old.status, 0, old.stderr);
  assert.match(old.stderr, /deprecated; use put .*file\.bin .*old/, old.stderr);
  assert.deepEqual(fs.readFileSync(path.join(repo, 'old')), bytes);
  const piped = await runArk(['objectstore', 'put', path.join(repo, 'piped')], { input: 'from stdin' });
  assert.equal(piped.status, 0, piped.stderr);
  assert.equal(fs.readFileSync(path.join(repo, 'piped'), 'utf8'), 'from stdin');
});
