// Compatibility suite: the real @zilliz/milvus2-sdk-node HttpClient against a
// real `ark serve` (ARK_BIN), through a RAG knowledge-base workflow. Every
// answer is checked against a brute-force oracle (kb_workflow_lib.js).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { HttpClient } = require('@zilliz/milvus2-sdk-node');
const { DIM, N, BATCH, TENANTS, COLL, startArk, oracleSearch, workload } = require('./kb_workflow_lib');

function ok(res, what) {
  assert.equal(res.code, 0, `${what}: ${JSON.stringify(res).slice(0, 500)}`);
  return res.data;
}

// Exact search: the same ids in the same order, distances within float error.
function assertExact(hits, expected, what) {
  assert.deepEqual(hits.map((h) => String(h.id)), expected.map((e) => String(e.id)), what);
  hits.forEach((h, i) => assert.ok(Math.abs(Number(h.distance) - expected[i].distance) < 1e-4,
    `${what}: distance ${h.distance} vs ${expected[i].distance}`));
}

test('RAG workflow through the Milvus Node SDK HttpClient', { timeout: 120000 }, async (t) => {
  const ark = await startArk();
  t.after(async () => { await ark.stop(); });
  const client = new HttpClient({ endpoint: ark.endpoint });
  const { docs, live, queries } = workload();

  await t.test('create with full schema and index params; describe', async () => {
    ok(await client.createCollection({
      collectionName: COLL,
      schema: {
        autoID: false,
        enableDynamicField: false,
        fields: [
          { fieldName: 'id', dataType: 'Int64', isPrimary: true },
          { fieldName: 'text', dataType: 'VarChar', elementTypeParams: { max_length: 512 } },
          { fieldName: 'meta', dataType: 'JSON' },
          { fieldName: 'tenant', dataType: 'VarChar', elementTypeParams: { max_length: 32 } },
          { fieldName: 'ts', dataType: 'Int64' },
          { fieldName: 'embedding', dataType: 'FloatVector', elementTypeParams: { dim: DIM } },
        ],
      },
      indexParams: [{ fieldName: 'embedding', indexName: 'embedding_idx', metricType: 'COSINE',
        params: { index_type: 'FLAT' } }],
    }), 'create');
    const list = ok(await client.listCollections({}), 'list');
    assert.deepEqual(list, [COLL]);
    assert.equal(ok(await client.hasCollection({ collectionName: COLL }), 'has').has, true);
    const d = ok(await client.describeCollection({ collectionName: COLL }), 'describe');
    assert.equal(d.collectionName, COLL);
    assert.deepEqual(d.fields.map((f) => f.name), ['id', 'text', 'meta', 'tenant', 'ts', 'embedding']);
    assert.deepEqual(d.indexes, [{ fieldName: 'embedding', indexName: 'embedding_idx', metricType: 'COSINE' }]);
    const idx = ok(await client.describeIndex({ collectionName: COLL, indexName: 'embedding_idx' }),
      'describeIndex');
    assert.equal(idx[0].indexType, 'FLAT');
    assert.deepEqual(ok(await client.listIndexes({ collectionName: COLL }), 'listIndexes'),
      ['embedding_idx']);
    const ls = ok(await client.getCollectionLoadState({ collectionName: COLL }), 'load state');
    assert.equal(ls.loadState, 'LoadStateLoaded');
  });

  await t.test('insert 10,000 documents in batches', async () => {
    for (let i = 0; i < N; i += BATCH) {
      const data = ok(await client.insert({ collectionName: COLL, data: docs.slice(i, i + BATCH) }),
        'insert');
      assert.equal(data.insertCount, BATCH);
      assert.deepEqual(data.insertIds.map(String),
        docs.slice(i, i + BATCH).map((d) => String(d.id)));
    }
    const stats = ok(await client.getCollectionStatistics({ collectionName: COLL }), 'stats');
    assert.equal(Number(stats.rowCount), N);
  });

  const searchChecks = async (label) => {
    // No filter, one vector: exact top 10 with output fields.
    const one = ok(await client.search({ collectionName: COLL, data: [queries[0]], annsField: 'embedding',
      limit: 10, outputFields: ['text', 'tenant', 'meta'] }), `${label} search`);
    assertExact(one, oracleSearch(live, queries[0], 10), `${label} search`);
    for (const h of one) {
      const doc = live.get(Number(h.id));
      assert.equal(h.text, doc.text);
      assert.equal(h.tenant, doc.tenant);
      assert.deepEqual(h.meta, doc.meta);
      assert.equal(h.embedding, undefined);
    }
    // Filters on a VarChar, an Int64 and a JSON key; several vectors (split on topks).
    const filter = 'tenant == "globex" and ts >= 4000 and meta["lang"] == "en"';
    const pred = (d) => d.tenant === 'globex' && d.ts >= 4000 && d.meta.lang === 'en';
    const res = await client.search({ collectionName: COLL, data: queries.slice(1, 4), filter, limit: 5,
      outputFields: ['ts'], searchParams: { metricType: 'COSINE', params: {} } });
    const groups = ok(res, `${label} filtered search`);
    assert.deepEqual(res.topks, [5, 5, 5]);
    assert.equal(groups.length, 3);
    groups.forEach((hits, i) => {
      assertExact(hits, oracleSearch(live, queries[1 + i], 5, pred), `${label} filtered search ${i}`);
      for (const h of hits) assert.equal(Number(h.ts), live.get(Number(h.id)).ts);
    });
    // Offset pages through the same ranking.
    const page = ok(await client.search({ collectionName: COLL, data: [queries[4]], limit: 5, offset: 5 }),
      `${label} offset`);
    assertExact(page, oracleSearch(live, queries[4], 10).slice(5), `${label} offset`);
  };

  await t.test('search with filters and output fields (growing segment, exact)', async () => {
    await searchChecks('growing');
  });

  await t.test('query with count(*), filters, limit and offset', async () => {
    for (const tenant of TENANTS) {
      const r = ok(await client.query({ collectionName: COLL, filter: `tenant == "${tenant}"`,
        outputFields: ['count(*)'] }), 'count');
      assert.equal(Number(r[0]['count(*)']), [...live.values()].filter((d) => d.tenant === tenant).length);
    }
    const all = ok(await client.query({ collectionName: COLL, filter: '', outputFields: ['count(*)'] }), 'count all');
    assert.equal(Number(all[0]['count(*)']), N);
    const rows = ok(await client.query({ collectionName: COLL, filter: 'ts > 9000 and meta["page"] == 7',
      outputFields: ['text', 'meta'], limit: 1000 }), 'query');
    const expect = [...live.values()].filter((d) => d.ts > 9000 && d.meta.page === 7);
    assert.deepEqual(rows.map((r) => String(r.id)).sort(), expect.map((d) => String(d.id)).sort());
    for (const r of rows) {
      const d = live.get(Number(r.id));
      assert.equal(r.text, d.text);
      assert.deepEqual(r.meta, d.meta);
    }
    const pageRows = ok(await client.query({ collectionName: COLL, filter: 'id in [5, 6, 7, 8, 9]',
      outputFields: ['ts'], limit: 2, offset: 1 }), 'query page');
    assert.equal(pageRows.length, 2);
  });

  await t.test('get by ids with output fields', async () => {
    const r = ok(await client.get({ collectionName: COLL, id: [3, 77, 123456], outputFields: ['text', 'ts'] }),
      'get');
    assert.deepEqual(r.map((x) => String(x.id)), ['3', '77']);
    assert.equal(r[0].text, live.get(3).text);
    assert.equal(Number(r[1].ts), live.get(77).ts);
    assert.equal(r[0].embedding, undefined);
  });

  await t.test('upsert replaces rows', async () => {
    const changed = [10, 20, 30].map((id) => ({ ...live.get(id), text: `updated ${id}`, tenant: 'acme' }));
    const r = ok(await client.upsert({ collectionName: COLL, data: changed }), 'upsert');
    assert.equal(r.upsertCount, 3);
    for (const d of changed) live.set(d.id, d);
    const got = ok(await client.get({ collectionName: COLL, id: [10, 20, 30], outputFields: ['text', 'tenant'] }),
      'get after upsert');
    assert.deepEqual(got.map((x) => x.text), ['updated 10', 'updated 20', 'updated 30']);
    const c = ok(await client.query({ collectionName: COLL, filter: '', outputFields: ['count(*)'] }), 'count');
    assert.equal(Number(c[0]['count(*)']), N);
  });

  await t.test('delete by filter', async () => {
    const pred = (d) => d.ts < 2000 || d.meta.source === 'file-5.pdf';
    const expected = [...live.values()].filter(pred).length;
    const r = ok(await client.delete({ collectionName: COLL,
      filter: 'ts < 2000 or meta["source"] == "file-5.pdf"' }), 'delete');
    assert.equal(Number(r.deleteCount), expected);
    for (const d of [...live.values()]) if (pred(d)) live.delete(d.id);
    const c = ok(await client.query({ collectionName: COLL, filter: '', outputFields: ['count(*)'] }), 'count');
    assert.equal(Number(c[0]['count(*)']), live.size);
    const stats = ok(await client.getCollectionStatistics({ collectionName: COLL }), 'stats');
    assert.equal(Number(stats.rowCount), live.size);
    await searchChecks('after delete');
  });

  await t.test('hybrid search with RRF matches the oracle fusion', async () => {
    const k = 60;
    const subs = [queries[5], queries[6]];
    const r = ok(await client.hybridSearch({ collectionName: COLL,
      search: subs.map((q) => ({ data: [q], annsField: 'embedding', limit: 20 })),
      rerank: { strategy: 'rrf', params: { k } }, limit: 10, outputFields: ['tenant'] }), 'hybrid');
    const fused = new Map();
    for (const q of subs) {
      oracleSearch(live, q, 20).forEach((h, i) => fused.set(h.id, (fused.get(h.id) || 0) + 1 / (k + i + 1)));
    }
    const expect = [...fused.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10);
    assert.equal(r.length, 10);
    r.forEach((h, i) => assert.ok(Math.abs(Number(h.distance) - expect[i][1]) < 1e-6,
      `rrf score ${i}: ${h.distance} vs ${expect[i][1]}`));
    assert.equal(r[0].tenant, live.get(Number(r[0].id)).tenant);
  });

  await t.test('flush seals; FLAT index is exact; HNSW recall >= 0.95', async () => {
    ok(await client.flushCollection({ collectionName: COLL }), 'flush');
    const waitIndex = async (name) => {
      const deadline = Date.now() + 30000;
      for (;;) {
        const d = ok(await client.describeIndex({ collectionName: COLL, indexName: name }), 'describeIndex');
        if (d[0].indexState === 'Finished' && Number(d[0].pendingRows) === 0) return d[0];
        assert.notEqual(d[0].indexState, 'Failed', d[0].failReason);
        assert.ok(Date.now() < deadline, `index ${name} not built: ${JSON.stringify(d[0])}`);
        await new Promise((res) => setTimeout(res, 100));
      }
    };
    await waitIndex('embedding_idx');
    await searchChecks('sealed FLAT');
    ok(await client.dropIndex({ collectionName: COLL, indexName: 'embedding_idx' }), 'dropIndex');
    ok(await client.createIndex({ collectionName: COLL, indexParams: [{ fieldName: 'embedding',
      indexName: 'hnsw', metricType: 'COSINE', params: { index_type: 'HNSW', M: 16, efConstruction: 200 } }] }),
    'createIndex');
    const built = await waitIndex('hnsw');
    assert.equal(built.indexType, 'HNSW');
    assert.equal(Number(built.indexedRows), Number(built.totalRows));
    // Uniform random 64-d vectors are HNSW's hard case: ef 64 gave recall 0.87 here, ef 256 passes.
    let found = 0; let total = 0;
    for (const q of queries) {
      const hits = ok(await client.search({ collectionName: COLL, data: [q], limit: 10,
        searchParams: { params: { ef: 256 } } }), 'hnsw search');
      const truth = new Set(oracleSearch(live, q, 10).map((h) => String(h.id)));
      for (const h of hits) if (truth.has(String(h.id))) found++;
      total += truth.size;
    }
    assert.ok(found / total >= 0.95, `recall ${found / total}`);
  });

  await t.test('errors come back as Milvus codes', async () => {
    const bad = await client.search({ collectionName: COLL, data: [[1, 2, 3]], limit: 3 });
    assert.equal(bad.code, 1100);
    const missing = await client.query({ collectionName: 'nope', filter: 'id > 0', outputFields: ['id'] });
    assert.equal(missing.code, 100);
    const window = await client.query({ collectionName: COLL, filter: 'id > 0', limit: 16384, offset: 1,
      outputFields: ['id'] });
    assert.equal(window.code, 1100);
  });

  await t.test('drop', async () => {
    ok(await client.dropCollection({ collectionName: COLL }), 'drop');
    assert.equal(ok(await client.hasCollection({ collectionName: COLL }), 'has').has, false);
    assert.deepEqual(ok(await client.listCollections({}), 'list'), []);
  });
});
