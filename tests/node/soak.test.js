// Short CI run of the load and soak generator (soak_lib.js; the long run is
// `node soak.js --seconds 1800`): 32 connections for ~20 s against a server
// allowing 4 concurrent requests. See docs/reliability.md#load-and-soak.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { runSoak, summarize } = require('./soak_lib');

const SECONDS = Number(process.env.ARK_SOAK_SECONDS || 20);

test(`soak: ${SECONDS} s of mixed load, only 1807 errors, every acknowledged write kept, RSS bounded`, async (t) => {
  // Under ASan, freed memory sits in a quarantine (256 MiB by default) that
  // fills during the run and would read as growth; keep it small so RSS
  // reflects live memory. No effect on a non-ASan build.
  const r = await runSoak({
    seconds: SECONDS, connections: 32, maxConcurrent: 4, workerThreads: 24, compactEverySeconds: 3,
    liveRowsPerConnection: 50,  // 1,600 live rows: the steady state comes within the warm-up
    seed: Number(process.env.ARK_SOAK_SEED || Date.now() % 1000000007),
    serverEnv: { ASAN_OPTIONS: `${process.env.ASAN_OPTIONS ? `${process.env.ASAN_OPTIONS}:` : ''}quarantine_size_mb=8` },
    log: (line) => t.diagnostic(line),
  });
  t.after(() => r.server.cleanup());
  for (const line of summarize(r).split('\n')) t.diagnostic(line);
  assert.ok(r.serverAlive, `server died: ${JSON.stringify(r.server.exit())}\n${r.server.output().slice(-3000)}`);
  assert.equal(r.transportErrors, 0, r.errors.join('\n'));
  assert.equal(r.errorCount || 0, 0, `errors other than 1807:\n${r.errors.join('\n')}`);
  // The load did exercise the limit, and did real work.
  assert.ok(r.rateLimited > 0, 'no request was rate limited: the limit was not exercised');
  for (const op of ['insert', 'delete', 'search', 'query']) {
    assert.ok(r.ops[op]?.ok > 0, `no successful ${op}`);
  }
  assert.deepEqual(r.verify.missing.slice(0, 20), [], `${r.verify.missing.length} acknowledged inserts missing`);
  assert.deepEqual(r.verify.resurrected.slice(0, 20), [], `${r.verify.resurrected.length} acknowledged deletes came back`);
  assert.deepEqual(r.verify.storedRejected.slice(0, 20), [], `${r.verify.storedRejected.length} rows of rate-limited inserts were stored`);
  assert.equal(r.verify.count, r.verify.expectedCount, 'count(*) differs from the acknowledged live rows');
  assert.ok(r.memory.ok, `RSS not bounded: ${r.memory.reason}`);
  assert.ok(!/AddressSanitizer|runtime error:/.test(r.server.output()), r.server.output().slice(-3000));
});
