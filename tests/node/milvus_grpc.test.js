// Compatibility suite over gRPC: the real @zilliz/milvus2-sdk-node
// MilvusClient (its default, gRPC transport) against `ark serve` with default
// settings — gRPC and REST on the same port — through the same RAG
// knowledge-base workflow as the HttpClient suite (milvus_sdk.test.js), every
// answer checked against the brute-force oracle of kb_workflow_lib.js. Data
// written over one transport is read back over the other.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { MilvusClient, HttpClient, DataType } = require('@zilliz/milvus2-sdk-node');
const { tempDir } = require('./helpers');
const { DIM, N, BATCH, TENANTS, COLL, startArk, oracleSearch, workload } = require('./kb_workflow_lib');

function okStatus(status, what) {
  assert.equal(status.error_code, 'Success', `${what}: ${JSON.stringify(status)}`);
  assert.equal(status.code, 0, `${what}: ${JSON.stringify(status)}`);
}

function ok(res, what) {
  okStatus(res.status || res, what);
  return res;
}

// Exact search: the same ids in the same order, scores within float error.
function assertExact(hits, expected, what) {
  assert.deepEqual(hits.map((h) => String(h.id)), expected.map((e) => String(e.id)), what);
  hits.forEach((h, i) => assert.ok(Math.abs(Number(h.score) - expected[i].distance) < 1e-4,
    `${what}: score ${h.score} vs ${expected[i].distance}`));
}

