#!/usr/bin/env node
// The long soak run (docs/reliability.md#load-and-soak):
//   cd tests/node && ARK_BIN=../../build/release/ark node soak.js --seconds 1800 --connections 32
// Options: --seconds N, --connections N, --max-concurrent N, --worker-threads N,
// --live-rows N (per connection), --compact-every N (seconds), --seed N, --json FILE.
// Exits non-zero if any check fails; prints a summary either way.
'use strict';

const fs = require('node:fs');
const { runSoak, summarize } = require('./soak_lib');

function parseArgs(argv) {
  const names = { '--seconds': 'seconds', '--connections': 'connections', '--max-concurrent': 'maxConcurrent',
    '--worker-threads': 'workerThreads', '--live-rows': 'liveRowsPerConnection', '--compact-every': 'compactEverySeconds',
    '--seed': 'seed', '--json': 'json' };
  const o = { seconds: 1800, connections: 32 };
  for (let i = 2; i < argv.length; i += 2) {
    const key = names[argv[i]];
    if (!key || i + 1 >= argv.length) {
      console.error(`usage: node soak.js [${Object.keys(names).join(' N] [')} N]; bad argument ${argv[i]}`);
      process.exit(2);
    }
    o[key] = key === 'json' ? argv[i + 1] : Number(argv[i + 1]);
    if (key !== 'json' && !(Number.isFinite(o[key]) && o[key] > 0)) {
      console.error(`${argv[i]} needs a positive number, got ${argv[i + 1]}`);
      process.exit(2);
    }
  }
  return o;
}

(async () => {
  const o = parseArgs(process.argv);
  const r = await runSoak({ ...o, log: (line) => console.log(line) });
  const alive = r.serverAlive;
  await r.server.cleanup();
  console.log(summarize(r));
  if (o.json) {
    const { server, ...rest } = r;
    fs.writeFileSync(o.json, JSON.stringify({ ...rest, rss: r.rss }, null, 1));
  }
  const problems = [];
  if (!alive) problems.push('the server died');
  if (r.transportErrors || r.errorCount) problems.push(`errors other than 1807: ${r.errors.slice(0, 10).join('; ')}`);
  if (r.verify.missing.length) problems.push(`${r.verify.missing.length} acknowledged inserts missing`);
  if (r.verify.resurrected.length) problems.push(`${r.verify.resurrected.length} acknowledged deletes came back`);
  if (r.verify.storedRejected.length) problems.push(`${r.verify.storedRejected.length} rate-limited inserts stored`);
  if (r.verify.count !== r.verify.expectedCount) problems.push(`count(*) ${r.verify.count}, expected ${r.verify.expectedCount}`);
  if (!r.memory.ok) problems.push(`RSS: ${r.memory.reason}`);
  if (r.rateLimited === 0) problems.push('the rate limit was never hit');
  console.log(problems.length ? `FAILED: ${problems.join('; ')}` : 'PASSED');
  process.exit(problems.length ? 1 : 0);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
