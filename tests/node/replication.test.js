// Replication end to end (docs/formats/replication-stream.md): a standby
// (`ark serve --standby-of URL --standby-name NAME`) bootstraps from a real
// primary by file hash, then follows its WAL stream and serves reads.
//
//   1. A standby started after a history of writes, DDL, seals, index builds
//      and a compaction (and while more writes arrive) converges: its applied
//      position reaches the primary's last, and then every database, alias,
//      collection, partition, index, row (vectors included), count(*), search
//      answer and content-addressed file (replication/manifest) is the same
//      on both; the primary's rows are also checked against an oracle.
//   2. The standby refuses writes and DDL with a Milvus error naming the
//      primary, and changes nothing.
//   3. SIGKILL of the standby mid-stream, then SIGTERM and SIGKILL of the
//      primary (restarted on its port): the standby resumes, reconnects and
//      converges each time, with no row lost or applied twice.
//   4. The Milvus Node SDK HttpClient reads the primary's data from the
//      standby (list, describe, query, get, search).
//   5. A standby whose primary is not up yet answers /healthz (200), /readyz
//      (503, "bootstrapping", its status), /metrics and 503 "service not
//      ready" on API routes; it bootstraps once the primary starts.
//   6. Two standbys away while ~4 MiB of WAL goes by (1 MiB segments, a
//      1 MiB slot bound): the primary invalidates both slots and removes the
//      WAL. The one with replication.archive_repo catches up from the WAL
//      archive, streams again (its slot re-armed) and converges; the one
//      without waits in needs-rebootstrap naming the archive option.
//
// Every test starts its own servers on free ports and temp data directories
// (ARK_BIN), synchronises only by polling with deadlines, and keeps its
// directory and prints the servers' logs when it fails.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { HttpClient } = require('@zilliz/milvus2-sdk-node');
const { tempDir, rng, freePort } = require('./helpers');
const { ArkServer, milvus, admin, POLL_MS, logTails, fatal, waitUntil } = require('./kill_loop_lib');

const DIM = 32;
const BATCH = 500;
// How long a standby may take to apply everything the primary has (ASan, 2 cores).
const CONVERGE_MS = Number(process.env.ARK_REPLICATION_CONVERGE_MS || 60000);

const range = (a, b) => Array.from({ length: b - a }, (_, i) => a + i);

// ---------------------------------------------------------------------------
// Rows: every field a function of (id, version), so the oracle can check them.

function vec(id, ver) {
  const next = rng(Math.imul(id + 1, 2654435761) ^ Math.imul(ver + 17, 40503));
  const v = new Array(DIM);
  for (let i = 0; i < DIM; i++) v[i] = Math.fround(next() * 2 - 1);
  return v;
}

function docRow(id, ver) {
  const row = { id, ver, title: `doc-${id}-v${ver}`, meta: { id, ver, k: ['a', 'b', 'c'][id % 3] }, vec: vec(id, ver) };
  if (id % 7 === 0) row.extra = `x-${id}-v${ver}`;  // a dynamic key on some rows
  return row;
}

function simpleRow(id, label, ver = 1) {
  return { id, grp: id % 5, label: `${label}-${id}-v${ver}`, vec: vec(id, 1000 + ver) };
}

const DOCS_SCHEMA = {
  autoID: false,
  enableDynamicField: true,
  fields: [
    { fieldName: 'id', dataType: 'Int64', isPrimary: true },
    { fieldName: 'ver', dataType: 'Int64' },
    { fieldName: 'title', dataType: 'VarChar', elementTypeParams: { max_length: 64 } },
    { fieldName: 'meta', dataType: 'JSON' },
    { fieldName: 'vec', dataType: 'FloatVector', elementTypeParams: { dim: DIM } },
  ],
};
const HNSW = [{ fieldName: 'vec', indexName: 'vec_hnsw', metricType: 'L2', indexType: 'HNSW', params: { M: 8, efConstruction: 40 } }];

const SIMPLE_SCHEMA = {
  autoID: false,
  enableDynamicField: false,
  fields: [
    { fieldName: 'id', dataType: 'Int64', isPrimary: true },
    { fieldName: 'grp', dataType: 'Int64' },
    { fieldName: 'label', dataType: 'VarChar', elementTypeParams: { max_length: 64 } },
    { fieldName: 'vec', dataType: 'FloatVector', elementTypeParams: { dim: DIM } },
  ],
};
const FLAT = [{ fieldName: 'vec', indexName: 'vec_flat', metricType: 'L2', indexType: 'FLAT', params: {} }];

// ---------------------------------------------------------------------------
// Calls.

async function ok(promise, what) {
  const r = await promise;
  assert.equal(r.code, 0, `${what}: ${JSON.stringify(r).slice(0, 600)}`);
  return r.data;
}

// Positions are "EPOCH/LSN".
function pos(text, what = 'position') {
  const m = /^(\d+)\/(\d+)$/.exec(String(text));
  assert.ok(m, `${what} ${JSON.stringify(text)} is not "EPOCH/LSN"`);
  return [BigInt(m[1]), BigInt(m[2])];
}
function posCmp(a, b) {
  const [x, y] = [pos(a), pos(b)];
  if (x[0] !== y[0]) return x[0] < y[0] ? -1 : 1;
  if (x[1] !== y[1]) return x[1] < y[1] ? -1 : 1;
  return 0;
}
const samePos = (a, b) => a !== undefined && b !== undefined && posCmp(a, b) === 0;

function replStatus(server) {
  return ok(admin(server.endpoint, 'replication/status', {}), `replication/status on ${server.endpoint}`);
}
function manifest(server) {
  return ok(admin(server.endpoint, 'replication/manifest', {}), `replication/manifest on ${server.endpoint}`);
}

// A standby of `primary` named `name`, on its own data directory.
function standbyOf(primary, dataDir, name) {
  return new ArkServer(dataDir, ['--standby-of', primary.endpoint, '--standby-name', name]);
}

// Waits until the standby streams and has applied the primary's last record,
// and the primary's status shows the standby caught up (its feedback).
// Returns {primary, standby} (the two status answers).
async function converge(primary, standby, name, what) {
  const got = await waitUntil(`${what}: standby ${name} applies the primary's last record`, CONVERGE_MS,
    [primary, standby], async () => {
      const p = await replStatus(primary);
      const s = await replStatus(standby);
      if (s.state === 'needs-rebootstrap') {
        fatal(`${what}: standby ${name} needs a re-bootstrap: ${JSON.stringify(s)}; primary ${JSON.stringify(p)}\n` +
          logTails([primary, standby]));
      }
      return { done: s.state === 'streaming' && samePos(s.applied, p.last), seen: { primary: p, standby: s } };
    });
  await waitUntil(`${what}: the primary's status shows standby ${name} connected and caught up`, 20000,
    [primary, standby], async () => {
      const p = await replStatus(primary);
      const e = (p.standbys || []).find((x) => x.name === name);
      return {
        done: !!e && e.connected === true && samePos(e.applied, p.last) && samePos(e.durable, p.last) &&
          Number(e.lagRecords) === 0,
        seen: p,
      };
    });
  return got;
}