// An `ark serve` with default settings for one test, a MilvusClient (gRPC)
// on it and `rest(route, body)`, a raw REST v2 call answering the envelope;
// all stopped when the test ends.
async function arkWithClients(t) {
  const ark = await startArk();
  t.after(async () => { await ark.stop(); });
  const address = ark.endpoint.replace('http://', '');
  const client = new MilvusClient({ address, timeout: 30000 });
  t.after(async () => { await client.closeConnection(); });
  const rest = async (route, body) => {
    const r = await fetch(`${ark.endpoint}/v2/vectordb/${route}`, { method: 'POST',
      headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return r.json();
  };
  return { ark, address, client, rest };
}

test('proto/milvus equals the wire definitions of the pinned Milvus Node SDK', () => {
  const script = path.join(__dirname, '..', '..', 'scripts', 'gen-milvus-protos.js');
  const r = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /matches @zilliz\/milvus2-sdk-node 3\.0\.6/);
});

test('RAG workflow through the Milvus Node SDK MilvusClient (gRPC)', { timeout: 180000 }, async (t) => {
  const ark = await startArk();
  t.after(async () => { await ark.stop(); });
  const address = ark.endpoint.replace('http://', '');
  const client = new MilvusClient({ address, timeout: 30000 });
  t.after(async () => { await client.closeConnection(); });
  const rest = new HttpClient({ endpoint: ark.endpoint });
  const { docs, live, queries } = workload();

  await t.test('connect, version, health', async () => {
    await client.connectPromise;
    const v = ok(await client.getVersion(), 'version');
    assert.match(v.version, /^v2\./);
    const h = ok(await client.checkHealth(), 'health');
    assert.equal(h.isHealthy, true);
  });

  await t.test('create with a full schema, index and load; describe over both transports', async () => {
    ok(await client.createCollection({
      collection_name: COLL,
      fields: [
        { name: 'id', data_type: DataType.Int64, is_primary_key: true },
        { name: 'text', data_type: DataType.VarChar, max_length: 512 },
        { name: 'meta', data_type: DataType.JSON },
        { name: 'tenant', data_type: DataType.VarChar, max_length: 32 },
        { name: 'ts', data_type: DataType.Int64 },
        { name: 'embedding', data_type: DataType.FloatVector, dim: DIM },
      ],
    }), 'create');
    ok(await client.createIndex({ collection_name: COLL, field_name: 'embedding', index_name: 'embedding_idx',
      index_type: 'FLAT', metric_type: 'COSINE' }), 'createIndex');
    ok(await client.loadCollectionSync({ collection_name: COLL }), 'load');
    const list = ok(await client.showCollections(), 'show');
    assert.deepEqual(list.data.map((c) => c.name), [COLL]);
    assert.equal(ok(await client.hasCollection({ collection_name: COLL }), 'has').value, true);
    const d = ok(await client.describeCollection({ collection_name: COLL }), 'describe');
    assert.deepEqual(d.schema.fields.map((f) => f.name), ['id', 'text', 'meta', 'tenant', 'ts', 'embedding']);
    assert.deepEqual(d.schema.fields.map((f) => f.data_type),
      ['Int64', 'VarChar', 'JSON', 'VarChar', 'Int64', 'FloatVector']);
    const dim = d.schema.fields[5].type_params.find((p) => p.key === 'dim');
    assert.equal(Number(dim.value), DIM);
    // The collection the gRPC client made, as REST sees it.
    const rd = await rest.describeCollection({ collectionName: COLL });
    assert.equal(rd.code, 0);
    assert.deepEqual(rd.data.fields.map((f) => f.name), ['id', 'text', 'meta', 'tenant', 'ts', 'embedding']);
    const idx = ok(await client.describeIndex({ collection_name: COLL, index_name: 'embedding_idx' }),
      'describeIndex');
    const params = Object.fromEntries(idx.index_descriptions[0].params.map((p) => [p.key, p.value]));
    assert.equal(params.index_type, 'FLAT');
    assert.equal(params.metric_type, 'COSINE');
    const ls = ok(await client.getLoadState({ collection_name: COLL }), 'load state');
    assert.equal(ls.state, 'LoadStateLoaded');
  });

  await t.test('insert 10,000 documents in batches (the first half over REST)', async () => {
    for (let i = 0; i < N; i += BATCH) {
      const batch = docs.slice(i, i + BATCH);
      if (i < N / 2) {
        const r = await rest.insert({ collectionName: COLL, data: batch });
        assert.equal(r.code, 0, JSON.stringify(r).slice(0, 300));
        continue;
      }
      const r = ok(await client.insert({ collection_name: COLL, data: batch }), 'insert');
      assert.equal(Number(r.insert_cnt), BATCH);
      assert.deepEqual(r.IDs.int_id.data.map(String), batch.map((d) => String(d.id)));
    }
    const stats = ok(await client.getCollectionStatistics({ collection_name: COLL }), 'stats');
    assert.equal(Number(stats.data.row_count), N);
  });

  const searchChecks = async (label) => {
    const one = ok(await client.search({ collection_name: COLL, data: [queries[0]], anns_field: 'embedding',
      limit: 10, output_fields: ['text', 'tenant', 'meta'] }), `${label} search`);
    assertExact(one.results, oracleSearch(live, queries[0], 10), `${label} search`);
    for (const h of one.results) {
      const doc = live.get(Number(h.id));
      assert.equal(h.text, doc.text);
      assert.equal(h.tenant, doc.tenant);
      assert.deepEqual(h.meta, doc.meta);
      assert.equal(h.embedding, undefined);
    }
    const filter = 'tenant == "globex" and ts >= 4000 and meta["lang"] == "en"';
    const pred = (d) => d.tenant === 'globex' && d.ts >= 4000 && d.meta.lang === 'en';
    const res = ok(await client.search({ collection_name: COLL, data: queries.slice(1, 4), filter, limit: 5,
      output_fields: ['ts'], metric_type: 'COSINE' }), `${label} filtered search`);
    assert.equal(res.results.length, 3);
    res.results.forEach((hits, i) => {
      assertExact(hits, oracleSearch(live, queries[1 + i], 5, pred), `${label} filtered search ${i}`);
      for (const h of hits) assert.equal(Number(h.ts), live.get(Number(h.id)).ts);
    });
    const page = ok(await client.search({ collection_name: COLL, data: [queries[4]], limit: 5, offset: 5 }),
      `${label} offset`);
    assertExact(page.results, oracleSearch(live, queries[4], 10).slice(5), `${label} offset`);
  };

  await t.test('search with filters and output fields (growing segment, exact)', async () => {
    await searchChecks('growing');
  });

  await t.test('query with count(*), filters, limit and offset; REST reads the same rows', async () => {
    for (const tenant of TENANTS) {
      const r = ok(await client.count({ collection_name: COLL, expr: `tenant == "${tenant}"` }), 'count');
      assert.equal(Number(r.data), [...live.values()].filter((d) => d.tenant === tenant).length);
    }
    const all = ok(await client.count({ collection_name: COLL }), 'count all');
    assert.equal(Number(all.data), N);
    const filter = 'ts > 4000 and meta["page"] == 7';
    const rows = ok(await client.query({ collection_name: COLL, filter, output_fields: ['text', 'meta', 'embedding'],
      limit: 1000 }), 'query').data;
    const expect = [...live.values()].filter((d) => d.ts > 4000 && d.meta.page === 7);
    assert.deepEqual(rows.map((r) => String(r.id)).sort(), expect.map((d) => String(d.id)).sort());
    for (const r of rows) {
      const d = live.get(Number(r.id));
      assert.equal(r.text, d.text);
      assert.deepEqual(r.meta, d.meta);
      assert.deepEqual(r.embedding, d.embedding);  // float32 values, bit for bit
    }
    // Rows inserted over gRPC (ids > N/2) and over REST read back the same both ways.
    const viaRest = await rest.query({ collectionName: COLL, filter, outputFields: ['text', 'meta', 'embedding'],
      limit: 1000 });
    assert.equal(viaRest.code, 0);
    const byId = new Map(viaRest.data.map((r) => [String(r.id), r]));
    for (const r of rows) {
      const o = byId.get(String(r.id));
      assert.equal(o.text, r.text);
      assert.deepEqual(o.meta, r.meta);
      assert.deepEqual(o.embedding, r.embedding);
    }
    const pageRows = ok(await client.query({ collection_name: COLL, filter: 'id in [5, 6, 7, 8, 9]',
      output_fields: ['ts'], limit: 2, offset: 1 }), 'query page').data;
    assert.equal(pageRows.length, 2);
  });

  await t.test('get by ids with output fields', async () => {
    const r = ok(await client.get({ collection_name: COLL, ids: [3, 77, 123456], output_fields: ['text', 'ts'] }),
      'get').data;
    assert.deepEqual(r.map((x) => String(x.id)).sort(), ['3', '77']);
    const three = r.find((x) => String(x.id) === '3');
    assert.equal(three.text, live.get(3).text);
  });

  await t.test('upsert replaces rows', async () => {
    const changed = [10, 20, 30].map((id) => ({ ...live.get(id), text: `updated ${id}`, tenant: 'acme' }));
    const r = ok(await client.upsert({ collection_name: COLL, data: changed }), 'upsert');
    assert.equal(Number(r.upsert_cnt), 3);
    for (const d of changed) live.set(d.id, d);
    const got = await rest.get({ collectionName: COLL, id: [10, 20, 30], outputFields: ['text', 'tenant'] });
    assert.deepEqual(got.data.map((x) => x.text), ['updated 10', 'updated 20', 'updated 30']);
    const c = ok(await client.count({ collection_name: COLL }), 'count');
    assert.equal(Number(c.data), N);
  });

  await t.test('delete by filter and by ids', async () => {
    const pred = (d) => d.ts < 2000 || d.meta.source === 'file-5.pdf';
    const expected = [...live.values()].filter(pred).length;
    const r = ok(await client.delete({ collection_name: COLL,
      filter: 'ts < 2000 or meta["source"] == "file-5.pdf"' }), 'delete');
    assert.equal(Number(r.delete_cnt), expected);
    for (const d of [...live.values()]) if (pred(d)) live.delete(d.id);
    const byIds = ok(await client.delete({ collection_name: COLL, ids: [5000, 5001] }), 'delete ids');
    assert.equal(Number(byIds.delete_cnt), 2);
    live.delete(5000);
    live.delete(5001);
    const c = ok(await client.count({ collection_name: COLL }), 'count');
    assert.equal(Number(c.data), live.size);
    await searchChecks('after delete');
  });

  await t.test('flush seals; HNSW index built over gRPC has recall >= 0.95', async () => {
    ok(await client.flushSync({ collection_names: [COLL] }), 'flush');
    await searchChecks('sealed FLAT');
    ok(await client.releaseCollection({ collection_name: COLL }), 'release');
    ok(await client.dropIndex({ collection_name: COLL, index_name: 'embedding_idx' }), 'dropIndex');
    ok(await client.createIndex({ collection_name: COLL, field_name: 'embedding', index_name: 'hnsw',
      index_type: 'HNSW', metric_type: 'COSINE', params: { M: 16, efConstruction: 200 } }), 'createIndex');
    ok(await client.loadCollectionSync({ collection_name: COLL }), 'load');
    const deadline = Date.now() + 60000;
    for (;;) {
      const d = ok(await client.describeIndex({ collection_name: COLL, index_name: 'hnsw' }), 'describeIndex');
      const desc = d.index_descriptions[0];
      if (desc.state === 'Finished' && Number(desc.pending_index_rows) === 0) {
        assert.equal(Number(desc.indexed_rows), Number(desc.total_rows));
        break;
      }
      assert.notEqual(desc.state, 'Failed', desc.index_state_fail_reason);
      assert.ok(Date.now() < deadline, `index not built: ${JSON.stringify(desc)}`);
      await new Promise((res) => setTimeout(res, 100));
    }
    let found = 0; let total = 0;
    for (const q of queries) {
      const hits = ok(await client.search({ collection_name: COLL, data: [q], limit: 10, params: { ef: 256 } }),
        'hnsw search').results;
      const truth = new Set(oracleSearch(live, q, 10).map((h) => String(h.id)));
      for (const h of hits) if (truth.has(String(h.id))) found++;
      total += truth.size;
    }
    assert.ok(found / total >= 0.95, `recall ${found / total}`);
  });

  await t.test('partitions and aliases', async () => {
    ok(await client.createPartition({ collection_name: COLL, partition_name: 'p1' }), 'createPartition');
    assert.equal(ok(await client.hasPartition({ collection_name: COLL, partition_name: 'p1' }), 'has').value, true);
    const parts = ok(await client.showPartitions({ collection_name: COLL }), 'showPartitions');
    assert.ok(parts.partition_names.includes('p1'));
    ok(await client.createAlias({ collection_name: COLL, alias: 'kb_alias' }), 'createAlias');
    const a = ok(await client.describeAlias({ collection_name: COLL, alias: 'kb_alias' }), 'describeAlias');
    assert.equal(a.collection, COLL);
    const viaAlias = ok(await client.count({ collection_name: 'kb_alias' }), 'count via alias');
    assert.equal(Number(viaAlias.data), live.size);
    ok(await client.dropAlias({ alias: 'kb_alias' }), 'dropAlias');
    ok(await client.releasePartitions({ collection_name: COLL, partition_names: ['p1'] }), 'releasePartitions');
    ok(await client.dropPartition({ collection_name: COLL, partition_name: 'p1' }), 'dropPartition');
  });

  await t.test('errors come back as Milvus codes, and change nothing', async () => {
    const before = Number(ok(await client.count({ collection_name: COLL }), 'count').data);
    const bad = await client.search({ collection_name: COLL, data: [[1, 2, 3]], limit: 3 });
    assert.equal(bad.status.code, 1100, JSON.stringify(bad.status));
    const missing = await client.query({ collection_name: 'nope', filter: 'id > 0', output_fields: ['id'] });
    assert.equal(missing.status.code, 100, JSON.stringify(missing.status));
    assert.equal(missing.status.error_code, 'CollectionNotExists');
    const window = await client.query({ collection_name: COLL, filter: 'id > 0', limit: 16384, offset: 1,
      output_fields: ['id'] });
    assert.equal(window.status.code, 1100);
    // A vector of the wrong dimension is refused, and nothing of its batch is written.
    const short = await client.insert({ collection_name: COLL, data: [{ id: 999999, text: 'a', meta: {},
      tenant: 't', ts: 1, embedding: [1, 2] }] }).catch((e) => ({ status: { code: -1, reason: String(e) } }));
    assert.notEqual(short.status.code, 0);
    // An RPC Ark does not serve answers with a status naming it.
    const rg = await client.listResourceGroups();
    assert.equal(rg.status.code, 1);
    assert.match(rg.status.reason, /ListResourceGroups/);
    const after = Number(ok(await client.count({ collection_name: COLL }), 'count').data);
    assert.equal(after, before);
  });

  await t.test('drop', async () => {
    ok(await client.dropCollection({ collection_name: COLL }), 'drop');
    assert.equal(ok(await client.hasCollection({ collection_name: COLL }), 'has').value, false);
    const r = await rest.listCollections({});
    assert.deepEqual(r.data, []);
  });
});

test('gRPC auth: the token in metadata, as the SDK sends it', { timeout: 60000 }, async (t) => {
  const dir = tempDir('grpc-auth');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const config = `${dir}/ark.yaml`;
  fs.writeFileSync(config, 'auth:\n  token: s3cret-token\n  users:\n    alice: wonderland\n');
  const ark = await startArk(['--config', config]);
  t.after(async () => { await ark.stop(); });
  const address = ark.endpoint.replace('http://', '');
  const good = new MilvusClient({ address, token: 's3cret-token', timeout: 10000 });
  const user = new MilvusClient({ address, username: 'alice', password: 'wonderland', timeout: 10000 });
  const bad = new MilvusClient({ address, token: 'wrong', timeout: 10000, maxRetries: 0 });
  // Its Connect is refused too: awaited below, not left unhandled.
  const badConnect = bad.connectPromise.then(() => 'connected', (e) => e);
  t.after(async () => { await good.closeConnection(); await user.closeConnection(); await bad.closeConnection(); });
  ok(await good.showCollections(), 'token');
  ok(await user.showCollections(), 'user:password');
  assert.match(String(await badConnect), /UNAUTHENTICATED/);
  await assert.rejects(bad.showCollections(), /auth|Unauthenticated|UNAUTHENTICATED/i);
});

// Bad input sent as raw gRPC (bytes the SDK would never produce), through
// @grpc/grpc-js with messages encoded by protobufjs from the SDK's own
// descriptors: each answers with a Milvus code (or the gRPC status Milvus
// gives), the server stays up, and the stored rows are unchanged.
test('bad input over gRPC: Milvus codes, server up, data unchanged', { timeout: 60000 }, async (t) => {
  const grpc = require('@grpc/grpc-js');
  const protobuf = require('protobufjs');
  const descriptors = require('@zilliz/milvus2-sdk-node/dist/milvus/proto-json/milvus.js').default;
  const root = protobuf.Root.fromJSON(descriptors);
  const type = (name) => root.lookupType(name);

  const dir = tempDir('grpc-bad');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(`${dir}/ark.yaml`, 'limits:\n  max_body_bytes: 1048576\n');
  const ark = await startArk(['--config', `${dir}/ark.yaml`]);
  t.after(async () => { await ark.stop(); });
  const address = ark.endpoint.replace('http://', '');
  const sdk = new MilvusClient({ address, timeout: 10000 });
  t.after(async () => { await sdk.closeConnection(); });
  ok(await sdk.createCollection({ collection_name: 'c', fields: [
    { name: 'id', data_type: DataType.Int64, is_primary_key: true },
    { name: 'v', data_type: DataType.FloatVector, dim: 4 }] }), 'create');
  ok(await sdk.insert({ collection_name: 'c', data: Array.from({ length: 10 }, (_, i) => ({ id: i, v: [i, 1, 2, 3] })) }),
    'insert');

  const raw = new grpc.Client(address, grpc.credentials.createInsecure());
  t.after(() => raw.close());
  const call = (method, bytes) => new Promise((resolve) => {
    raw.makeUnaryRequest(`/milvus.proto.milvus.MilvusService/${method}`, (b) => b, (b) => b, bytes,
      new grpc.Metadata(), { deadline: Date.now() + 10000 }, (err, res) => resolve({ err, res }));
  });
  const statusOf = (responseType, res) => {
    const msg = type(responseType).decode(res);
    return responseType === 'milvus.proto.common.Status' ? msg : msg.status;
  };
  const enc = (name, obj) => Buffer.from(type(name).encode(type(name).fromObject(obj)).finish());
  const col = (name, scalars) => ({ field_name: name, type: 5, scalars });
  const vec = (n) => ({ field_name: 'v', type: 101, vectors: { dim: 4, float_vector: { data: Array(4 * n).fill(0.5) } } });
  const cases = [
    ['Insert: bytes that are no message', 'Insert', Buffer.from([0xff, 0xff, 0xff, 0x0f]),
      'milvus.proto.milvus.MutationResult', 1100, /InsertRequest/],
    ['Insert: the Int64 key sent as strings', 'Insert', enc('milvus.proto.milvus.InsertRequest', {
      collection_name: 'c', num_rows: 1, fields_data: [
        { field_name: 'id', type: 21, scalars: { string_data: { data: ['x'] } } }, vec(1)] }),
    'milvus.proto.milvus.MutationResult', 'nonzero', /id/],
    ['Insert: columns of different lengths', 'Insert', enc('milvus.proto.milvus.InsertRequest', {
      collection_name: 'c', num_rows: 2, fields_data: [col('id', { long_data: { data: [100, 101] } }), vec(1)] }),
    'milvus.proto.milvus.MutationResult', 1100, /field v has 1 values for 2 rows/],
    ['Insert: the vector column missing', 'Insert', enc('milvus.proto.milvus.InsertRequest', {
      collection_name: 'c', num_rows: 1, fields_data: [col('id', { long_data: { data: [102] } })] }),
    'milvus.proto.milvus.MutationResult', 'nonzero', /v/],
    ['Insert: unknown collection', 'Insert', enc('milvus.proto.milvus.InsertRequest', {
      collection_name: 'nope', num_rows: 1, fields_data: [col('id', { long_data: { data: [1] } }), vec(1)] }),
    'milvus.proto.milvus.MutationResult', 100, /nope/],
    ['Search: a vector of 7 bytes', 'Search', enc('milvus.proto.milvus.SearchRequest', {
      collection_name: 'c', nq: 1, search_params: [{ key: 'topk', value: '3' }],
      placeholder_group: enc('milvus.proto.common.PlaceholderGroup', { placeholders: [
        { tag: '$0', type: 101, values: [Buffer.alloc(7)] }] }) }),
    'milvus.proto.milvus.SearchResults', 1100, /7 bytes/],
    ['Search: a negative topk', 'Search', enc('milvus.proto.milvus.SearchRequest', {
      collection_name: 'c', nq: 1, search_params: [{ key: 'topk', value: '-3' }],
      placeholder_group: enc('milvus.proto.common.PlaceholderGroup', { placeholders: [
        { tag: '$0', type: 101, values: [Buffer.alloc(16)] }] }) }),
    'milvus.proto.milvus.SearchResults', 1100, /limit/],
    ['CreateCollection: a schema that is no CollectionSchema', 'CreateCollection',
      enc('milvus.proto.milvus.CreateCollectionRequest', { collection_name: 'd', schema: Buffer.from([0xff, 0x01]) }),
      'milvus.proto.common.Status', 1100, /CollectionSchema/],
    ['Query: a filter that does not parse', 'Query', enc('milvus.proto.milvus.QueryRequest', {
      collection_name: 'c', expr: 'id >>> 3', output_fields: ['id'] }),
    'milvus.proto.milvus.QueryResults', 'nonzero', /./],
  ];
  for (const [what, method, bytes, responseType, code, reason] of cases) {
    const { err, res } = await call(method, bytes);
    assert.equal(err, null, `${what}: ${err}`);
    const status = statusOf(responseType, res);
    if (code === 'nonzero') {
      assert.notEqual(status.code, 0, `${what}: ${JSON.stringify(status)}`);
    } else {
      assert.equal(status.code, code, `${what}: ${JSON.stringify(status)}`);
    }
    assert.match(status.reason, reason, what);
  }
  // Above limits.max_body_bytes: refused by gRPC itself.
  const big = enc('milvus.proto.milvus.InsertRequest', { collection_name: 'c', num_rows: 100000,
    fields_data: [col('id', { long_data: { data: Array.from({ length: 100000 }, (_, i) => 1000 + i) } }), vec(100000)] });
  assert.ok(big.length > 1048576);
  const over = await call('Insert', big);
  assert.equal(over.err && over.err.code, grpc.status.RESOURCE_EXHAUSTED, String(over.err));
  // A method of another service.
  const other = await new Promise((resolve) => raw.makeUnaryRequest('/foo.Bar/Baz', (b) => b, (b) => b,
    Buffer.alloc(0), new grpc.Metadata(), (err) => resolve(err)));
  assert.equal(other.code, grpc.status.UNIMPLEMENTED);

  const count = ok(await sdk.count({ collection_name: 'c' }), 'count');
  assert.equal(Number(count.data), 10);
  assert.equal((await fetch(`${ark.endpoint}/readyz`)).status, 200);
});

// HybridSearch and expression templates (`exprValues`) through the SDK's
// MilvusClient, each answer compared with the REST route given the same
// request (entities/hybrid_search, query and delete with exprParams): the
// same ids in the same order, the same scores (REST's double rounded to the
// float32 gRPC carries), the same fields.
test('hybrid search and expression templates over gRPC answer as REST does', { timeout: 120000 }, async (t) => {
  const { RRFRanker, WeightedRanker } = require('@zilliz/milvus2-sdk-node');
  const { rng } = require('./helpers');
  const { address, client, rest } = await arkWithClients(t);
  const C = 'hy';
  const D = 8;
  const next = rng(19);
  const vec = () => Array.from({ length: D }, () => Math.fround(next() * 2 - 1));
  const TAGS = ['a', 'b', 'c', 'd'];
  const rows = Array.from({ length: 400 }, (_, i) => ({ id: i, tag: TAGS[i % 4], n: (i * 7) % 400,
    w: Math.round(next() * 1000) / 1000, flag: i % 3 === 0, v1: vec(), v2: vec(), color: `c${i % 5}` }));
  const live = new Map(rows.map((r) => [r.id, r]));

  ok(await client.createCollection({ collection_name: C, enable_dynamic_field: true, fields: [
    { name: 'id', data_type: DataType.Int64, is_primary_key: true },
    { name: 'tag', data_type: DataType.VarChar, max_length: 8 },
    { name: 'n', data_type: DataType.Int64 },
    { name: 'w', data_type: DataType.Double },
    { name: 'flag', data_type: DataType.Bool },
    { name: 'v1', data_type: DataType.FloatVector, dim: D },
    { name: 'v2', data_type: DataType.FloatVector, dim: D }] }), 'create');
  ok(await client.createIndex({ collection_name: C, field_name: 'v1', index_type: 'FLAT', metric_type: 'COSINE' }),
    'index v1');
  ok(await client.createIndex({ collection_name: C, field_name: 'v2', index_type: 'FLAT', metric_type: 'L2' }),
    'index v2');
  ok(await client.loadCollectionSync({ collection_name: C }), 'load');
  const ins = ok(await client.insert({ collection_name: C, data: rows }), 'insert');
  assert.equal(Number(ins.insert_cnt), rows.length);
  const count = async () => Number(ok(await client.count({ collection_name: C }), 'count').data);

  // gRPC hits (the SDK's rows) against REST's flat hits split by topks.
  const sameHits = (grpcRes, restRes, nq, what) => {
    assert.equal(restRes.code, 0, `${what} REST: ${JSON.stringify(restRes).slice(0, 300)}`);
    ok(grpcRes, `${what} gRPC`);
    const restLists = [];
    let at = 0;
    for (const k of restRes.topks) { restLists.push(restRes.data.slice(at, at + k)); at += k; }
    assert.equal(restLists.length, nq, what);
    const grpcLists = nq === 1 ? [grpcRes.results] : grpcRes.results;
    assert.equal(grpcLists.length, nq, what);
    grpcLists.forEach((hits, q) => {
      const expect = restLists[q];
      assert.ok(expect.length > 0, `${what}: REST found nothing for query ${q}, so the comparison proves nothing`);
      assert.deepEqual(hits.map((h) => String(h.id)), expect.map((e) => String(e.id)), `${what} ids, query ${q}`);
      hits.forEach((h, i) => {
        assert.equal(h.score, Math.fround(expect[i].distance), `${what} score ${i}, query ${q}`);
        for (const f of ['tag', 'n', 'color']) {
          if (expect[i][f] !== undefined) assert.equal(String(h[f]), String(expect[i][f]), `${what} ${f}`);
        }
      });
    });
    return grpcLists;
  };

  await t.test('hybrid search, RRF, templates in the sub-searches, limit and offset', async () => {
    const q1 = vec(); const q2 = vec();
    const res = await client.search({ collection_name: C,
      data: [
        { data: q1, anns_field: 'v1', expr: 'n >= {lo}', exprValues: { lo: 100 } },
        { data: q2, anns_field: 'v2', expr: 'tag in {tags}', exprValues: { tags: ['a', 'b'] } }],
      rerank: RRFRanker(20), limit: 7, offset: 2, output_fields: ['tag', 'n', 'color'] });
    const sub = (data, annsField, filter, exprParams) => ({ data: [data], annsField, filter, exprParams, limit: 7 });
    const body = { collectionName: C, rerank: { strategy: 'rrf', params: { k: 20 } }, limit: 7, offset: 2,
      outputFields: ['tag', 'n', 'color'] };
    const viaRest = await rest('entities/hybrid_search', { ...body, search: [
      sub(q1, 'v1', 'n >= {lo}', { lo: 100 }), sub(q2, 'v2', 'tag in {tags}', { tags: ['a', 'b'] })] });
    const [hits] = sameHits(res, viaRest, 1, 'rrf');
    assert.equal(hits.length, 7);
    for (const h of hits) {
      const d = live.get(Number(h.id));
      assert.ok(d.n >= 100 || ['a', 'b'].includes(d.tag), `hit ${h.id} matches neither filter`);
      assert.equal(h.color, d.color);
    }
    // The templates were applied: the literal filters give the same page.
    const literal = await rest('entities/hybrid_search', { ...body, search: [
      { data: [q1], annsField: 'v1', filter: 'n >= 100', limit: 7 },
      { data: [q2], annsField: 'v2', filter: 'tag in ["a", "b"]', limit: 7 }] });
    assert.deepEqual(hits.map((h) => String(h.id)), literal.data.map((h) => String(h.id)));
    // offset 2 is the tail of the offset-0 page of 9.
    const whole = await client.search({ collection_name: C,
      data: [
        { data: q1, anns_field: 'v1', expr: 'n >= {lo}', exprValues: { lo: 100 }, params: {}, limit: 7 },
        { data: q2, anns_field: 'v2', expr: 'tag in {tags}', exprValues: { tags: ['a', 'b'] }, limit: 7 }],
      rerank: RRFRanker(20), limit: 9, output_fields: ['tag'] });
    assert.deepEqual(ok(whole, 'page of 9').results.slice(2).map((h) => String(h.id)),
      hits.map((h) => String(h.id)));
  });

  await t.test('hybrid search, weighted (COSINE and L2 normalised), two queries, a shared filter', async () => {
    const a = [vec(), vec()]; const b = [vec(), vec()];
    const res = await client.search({ collection_name: C,
      data: [{ data: a, anns_field: 'v1' }, { data: b, anns_field: 'v2' }],
      filter: 'n < 300', rerank: WeightedRanker([0.3, 0.7]), limit: 5, output_fields: ['n'] });
    const viaRest = await rest('entities/hybrid_search', { collectionName: C,
      search: [{ data: a, annsField: 'v1', filter: 'n < 300', limit: 5 },
        { data: b, annsField: 'v2', filter: 'n < 300', limit: 5 }],
      rerank: { strategy: 'weighted', params: { weights: [0.3, 0.7] } }, limit: 5, outputFields: ['n'] });
    const lists = sameHits(res, viaRest, 2, 'weighted');
    for (const hits of lists) {
      assert.equal(hits.length, 5);
      for (const h of hits) assert.ok(live.get(Number(h.id)).n < 300);
      for (let i = 1; i < hits.length; i++) assert.ok(hits[i - 1].score >= hits[i].score, 'sorted by score');
    }
    // The weights matter: the other weighting ranks differently.
    const flipped = await rest('entities/hybrid_search', { collectionName: C,
      search: [{ data: a, annsField: 'v1', filter: 'n < 300', limit: 5 },
        { data: b, annsField: 'v2', filter: 'n < 300', limit: 5 }],
      rerank: { strategy: 'weighted', params: { weights: [1, 0] } }, limit: 5, outputFields: ['n'] });
    assert.notDeepEqual(flipped.data.map((h) => h.distance), viaRest.data.map((h) => h.distance));
    // No reranker given: the SDK sends RRF(60), REST's default too.
    const dflt = await client.search({ collection_name: C,
      data: [{ data: a[0], anns_field: 'v1' }, { data: b[0], anns_field: 'v2' }], limit: 4 });
    const restDflt = await rest('entities/hybrid_search', { collectionName: C, limit: 4,
      search: [{ data: [a[0]], annsField: 'v1', limit: 4 }, { data: [b[0]], annsField: 'v2', limit: 4 }] });
    sameHits(dflt, restDflt, 1, 'default reranker');
  });

  await t.test('hybrid search errors answer with REST\'s code', async () => {
    const q = vec();
    const bad = await client.search({ collection_name: C,
      data: [{ data: q, anns_field: 'v1' }, { data: q, anns_field: 'v2' }],
      rerank: WeightedRanker([0.2, 0.3, 0.5]), limit: 3 });
    const restBad = await rest('entities/hybrid_search', { collectionName: C, limit: 3,
      search: [{ data: [q], annsField: 'v1', limit: 3 }, { data: [q], annsField: 'v2', limit: 3 }],
      rerank: { strategy: 'weighted', params: { weights: [0.2, 0.3, 0.5] } } });
    assert.notEqual(restBad.code, 0);
    assert.equal(bad.status.code, restBad.code, JSON.stringify(bad.status));
    assert.match(bad.status.reason, /3 weights for 2 searches/);
    const blob = await client.search({ collection_name: C,
      data: [{ data: q, anns_field: 'v1', expr: 'id in {bf}', exprValues: { bf: new Uint8Array([1, 2, 3]) } },
        { data: q, anns_field: 'v2' }], limit: 3 });
    assert.equal(blob.status.code, 1100, JSON.stringify(blob.status));
    assert.match(blob.status.reason, /'bf'.*bytes/);

    // round_decimal (pymilvus sends it in rank_params; Milvus rounds on the
    // server) and what Ark does not serve, as raw gRPC.
    const grpc = require('@grpc/grpc-js');
    const protobuf = require('protobufjs');
    const root = protobuf.Root.fromJSON(require('@zilliz/milvus2-sdk-node/dist/milvus/proto-json/milvus.js').default);
    const H = root.lookupType('milvus.proto.milvus.HybridSearchRequest');
    const S = root.lookupType('milvus.proto.milvus.SearchResults');
    const P = root.lookupType('milvus.proto.common.PlaceholderGroup');
    const raw = new grpc.Client(address, grpc.credentials.createInsecure());
    t.after(() => raw.close());
    const group = Buffer.from(P.encode(P.fromObject({ placeholders: [{ tag: '$0', type: 101,
      values: [Buffer.from(new Float32Array(q).buffer)] }] })).finish());
    const sub = (field) => ({ collection_name: C, nq: 1, placeholder_group: group,
      search_params: [{ key: 'anns_field', value: field }, { key: 'topk', value: '6' }] });
    const hybrid = (rank, extra = {}) => new Promise((resolve, reject) => {
      const bytes = Buffer.from(H.encode(H.fromObject({ collection_name: C, requests: [sub('v1'), sub('v2')],
        rank_params: [{ key: 'strategy', value: 'weighted' }, { key: 'params', value: '{"weights": [0.4, 0.6]}' },
          { key: 'limit', value: '6' }, ...rank], ...extra })).finish());
      raw.makeUnaryRequest('/milvus.proto.milvus.MilvusService/HybridSearch', (b) => b, (b) => b, bytes,
        new grpc.Metadata(), { deadline: Date.now() + 10000 }, (err, res) => (err ? reject(err)
          : resolve(S.toObject(S.decode(res), { defaults: true, enums: String, longs: String }))));
    });
    const plain = await hybrid([{ key: 'round_decimal', value: '-1' }]);
    okStatus(plain.status, 'round_decimal -1');
    const rounded = await hybrid([{ key: 'round_decimal', value: '2' }]);
    okStatus(rounded.status, 'round_decimal 2');
    assert.equal(plain.results.scores.length, 6);
    assert.deepEqual(rounded.results.ids.int_id.data, plain.results.ids.int_id.data);
    assert.ok(plain.results.scores.some((x) => Math.abs(x * 100 - Math.round(x * 100)) > 1e-3), 'unrounded scores');
    rounded.results.scores.forEach((x, i) => {
      assert.ok(Math.abs(x * 100 - Math.round(x * 100)) < 1e-3, `score ${x} has 2 decimals`);
      const was = plain.results.scores[i];
      assert.ok(Math.abs(x - was) <= 0.005 + 1e-6, `score ${x} rounds ${was}`);
    });
    const badRound = await hybrid([{ key: 'round_decimal', value: '9' }]);
    assert.equal(badRound.status.code, 1100);
    assert.match(badRound.status.reason, /round_decimal/);
    const grouped = await hybrid([{ key: 'group_by_field', value: 'tag' }]);
    assert.equal(grouped.status.code, 1100);
    assert.match(grouped.status.reason, /group_by_field/);
    const fn = await hybrid([], { function_score: { functions: [{ name: 'decay', type: 3 }] } });
    assert.equal(fn.status.code, 1100);
    assert.match(fn.status.reason, /function_score/);
  });

  await t.test('search: templates, round_decimal, dynamic output fields; an empty query', async () => {
    const q = vec();
    // Templates: the same hits as REST's exprParams and as the literal filter.
    const g = await client.search({ collection_name: C, data: [q], anns_field: 'v1', limit: 6,
      filter: 'tag in {tags} and n > {lo}', exprValues: { tags: ['b', 'c'], lo: 50 }, output_fields: ['tag', 'n'] });
    const viaRest = await rest('entities/search', { collectionName: C, data: [q], annsField: 'v1', limit: 6,
      filter: 'tag in {tags} and n > {lo}', exprParams: { tags: ['b', 'c'], lo: 50 }, outputFields: ['tag', 'n'] });
    const [hits] = sameHits(g, viaRest, 1, 'search templates');
    assert.equal(hits.length, 6);
    for (const h of hits) assert.ok(['b', 'c'].includes(h.tag) && Number(h.n) > 50, JSON.stringify(h));
    const literal = await rest('entities/search', { collectionName: C, data: [q], annsField: 'v1', limit: 6,
      filter: 'tag in ["b", "c"] and n > 50' });
    assert.deepEqual(hits.map((h) => String(h.id)), literal.data.map((h) => String(h.id)));
    // A dynamic key among the output fields (the JSON path): as REST answers it.
    const dyn = await client.search({ collection_name: C, data: [q], anns_field: 'v1', limit: 4,
      output_fields: ['color', 'tag'] });
    const dynRest = await rest('entities/search', { collectionName: C, data: [q], annsField: 'v1', limit: 4,
      outputFields: ['color', 'tag'] });
    for (const h of sameHits(dyn, dynRest, 1, 'dynamic')[0]) assert.equal(h.color, live.get(Number(h.id)).color);
    // round_decimal: pymilvus sends it as a search param and Milvus rounds on
    // the server (the Node SDK rounds on the client), so it is sent raw here.
    const grpc = require('@grpc/grpc-js');
    const protobuf = require('protobufjs');
    const root = protobuf.Root.fromJSON(require('@zilliz/milvus2-sdk-node/dist/milvus/proto-json/milvus.js').default);
    const SR = root.lookupType('milvus.proto.milvus.SearchRequest');
    const SS = root.lookupType('milvus.proto.milvus.SearchResults');
    const PG = root.lookupType('milvus.proto.common.PlaceholderGroup');
    const raw = new grpc.Client(address, grpc.credentials.createInsecure());
    t.after(() => raw.close());
    const group = Buffer.from(PG.encode(PG.fromObject({ placeholders: [{ tag: '$0', type: 101,
      values: [Buffer.from(new Float32Array(q).buffer)] }] })).finish());
    const rawSearch = (round) => new Promise((resolve, reject) => {
      const bytes = Buffer.from(SR.encode(SR.fromObject({ collection_name: C, nq: 1, placeholder_group: group,
        dsl_type: 1, search_params: [{ key: 'anns_field', value: 'v1' }, { key: 'topk', value: '5' },
          { key: 'params', value: '{"ef": 16}' }, { key: 'round_decimal', value: round }] })).finish());
      raw.makeUnaryRequest('/milvus.proto.milvus.MilvusService/Search', (b) => b, (b) => b, bytes,
        new grpc.Metadata(), { deadline: Date.now() + 10000 }, (err, res) => (err ? reject(err)
          : resolve(SS.toObject(SS.decode(res), { defaults: true, enums: String, longs: String }))));
    });
    const plain = await rawSearch('-1');
    okStatus(plain.status, 'round_decimal -1');
    const rounded = await rawSearch('2');
    okStatus(rounded.status, 'round_decimal 2');
    assert.equal(plain.results.scores.length, 5);
    assert.deepEqual(rounded.results.ids.int_id.data, plain.results.ids.int_id.data);
    assert.ok(plain.results.scores.some((x) => Math.abs(x * 100 - Math.round(x * 100)) > 1e-3), 'unrounded scores');
    rounded.results.scores.forEach((x, i) => assert.equal(x,
      Math.fround(Math.floor(plain.results.scores[i] * 100 + 0.5) / 100), `rounded score ${i}`));
    const badRound = await rawSearch('9');
    assert.equal(badRound.status.code, 1100, JSON.stringify(badRound.status));
    assert.match(badRound.status.reason, /round_decimal/);
    // The Node SDK's own way (params.round_decimal, rounded by the client) is accepted.
    const sdkRounded = ok(await client.search({ collection_name: C, data: [q], anns_field: 'v1', limit: 5,
      params: { ef: 16, round_decimal: 2 } }), 'SDK round_decimal');
    assert.deepEqual(sdkRounded.results.map((h) => String(h.id)), plain.results.ids.int_id.data);
    // The SDK's search iterator (v2): batches of 30 that, joined, are the
    // single search of depth 100; the token of a batch names the next.
    const iter = await client.searchIterator({ collection_name: C, data: q, anns_field: 'v1', batchSize: 30,
      limit: 100, output_fields: ['tag'], filter: 'n >= 10' });
    const batches = [];
    for await (const b of iter) batches.push(b);
    assert.deepEqual(batches.map((b) => b.length), [30, 30, 30, 10]);
    const deep = await rest('entities/search', { collectionName: C, data: [q], annsField: 'v1', limit: 100,
      filter: 'n >= 10', outputFields: ['tag'] });
    assert.equal(deep.data.length, 100);
    assert.deepEqual(batches.flat().map((h) => String(h.id)), deep.data.map((h) => String(h.id)));
    assert.deepEqual(batches.flat().map((h) => h.tag), deep.data.map((h) => h.tag));
    const iterSearch = (extra) => new Promise((resolve, reject) => {
      const bytes = Buffer.from(SR.encode(SR.fromObject({ collection_name: C, nq: 1, placeholder_group: group,
        dsl_type: 1, search_params: [{ key: 'anns_field', value: 'v1' }, { key: 'topk', value: '5' },
          { key: 'search_iter_v2', value: 'True' }, ...extra] })).finish());
      raw.makeUnaryRequest('/milvus.proto.milvus.MilvusService/Search', (b) => b, (b) => b, bytes,
        new grpc.Metadata(), { deadline: Date.now() + 10000 }, (err, res) => (err ? reject(err)
          : resolve(SS.toObject(SS.decode(res), { defaults: true, enums: String, longs: String }))));
    });
    // As pymilvus sends it (search params, not the params JSON): the second page follows the first.
    const first = await iterSearch([{ key: 'search_iter_batch_size', value: '4' }]);
    okStatus(first.status, 'iterator page 1');
    const second = await iterSearch([{ key: 'search_iter_batch_size', value: '4' },
      { key: 'search_iter_id', value: first.results.search_iterator_v2_results.token },
      { key: 'search_iter_last_bound', value: String(first.results.search_iterator_v2_results.last_bound) }]);
    okStatus(second.status, 'iterator page 2');
    const eight = await rawSearch('-1');  // depth 5: the first five of the eight
    assert.deepEqual([...first.results.ids.int_id.data, ...second.results.ids.int_id.data].slice(0, 5),
      eight.results.ids.int_id.data);
    assert.equal(first.results.search_iterator_v2_results.last_bound, first.results.scores[3]);
    for (const bad of ['not-a-token', 'ark-iter-v1:', 'ark-iter-v1:12x', 'ark-iter-v1:-3']) {
      const r = await iterSearch([{ key: 'search_iter_id', value: bad }]);
      assert.equal(r.status.code, 1100, `${bad}: ${JSON.stringify(r.status)}`);
      assert.match(r.status.reason, /search_iter_id/);
    }
    const v1 = await iterSearch([{ key: 'search_iter_v2', value: 'False' }, { key: 'iterator', value: 'True' }]);
    assert.equal(v1.status.code, 1100, JSON.stringify(v1.status));
    assert.match(v1.status.reason, /iterator v1/);
    // A query that matches nothing answers no rows (an untyped empty column made the SDK throw).
    const none = ok(await client.query({ collection_name: C, filter: 'n > 100000', output_fields: ['tag', 'n', 'w'] }),
      'empty query');
    assert.deepEqual(none.data, []);
    const noneAll = ok(await client.query({ collection_name: C, filter: 'n < 0', output_fields: ['*'] }), 'empty *');
    assert.deepEqual(noneAll.data, []);
  });

  await t.test('query with templates of every scalar and list type, as REST answers', async () => {
    const cases = [
      ['tag == {t} and n in {ns}', { t: 'b', ns: [7, 14, 21, 35, 77, 133, 259] },
        (d) => d.tag === 'b' && [7, 14, 21, 35, 77, 133, 259].includes(d.n)],
      ['w > {x} and flag == {f}', { x: 0.75, f: true }, (d) => d.w > 0.75 && d.flag === true],
      ['tag in {tags} and id < {top}', { tags: ['a', 'd'], top: 40 }, (d) => ['a', 'd'].includes(d.tag) && d.id < 40],
    ];
    for (const [filter, values, pred] of cases) {
      const g = ok(await client.query({ collection_name: C, filter, exprValues: values,
        output_fields: ['tag', 'n', 'w', 'flag', 'color'], limit: 1000 }), filter).data;
      const expect = rows.filter(pred).map((d) => String(d.id)).sort();
      assert.ok(expect.length > 0, `${filter}: the oracle matches nothing`);
      assert.deepEqual(g.map((r) => String(r.id)).sort(), expect, filter);
      const r = await rest('entities/query', { collectionName: C, filter, exprParams: values,
        outputFields: ['tag', 'n', 'w', 'flag', 'color'], limit: 1000 });
      assert.equal(r.code, 0, JSON.stringify(r).slice(0, 300));
      const byId = new Map(r.data.map((x) => [String(x.id), x]));
      assert.equal(byId.size, g.length);
      for (const x of g) {
        const o = byId.get(String(x.id));
        for (const f of ['tag', 'n', 'w', 'flag']) assert.equal(String(x[f]), String(o[f]), `${filter} ${f}`);
        // Dynamic keys come back in the $meta column, as Milvus answers a query.
        assert.equal(x.$meta.color, o.color, `${filter} color`);
        assert.equal(x.$meta.color, live.get(Number(x.id)).color, `${filter} color`);
      }
    }
  });

  await t.test('delete with templates, over both transports', async () => {
    const before = await count();
    const d = ok(await client.delete({ collection_name: C, filter: 'id in {ids} or n == {m}',
      exprValues: { ids: [1, 2, 3], m: 399 } }), 'delete');
    const expected = rows.filter((r) => [1, 2, 3].includes(r.id) || r.n === 399).length;
    assert.ok(expected >= 4);
    assert.equal(Number(d.delete_cnt), expected);
    const r = await rest('entities/delete', { collectionName: C, filter: 'id in {ids}', exprParams: { ids: [10, 11] } });
    assert.equal(r.code, 0, JSON.stringify(r));
    assert.equal(await count(), before - expected - 2);
    for (const row of rows) if ([1, 2, 3, 10, 11].includes(row.id) || row.n === 399) live.delete(row.id);
    const gone = ok(await client.count({ collection_name: C, expr: 'id in [1, 2, 3, 10, 11] or n == 399' }), 'gone');
    assert.equal(Number(gone.data), 0);
    const kept = ok(await client.count({ collection_name: C, expr: 'id in [4, 12]' }), 'kept');
    assert.equal(Number(kept.data), 2);
  });

  await t.test('bad template values answer a Milvus code naming the problem, and change nothing', async () => {
    const before = await count();
    const blob = await client.query({ collection_name: C, filter: 'id in {b}', exprValues: { b: new Uint8Array(4) },
      output_fields: ['id'] });
    assert.equal(blob.status.code, 1100, JSON.stringify(blob.status));
    assert.match(blob.status.reason, /'b'.*bytes/);
    // A placeholder without a value: the filter parser's answer, as for REST.
    const missing = await client.query({ collection_name: C, filter: 'n == {missing}', exprValues: { other: 1 },
      output_fields: ['id'] });
    const restMissing = await rest('entities/query', { collectionName: C, filter: 'n == {missing}',
      exprParams: { other: 1 }, outputFields: ['id'] });
    assert.notEqual(restMissing.code, 0);
    assert.equal(missing.status.code, restMissing.code, JSON.stringify(missing.status));
    assert.match(missing.status.reason, /missing/);
    const delBlob = await client.delete({ collection_name: C, filter: 'id in {b}', exprValues: { b: new Uint8Array(4) } });
    assert.equal(delBlob.status.code, 1100, JSON.stringify(delBlob.status));
    const delMissing = await client.delete({ collection_name: C, filter: 'id in {ids}', exprValues: { idz: [5] } });
    assert.notEqual(delMissing.status.code, 0);
    assert.match(delMissing.status.reason, /ids/);

    // Values the SDK never sends, as raw gRPC.
    const grpc = require('@grpc/grpc-js');
    const protobuf = require('protobufjs');
    const root = protobuf.Root.fromJSON(require('@zilliz/milvus2-sdk-node/dist/milvus/proto-json/milvus.js').default);
    const Q = root.lookupType('milvus.proto.milvus.QueryRequest');
    const R = root.lookupType('milvus.proto.milvus.QueryResults');
    const raw = new grpc.Client(address, grpc.credentials.createInsecure());
    t.after(() => raw.close());
    const query = (filter, values) => new Promise((resolve, reject) => {
      const bytes = Buffer.from(Q.encode(Q.fromObject({ collection_name: C, expr: filter, output_fields: ['id'],
        query_params: [{ key: 'limit', value: '10' }], expr_template_values: values })).finish());
      raw.makeUnaryRequest('/milvus.proto.milvus.MilvusService/Query', (b) => b, (b) => b, bytes, new grpc.Metadata(),
        { deadline: Date.now() + 10000 }, (err, res) => (err ? reject(err) : resolve(R.decode(res))));
    });
    const rawCases = [
      ['no value', 'n == {k}', { k: {} }, /'k' has no value/],
      ['a JSON object', 'n in {k}', { k: { array_val: { json_data: { data: [Buffer.from('{"a":1}')] } } } }, /'k'.*object/],
      ['JSON that does not parse', 'n in {k}', { k: { array_val: { json_data: { data: [Buffer.from('[1,')] } } } },
        /'k'.*does not parse/],
      ['NaN', 'w > {k}', { k: { float_val: NaN } }, /'k' is not a finite number/],
    ];
    for (const [what, filter, values, reason] of rawCases) {
      const res = await query(filter, values);
      assert.equal(res.status.code, 1100, `${what}: ${JSON.stringify(res.status)}`);
      assert.match(res.status.reason, reason, what);
    }
    // What the SDKs send for lists of mixed types (JSON elements) and nested lists works.
    const mixed = await query('n in {k}', { k: { array_val: { json_data: { data: [Buffer.from('35'), Buffer.from('49.0')] } } } });
    assert.equal(mixed.status.code, 0, JSON.stringify(mixed.status));
    assert.deepEqual(mixed.fields_data.find((f) => f.field_name === 'id').scalars.long_data.data.map(String).sort(),
      [...live.values()].filter((r) => r.n === 35 || r.n === 49).map((r) => String(r.id)).sort());
    const longs = await query('n in {k}', { k: { array_val: { long_data: { data: [63, 70] } } } });
    assert.deepEqual(longs.fields_data.find((f) => f.field_name === 'id').scalars.long_data.data.map(String).sort(),
      [...live.values()].filter((r) => r.n === 63 || r.n === 70).map((r) => String(r.id)).sort());
    assert.equal(await count(), before);
    assert.equal(before, live.size);
  });
});

test('databases, compaction, segment infos and replicas over gRPC answer as REST does', { timeout: 120000 }, async (t) => {
  const { address, client, rest } = await arkWithClients(t);
  const restOk = async (route, body) => {
    const r = await rest(route, body);
    assert.equal(r.code, 0, `${route}: ${JSON.stringify(r)}`);
    return r.data;
  };
  const props = (list) => Object.fromEntries(list.map((p) => [p.key, p.value]));

  await t.test('describeDatabase and alterDatabase (set and drop properties)', async () => {
    ok(await client.createDatabase({ db_name: 'segdb' }), 'createDatabase');
    ok(await client.alterDatabase({ db_name: 'segdb', properties: { 'app.owner': 'kb', 'app.tier': 'gold' } }), 'alter');
    let d = ok(await client.describeDatabase({ db_name: 'segdb' }), 'describeDatabase');
    let r = await restOk('databases/describe', { dbName: 'segdb' });
    assert.equal(d.db_name, 'segdb');
    assert.equal(String(d.dbID), String(r.dbID));
    assert.deepEqual(props(d.properties), { 'app.owner': 'kb', 'app.tier': 'gold' });
    assert.deepEqual(props(d.properties), props(r.properties));
    // The SDK's dropDatabaseProperties sends AlterDatabase.delete_keys (from `properties`).
    ok(await client.dropDatabaseProperties({ db_name: 'segdb', properties: ['app.tier'] }), 'drop properties');
    d = ok(await client.describeDatabase({ db_name: 'segdb' }), 'describe after drop');
    r = await restOk('databases/describe', { dbName: 'segdb' });
    assert.deepEqual(props(d.properties), { 'app.owner': 'kb' });
    assert.deepEqual(props(r.properties), { 'app.owner': 'kb' });
    // The default database, by name.
    const def = ok(await client.describeDatabase({ db_name: 'default' }), 'describe default');
    assert.equal(String(def.dbID), String((await restOk('databases/describe', { dbName: 'default' })).dbID));

    // Unknown database: REST's code and message, nothing created.
    const restUnknown = await rest('databases/describe', { dbName: 'no_such_db' });
    assert.notEqual(restUnknown.code, 0);
    const unknown = await client.describeDatabase({ db_name: 'no_such_db' });
    assert.equal(unknown.status.code, restUnknown.code);
    assert.equal(unknown.status.reason, restUnknown.message);
    const alterUnknown = await client.alterDatabase({ db_name: 'no_such_db', properties: { 'app.owner': 'x' } });
    assert.equal(alterUnknown.code, restUnknown.code, JSON.stringify(alterUnknown));
    assert.deepEqual((await restOk('databases/list', {})).sort(), ['default', 'segdb']);
  });

  const C = 'segs';
  const D = 4;
  const rowsOf = (from, n) => Array.from({ length: n }, (_, i) => ({ id: from + i, v: [from + i, 1, i % 7, 0.5] }));
  let collectionID;
  let p1;
  const stats = async () => (await restOk('collections/get_stats', { collectionName: C })).rowCount;
  const persistent = async () => ok(await client.getPersistentSegmentInfo({ collectionName: C }), 'persistent').infos;
  const querySegs = async () => ok(await client.getQuerySegmentInfo({ collectionName: C }), 'query segments').infos;
  const sum = (infos) => infos.reduce((s, i) => s + Number(i.num_rows), 0);

  await t.test('segment infos: sealed segments Flushed/Sealed, the growing rows Growing; counts add up to get_stats', async () => {
    ok(await client.createCollection({ collection_name: C, fields: [
      { name: 'id', data_type: DataType.Int64, is_primary_key: true },
      { name: 'v', data_type: DataType.FloatVector, dim: D }] }), 'create');
    ok(await client.createPartition({ collection_name: C, partition_name: 'p1' }), 'partition');
    ok(await client.createIndex({ collection_name: C, field_name: 'v', index_type: 'FLAT', metric_type: 'L2' }), 'index');
    ok(await client.loadCollectionSync({ collection_name: C }), 'load');
    collectionID = String((await restOk('collections/describe', { collectionName: C })).collectionID);

    // The replica names the partitions: _default (0) and p1.
    const reps = ok(await client.getReplicas({ collectionID, with_shard_nodes: true }), 'replicas');
    assert.equal(reps.replicas.length, 1);
    const rep = reps.replicas[0];
    assert.equal(String(rep.collectionID), collectionID);
    const pids = rep.partition_ids.map(String);
    assert.equal(pids.length, 2, JSON.stringify(rep));
    assert.ok(pids.includes('0'));
    p1 = pids.find((p) => p !== '0');
    assert.equal(rep.shard_replicas.length, 1);
    assert.equal(rep.shard_replicas[0].leader_addr, address);
    assert.deepEqual(rep.shard_replicas[0].node_ids.map(String), rep.node_ids.map(String));
    // By name too, as pymilvus sends it.
    const byName = ok(await client.getReplicas({ collectionID: '1', collection_name: C }), 'replicas by name');
    assert.equal(String(byName.replicas[0].collectionID), collectionID);

    // Sealed segment 1: 300 rows of _default; sealed segment 2: 200 rows of p1;
    // then 40 growing rows of _default, and 25 rows of segment 1 deleted.
    ok(await client.insert({ collection_name: C, data: rowsOf(0, 300) }), 'insert 1');
    ok(await client.flushSync({ collection_names: [C] }), 'flush 1');
    ok(await client.insert({ collection_name: C, partition_name: 'p1', data: rowsOf(1000, 200) }), 'insert 2');
    ok(await client.flushSync({ collection_names: [C] }), 'flush 2');
    ok(await client.insert({ collection_name: C, data: rowsOf(5000, 40) }), 'insert growing');
    ok(await client.delete({ collection_name: C, filter: 'id < 25' }), 'delete');
    assert.equal(await stats(), 300 + 200 + 40 - 25);

    const infos = await persistent();
    assert.deepEqual(infos.map((i) => i.state), ['Flushed', 'Flushed', 'Growing'], JSON.stringify(infos));
    assert.deepEqual(infos.map((i) => Number(i.num_rows)), [275, 200, 40]);
    assert.deepEqual(infos.map((i) => String(i.partitionID)), ['0', p1, '0']);
    assert.ok(infos.every((i) => String(i.collectionID) === collectionID));
    assert.equal(new Set(infos.map((i) => String(i.segmentID))).size, 3, 'segment ids are distinct');
    assert.equal(sum(infos), await stats());
    // Stable: the same ids when asked again.
    assert.deepEqual((await persistent()).map((i) => String(i.segmentID)), infos.map((i) => String(i.segmentID)));

    const q = await querySegs();
    assert.deepEqual(q.map((i) => i.state), ['Sealed', 'Sealed', 'Growing']);
    assert.deepEqual(q.map((i) => String(i.segmentID)), infos.map((i) => String(i.segmentID)));
    assert.deepEqual(q.map((i) => Number(i.num_rows)), [275, 200, 40]);
    assert.equal(sum(q), await stats());
    assert.ok(q.every((i) => ['', 'v'].includes(i.index_name)), JSON.stringify(q));
    assert.equal(q[2].index_name, '', 'a growing segment is searched without an index');

    // The growing rows sealed: a third Flushed segment, the first two keep their ids.
    ok(await client.flushSync({ collection_names: [C] }), 'flush 3');
    const after = await persistent();
    assert.deepEqual(after.map((i) => i.state), ['Flushed', 'Flushed', 'Flushed']);
    assert.deepEqual(after.slice(0, 2).map((i) => String(i.segmentID)), infos.slice(0, 2).map((i) => String(i.segmentID)));
    assert.equal(sum(after), await stats());
  });

  await t.test('query segments follow the load state; persistent segments do not', async () => {
    ok(await client.releaseCollection({ collection_name: C }), 'release');
    assert.deepEqual(await querySegs(), []);
    assert.equal((await persistent()).length, 3);
    assert.deepEqual(ok(await client.getReplicas({ collectionID }), 'replicas released').replicas, []);
    ok(await client.loadPartitions({ collection_name: C, partition_names: ['p1'] }), 'load p1');
    const q = await querySegs();
    assert.deepEqual(q.map((i) => [String(i.partitionID), Number(i.num_rows)]), [[p1, 200]]);
    assert.deepEqual(ok(await client.getReplicas({ collectionID }), 'replicas p1').replicas[0].partition_ids.map(String), [p1]);
    ok(await client.loadCollectionSync({ collection_name: C }), 'load again');
    assert.equal(sum(await querySegs()), await stats());
  });

  await t.test('compact and getCompactionState equal REST; segments after compaction add up', async () => {
    const before = await persistent();
    const c = ok(await client.compact({ collection_name: C }), 'compact');
    assert.ok(Number(c.compactionID) > 0);
    const restState = await restOk('collections/get_compaction_state', { compactionID: Number(c.compactionID) });
    const s = ok(await client.getCompactionState({ compactionID: c.compactionID }), 'compaction state');
    assert.equal(s.state, restState.state);
    for (const k of ['executingPlanNo', 'timeoutPlanNo', 'completedPlanNo']) assert.equal(Number(s[k]), restState[k], k);
    assert.equal(Number(c.compactionPlanCount), restState.completedPlanNo);
    // Three small segments: compaction rewrote them.
    assert.ok(restState.segmentsBefore > 0, JSON.stringify(restState));
    const after = await persistent();
    assert.equal(after.length, before.length - restState.segmentsBefore + restState.segmentsAfter);
    assert.equal(sum(after), await stats());
    assert.equal(await stats(), 515);
    // A compaction over REST is visible over gRPC, under its id.
    const viaRest = await restOk('collections/compact', { collectionName: C });
    const s2 = ok(await client.getCompactionState({ compactionID: viaRest.compactionID }), 'state of a REST compaction');
    assert.equal(s2.state, 'Completed');
    const unknownId = await client.getCompactionState({ compactionID: 987654 });
    const restUnknownId = await rest('collections/get_compaction_state', { compactionID: 987654 });
    assert.equal(unknownId.status.code, restUnknownId.code);
    assert.notEqual(unknownId.status.code, 0);
  });

  await t.test('an unknown collection: code 100 as REST answers, nothing changed', async () => {
    const listBefore = await restOk('collections/list', {});
    const rowsBefore = await stats();
    const segsBefore = await persistent();
    const restUnknown = await rest('collections/describe', { collectionName: 'no_such_coll' });
    assert.equal(restUnknown.code, 100);
    for (const [what, res] of [
      ['persistent', await client.getPersistentSegmentInfo({ collectionName: 'no_such_coll' })],
      ['query', await client.getQuerySegmentInfo({ collectionName: 'no_such_coll' })],
      ['replicas by name', await client.getReplicas({ collectionID: '1', collection_name: 'no_such_coll' })],
      ['compact', await client.compact({ collection_name: 'no_such_coll' })]]) {
      assert.equal(res.status.code, 100, `${what}: ${JSON.stringify(res.status)}`);
      assert.equal(res.status.error_code, 'CollectionNotExists', what);
      assert.equal(res.status.reason, restUnknown.message, what);
    }
    const byId = await client.getReplicas({ collectionID: '999999' });
    assert.equal(byId.status.code, 100);
    assert.match(byId.status.reason, /999999/);
    const inUnknownDb = await client.getPersistentSegmentInfo({ collectionName: C, dbName: 'no_such_db' });
    assert.equal(inUnknownDb.status.code, (await rest('collections/describe', { dbName: 'no_such_db', collectionName: C })).code);
    assert.notEqual(inUnknownDb.status.code, 0);
    assert.deepEqual(await restOk('collections/list', {}), listBefore);
    assert.equal(await stats(), rowsBefore);
    assert.deepEqual((await persistent()).map((i) => String(i.segmentID)), segsBefore.map((i) => String(i.segmentID)));
  });
});

test('grouping search over gRPC (group_by_field) answers as REST groupingField and the oracle', { timeout: 120000 }, async (t) => {
  const { rng } = require('./helpers');
  const { cosine } = require('./kb_workflow_lib');
  const { client, rest } = await arkWithClients(t);
  const C = 'grp';
  const D = 8;
  const next = rng(31);
  const vec = () => Array.from({ length: D }, () => Math.fround(next() * 2 - 1));
  // Chunks of documents: doc = i % 23, so every document has 13 or 14 chunks.
  const rows = Array.from({ length: 300 }, (_, i) => ({ id: i, doc: i % 23, lang: `l${i % 6}`,
    weight: i / 4, meta: { i }, v: vec(), extra: i }));
  ok(await client.createCollection({ collection_name: C, enable_dynamic_field: true, fields: [
    { name: 'id', data_type: DataType.Int64, is_primary_key: true },
    { name: 'doc', data_type: DataType.Int64 },
    { name: 'lang', data_type: DataType.VarChar, max_length: 8 },
    { name: 'weight', data_type: DataType.Float },
    { name: 'meta', data_type: DataType.JSON },
    { name: 'v', data_type: DataType.FloatVector, dim: D }] }), 'create');
  ok(await client.createIndex({ collection_name: C, field_name: 'v', index_type: 'FLAT', metric_type: 'COSINE' }),
    'index');
  ok(await client.loadCollectionSync({ collection_name: C }), 'load');
  ok(await client.insert({ collection_name: C, data: rows }), 'insert');
  const count = async () => Number(ok(await client.count({ collection_name: C }), 'count').data);

  // Brute force: hits by COSINE, grouped by `key`, groups by their best hit,
  // the best `size` per group, groups [offset, offset + limit).
  const oracle = (q, key, { limit, offset = 0, size = 1, pred = () => true }) => {
    const scored = rows.filter(pred).map((r) => ({ id: r.id, distance: cosine(q, r.v), key: key(r) }));
    scored.sort((x, y) => y.distance - x.distance || x.id - y.id);
    const groups = new Map();
    for (const h of scored) {
      if (!groups.has(h.key)) groups.set(h.key, []);
      if (groups.get(h.key).length < size) groups.get(h.key).push(h);
    }
    return [...groups.values()].slice(offset, offset + limit);
  };
  // Consecutive runs of one group value; a value must not come back later.
  const split = (hits, valueOf, what) => {
    const groups = [];
    const seen = new Set();
    for (const h of hits) {
      const v = String(valueOf(h));
      if (groups.length === 0 || groups[groups.length - 1].value !== v) {
        assert.ok(!seen.has(v), `${what}: group ${v} split`);
        seen.add(v);
        groups.push({ value: v, hits: [] });
      }
      groups[groups.length - 1].hits.push(h);
    }
    return groups;
  };
  const sameGroups = (got, want, what) => {
    assert.ok(want.length > 0, `${what}: the oracle has no groups, so the comparison proves nothing`);
    assert.deepEqual(got.map((g) => g.hits.map((h) => String(h.id))), want.map((g) => g.map((h) => String(h.id))),
      `${what}: groups and their hits`);
    assert.deepEqual(got.map((g) => g.value), want.map((g) => String(g[0].key)), `${what}: group values`);
    got.forEach((g, k) => g.hits.forEach((h, i) => {
      const score = h.score !== undefined ? h.score : h.distance;
      assert.ok(Math.abs(score - want[k][i].distance) < 1e-4, `${what}: score ${score} vs ${want[k][i].distance}`);
    }));
  };
  const restLists = (res, what) => {
    assert.equal(res.code, 0, `${what} REST: ${JSON.stringify(res).slice(0, 300)}`);
    const lists = [];
    let at = 0;
    for (const k of res.topks) { lists.push(res.data.slice(at, at + k)); at += k; }
    return lists;
  };

  await t.test('Int64 field, group size 3 strict: SDK, REST and the oracle agree', async () => {
    const q = vec();
    const res = ok(await client.search({ collection_name: C, data: q, anns_field: 'v', limit: 5,
      group_by_field: 'doc', group_size: 3, strict_group_size: true, output_fields: ['lang'] }), 'search');
    const want = oracle(q, (r) => r.doc, { limit: 5, size: 3 });
    assert.equal(res.results.length, 15);
    res.results.forEach((h) => assert.equal(String(h.lang), `l${Number(h.id) % 6}`));
    sameGroups(split(res.results, (h) => h.group_by_field_values.doc, 'gRPC'), want, 'gRPC doc');
    const r = await rest('entities/search', { collectionName: C, data: [q], annsField: 'v', limit: 5,
      groupingField: 'doc', groupSize: 3, strictGroupSize: true, outputFields: ['lang'] });
    const [list] = restLists(r, 'doc');
    assert.deepEqual(r.topks, [15]);
    sameGroups(split(list, (h) => h.doc, 'REST'), want, 'REST doc');  // REST hits carry the group value
  });

  await t.test('VarChar field, two queries, offset skips groups, a filter applies first, dynamic output', async () => {
    const qs = [vec(), vec()];
    const pred = (r) => r.id > 50;
    // '*' asks for dynamic keys too: the hits go the JSON way inside the server.
    const res = ok(await client.search({ collection_name: C, data: qs, anns_field: 'v', limit: 3, offset: 2,
      filter: 'id > 50', group_by_field: 'lang', group_size: 2, strict_group_size: true, output_fields: ['*'] }),
    'search');
    const r = await rest('entities/search', { collectionName: C, data: qs, annsField: 'v', limit: 3, offset: 2,
      filter: 'id > 50', groupingField: 'lang', groupSize: 2, strictGroupSize: true, outputFields: ['*'] });
    const lists = restLists(r, 'lang');
    assert.equal(res.results.length, 2);
    qs.forEach((q, k) => {
      const want = oracle(q, (row) => row.lang, { limit: 3, offset: 2, size: 2, pred });
      assert.equal(want.length, 3);  // six languages, two skipped
      sameGroups(split(res.results[k], (h) => h.group_by_field_values.lang, `gRPC q${k}`), want, `gRPC lang q${k}`);
      sameGroups(split(lists[k], (h) => h.lang, `REST q${k}`), want, `REST lang q${k}`);
      res.results[k].forEach((h) => assert.equal(Number(h.extra), Number(h.id)));
    });
  });

  await t.test('not strict, default group size: one hit per group, best groups first', async () => {
    const q = vec();
    const res = ok(await client.search({ collection_name: C, data: q, anns_field: 'v', limit: 30,
      group_by_field: 'doc' }), 'search');
    const want = oracle(q, (r) => r.doc, { limit: 30 });
    assert.equal(want.length, 23);  // fewer documents than the limit: every one once
    sameGroups(split(res.results, (h) => h.group_by_field_values.doc, 'gRPC'), want, 'gRPC default');
  });

  await t.test('bad group_by_field: 1100 naming it over both transports, data unchanged', async () => {
    const before = await count();
    const q = vec();
    for (const field of ['nope', 'v', 'meta', 'weight', 'extra']) {
      const res = await client.search({ collection_name: C, data: q, anns_field: 'v', limit: 3, group_by_field: field });
      assert.equal(res.status.code, 1100, `gRPC ${field}: ${JSON.stringify(res.status)}`);
      assert.match(res.status.reason, new RegExp(`groupingField ${field}\\b`), `gRPC ${field}`);
      const r = await rest('entities/search', { collectionName: C, data: [q], annsField: 'v', limit: 3,
        groupingField: field });
      assert.equal(r.code, 1100, `REST ${field}: ${JSON.stringify(r)}`);
      assert.match(r.message, new RegExp(`groupingField ${field}\\b`), `REST ${field}`);
    }
    const bad = await client.search({ collection_name: C, data: q, anns_field: 'v', limit: 3, group_by_field: 'doc',
      group_size: 0.5 });
    assert.equal(bad.status.code, 1100, JSON.stringify(bad.status));
    assert.equal(await count(), before);
  });
});