async function createCollection(ep, name, schema, indexParams, db) {
  await ok(milvus(ep, 'collections/create', { dbName: db, collectionName: name, schema, indexParams }),
    `collections/create ${db || 'default'}.${name}`);
}

// ---------------------------------------------------------------------------
// The oracle: what the primary must hold, per `db.collection`: id -> {row, partition}.

class Oracle {
  constructor() { this.colls = new Map(); }
  key(db, coll) { return `${db || 'default'}.${coll}`; }
  create(db, coll) { this.colls.set(this.key(db, coll), new Map()); }
  drop(db, coll) { this.colls.delete(this.key(db, coll)); }
  rows(db, coll) { return this.colls.get(this.key(db, coll)); }
  put(db, coll, rows, partition = '_default') { const m = this.rows(db, coll); for (const r of rows) m.set(r.id, { row: r, partition }); }
  del(db, coll, pred) { const m = this.rows(db, coll); for (const [id, e] of [...m]) if (pred(e.row, e.partition)) m.delete(id); }
}

// Writes through `ep`, mirrored in `oracle`.
function writer(ep, oracle) {
  const w = {
    async insert(coll, rows, { db, partition, route = 'insert' } = {}) {
      for (let i = 0; i < rows.length; i += BATCH) {
        const chunk = rows.slice(i, i + BATCH);
        const body = { dbName: db, collectionName: coll, data: chunk };
        if (partition) body.partitionName = partition;
        const d = await ok(milvus(ep, `entities/${route}`, body), `${route} of ${chunk.length} rows into ${coll}`);
        const n = route === 'insert' ? d.insertCount : d.upsertCount;
        assert.equal(Number(n), chunk.length, `${route} into ${coll} answered ${JSON.stringify(d).slice(0, 200)}`);
        oracle.put(db, coll, chunk, partition);
      }
    },
    upsert(coll, rows, opts = {}) { return w.insert(coll, rows, { ...opts, route: 'upsert' }); },
    async deleteIds(coll, ids, db) {
      await ok(milvus(ep, 'entities/delete', { dbName: db, collectionName: coll, filter: `id in [${ids.join(',')}]` }),
        `delete ids from ${coll}`);
      const s = new Set(ids);
      oracle.del(db, coll, (r) => s.has(r.id));
    },
    // `filter` for the server, `pred` its meaning for the oracle.
    async deleteWhere(coll, filter, pred, db) {
      await ok(milvus(ep, 'entities/delete', { dbName: db, collectionName: coll, filter }), `delete ${filter} from ${coll}`);
      oracle.del(db, coll, pred);
    },
    flush: (coll, db) => ok(milvus(ep, 'collections/flush', { dbName: db, collectionName: coll }, 120000), `flush ${coll}`),
    compact: (coll, db) => ok(milvus(ep, 'collections/compact', { dbName: db, collectionName: coll }, 120000), `compact ${coll}`),
  };
  return w;
}

// Waits until every index of every collection of `ep` is built (no pending rows).
async function indexesBuilt(server, servers) {
  const ep = server.endpoint;
  for (const db of await ok(milvus(ep, 'databases/list', {}), 'databases/list')) {
    for (const coll of await ok(milvus(ep, 'collections/list', { dbName: db }), 'collections/list')) {
      for (const name of await ok(milvus(ep, 'indexes/list', { dbName: db, collectionName: coll }), 'indexes/list')) {
        await waitUntil(`index ${db}.${coll}.${name} built on ${ep}`, 60000, servers, async () => {
          const [d] = await ok(milvus(ep, 'indexes/describe', { dbName: db, collectionName: coll, indexName: name }), 'indexes/describe');
          assert.notEqual(d.indexState, 'Failed', `index ${db}.${coll}.${name}: ${JSON.stringify(d)}`);
          return { done: d.indexState === 'Finished' && Number(d.pendingRows) === 0, seen: d };
        });
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Reading a whole server.

function canonical(v) {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    const out = {};
    for (const k of Object.keys(v).sort()) out[k] = canonical(v[k]);
    return out;
  }
  return v;
}
const sha256 = (v) => crypto.createHash('sha256').update(JSON.stringify(canonical(v))).digest('hex');
const byId = (a, b) => Number(a.id) - Number(b.id);

// Every row of one collection (all fields, vectors and dynamic keys included),
// sorted by primary key, with its partition; plus its schema, partitions,
// indexes and count(*).
async function dumpCollection(ep, db, coll) {
  const base = { dbName: db, collectionName: coll };
  const where = `${ep} ${db}.${coll}`;
  const describe = await ok(milvus(ep, 'collections/describe', base), `describe ${where}`);
  delete describe.load;  // load state is per server (not replicated, docs/server.md)
  const partitions = (await ok(milvus(ep, 'partitions/list', base), `partitions/list ${where}`)).slice().sort();
  const indexes = [];
  for (const name of (await ok(milvus(ep, 'indexes/list', base), `indexes/list ${where}`)).slice().sort()) {
    indexes.push(await ok(milvus(ep, 'indexes/describe', { ...base, indexName: name }), `indexes/describe ${where}`));
  }
  const rows = (await ok(milvus(ep, 'entities/query', { ...base, filter: 'id >= 0', outputFields: ['*'] }, 120000),
    `query ${where}`)).sort(byId);
  const [c] = await ok(milvus(ep, 'entities/query', { ...base, filter: '', outputFields: ['count(*)'] }), `count ${where}`);
  const partitionOf = new Map();
  for (const p of partitions) {
    const ids = await ok(milvus(ep, 'entities/query', { ...base, filter: 'id >= 0', outputFields: ['id'], partitionNames: [p] }),
      `query partition ${p} of ${where}`);
    for (const r of ids) partitionOf.set(Number(r.id), p);
  }
  for (const r of rows) r.$partition = partitionOf.get(Number(r.id)) || null;
  return { describe, partitions, indexes, count: Number(c['count(*)']), rows, hash: sha256(rows) };
}

async function snapshot(ep) {
  const databases = (await ok(milvus(ep, 'databases/list', {}), `databases/list on ${ep}`)).slice().sort();
  const out = { databases, db: {} };
  for (const db of databases) {
    const describe = await ok(milvus(ep, 'databases/describe', { dbName: db }), `databases/describe ${db} on ${ep}`);
    const aliases = (await ok(milvus(ep, 'aliases/list', { dbName: db }), `aliases/list ${db} on ${ep}`)).slice().sort();
    const names = (await ok(milvus(ep, 'collections/list', { dbName: db }), `collections/list ${db} on ${ep}`)).slice().sort();
    const collections = {};
    for (const c of names) collections[c] = await dumpCollection(ep, db, c);
    out.db[db] = { describe, aliases, collections };
  }
  return out;
}

// The first difference between two sorted row lists, for a readable failure.
function firstRowDiff(a, b) {
  const ia = new Map(a.map((r) => [Number(r.id), r]));
  const ib = new Map(b.map((r) => [Number(r.id), r]));
  const missing = [...ia.keys()].filter((id) => !ib.has(id));
  const extra = [...ib.keys()].filter((id) => !ia.has(id));
  const parts = [];
  if (missing.length) parts.push(`${missing.length} ids only on the primary (${missing.slice(0, 10)})`);
  if (extra.length) parts.push(`${extra.length} ids only on the standby (${extra.slice(0, 10)})`);
  let differing = 0;
  for (const [id, r] of ia) {
    const s = ib.get(id);
    if (s && sha256(s) !== sha256(r)) {
      if (differing++ === 0) parts.push(`id ${id}: primary ${JSON.stringify(canonical(r)).slice(0, 500)} vs standby ${JSON.stringify(canonical(s)).slice(0, 500)}`);
    }
  }
  if (differing) parts.push(`${differing} ids with different content`);
  return parts.join('; ');
}

// Asserts that the standby's snapshot `s` is the primary's `p`.
function assertSameSnapshot(p, s, what) {
  assert.deepEqual(s.databases, p.databases, `${what}: databases/list differs`);
  for (const db of p.databases) {
    const [pd, sd] = [p.db[db], s.db[db]];
    assert.deepEqual(sd.describe, pd.describe, `${what}: databases/describe ${db} differs`);
    assert.deepEqual(sd.aliases, pd.aliases, `${what}: aliases of ${db} differ`);
    assert.deepEqual(Object.keys(sd.collections), Object.keys(pd.collections), `${what}: collections of ${db} differ`);
    for (const [coll, pc] of Object.entries(pd.collections)) {
      const sc = sd.collections[coll];
      const where = `${what}: ${db}.${coll}`;
      assert.deepEqual(sc.describe, pc.describe, `${where}: collections/describe differs`);
      assert.deepEqual(sc.partitions, pc.partitions, `${where}: partitions differ`);
      assert.deepEqual(sc.indexes, pc.indexes, `${where}: indexes/describe differs`);
      assert.equal(pc.count, pc.rows.length, `${where}: the primary's count(*) ${pc.count} but its query returns ${pc.rows.length} rows`);
      assert.equal(sc.count, pc.count, `${where}: count(*) on the standby ${sc.count}, on the primary ${pc.count}`);
      assert.equal(sc.rows.length, pc.rows.length, `${where}: the standby's query returns ${sc.rows.length} rows, the primary's ${pc.rows.length}`);
      assert.equal(new Set(sc.rows.map((r) => Number(r.id))).size, sc.rows.length, `${where}: the standby returns an id twice`);
      if (sc.hash !== pc.hash) {
        assert.fail(`${where}: rows differ (sha256 of the canonical JSON ${pc.hash} on the primary, ${sc.hash} on the standby): ` +
          firstRowDiff(pc.rows, sc.rows));
      }
    }
  }
}

// Asserts that the primary's snapshot holds what the oracle says.
function assertOracle(p, oracle) {
  const want = [...oracle.colls.keys()].sort();
  const got = [];
  for (const db of p.databases) for (const c of Object.keys(p.db[db].collections)) got.push(`${db}.${c}`);
  assert.deepEqual(got.sort(), want, 'the primary\'s collections are not the ones created and not dropped');
  for (const key of want) {
    const [db, coll] = key.split('.');
    const dump = p.db[db].collections[coll];
    const m = oracle.colls.get(key);
    assert.equal(dump.rows.length, m.size, `${key}: the primary holds ${dump.rows.length} rows, the oracle ${m.size}`);
    for (const r of dump.rows) {
      const e = m.get(Number(r.id));
      assert.ok(e, `${key}: the primary holds id ${r.id}, which the oracle does not`);
      assert.equal(r.$partition, e.partition, `${key}: id ${r.id} is in partition ${r.$partition}, not ${e.partition}`);
      for (const [k, v] of Object.entries(e.row)) {
        if (k === 'vec') {
          assert.ok(Array.isArray(r.vec) && r.vec.length === DIM && r.vec.every((x, i) => Math.fround(x) === v[i]),
            `${key}: id ${r.id}: vec ${JSON.stringify(r.vec).slice(0, 120)}`);
        } else {
          const got = typeof v === 'object' && typeof r[k] === 'string' ? JSON.parse(r[k]) : r[k];
          assert.deepEqual(typeof v === 'number' ? Number(got) : got, v, `${key}: id ${r.id}: field ${k}`);
        }
      }
    }
  }
}

// The content-addressed file sets of both servers, once both manifests are
// at the same applied position.
async function assertSameFiles(primary, standby, what) {
  // Equal file lists, not equal `applied` positions: the two manifests can
  // list the same files while stamped at different positions (the primary
  // stamps its commit-time position, the standby the record it replayed).
  const got = await waitUntil(`${what}: both manifests list the same files`, CONVERGE_MS, [primary, standby], async () => {
    const p = await manifest(primary);
    const s = await manifest(standby);
    return { done: JSON.stringify(p.files) === JSON.stringify(s.files), seen: { p, s } };
  });
  const { p, s } = got;
  assert.ok(Array.isArray(p.files) && p.files.length > 0, `${what}: the primary's manifest lists no files: ${JSON.stringify(p).slice(0, 300)}`);
  for (const f of p.files) assert.match(f, /^[0-9a-f]{64}$/, `${what}: manifest file name`);
  assert.deepEqual(p.files, [...p.files].sort(), `${what}: the primary's manifest files are not sorted`);
  const ps = new Set(p.files);
  const ss = new Set(s.files);
  const onlyP = p.files.filter((f) => !ss.has(f));
  const onlyS = s.files.filter((f) => !ps.has(f));
  assert.ok(onlyP.length === 0 && onlyS.length === 0,
    `${what}: file sets differ at ${p.applied}: ${onlyP.length} only on the primary (${onlyP.slice(0, 5)}), ` +
    `${onlyS.length} only on the standby (${onlyS.slice(0, 5)}); ${p.files.length} vs ${s.files.length} files`);
  assert.deepEqual(s.files, p.files, `${what}: manifest files`);
  return p.files.length;
}

// Searches by some stored vectors of every collection: the same hits
// (ids and distances) on both servers.
async function assertSameSearches(primary, standby, snap, what) {
  let n = 0;
  for (const db of snap.databases) {
    for (const [coll, dump] of Object.entries(snap.db[db].collections)) {
      const rows = dump.rows;
      if (rows.length === 0) continue;
      const hnsw = dump.indexes.some((i) => i[0] && i[0].indexType === 'HNSW');
      for (const r of [rows[0], rows[Math.floor(rows.length / 2)], rows[rows.length - 1]]) {
        const body = { dbName: db, collectionName: coll, data: [r.vec], annsField: 'vec', limit: 10, outputFields: ['label'] };
        if (coll === 'docs') body.outputFields = ['title'];
        if (hnsw) body.searchParams = { params: { ef: 64 } };
        const hp = await ok(milvus(primary.endpoint, 'entities/search', body), `search ${db}.${coll} on the primary`);
        const hs = await ok(milvus(standby.endpoint, 'entities/search', body), `search ${db}.${coll} on the standby`);
        assert.ok(hp.length > 0, `${what}: search ${db}.${coll} by the vector of id ${r.id} finds nothing on the primary`);
        if (!hnsw) {
          assert.equal(Number(hp[0].id), Number(r.id), `${what}: exact search ${db}.${coll} by the vector of id ${r.id}: ${JSON.stringify(hp[0])}`);
        }
        assert.deepEqual(hs, hp, `${what}: search ${db}.${coll} by the vector of id ${r.id}: standby and primary hits differ`);
        n += 1;
      }
    }
  }
  return n;
}

// Per-test scaffolding: a temp root, servers killed at the end, the root
// removed when the test passed (else kept, and the logs printed).
function scaffold(t, name) {
  const root = tempDir(`replication-${name}`);
  const servers = [];
  const ctx = {
    root,
    passed: false,
    server(dir, args, opts) { const s = new ArkServer(path.join(root, dir), args, opts); servers.push(s); return s; },
    standby(primary, dir, standbyName) {
      const s = standbyOf(primary, path.join(root, dir), standbyName);
      servers.push(s);
      return s;
    },
  };
  t.after(async () => {
    for (const s of servers) await s.kill();
    if (ctx.passed) {
      fs.rmSync(root, { recursive: true, force: true });
    } else {
      t.diagnostic(`kept ${root}`);
      t.diagnostic(logTails(servers));
    }
  });
  return ctx;
}

function assertRefusal(r, what, primaryUrl) {
  assert.notEqual(r.code, 0, `${what} on the standby was accepted: ${JSON.stringify(r).slice(0, 300)}`);
  assert.match(String(r.message), /standby/i, `${what} on the standby: the message does not say standby: ${JSON.stringify(r)}`);
  assert.ok(String(r.message).includes(primaryUrl), `${what} on the standby: the message does not name the primary ${primaryUrl}: ${JSON.stringify(r)}`);
}

// ---------------------------------------------------------------------------

test('a standby converges', { timeout: 300000 }, async (t) => {
  const ctx = scaffold(t, 'converge');
  const primary = ctx.server('primary', [], { keepPort: true });
  await primary.start();
  const P = primary.endpoint;
  const oracle = new Oracle();
  const w = writer(P, oracle);
  const create = async (name, schema, index, db) => { await createCollection(P, name, schema, index, db); oracle.create(db, name); };
  const drop = async (name, db) => {
    await ok(milvus(P, 'collections/drop', { dbName: db, collectionName: name }), `drop ${name}`);
    oracle.drop(db, name);
  };

  // History before the standby exists.
  await create('docs', DOCS_SCHEMA, HNSW);
  await create('parts', SIMPLE_SCHEMA, FLAT);
  await create('doomed', SIMPLE_SCHEMA, FLAT);
  await create('gone', SIMPLE_SCHEMA, FLAT);
  await w.insert('gone', range(0, 100).map((id) => simpleRow(id, 'gone')));
  await drop('gone');  // dropped before the bootstrap: the standby never sees it
  await w.insert('docs', range(0, 3000).map((id) => docRow(id, 1)));
  await w.upsert('docs', [...range(100, 200), ...range(3500, 3510)].map((id) => docRow(id, 2)));
  await w.deleteIds('docs', range(0, 50));
  await w.deleteWhere('docs', 'id >= 2900 and id < 2950', (r) => r.id >= 2900 && r.id < 2950);
  await w.deleteWhere('docs', 'title == "doc-1234-v1"', (r) => r.title === 'doc-1234-v1');
  await w.deleteWhere('docs', 'meta["k"] == "b" and id >= 2000 and id < 2100', (r) => r.meta.k === 'b' && r.id >= 2000 && r.id < 2100);
  for (const p of ['p1', 'p2', 'p3']) {
    await ok(milvus(P, 'partitions/create', { collectionName: 'parts', partitionName: p }), `partitions/create ${p}`);
  }
  for (const [i, p] of ['_default', 'p1', 'p2', 'p3'].entries()) {
    await w.insert('parts', range(i * 1000, i * 1000 + 300).map((id) => simpleRow(id, p)), { partition: p });
  }
  await w.upsert('parts', range(1000, 1020).map((id) => simpleRow(id, 'moved', 2)), { partition: 'p2' });  // moves keys p1 -> p2
  await ok(milvus(P, 'partitions/release', { collectionName: 'parts', partitionNames: ['p3'] }), 'partitions/release p3');
  await ok(milvus(P, 'partitions/drop', { collectionName: 'parts', partitionName: 'p3' }), 'partitions/drop p3');
  oracle.del(undefined, 'parts', (r, part) => part === 'p3');
  await ok(milvus(P, 'collections/load', { collectionName: 'parts' }), 'collections/load parts');
  await w.deleteWhere('parts', 'grp == 3', (r) => r.grp === 3, undefined);
  await w.flush('docs');
  await w.flush('parts');
  await w.insert('docs', range(3000, 3300).map((id) => docRow(id, 1)));
  await w.flush('docs');
  await w.compact('docs');
  await ok(milvus(P, 'aliases/create', { collectionName: 'docs', aliasName: 'docs_alias' }), 'aliases/create');
  await ok(milvus(P, 'databases/create', { dbName: 'analytics' }), 'databases/create');
  await ok(milvus(P, 'databases/alter', { dbName: 'analytics', properties: { owner: 'ops', 'database.max.collections': 10 } }), 'databases/alter');
  await create('events', SIMPLE_SCHEMA, FLAT, 'analytics');
  await w.insert('events', range(0, 500).map((id) => simpleRow(id, 'ev')), { db: 'analytics' });
  await w.insert('docs', range(3300, 3500).map((id) => docRow(id, 1)));  // growing, unsealed
  await w.insert('doomed', range(0, 200).map((id) => simpleRow(id, 'doomed')));

  // The standby starts (bootstrap) while writes go on.
  const NAME = 'converge-standby';
  const standby = ctx.standby(primary, 'standby', NAME);
  const during = async () => {
    for (let b = 0; b < 6; b++) {
      await w.insert('docs', range(4000 + b * 250, 4250 + b * 250).map((id) => docRow(id, 1)));
      await w.upsert('docs', range(200 + b * 20, 220 + b * 20).map((id) => docRow(id, 3)));
    }
    await w.deleteIds('docs', range(300, 350));
    await w.insert('parts', range(5000, 5200).map((id) => simpleRow(id, 'p1')), { partition: 'p1' });
    await w.insert('events', range(500, 700).map((id) => simpleRow(id, 'ev')), { db: 'analytics' });
  };
  await Promise.all([standby.start(120000), during()]);

  // More writes while it streams: a collection drop, DDL, a seal and a compaction (file changes).
  await waitUntil('the standby streams', CONVERGE_MS, [primary, standby], async () => {
    const s = await replStatus(standby);
    return { done: s.state === 'streaming', seen: s };
  });
  await drop('doomed');
  await create('late', SIMPLE_SCHEMA, FLAT, 'analytics');
  await w.insert('late', range(0, 300).map((id) => simpleRow(id, 'late')), { db: 'analytics' });
  await w.flush('docs');
  await w.compact('parts');
  await w.insert('docs', range(6000, 6500).map((id) => docRow(id, 1)));
  await w.deleteWhere('docs', 'id >= 6400 and id < 7000', (r) => r.id >= 6400 && r.id < 7000);
  await ok(milvus(P, 'partitions/create', { collectionName: 'parts', partitionName: 'p4' }), 'partitions/create p4');
  await w.insert('parts', range(7000, 7100).map((id) => simpleRow(id, 'p4')), { partition: 'p4' });
  await ok(milvus(P, 'aliases/create', { dbName: 'analytics', collectionName: 'late', aliasName: 'late_alias' }), 'aliases/create late');
  // Seal everything so that every index is built: the builds replicate as file changes.
  await w.flush('docs');
  await w.flush('parts');
  await w.flush('events', 'analytics');
  await w.flush('late', 'analytics');
  await indexesBuilt(primary, [primary, standby]);

  const st = await converge(primary, standby, NAME, 'after the load');
  // Status as the brief documents it.
  assert.equal(st.standby.role, 'standby', JSON.stringify(st.standby));
  assert.equal(st.standby.primary, P, `the standby's status names its primary: ${JSON.stringify(st.standby)}`);
  pos(st.standby.durable, 'standby durable');
  assert.ok(posCmp(st.standby.durable, st.standby.applied) >= 0, `standby durable before applied: ${JSON.stringify(st.standby)}`);
  assert.equal(st.primary.role, 'primary', JSON.stringify(st.primary));
  await waitUntil('the standby\'s primaryLast reaches the primary\'s last (STATUS keepalive)', 10000, [primary, standby], async () => {
    const [p, s] = [await replStatus(primary), await replStatus(standby)];
    return { done: samePos(s.primaryLast, p.last), seen: { p, s } };
  });
  const ps = await replStatus(primary);
  const entry = ps.standbys.find((x) => x.name === NAME);
  pos(entry.sent, 'sent');
  assert.ok(posCmp(entry.sent, ps.last) === 0, `the primary sent up to ${entry.sent}, its last is ${ps.last}`);
  assert.equal(Number(entry.lagBytes), 0, `lagBytes after convergence: ${JSON.stringify(entry)}`);
  assert.ok(Number.isFinite(Number(entry.lagSeconds)), `lagSeconds: ${JSON.stringify(entry)}`);

  // Content.
  const sp = await snapshot(P);
  assertOracle(sp, oracle);
  const ss = await snapshot(standby.endpoint);
  assertSameSnapshot(sp, ss, 'after convergence');
  const searches = await assertSameSearches(primary, standby, sp, 'after convergence');
  const files = await assertSameFiles(primary, standby, 'after convergence');
  // The alias resolves on the standby.
  const viaAlias = await ok(milvus(standby.endpoint, 'entities/query', { collectionName: 'docs_alias', filter: '', outputFields: ['count(*)'] }), 'count through the alias on the standby');
  assert.equal(Number(viaAlias[0]['count(*)']), sp.db.default.collections.docs.count, 'count(*) through docs_alias on the standby');
  t.diagnostic(`converged at ${ps.last}: ${Object.values(sp.db).reduce((a, d) => a + Object.keys(d.collections).length, 0)} collections, ` +
    `${Object.values(sp.db).reduce((a, d) => a + Object.values(d.collections).reduce((x, c) => x + c.count, 0), 0)} rows, ` +
    `${searches} searches and ${files} files identical`);
  ctx.passed = true;
});

test('the standby refuses writes and names the primary', { timeout: 180000 }, async (t) => {
  const ctx = scaffold(t, 'refuse');
  const primary = ctx.server('primary', [], { keepPort: true });
  await primary.start();
  const P = primary.endpoint;
  const oracle = new Oracle();
  const w = writer(P, oracle);
  await createCollection(P, 'c', SIMPLE_SCHEMA, FLAT);
  oracle.create(undefined, 'c');
  await w.insert('c', range(0, 300).map((id) => simpleRow(id, 'c')));
  await w.flush('c');
  await w.insert('c', range(300, 400).map((id) => simpleRow(id, 'c')));
  const NAME = 'refuse-standby';
  const standby = ctx.standby(primary, 'standby', NAME);
  await standby.start(120000);
  const before = await converge(primary, standby, NAME, 'before the refused writes');
  const snapBefore = await snapshot(standby.endpoint);
  const S = standby.endpoint;

  const attempts = [
    ['insert', 'entities/insert', { collectionName: 'c', data: [simpleRow(9000, 'x')] }],
    ['upsert', 'entities/upsert', { collectionName: 'c', data: [simpleRow(1, 'x', 9)] }],
    ['delete by id', 'entities/delete', { collectionName: 'c', filter: 'id in [1, 2, 3]' }],
    ['delete by filter', 'entities/delete', { collectionName: 'c', filter: 'id >= 0' }],
    ['collections/create', 'collections/create', { collectionName: 'new_on_standby', schema: SIMPLE_SCHEMA, indexParams: FLAT }],
    ['collections/drop', 'collections/drop', { collectionName: 'c' }],
    ['partitions/create', 'partitions/create', { collectionName: 'c', partitionName: 'p_standby' }],
    ['databases/create', 'databases/create', { dbName: 'db_on_standby' }],
  ];
  for (const [what, route, body] of attempts) assertRefusal(await milvus(S, route, body), what, P);

  // Nothing changed on either side.
  const after = { primary: await replStatus(primary), standby: await replStatus(standby) };
  assert.ok(samePos(after.primary.last, before.primary.last), `the primary's last moved from ${before.primary.last} to ${after.primary.last}`);
  assert.ok(samePos(after.standby.applied, before.standby.applied), `the standby's applied moved from ${before.standby.applied} to ${after.standby.applied}`);
  assert.equal(after.standby.state, 'streaming', `the standby stopped streaming: ${JSON.stringify(after.standby)}`);
  assertSameSnapshot(snapBefore, await snapshot(S), 'the standby after refused writes (before vs after)');
  const sp = await snapshot(P);
  assertOracle(sp, oracle);
  assertSameSnapshot(sp, await snapshot(S), 'after refused writes');

  // It still follows: a write on the primary arrives.
  await w.insert('c', range(400, 450).map((id) => simpleRow(id, 'c')));
  await converge(primary, standby, NAME, 'after a write following the refusals');
  assertSameSnapshot(await snapshot(P), await snapshot(S), 'after a write following the refusals');
  ctx.passed = true;
});

test('the standby resumes after a restart of either side', { timeout: 300000 }, async (t) => {
  const ctx = scaffold(t, 'restart');
  const primary = ctx.server('primary', [], { keepPort: true });
  await primary.start();
  const P = primary.endpoint;
  await createCollection(P, 'c', SIMPLE_SCHEMA, FLAT);
  const ins = (ids) => ok(milvus(P, 'entities/insert', { collectionName: 'c', data: ids.map((id) => simpleRow(id, 'c')) }), 'insert');
  await ins(range(0, 500));
  await ok(milvus(P, 'collections/flush', { collectionName: 'c' }), 'flush');
  await ins(range(500, 1000));
  const acked = new Set(range(0, 1000));
  const NAME = 'restart-standby';
  const standby = ctx.standby(primary, 'standby', NAME);
  await standby.start(120000);
  await converge(primary, standby, NAME, 'first convergence');

  // A writer: batches of 40 fresh ids, a seal every 15 batches. It stops at
  // its first transport error (the primary's kill) and keeps that batch aside.
  const load = { stop: false, next: 10000, batches: 0, errors: [], unanswered: [] };
  const runWriter = async (tolerateTransport) => {
    while (!load.stop) {
      const ids = range(load.next, load.next + 40);
      load.next += 40;
      let r;
      try {
        r = await milvus(P, 'entities/insert', { collectionName: 'c', data: ids.map((id) => simpleRow(id, 'c')) });
      } catch (e) {
        load.unanswered.push(ids);
        if (!tolerateTransport) load.errors.push(`insert: ${e.cause || e}`);
        return;
      }
      if (r.code !== 0) { load.errors.push(`insert: ${JSON.stringify(r).slice(0, 300)}`); return; }
      for (const id of ids) acked.add(id);
      load.batches += 1;
      if (load.batches % 15 === 0) {
        try {
          const f = await milvus(P, 'collections/flush', { collectionName: 'c' }, 60000);
          if (f.code !== 0) load.errors.push(`flush: ${JSON.stringify(f).slice(0, 300)}`);
        } catch (e) {
          if (!tolerateTransport) load.errors.push(`flush: ${e.cause || e}`);
          return;
        }
      }
    }
  };
  const batchesPast = (n) => waitUntil(`the writer has ${n} batches acknowledged`, 60000, [primary, standby], async () => {
    if (load.errors.length) fatal(`writer errors: ${load.errors.join('; ')}`);
    return { done: load.batches >= n, seen: load.batches };
  }, [primary]);

  // Ids on a server (each once), sorted.
  const idsOn = async (ep, what) => {
    const rows = await ok(milvus(ep, 'entities/query', { collectionName: 'c', filter: 'id >= 0', outputFields: ['id'] }, 60000), `ids on ${what}`);
    const ids = rows.map((r) => Number(r.id)).sort((a, b) => a - b);
    for (let i = 1; i < ids.length; i++) assert.notEqual(ids[i], ids[i - 1], `${what}: id ${ids[i]} returned twice`);
    const [c] = await ok(milvus(ep, 'entities/query', { collectionName: 'c', filter: '', outputFields: ['count(*)'] }), `count on ${what}`);
    assert.equal(Number(c['count(*)']), ids.length, `${what}: count(*) ${c['count(*)']} but ${ids.length} ids`);
    return ids;
  };
  const assertSameIds = async (what) => {
    const p = await idsOn(P, `the primary (${what})`);
    const s = await idsOn(standby.endpoint, `the standby (${what})`);
    const ps = new Set(p);
    for (const id of acked) assert.ok(ps.has(id), `${what}: acknowledged id ${id} missing on the primary`);
    if (p.length !== s.length || p.some((id, i) => id !== s[i])) {
      const ss = new Set(s);
      assert.fail(`${what}: pk sets differ: ${p.length} ids on the primary, ${s.length} on the standby; only on the primary: ` +
        `${p.filter((id) => !ss.has(id)).slice(0, 10)}; only on the standby: ${s.filter((id) => !ps.has(id)).slice(0, 10)}`);
    }
    return p.length;
  };

  // 1. SIGKILL the standby mid-stream while the writer inserts; restart it.
  const w1 = runWriter(false);
  const applied0 = (await replStatus(standby)).applied;
  await batchesPast(10);
  await waitUntil('the standby applies records of the load', CONVERGE_MS, [primary, standby], async () => {
    const s = await replStatus(standby);
    return { done: posCmp(s.applied, applied0) > 0, seen: s };
  });
  const killed = await standby.kill();
  assert.equal(killed.signal, 'SIGKILL', `the standby exited by itself before the kill: ${JSON.stringify(killed)}`);
  await batchesPast(load.batches + 10);  // the primary goes on while the standby is down
  await standby.start(120000);
  await batchesPast(load.batches + 10);  // and while it catches up
  load.stop = true;
  await w1;
  assert.deepEqual(load.errors, [], 'writer errors during the standby\'s kill');
  await converge(primary, standby, NAME, 'after the standby\'s SIGKILL and restart');
  const n1 = await assertSameIds('after the standby\'s SIGKILL and restart');
  assert.equal(n1, acked.size, `the primary holds ${n1} rows, ${acked.size} were acknowledged`);

  // 2. SIGTERM the primary: the standby reconnects, keeps serving reads, and
  // follows the restarted primary (same port).
  const stopped = await primary.stop();
  assert.ok(!stopped.timedOut, `the primary did not exit within 30 s of SIGTERM with a standby connected\n${logTails([primary])}`);
  assert.equal(stopped.code, 0, `the primary's exit after SIGTERM: ${JSON.stringify(stopped)}\n${logTails([primary])}`);
  const down = await waitUntil('the standby notices the primary is gone', 30000, [primary, standby], async () => {
    const s = await replStatus(standby);
    return { done: s.state !== 'streaming', seen: s };
  }, [standby]);
  assert.equal(down.state, 'reconnecting', `the standby's state with its primary down: ${JSON.stringify(down)}`);
  const [cDown] = await ok(milvus(standby.endpoint, 'entities/query', { collectionName: 'c', filter: '', outputFields: ['count(*)'] }),
    'count on the standby while its primary is down');
  assert.equal(Number(cDown['count(*)']), acked.size, 'count(*) on the standby while its primary is down');
  await primary.start();
  await converge(primary, standby, NAME, 'after the primary\'s SIGTERM and restart');
  await ins(range(2000, 2200));
  for (let id = 2000; id < 2200; id++) acked.add(id);
  await converge(primary, standby, NAME, 'after writes to the restarted primary');
  await assertSameIds('after the primary\'s SIGTERM and restart');

  // 3. SIGKILL the primary while the writer inserts; restart it.
  load.stop = false;
  const base = load.batches;
  const w3 = runWriter(true);
  await batchesPast(base + 10);
  const pk = await primary.kill();
  assert.equal(pk.signal, 'SIGKILL', `the primary exited by itself before the kill: ${JSON.stringify(pk)}`);
  await w3;
  load.stop = true;
  assert.deepEqual(load.errors, [], 'writer errors before the primary\'s kill');
  await primary.start();
  await converge(primary, standby, NAME, 'after the primary\'s SIGKILL and restart');
  const n3 = await assertSameIds('after the primary\'s SIGKILL and restart');
  // Unanswered batches: all or nothing, on both.
  const held = new Set(await idsOn(P, 'the primary'));
  for (const ids of load.unanswered) {
    const have = ids.filter((id) => held.has(id)).length;
    assert.ok(have === 0 || have === ids.length, `a batch unanswered at the kill is torn: ${have} of ${ids.length} ids`);
  }
  await ins(range(3000, 3100));
  await ok(milvus(P, 'collections/flush', { collectionName: 'c' }), 'flush');
  await indexesBuilt(primary, [primary, standby]);
  await converge(primary, standby, NAME, 'at the end');
  const sp = await snapshot(P);
  assertSameSnapshot(sp, await snapshot(standby.endpoint), 'at the end');
  await assertSameFiles(primary, standby, 'at the end');
  t.diagnostic(`restart: ${load.batches} writer batches, ${n3} rows after the primary's SIGKILL, ` +
    `${load.unanswered.length} batch(es) unanswered at the kill`);
  ctx.passed = true;
});

test('the Milvus Node SDK HttpClient reads from a standby', { timeout: 180000 }, async (t) => {
  const ctx = scaffold(t, 'sdk');
  const primary = ctx.server('primary', [], { keepPort: true });
  await primary.start();
  const P = primary.endpoint;
  const oracle = new Oracle();
  const w = writer(P, oracle);
  await createCollection(P, 'kb', DOCS_SCHEMA, HNSW);
  await createCollection(P, 'notes', SIMPLE_SCHEMA, FLAT);
  oracle.create(undefined, 'kb');
  oracle.create(undefined, 'notes');
  await w.insert('kb', range(0, 1500).map((id) => docRow(id, 1)));
  await w.flush('kb');
  await w.insert('kb', range(1500, 1700).map((id) => docRow(id, 1)));
  await w.insert('notes', range(0, 200).map((id) => simpleRow(id, 'n')));
  await w.deleteIds('kb', range(10, 20));
  const NAME = 'sdk-standby';
  const standby = ctx.standby(primary, 'standby', NAME);
  await standby.start(120000);
  await w.flush('kb');
  await indexesBuilt(primary, [primary, standby]);
  await converge(primary, standby, NAME, 'before the SDK reads');

  const cp = new HttpClient({ endpoint: P });
  const cs = new HttpClient({ endpoint: standby.endpoint });
  const both = async (what, call) => {
    const rp = await call(cp);
    const rs = await call(cs);
    assert.equal(rp.code, 0, `SDK ${what} on the primary: ${JSON.stringify(rp).slice(0, 400)}`);
    assert.equal(rs.code, 0, `SDK ${what} on the standby: ${JSON.stringify(rs).slice(0, 400)}`);
    return [rp.data, rs.data];
  };

  const [lp, ls] = await both('listCollections', (c) => c.listCollections({}));
  assert.deepEqual([...ls].sort(), [...lp].sort(), 'listCollections');
  assert.deepEqual([...lp].sort(), ['kb', 'notes']);
  for (const coll of ['kb', 'notes']) {
    const [dp, ds] = await both(`describeCollection ${coll}`, (c) => c.describeCollection({ collectionName: coll }));
    delete dp.load;
    delete ds.load;
    assert.deepEqual(ds, dp, `describeCollection ${coll}`);
    const [hp, hs] = await both(`hasCollection ${coll}`, (c) => c.hasCollection({ collectionName: coll }));
    assert.equal(hs.has, true);
    assert.deepEqual(hs, hp);
    const [ip, is] = await both(`listIndexes ${coll}`, (c) => c.listIndexes({ collectionName: coll }));
    assert.deepEqual(is, ip, `listIndexes ${coll}`);
    const [qp, qs] = await both(`query ${coll}`, (c) => c.query({ collectionName: coll, filter: 'id >= 0', outputFields: ['*'] }));
    assert.equal(qp.length, oracle.rows(undefined, coll).size, `the primary's query of ${coll}`);
    assert.equal(qs.length, qp.length, `SDK query ${coll}: ${qs.length} rows on the standby, ${qp.length} on the primary`);
    assert.equal(sha256([...qs].sort(byId)), sha256([...qp].sort(byId)), `SDK query ${coll}: rows differ: ${firstRowDiff([...qp].sort(byId), [...qs].sort(byId))}`);
    const [cntp, cnts] = await both(`count ${coll}`, (c) => c.query({ collectionName: coll, filter: '', outputFields: ['count(*)'] }));
    assert.deepEqual(cnts, cntp, `SDK count(*) ${coll}`);
    const [gp, gs] = await both(`get ${coll}`, (c) => c.get({ collectionName: coll, id: [1, 5, 15, 150, 99999], outputFields: ['*'] }));
    assert.deepEqual(gs, gp, `SDK get ${coll}`);
    const stored = qp.sort(byId).slice(0, 3);
    for (const r of stored) {
      const [sp, ss] = await both(`search ${coll}`, (c) => c.search({ collectionName: coll, data: [r.vec], annsField: 'vec', limit: 5 }));
      assert.ok(sp.length > 0, `SDK search ${coll} on the primary finds nothing`);
      assert.deepEqual(ss, sp, `SDK search ${coll} by the vector of id ${r.id}: standby and primary hits differ`);
    }
  }
  const [xp, xs] = await both('describeIndex kb', (c) => c.describeIndex({ collectionName: 'kb', indexName: 'vec_hnsw' }));
  assert.deepEqual(xs, xp, 'describeIndex kb');
  // A write through the SDK is refused, naming the primary.
  const refused = await cs.insert({ collectionName: 'notes', data: [simpleRow(5000, 'n')] });
  assertRefusal(refused, 'SDK insert', P);
  ctx.passed = true;
});

test('a standby answers health checks while it waits to bootstrap', { timeout: 180000 }, async (t) => {
  const ctx = scaffold(t, 'early');
  const primary = ctx.server('primary', [], { keepPort: true });
  primary.port = await freePort();  // reserved: nothing listens there until primary.start()
  const P = `http://127.0.0.1:${primary.port}`;
  const NAME = 'early-standby';
  const standby = ctx.server('standby', ['--standby-of', P, '--standby-name', NAME]);
  let startError = null;
  const starting = standby.start(120000).catch((e) => { startError = e; });
  // start() spawns the process once it has picked a port.
  for (const deadline = Date.now() + 10000; !standby.child && !startError;) {
    assert.ok(Date.now() < deadline, 'the standby process was not spawned');
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  // Its health answers, while every bootstrap attempt fails.
  const early = await waitUntil('the bootstrapping standby answers /readyz', 60000, [standby], async () => {
    if (startError) fatal(`the standby did not start: ${startError.message}`);
    if (!standby.endpoint) return { done: false, seen: 'no port yet' };
    const r = await fetch(`${standby.endpoint}/readyz`, { signal: AbortSignal.timeout(2000) });
    const body = await r.json();
    const rep = body.details && body.details.replication;
    return { done: r.status === 503 && !!rep && rep.reconnects !== undefined && /connect|refused|Unavailable/i.test(String(rep.reason)), seen: { status: r.status, body } };
  });
  const S = standby.endpoint;
  assert.match(early.body.reason, new RegExp(`bootstrapping from ${P}`), JSON.stringify(early));
  assert.equal(early.body.details.replication.state, 'bootstrapping', JSON.stringify(early));
  assert.ok(early.body.details.replication.bootstrap.attempts >= 1, JSON.stringify(early));
  assert.equal(early.body.details.replication.bootstrap.done, false, JSON.stringify(early));
  const health = await fetch(`${S}/healthz`);
  assert.equal(health.status, 200, 'a bootstrapping standby is alive');
  const api = await fetch(`${S}/v2/vectordb/collections/list`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
  assert.equal(api.status, 503, 'an API route while bootstrapping');
  const apiBody = await api.json();
  assert.equal(apiBody.code, 1, JSON.stringify(apiBody));
  assert.match(apiBody.message, /service not ready: standby bootstrapping from/, JSON.stringify(apiBody));
  const metrics = await (await fetch(`${S}/metrics`)).text();
  assert.match(metrics, /^ark_standby_streaming 0$/m, 'the standby metrics while bootstrapping');

  // The primary comes up: the standby bootstraps, serves and follows.
  await primary.start();
  await createCollection(P, 'c', SIMPLE_SCHEMA, FLAT);
  await ok(milvus(P, 'entities/insert', { collectionName: 'c', data: range(0, 50).map((id) => simpleRow(id, 'c')) }), 'insert');
  await starting;
  if (startError) throw startError;
  assert.equal(standby.endpoint, S, 'the standby kept its port from bootstrap to serving');
  const conv = await converge(primary, standby, NAME, 'after the late primary');
  const boot = conv.standby.bootstrap;
  assert.ok(boot && boot.done === true && boot.seconds > 0 && boot.attempts >= 2 && boot.filesDone === boot.filesTotal,
    `the standby's bootstrap account: ${JSON.stringify(conv.standby)}`);
  assertSameSnapshot(await snapshot(P), await snapshot(S), 'after the late primary');
  ctx.passed = true;
});

test('a standby behind the retained WAL catches up from the WAL archive', { timeout: 300000 }, async (t) => {
  const ctx = scaffold(t, 'archive');
  const repo = path.join(ctx.root, 'wal-archive');
  const config = (name, text) => {
    const f = path.join(ctx.root, name);
    fs.writeFileSync(f, text);
    return f;
  };
  const primary = ctx.server('primary', ['--config', config('primary.yaml',
    `wal_segment_bytes: 1048576\narchive: {repo: ${repo}, interval_seconds: 0.2}\nreplication: {max_slot_bytes: 1048576}\n`)],
  { keepPort: true });
  await primary.start();
  const P = primary.endpoint;
  const oracle = new Oracle();
  const w = writer(P, oracle);
  await createCollection(P, 'c', SIMPLE_SCHEMA, FLAT);
  oracle.create(undefined, 'c');
  await w.insert('c', range(0, 200).map((id) => simpleRow(id, 'c')));
  const withArchive = ctx.server('standby-a', ['--standby-of', P, '--standby-name', 'sa',
    '--config', config('sa.yaml', `replication: {archive_repo: ${repo}}\n`)]);
  const without = ctx.standby(primary, 'standby-b', 'sb');
  await withArchive.start(120000);
  await without.start(120000);
  await converge(primary, withArchive, 'sa', 'before the standbys go away');
  await converge(primary, without, 'sb', 'before the standbys go away');
  await withArchive.stop();
  await without.stop();

  // ~4 MiB of WAL while both are away, a delete, then a seal once the
  // archive has everything: its checkpoint invalidates both slots and
  // removes the 1 MiB segments only they held.
  await w.insert('c', range(1000, 25000).map((id) => simpleRow(id, 'c')));
  await w.deleteIds('c', [1005, 1006, 3000]);
  const archived = async (what) => waitUntil(`the archive holds every record (${what})`, 60000, [primary], async () => {
    const r = await (await fetch(`${P}/readyz`)).json();
    const a = r.details.archive;
    if (a.state === 'stopped') fatal(`archiving stopped: ${JSON.stringify(a)}`);
    const last = (await replStatus(primary)).last;
    return { done: a.lagSeconds === 0 && samePos(a.archived, last), seen: { archive: a, last } };
  });
  await archived('before the seal');
  await w.flush('c');
  await w.insert('c', range(30000, 30020).map((id) => simpleRow(id, 'c')));
  await waitUntil('the primary invalidates both standbys\' slots', 60000, [primary], async () => {
    const st = await replStatus(primary);
    const invalidated = (st.standbys || []).filter((x) => x.slot && x.slot.invalidated).map((x) => x.name).sort();
    return { done: invalidated.join() === 'sa,sb', seen: st };
  });
  await archived('after the seal');

  // With the archive: catches up from it, streams again, converges.
  await withArchive.start(120000);
  const caught = await converge(primary, withArchive, 'sa', 'after catching up from the archive');
  const a = caught.standby.archive;
  assert.ok(a && a.catchUps >= 1 && a.records > 0, `the standby did not read the archive: ${JSON.stringify(caught.standby)}`);
  const p = await replStatus(primary);
  const sa = p.standbys.find((x) => x.name === 'sa');
  assert.equal(sa.slot.invalidated, false, `the slot of sa is not armed again: ${JSON.stringify(sa)}`);
  const sp = await snapshot(P);
  assertOracle(sp, oracle);
  assertSameSnapshot(sp, await snapshot(withArchive.endpoint), 'after catching up from the archive');
  await assertSameFiles(primary, withArchive, 'after catching up from the archive');

  // Without one: it waits for a re-bootstrap and says why, serving its stale reads.
  await without.start(120000);
  const stuck = await waitUntil('the standby without an archive needs a re-bootstrap', 60000, [primary, without], async () => {
    const st = await replStatus(without);
    return { done: st.state === 'needs-rebootstrap', seen: st };
  });
  assert.match(stuck.reason, /behind the retained WAL/, JSON.stringify(stuck));
  assert.match(stuck.reason, /replication\.archive_repo/, JSON.stringify(stuck));
  const stale = await milvus(without.endpoint, 'entities/query', { collectionName: 'c', filter: '', outputFields: ['count(*)'] });
  assert.equal(stale.code, 0, JSON.stringify(stale));
  assert.equal(Number(stale.data[0]['count(*)']), 200, 'the stale standby serves what it had');
  ctx.passed = true;
});
