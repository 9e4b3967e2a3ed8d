// The bad-input matrix of issue 7 (docs/reliability.md#bad-input-matrix):
// every REST route the server registers gets missing and extra fields, wrong
// types, out-of-range and huge numbers, NaN/Infinity tokens, deeply nested
// JSON, invalid UTF-8, empty and oversize bodies and names with path
// characters; every `ark` subcommand gets bad arguments. Each answer must be
// the documented error (a JSON envelope with a non-zero Milvus code and a
// message naming the problem; never HTML, never a 5xx, never code 1200
// "unexpected"), the server must stay up, and the stored data (rows of every
// collection, schemas, indexes, aliases, databases) must hash the same
// before and after.
//
// Rows listed in KNOWN_FAILURES answer wrongly today in code this suite does
// not own; they run as node:test `todo` (reported, not failing) and are
// listed as open findings in docs/reliability.md.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { runArk, startServe, rawPost, tempDir } = require('./helpers');

const DIM = 4;
const MAX_BODY = 1 << 20;  // limits.max_body_bytes of the test server
const SRC = path.join(__dirname, '..', '..', 'src');
const vec = (i) => [Math.sin(i), Math.cos(i), Math.sin(2 * i), Math.cos(3 * i)];

// ---------------------------------------------------------------------------
// The route table. `base` is a body the route would accept (for routes that
// change data it names the fixture, so that a case's single mutation is what
// must make it fail); `required` its required keys; `kinds` the type of each
// key (drives the wrong-type and number cases); `names` the keys that name
// something (the path-character cases); `target` the key that a changed
// value makes point at nothing (the extra-fields case).
// ---------------------------------------------------------------------------

const ROUTES = {
  // /v2/vectordb (milvus_service.cc, milvus_namespace.cc, milvus_indexes.cc via milvus_service.cc)
  'collections/create': { base: { collectionName: 'bi_new', dimension: DIM }, extraBase: { collectionName: 'bi_new', dimension: 0 }, required: ['collectionName'], kinds: { collectionName: 'string', dimension: 'dim', metricType: 'string', idType: 'string', primaryFieldName: 'string', vectorFieldName: 'string', autoID: 'bool', params: 'object', schema: 'object', description: 'string' }, names: ['collectionName', 'primaryFieldName', 'vectorFieldName'], creates: true },
  'collections/list': { base: {}, required: [], kinds: { dbName: 'string' }, names: ['dbName'] },
  'collections/has': { base: { collectionName: 'docs' }, required: ['collectionName'], kinds: { collectionName: 'string' }, names: ['collectionName'], answersAbsent: true },
  'collections/describe': { base: { collectionName: 'docs' }, required: ['collectionName'], kinds: { collectionName: 'string', dbName: 'string' }, names: ['collectionName', 'dbName'] },
  'collections/drop': { base: { collectionName: 'victim' }, required: ['collectionName'], kinds: { collectionName: 'string' }, names: ['collectionName'] },
  'collections/rename': { base: { collectionName: 'victim', newCollectionName: 'bi_renamed' }, required: ['collectionName', 'newCollectionName'], kinds: { collectionName: 'string', newCollectionName: 'string', newDbName: 'string' }, names: ['collectionName', 'newCollectionName', 'newDbName'], creates: true },
  'collections/get_stats': { base: { collectionName: 'docs' }, required: ['collectionName'], kinds: { collectionName: 'string' }, names: ['collectionName'] },
  'collections/get_load_state': { base: { collectionName: 'docs' }, required: ['collectionName'], kinds: { collectionName: 'string' }, names: ['collectionName'] },
  'collections/flush': { base: { collectionName: 'docs' }, required: ['collectionName'], kinds: { collectionName: 'string' }, names: ['collectionName'] },
  'collections/load': { base: { collectionName: 'docs' }, required: ['collectionName'], kinds: { collectionName: 'string' }, names: ['collectionName'] },
  'collections/refresh_load': { base: { collectionName: 'docs' }, required: ['collectionName'], kinds: { collectionName: 'string' }, names: ['collectionName'] },
  'collections/release': { base: { collectionName: 'victim' }, required: ['collectionName'], kinds: { collectionName: 'string' }, names: ['collectionName'] },
  'collections/alter_properties': { base: { collectionName: 'docs', properties: { 'bi.owner': 'bad-input' } }, required: ['collectionName', 'properties'], kinds: { collectionName: 'string', properties: 'object' }, names: ['collectionName'] },
  'collections/drop_properties': { base: { collectionName: 'docs', propertyKeys: ['bi.owner'] }, required: ['collectionName', 'propertyKeys'], kinds: { collectionName: 'string', propertyKeys: 'strings' }, names: ['collectionName'] },
  'collections/compact': { base: { collectionName: 'docs' }, required: ['collectionName'], kinds: { collectionName: 'string' }, names: ['collectionName'] },
  'collections/get_compaction_state': { base: { compactionID: 1 }, required: ['compactionID'], kinds: { compactionID: 'int' }, names: [] },
  'entities/insert': { base: { collectionName: 'docs', data: [{ id: 1000, tag: 'n', vec: vec(1000) }] }, required: ['collectionName', 'data'], kinds: { collectionName: 'string', data: 'rows' }, names: ['collectionName'] },
  'entities/upsert': { base: { collectionName: 'docs', data: [{ id: 1, tag: 'changed', vec: vec(5) }] }, required: ['collectionName', 'data'], kinds: { collectionName: 'string', data: 'rows' }, names: ['collectionName'] },
  'entities/search': { base: { collectionName: 'docs', data: [vec(1)], annsField: 'vec', limit: 3, outputFields: ['tag'] }, required: ['collectionName', 'data'], kinds: { collectionName: 'string', data: 'vectors', annsField: 'string', limit: 'int', offset: 'int', filter: 'string', outputFields: 'strings', searchParams: 'object' }, names: ['collectionName', 'annsField'] },
  'entities/hybrid_search': { base: { collectionName: 'docs', search: [{ data: [vec(1)], annsField: 'vec', limit: 3 }], limit: 3 }, required: ['collectionName', 'search'], kinds: { collectionName: 'string', search: 'array', rerank: 'object', limit: 'int', offset: 'int', outputFields: 'strings' }, names: ['collectionName'] },
  'entities/query': { base: { collectionName: 'docs', filter: 'id > 0', limit: 5 }, required: ['collectionName'], kinds: { collectionName: 'string', filter: 'string', limit: 'int', offset: 'int', outputFields: 'strings' }, names: ['collectionName'] },
  'entities/get': { base: { collectionName: 'docs', id: [1, 2] }, required: ['collectionName', 'id'], kinds: { collectionName: 'string', id: 'ids', outputFields: 'strings' }, names: ['collectionName'] },
  'entities/delete': { base: { collectionName: 'docs', filter: 'id in [1, 2]' }, required: ['collectionName'], kinds: { collectionName: 'string', filter: 'string' }, names: ['collectionName'] },
  'indexes/create': { base: { collectionName: 'docs', indexParams: [{ fieldName: 'vec', indexName: 'vec', metricType: 'L2', indexType: 'FLAT' }] }, required: ['collectionName', 'indexParams'], kinds: { collectionName: 'string', indexParams: 'array' }, names: ['collectionName'] },
  'indexes/list': { base: { collectionName: 'docs' }, required: ['collectionName'], kinds: { collectionName: 'string' }, names: ['collectionName'] },
  'indexes/describe': { base: { collectionName: 'docs', indexName: 'vec' }, required: ['collectionName', 'indexName'], kinds: { collectionName: 'string', indexName: 'string' }, names: ['collectionName', 'indexName'] },
  'indexes/drop': { base: { collectionName: 'docs', indexName: 'vec' }, required: ['collectionName', 'indexName'], kinds: { collectionName: 'string', indexName: 'string' }, names: ['collectionName', 'indexName'] },
  'databases/create': { base: { dbName: 'bi_db' }, extraBase: { dbName: 'keep' }, required: ['dbName'], kinds: { dbName: 'string' }, names: ['dbName'], creates: true },
  'databases/list': { base: {}, required: [], kinds: {}, names: [] },
  'databases/describe': { base: { dbName: 'keep' }, required: ['dbName'], kinds: { dbName: 'string' }, names: ['dbName'] },
  'databases/drop': { base: { dbName: 'empty' }, required: ['dbName'], kinds: { dbName: 'string' }, names: ['dbName'] },
  'databases/alter': { base: { dbName: 'no_such_db', properties: { 'database.max.collections': 5 } }, required: ['dbName', 'properties'], kinds: { dbName: 'string', properties: 'object' }, names: ['dbName'] },
  'databases/drop_properties': { base: { dbName: 'no_such_db', propertyKeys: ['database.max.collections'] }, required: ['dbName', 'propertyKeys'], kinds: { dbName: 'string', propertyKeys: 'strings' }, names: ['dbName'] },
  'aliases/create': { base: { collectionName: 'docs', aliasName: 'bi_alias' }, required: ['collectionName', 'aliasName'], kinds: { collectionName: 'string', aliasName: 'string' }, names: ['collectionName', 'aliasName'], creates: true },
  'aliases/alter': { base: { collectionName: 'other', aliasName: 'kb' }, required: ['collectionName', 'aliasName'], kinds: { collectionName: 'string', aliasName: 'string' }, names: ['collectionName', 'aliasName'] },
  'aliases/describe': { base: { aliasName: 'kb' }, required: ['aliasName'], kinds: { aliasName: 'string' }, names: ['aliasName'] },
  'aliases/drop': { base: { aliasName: 'kb' }, required: ['aliasName'], kinds: { aliasName: 'string' }, names: ['aliasName'] },
  'aliases/list': { base: {}, required: [], kinds: { collectionName: 'string' }, names: ['collectionName'] },
  // partitions (milvus_partitions.cc)
  'partitions/create': { base: { collectionName: 'docs', partitionName: 'bi_part' }, extraBase: { collectionName: 'no_such_thing', partitionName: 'p' }, required: ['collectionName', 'partitionName'], kinds: { collectionName: 'string', partitionName: 'string' }, names: ['collectionName', 'partitionName'], creates: true },
  'partitions/drop': { base: { collectionName: 'docs', partitionName: 'no_part' }, required: ['collectionName', 'partitionName'], kinds: { collectionName: 'string', partitionName: 'string' }, names: ['collectionName', 'partitionName'] },
  'partitions/has': { base: { collectionName: 'docs', partitionName: '_default' }, required: ['collectionName', 'partitionName'], kinds: { collectionName: 'string', partitionName: 'string' }, names: ['collectionName', 'partitionName'], answersAbsent: true },
  'partitions/list': { base: { collectionName: 'docs' }, required: ['collectionName'], kinds: { collectionName: 'string' }, names: ['collectionName'] },
  'partitions/get_stats': { base: { collectionName: 'docs', partitionName: '_default' }, required: ['collectionName', 'partitionName'], kinds: { collectionName: 'string', partitionName: 'string' }, names: ['collectionName', 'partitionName'] },
  'partitions/load': { base: { collectionName: 'docs', partitionNames: ['_default'] }, required: ['collectionName', 'partitionNames'], kinds: { collectionName: 'string', partitionNames: 'strings' }, names: ['collectionName', 'partitionNames'] },
  'partitions/release': { base: { collectionName: 'victim', partitionNames: ['no_part'] }, required: ['collectionName', 'partitionNames'], kinds: { collectionName: 'string', partitionNames: 'strings' }, names: ['collectionName', 'partitionNames'] },
  // /ark/v1 (admin_backup.cc)
  'admin:backups/create': { base: { repo: '$REPO', name: 'bi-backup', collections: ['docs'] }, extraBase: { repo: '$REPO', parallel: 0 }, required: ['repo'], kinds: { repo: 'string', name: 'string', collections: 'strings', parallel: 'int', keyFile: 'string', passphraseFile: 'string' }, names: ['name', 'collections', 'keyFile'] },
  'admin:backups/verify': { base: { repo: '$REPO', name: 'none' }, extraBase: { repo: '$REPO', name: 'no_such_backup' }, required: ['repo', 'name'], kinds: { repo: 'string', name: 'string', quick: 'bool' }, names: ['name'] },
  'admin:restores/create': { base: { repo: '$REPO', name: 'none', targetDir: '$RESTORE' }, extraBase: { repo: '$REPO', name: 'no_such_backup', targetDir: '$RESTORE' }, required: ['repo', 'name'], kinds: { repo: 'string', name: 'string', targetDir: 'string', collections: 'strings', rename: 'object', suffix: 'string', parallel: 'int' }, names: ['name', 'collections', 'suffix'] },
  // The same route without targetDir: a restore into this server (a variant: `#...` is not part of the URL).
  'admin:restores/create#into-server': { base: { repo: '$REPO', name: 'none' }, extraBase: { repo: '$REPO', name: 'no_such_backup' }, required: ['repo', 'name'], kinds: { repo: 'string', name: 'string', collections: 'strings', rename: 'object', suffix: 'string', parallel: 'int' }, names: ['name', 'collections', 'suffix'] },
  'admin:backups/list': { base: { repo: '$REPO' }, extraBase: { repo: '$REPO' }, required: ['repo'], kinds: { repo: 'string' }, names: [] },
  'admin:backups/describe': { base: { repo: '$REPO', name: 'none' }, extraBase: { repo: '$REPO', name: 'no_such_backup' }, required: ['repo', 'name'], kinds: { repo: 'string', name: 'string' }, names: ['name'] },
  'admin:backups/delete': { base: { repo: '$REPO', name: 'none' }, extraBase: { repo: '$REPO', name: 'no_such_backup' }, required: ['repo', 'name'], kinds: { repo: 'string', name: 'string' }, names: ['name'] },
  'admin:backups/prune': { base: { repo: '$REPO', keepLast: 1, dryRun: true }, extraBase: { repo: '$REPO', keepLast: -1 }, required: ['repo'], kinds: { repo: 'string', keepLast: 'int', keepDays: 'int', keepDaily: 'int', keepWeekly: 'int', keepMonthly: 'int', graceSeconds: 'int', dryRun: 'bool' }, names: [] },
  'admin:jobs/list': { base: {}, required: [], kinds: {}, names: [] },
  'admin:jobs/get': { base: { jobId: '1' }, extraBase: { jobId: 'job-999999' }, required: ['jobId'], kinds: { jobId: 'string' }, names: ['jobId'] },
  'admin:jobs/cancel': { base: { jobId: '1' }, extraBase: { jobId: 'job-999999' }, required: ['jobId'], kinds: { jobId: 'string' }, names: ['jobId'] },
  // /ark/v1/replication (admin_replication.cc): the standby's side of the
  // protocol is refused before the primary changes anything (a bad version,
  // name or position, or a standby it has no slot for); the stream's
  // refusals are HTTP errors (its client reads the status first).
  'admin:replication/status': { base: {}, required: [], kinds: {}, names: [] },
  'admin:replication/manifest': { base: {}, required: [], kinds: {}, names: [] },
  'admin:replication/bootstrap': { base: { version: 1, standby: 'bi' }, extraBase: { version: 2, standby: 'bi' }, required: ['version', 'standby'], kinds: { version: 'int', standby: 'string' }, names: ['standby'] },
  'admin:replication/bootstrap/finish': { base: { version: 1, standby: 'bi' }, extraBase: { version: 2, standby: 'bi' }, required: ['version', 'standby'], kinds: { version: 'int', standby: 'string' }, names: ['standby'] },
  'admin:replication/feedback': { base: { version: 1, standby: 'bi', written: '1/0', durable: '1/0', applied: '1/0' }, extraBase: { version: 1, standby: 'no_such_standby', written: '1/0', durable: '1/0', applied: '1/0' }, required: ['version', 'standby', 'written', 'durable', 'applied'], kinds: { version: 'int', standby: 'string', written: 'string', durable: 'string', applied: 'string' }, names: ['standby'] },
  // Promotion (failover.md): the matrix's server is a primary, so every
  // well-formed body is refused ("only a standby can be promoted", 1100).
  'admin:failover/promote': { base: {}, required: [], kinds: { force: 'bool', epoch: 'int' }, names: [] },
  // Switchover (failover.md): the matrix's server has no witness, so every
  // well-formed handover is refused (1100) before writes pause; abort and
  // finish are refused with no switchover in progress.
  'admin:failover/handover': { base: { standby: 'bi' }, required: ['standby'], kinds: { standby: 'string', timeoutMs: 'int' }, names: ['standby'] },
  'admin:failover/handover/abort': { base: {}, required: [], kinds: {}, names: [] },
  'admin:failover/handover/finish': { base: { primary: 'http://127.0.0.1:1' }, required: ['primary'], kinds: { primary: 'string' }, names: [] },
  // DR status (admin_dr.cc, docs/formats/dr-status.md): read-only, takes no
  // parameters; any object body (extra fields ignored) is the same question.
  'admin:dr/status': { base: {}, required: [], kinds: {}, names: [] },
  'admin:collections/checksum': { base: { collectionName: 'docs' }, required: [], kinds: { dbName: 'string', collectionName: 'string' }, names: ['collectionName', 'dbName'] },
  'admin:replication/stream': { base: { version: 1, standby: 'bi', after: '1/0', epochs: [] }, extraBase: { version: 1, standby: 'no_such_standby', after: '1/0', epochs: [] }, http: [400, 401, 404, 409], required: ['version', 'standby', 'after', 'epochs'], kinds: { version: 'int', standby: 'string', after: 'string', epochs: 'array' }, names: ['standby'] },
};

function urlOf(route) {
  route = route.replace(/#.*$/, '');  // a variant of a route (another body shape)
  return route.startsWith('admin:') ? `/ark/v1/${route.slice(6)}` : `/v2/vectordb/${route}`;
}

// The routes the server registers, read from its sources (there is no
// route-listing endpoint): every RegisterMilvus("...") / RegisterAdmin("...")
// / RegisterReplication("...") and every POST RegisterRaw("...", false, ...).
function registeredRoutes() {
  const found = new Set();
  for (const file of fs.readdirSync(path.join(SRC, 'server'))) {
    if (!file.endsWith('.cc')) continue;
    const text = fs.readFileSync(path.join(SRC, 'server', file), 'utf8');
    for (const m of text.matchAll(/Register(Milvus|Admin|Replication)\(\s*"([^"]+)"/g)) {
      found.add(m[1] === 'Milvus' ? m[2] : `admin:${m[2]}`);
    }
    for (const m of text.matchAll(/RegisterRaw\(\s*"([^"]+)",\s*\/\*get=\*\/false/g)) found.add(`admin:${m[1]}`);
  }
  return [...found].sort();
}

// Milvus codes docs/server.md lists for bad requests (1200 "unexpected" is
// a server-side failure, never a right answer to bad input).
const NOT_FOUND = [100, 200, 700, 800];
const DOCUMENTED = new Set([100, 101, 200, 201, 700, 800, 1100, 1801, 1802, 1804, 1806]);  // 200/201: partition not found / not loaded

// ---------------------------------------------------------------------------
// The cases.
// ---------------------------------------------------------------------------

const WRONG = {
  string: [123, true, ['x'], { a: 1 }],
  int: ['10', true, [1], { a: 1 }, 1.5],
  dim: [true, [1], { a: 1 }, 1.5, '4x', ''],  // "768" is a legal dim (Milvus takes strings)
  bool: ['true', 1, [true]],
  object: ['x', 5, [1]],
  array: ['x', 5, { a: 1 }],
  strings: ['x', 5, { a: 1 }, [1, 2]],
  rows: ['x', 5, [1, 2], [[1, 2]]],
  vectors: ['x', 5, [['a', 'b', 'c', 'd']], [{ a: 1 }]],
  ids: [true, { a: 1 }, [[1]], 1.5],
};
// Numbers as JSON text, so that 2^63, 2^64 and 1e300 reach the server as written.
const BAD_NUMBERS = ['-1', '1e300', '-1e300', '9223372036854775808', '18446744073709551616',
  '-9223372036854775809', '0.5', '1e-300'];
const BAD_NAMES = ['../escape', '../../etc/passwd', 'a/b', '/abs', 'a\u0000b', '', ' ', '.', '..',
  'x'.repeat(70000), 'é\u202e', 'a\\b'];
const NESTING = 100000;

const kind = (spec, key) => spec.kinds[key];
const deep = (n) => '['.repeat(n) + ']'.repeat(n);
const deepObject = (n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);

// Each case: { route, what, body (string|Buffer, sent as is), expect }.
// expect: { codes: [...], http: [...], mention: [...] (the message names one
// of them), allowOk: true when the input is legal for the route }.
function buildCases(ctx, routes) {
  const cases = [];
  const fill = (v) => JSON.parse(JSON.stringify(v).replaceAll('"$REPO"', JSON.stringify(ctx.repo))
    .replaceAll('"$RESTORE"', JSON.stringify(ctx.restoreDir)));
  for (const route of routes) {
    const spec = ROUTES[route];
    const base = fill(spec.base);
    const isAdmin = route.startsWith('admin:');
    const add = (what, body, expect) => cases.push({ route, what, body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body), expect });
    const needsSomething = spec.required.length > 0;

    // Body-level damage: the same answer for every route.
    add('not JSON', '{"collectionName": ', { codes: [1801], mention: ['JSON'] });
    add('JSON array, not an object', '[1,2,3]', { codes: [1801], mention: ['object'] });
    add('JSON string, not an object', '"collections"', { codes: [1801], mention: ['object'] });
    add('trailing garbage', `${JSON.stringify(base)} x`, { codes: [1801], mention: ['JSON'] });
    add('NaN token', JSON.stringify(base).replace(/^\{/, '{"limit": NaN, '), { codes: [1801], mention: ['JSON'] });
    add('Infinity token', JSON.stringify(base).replace(/^\{/, '{"dimension": Infinity, '), { codes: [1801], mention: ['JSON'] });
    add('-Infinity in a vector', JSON.stringify(base).replace(/^\{/, '{"data": [[-Infinity, 0, 0, 0]], '), { codes: [1801], mention: ['JSON'] });
    add('invalid UTF-8 in a string', Buffer.concat([Buffer.from('{"collectionName": "do'), Buffer.from([0xff, 0xfe]), Buffer.from('cs"}')]), { codes: [1801], mention: ['JSON'] });
    add('overlong UTF-8 "/"', Buffer.concat([Buffer.from('{"collectionName": "..'), Buffer.from([0xc0, 0xaf]), Buffer.from('x"}')]), { codes: [1801], mention: ['JSON'] });
    add('lone surrogate escape', '{"collectionName": "\\ud800"}', { codes: [1801], mention: ['JSON'] });
    add(`${NESTING} nested arrays as the body`, deep(NESTING), { codes: [1801], mention: ['object', 'JSON'] });
    // Bodies nested deeper than 64 levels are refused before parsing
    // (http_server.cc, json_depth.h): a 10^5-deep value used to overflow the
    // stack through nlohmann's recursive copy/dump and kill the server.
    add(`${NESTING} nested objects as the body`, deepObject(NESTING), { codes: [1801], mention: ['deeper than 64'] });
    for (const key of Object.keys(spec.kinds)) {
      const nested = JSON.stringify({ ...base, [key]: '$DEEP' }).replace('"$DEEP"', deep(NESTING));
      add(`${NESTING} nested arrays in ${key}`, nested, { codes: [1801], mention: ['deeper than 64'] });
    }
    add('empty body', '', needsSomething ? { codes: [1802], mention: spec.required } : { codes: [], allowOk: true });
    add('empty object', '{}', needsSomething ? { codes: [1802], mention: spec.required } : { codes: [], allowOk: true });
    add('oversize body', `{"collectionName": "docs", "pad": "${'x'.repeat(MAX_BODY + 10)}"}`, { codes: [1100], http: [413], mention: ['max_body_bytes'] });

    // Missing each required field.
    for (const key of spec.required) {
      const b = { ...base };
      delete b[key];
      add(`missing ${key}`, b, { codes: [1802], mention: [key] });
      add(`${key}: null`, { ...base, [key]: null }, { codes: [1802], mention: [key] });
    }
    // Wrong types.
    for (const [key, kind] of Object.entries(spec.kinds)) {
      if (key === 'dbName') continue;  // below: dbName falls back to the header / default
      for (const v of WRONG[kind] || []) {
        add(`${key}: ${JSON.stringify(v)} (wrong type)`, { ...base, [key]: v },
          { codes: [1100, 1802, 1804], mention: kind === 'rows' ? [key, 'row'] : [key] });
      }
    }
    // Out-of-range and huge numbers.
    for (const [key, kind] of Object.entries(spec.kinds)) {
      if (kind !== 'int' && kind !== 'dim') continue;
      for (const n of BAD_NUMBERS) {
        const body = JSON.stringify({ ...base, [key]: '$N' }).replace('"$N"', n);
        add(`${key}: ${n}`, body, { codes: [1100], mention: [key] });
      }
    }
    // Names with path characters, NUL, very long. A lookup may answer "not
    // found" (the name cannot exist); a create must refuse the name.
    for (const key of spec.names) {
      for (const name of BAD_NAMES) {
        // An empty optional name means "not given" (the default database,
        // the default backup name, no key file, no suffix).
        if (name === '' && !spec.required.includes(key)) continue;
        const v = spec.kinds[key] === 'strings' ? [name] : name;
        const shown = name.length > 40 ? `${name.length} x "${name[0]}"` : JSON.stringify(name);
        const creating = spec.creates && key !== 'collectionName' ? true : (spec.creates && route === 'collections/create');
        const mention = [key, 'name', 'Name', 'key', 'job id', 'partition'];
        let expect;
        if (spec.answersAbsent) expect = { codes: [1100], allowOk: true };  // has: {"has": false}
        else if (creating || route === 'databases/create' || isAdmin) expect = { codes: [1100, 1802], mention };
        else expect = { codes: [1100, 1802, ...NOT_FOUND, ...(route.startsWith('entities/') ? [1804] : [])], mention: [...mention, 'collection', 'database', 'alias', 'index'] };
        add(`${key}: ${shown}`, { ...base, [key]: v }, expect);
      }
    }
    // Extra fields: ignored. Sent with the target pointed at nothing, so the
    // answer must be exactly the not-found answer of the same body without them.
    const extras = { zzUnknown: 1, nested: { deep: [1, { x: null }] }, 'key with spaces': 'v', '': 0 };
    const nowhere = spec.extraBase ? fill(spec.extraBase) : { ...base };
    if (spec.required.length && !spec.extraBase) nowhere[spec.required[0]] = spec.kinds[spec.required[0]] === 'int' ? 987654321 : 'no_such_thing';
    cases.push({ route, what: 'extra fields', body: JSON.stringify({ ...nowhere, ...extras }), compareWith: JSON.stringify(nowhere), expect: { sameAsWithout: true } });

    // dbName of the wrong type or naming nothing must not silently fall back to "default".
    // The collection is `kc`, which exists only in database `keep`: a server
    // that falls back to `default` answers "not found" instead of changing it.
    if (!isAdmin && !route.startsWith('databases/') && route !== 'collections/get_compaction_state') {
      // (collections/create would create `kc` in the fallback database: it gets `docs`, which exists there.)
      const inKeep = route === 'collections/create' ? { ...base, collectionName: 'docs' }
        : 'collectionName' in base ? { ...base, collectionName: 'kc' } : { ...base };
      add('dbName: 5 (wrong type)', { ...inKeep, dbName: 5 }, { codes: [1100, 1802], mention: ['dbName'] });
      add('dbName: "no_such_db"', { ...inKeep, dbName: 'no_such_db' }, { codes: [800, 100, 1100], mention: ['no_such_db'] });
    }
  }
  return cases;
}

// Rows that answer wrongly in code this suite may not change; each is an
// open finding in docs/reliability.md. Key: `${route} | ${what}` (regexes).
const KNOWN_FAILURES = [
  // Fixed 2026-11-26 (rows kept as regressions): a non-string dbName was
  // ignored (now 1100), an unknown dbName listed as empty (now 800), a
  // non-string newDbName was 1200, a 10^5-deep value in any key killed the
  // server (now 1801 at the edge), the simdjson path read a dom::object after
  // its scope (ASan).
];

// An entry's optional third element must also match the wrong answer.
function knownFailure(c, wrong) {
  const key = `${c.route} | ${c.what}`;
  return KNOWN_FAILURES.find(([re, , answer]) => re.test(key) && (!answer || (wrong && answer.test(wrong))));
}

// Checks one answer against its expectation; returns null or what is wrong.
function judge(c, r, ref) {
  if (!r.json || typeof r.json !== 'object' || typeof r.json.code !== 'number') {
    return `not a JSON envelope (HTTP ${r.status}, ${r.headers['content-type']}): ${r.body.slice(0, 200)}`;
  }
  if (r.status >= 500) return `HTTP ${r.status}: ${r.body.slice(0, 300)}`;
  if (/<html|<!doctype/i.test(r.body)) return `HTML answer: ${r.body.slice(0, 200)}`;
  const { code, message } = r.json;
  if (c.expect.sameAsWithout) {
    if (ref.json?.code !== code) return `code ${code} differs from ${ref.json?.code} without the extra fields: ${r.body.slice(0, 300)}`;
    return null;
  }
  if (code === 0) return c.expect.allowOk ? null : `accepted (code 0): ${r.body.slice(0, 300)}`;
  if (!DOCUMENTED.has(code)) return `code ${code} is not a documented bad-input code: ${r.body.slice(0, 300)}`;
  if (!c.expect.allowOk && !c.expect.codes.includes(code)) {
    return `code ${code}, expected ${c.expect.codes.join(' or ')}: ${r.body.slice(0, 300)}`;
  }
  const http = c.expect.http || ROUTES[c.route]?.http || [200];
  if (!http.includes(r.status)) return `HTTP ${r.status}, expected ${http.join('/')}: ${r.body.slice(0, 200)}`;
  if (typeof message !== 'string' || message.length === 0) return `no message: ${r.body.slice(0, 200)}`;
  if (c.expect.mention && !c.expect.mention.some((m) => message.includes(m))) {
    return `message does not name ${c.expect.mention.join(' / ')}: ${message.slice(0, 300)}`;
  }
  return null;
}

// ---------------------------------------------------------------------------
// Fixture and checksum.
// ---------------------------------------------------------------------------

async function call(endpoint, route, body) {
  const r = await rawPost(endpoint, urlOf(route), JSON.stringify(body));
  assert.equal(r.json?.code, 0, `${route} ${JSON.stringify(body).slice(0, 200)}: ${r.body.slice(0, 300)}`);
  return r.json.data;
}

async function seed(endpoint) {
  await call(endpoint, 'collections/create', {
    collectionName: 'docs',
    schema: {
      autoID: false, enableDynamicField: true,
      fields: [
        { fieldName: 'id', dataType: 'Int64', isPrimary: true },
        { fieldName: 'tag', dataType: 'VarChar', elementTypeParams: { max_length: 64 } },
        { fieldName: 'vec', dataType: 'FloatVector', elementTypeParams: { dim: DIM } },
      ],
    },
    indexParams: [{ fieldName: 'vec', indexName: 'vec', metricType: 'L2', params: { index_type: 'HNSW', M: 8, efConstruction: 32 } }],
  });
  const rows = (from, to) => Array.from({ length: to - from }, (_, k) => from + k)
    .map((id) => ({ id, tag: `t${id}`, vec: vec(id), n: id, s: `e${id}` }));  // dynamic keys
  await call(endpoint, 'entities/insert', { collectionName: 'docs', data: rows(1, 41) });
  await call(endpoint, 'collections/flush', { collectionName: 'docs' });  // a sealed segment
  await call(endpoint, 'entities/insert', { collectionName: 'docs', data: rows(41, 61) });  // and a growing one
  await call(endpoint, 'collections/create', { collectionName: 'other', dimension: DIM });
  await call(endpoint, 'entities/insert', { collectionName: 'other', data: [1, 2, 3].map((id) => ({ id, vector: vec(id) })) });
  await call(endpoint, 'collections/create', { collectionName: 'victim', dimension: DIM });
  await call(endpoint, 'entities/insert', { collectionName: 'victim', data: [7].map((id) => ({ id, vector: vec(id) })) });
  await call(endpoint, 'aliases/create', { collectionName: 'docs', aliasName: 'kb' });
  await call(endpoint, 'databases/create', { dbName: 'keep' });
  await call(endpoint, 'databases/create', { dbName: 'empty' });
  await call(endpoint, 'collections/create', { dbName: 'keep', collectionName: 'kc', dimension: DIM });
  await call(endpoint, 'entities/insert', { dbName: 'keep', collectionName: 'kc', data: [5, 6].map((id) => ({ id, vector: vec(id) })) });
  // Wait for the background HNSW build, so the checksum does not see it finish.
  const deadline = Date.now() + 30000;
  for (;;) {
    const d = await call(endpoint, 'indexes/describe', { collectionName: 'docs', indexName: 'vec' });
    if (d[0].indexState === 'Finished' && d[0].pendingRows === 0) break;
    assert.ok(Date.now() < deadline, `index build did not finish: ${JSON.stringify(d)}`);
    await new Promise((r) => setTimeout(r, 50));  // polling interval
  }
}

// A hash of everything stored, read through the API: databases, collections
// (schema, load state, stats), every row ordered by primary key, indexes and
// aliases. `parts` names what went into the hash, for a failure report.
async function checksum(endpoint) {
  const parts = {};
  const dbs = (await call(endpoint, 'databases/list', {})).sort();
  parts.databases = dbs;
  for (const dbName of dbs) {
    const colls = (await call(endpoint, 'collections/list', { dbName })).sort();
    parts[`${dbName}.collections`] = colls;
    parts[`${dbName}.aliases`] = (await call(endpoint, 'aliases/list', { dbName })).sort();
    for (const a of parts[`${dbName}.aliases`]) {
      parts[`${dbName}.alias.${a}`] = await call(endpoint, 'aliases/describe', { dbName, aliasName: a });
    }
    for (const collectionName of colls) {
      const d = await call(endpoint, 'collections/describe', { dbName, collectionName });
      const pk = d.fields.find((f) => f.primaryKey).name;
      const rows = await call(endpoint, 'entities/query', {
        dbName, collectionName, filter: `${pk} >= -9223372036854775807`, outputFields: ['*'], limit: 16384,
      });
      rows.sort((a, b) => (BigInt(a[pk]) < BigInt(b[pk]) ? -1 : 1));
      parts[`${dbName}.${collectionName}.describe`] = d;
      parts[`${dbName}.${collectionName}.rows`] = rows;
      parts[`${dbName}.${collectionName}.stats`] = await call(endpoint, 'collections/get_stats', { dbName, collectionName });
      if (checksum.partitions) {
        parts[`${dbName}.${collectionName}.partitions`] = (await call(endpoint, 'partitions/list', { dbName, collectionName })).sort();
      }
      const indexes = await call(endpoint, 'indexes/list', { dbName, collectionName });
      for (const indexName of indexes) {
        parts[`${dbName}.${collectionName}.index.${indexName}`] =
          await call(endpoint, 'indexes/describe', { dbName, collectionName, indexName });
      }
    }
  }
  const hash = crypto.createHash('sha256').update(JSON.stringify(parts)).digest('hex');
  return { hash, parts };
}

function diffParts(a, b) {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]))
    .map((k) => `${k}: ${JSON.stringify(a[k])?.slice(0, 300)} -> ${JSON.stringify(b[k])?.slice(0, 300)}`);
}

// ---------------------------------------------------------------------------
// REST matrix.
// ---------------------------------------------------------------------------

// The routes this binary serves, among those its sources register and the
// table lists: a route is served when '{}' does not get the unknown-route
// answer (HTTP 404, "is not supported by Ark").
async function servedRoutes(endpoint) {
  const candidates = [...new Set([...registeredRoutes(), ...Object.keys(ROUTES)])].sort();
  const served = [];
  for (const route of candidates) {
    const r = await rawPost(endpoint, urlOf(route), '{}');
    if (!(r.status === 404 && /is not supported by Ark/.test(r.body))) served.push(route);
  }
  return served;
}

test('bad-input matrix: the route table is every route the server registers', async (t) => {
  const registered = registeredRoutes();
  assert.ok(registered.length >= 40, `found only ${registered.length} routes in ${SRC}/server`);
  const server = await startServe('bad-input-routes');
  t.after(() => server.cleanup());
  // An unknown route gets the unknown-route answer under either prefix.
  const unknown = await rawPost(server.endpoint, '/v2/vectordb/collections/no_such_verb', '{}');
  assert.equal(unknown.status, 404);
  assert.equal(unknown.json?.code, 1100);
  assert.match(unknown.json.message, /collections\/no_such_verb is not supported/);
  const unknownAdmin = await rawPost(server.endpoint, '/ark/v1/no/such', '{}');
  assert.equal(unknownAdmin.status, 404, unknownAdmin.body);
  const served = await servedRoutes(server.endpoint);
  // Every route the binary serves is in the table (a new route must get its row).
  assert.deepEqual(served.filter((r) => !ROUTES[r]), [], 'routes served but missing from ROUTES');
  // Every route registered in the sources is served (else the binary is older
  // than the tree: said, not failed, as the matrix tests the binary).
  const notServed = registered.filter((r) => !served.includes(r));
  if (notServed.length) t.diagnostic(`registered in src/ but not served by ${process.env.ARK_BIN}: ${notServed.join(', ')}`);
  const tableOnly = Object.keys(ROUTES).filter((r) => !served.includes(r));
  if (tableOnly.length) t.diagnostic(`in the table but not served by this binary (skipped): ${tableOnly.join(', ')}`);
  assert.ok(served.length >= 44, `only ${served.length} routes served`);
});

test('bad-input matrix: every route answers bad bodies with a documented error and loses nothing', async (t) => {
  const yaml = `limits: {max_body_bytes: ${MAX_BODY}}\n`;
  let server = await startServe('bad-input', { yaml });
  const dataDir = server.dataDir;
  const servers = [server];
  t.after(async () => {
    for (const s of servers) await s.stop();
    for (const s of servers) fs.rmSync(s.dir, { recursive: true, force: true });
  });
  const repo = path.join(server.dir, 'repo');
  const restoreDir = path.join(server.dir, 'restored');
  fs.mkdirSync(repo);
  await seed(server.endpoint);
  checksum.partitions = (await servedRoutes(server.endpoint)).includes('partitions/list');
  const before = await checksum(server.endpoint);
  assert.equal(before.parts['default.docs.rows'].length, 60);

  const routes = (await servedRoutes(server.endpoint)).filter((r) => ROUTES[r]);
  const cases = buildCases({ repo, restoreDir }, routes);
  const failures = [];
  const todos = [];
  const fixedKnown = [];
  const sanitizerReports = [];
  let crashes = 0;
  for (const c of cases) {
    let wrong = null;
    let r;
    try {
      // An oversize body is read and discarded before the 413 (a lingering
      // close), so the client gets the answer, never a reset connection.
      r = await rawPost(server.endpoint, urlOf(c.route), c.body);
      const ref = c.compareWith ? await rawPost(server.endpoint, urlOf(c.route), c.compareWith) : null;
      wrong = judge(c, r, ref);
    } catch (err) {
      wrong = `transport error ${err.message}`;
    }
    // The server is still up after every case.
    const health = await fetch(`${server.endpoint}/healthz`).catch((e) => ({ status: `down: ${e.message}` }));
    if (health.status !== 200 || !server.alive()) {
      const exit = await Promise.race([server.exited, new Promise((res) => setTimeout(() => res(null), 5000))]);
      const out = server.output();
      const summary = (out.match(/SUMMARY: .*|runtime error: .*/) || ['no sanitizer summary'])[0];
      wrong = `server died (${JSON.stringify(exit)}; /healthz ${health.status}): ${summary.slice(0, 300)}`;
      crashes += 1;
      await server.stop();
      // Go on with a restarted server on the same data (the checksum at the
      // end still compares against the data seeded above).
      server = await startServe('bad-input', { yaml, dataDir });
      servers.push(server);
    }
    const known = knownFailure(c, wrong);
    if (wrong && known) todos.push(`${c.route} | ${c.what}: ${wrong} [${known[1]}]`);
    else if (wrong) failures.push(`${c.route} | ${c.what}: ${wrong}`);
    else if (known) fixedKnown.push(`${c.route} | ${c.what}`);
  }
  const after = await checksum(server.endpoint);
  await server.stop();
  for (const s of servers) {
    const m = s.output().match(/SUMMARY: (AddressSanitizer|UndefinedBehaviorSanitizer|LeakSanitizer).*|runtime error: .*/g);
    if (m) sanitizerReports.push(...m);
  }
  t.diagnostic(`${cases.length} cases over ${routes.length} routes; ` +
    `${failures.length} wrong, ${todos.length} known failures, ${crashes} server deaths`);
  for (const line of todos) t.diagnostic(`known: ${line.slice(0, 400)}`);
  if (todos.length) {
    await t.test(`known failures (${todos.length}, open findings)`, { todo: true }, () => {
      assert.fail(todos.join('\n'));
    });
  }
  assert.deepEqual(failures, [], `${failures.length} wrong answers:\n${failures.join('\n')}`);
  assert.deepEqual(fixedKnown, [], 'these known failures now pass: remove them from KNOWN_FAILURES');
  assert.equal(after.hash, before.hash, `stored data changed:\n${diffParts(before.parts, after.parts).join('\n')}`);
  // Nothing at all is written there, not even the local store's temp directory.
  assert.deepEqual(fs.readdirSync(repo), [], 'the backup repository was written to');
  assert.equal(fs.existsSync(restoreDir), false, 'a restore ran');
  // Sanitizer reports are allowed only from known crashes.
  const knownCrashes = todos.filter((l) => l.includes('server died')).length;
  assert.ok(sanitizerReports.length <= knownCrashes, `sanitizer reports:\n${sanitizerReports.join('\n')}`);
});

module.exports = { ROUTES, registeredRoutes, seed, checksum, diffParts, call };

// ---------------------------------------------------------------------------
// CLI matrix: every `ark` subcommand with bad arguments exits non-zero with a
// message naming the problem, without a signal or a sanitizer report, and a
// seeded data directory (hashed file by file) is unchanged.
// ---------------------------------------------------------------------------

// Runs `ark args` with a deadline (a command that wrongly starts serving is
// killed and reported). Resolves { status, signal, stdout, stderr, timedOut }.
function runArkTimed(args, timeoutMs = 30000) {
  const { spawn } = require('node:child_process');
  const { arkBin } = require('./helpers');
  return new Promise((resolve, reject) => {
    const child = spawn(arkBin(), args, { stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_ENDPOINT_URL: '' } });
    const out = [];
    const err = [];
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
    child.stdout.on('data', (c) => out.push(c));
    child.stderr.on('data', (c) => err.push(c));
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, timedOut, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

// sha256 over every file's relative path, size and bytes (and every directory's name).
function treeHash(dir, skip = () => false) {
  const h = crypto.createHash('sha256');
  const walk = (d, rel) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (skip(path.join(rel, e.name))) continue;
      const p = path.join(d, e.name);
      const r = path.join(rel, e.name);
      if (e.isDirectory()) { h.update(`d ${r}\n`); walk(p, r); } else {
        const b = fs.readFileSync(p);
        h.update(`f ${r} ${b.length}\n`);
        h.update(b);
      }
    }
  };
  walk(dir, '');
  return h.digest('hex');
}

// Each row: [args, words the message must contain one of]. `$D` is the
// (`$M`: a missing path that these rows create before refusing — an open
// finding, docs/reliability.md; `$N` must stay absent.)
// seeded data directory, `$F` a garbage file, `$R` an initialised empty
// repository, `$N` a path that does not exist, `$E` an empty directory.
const CLI_CASES = [
  [[], ['subcommand']],
  [['nosuch'], ['nosuch']],
  [['--bogus'], ['bogus']],
  [['version', '--bogus'], ['bogus']],
  // serve
  [['serve', '--bogus'], ['bogus']],
  [['serve', '--listen'], ['listen']],
  [['serve', '--data-dir', '$D', '--listen', 'nonsense'], ['nonsense', 'HOST:PORT']],
  [['serve', '--data-dir', '$D', '--listen', '127.0.0.1:99999'], ['99999', 'port']],
  [['serve', '--data-dir', '$D', '--listen', '127.0.0.1:-1'], ['-1', 'HOST:PORT']],
  [['serve', '--data-dir', '$D', '--wal-sync', 'sometimes'], ['sometimes', 'wal']],
  [['serve', '--data-dir', '$D', '--config', '$N'], ['$N']],
  [['serve', '--data-dir', '$D', '--config', '$F'], ['$F', 'config']],
  [['serve', '--data-dir', '$D', '--listen', '127.0.0.1:0', '--config', '$E'], ['$E', 'config']],
  [['serve', '--data-dir', '$F', '--listen', '127.0.0.1:0'], ['$F']],
  [['serve', '--data-dir', '$X', '--listen', '127.0.0.1:0', '--standby-of', 'ftp://host:1'], ['ftp://host:1', 'replication.primary']],
  [['serve', '--data-dir', '$X', '--listen', '127.0.0.1:0', '--standby-of', 'http://127.0.0.1:1', '--standby-name', 'bad name!'], ['bad name!', 'standby name']],
  [['serve', '--data-dir', '$D', '--listen', '127.0.0.1:0', '--standby-of', 'http://127.0.0.1:1'], ['$D', 'not a standby']],
  // demo
  [['demo', '--data-dir'], ['data-dir']],
  [['demo', '--data-dir', '$F'], ['$F']],
  [['demo', '--bogus'], ['bogus']],
  // inspect
  [['inspect'], ['subcommand']],
  [['inspect', 'manifest'], ['PATH', 'required']],
  [['inspect', 'manifest', '$N'], ['$N']],
  [['inspect', 'manifest', '$F'], ['$F']],
  [['inspect', 'manifest', '$E'], ['$E']],
  [['inspect', 'manifest', '$D', '--bogus'], ['bogus']],
  [['inspect', 'segment', '$F'], ['$F']],
  [['inspect', 'segment', '$N'], ['$N']],
  [['inspect', 'segment', '$D'], ['$D']],
  [['inspect', 'segment', '$F', '--rows', 'abc'], ['rows']],
  [['inspect', 'segment', '$F', '--rows', '1e300'], ['rows']],
  [['inspect', 'segment', '$F', '--rows', '-1'], ['rows']],
  [['inspect', 'wal', '$F'], ['$F']],
  [['inspect', 'wal', '$N'], ['$N']],
  [['inspect', 'wal', '$E'], ['$E', 'WAL', 'wal']],
  // backup
  [['backup'], ['subcommand']],
  [['backup', 'create', '--data-dir', '$D'], ['repo']],
  [['backup', 'create', '--data-dir', '$D', '--repo', '$F'], ['$F']],
  [['backup', 'create', '--data-dir', '$F', '--repo', '$R'], ['$F']],
  [['backup', 'create', '--data-dir', '$N', '--repo', '$R'], ['$N']],
  [['backup', 'create', '--data-dir', '$D', '--repo', '$R', '--parallel', '0'], ['parallel']],
  [['backup', 'create', '--data-dir', '$D', '--repo', '$R', '--parallel', '1e300'], ['parallel']],
  [['backup', 'create', '--data-dir', '$D', '--repo', '$R', '-n', '../escape'], ['../escape', 'name']],
  [['backup', 'create', '--data-dir', '$D', '--repo', '$R', '-n', 'a/b'], ['a/b', 'name']],
  [['backup', 'create', '--data-dir', '$D', '--repo', '$R', '-c', '../x'], ['../x']],
  [['backup', 'create', '--data-dir', '$D', '--repo', '$R', '-c', 'no_such_collection'], ['no_such_collection']],
  [['backup', 'create', '--data-dir', '$D', '--repo', '$M', '--compression', 'lz4'], ['lz4', 'compression']],
  [['backup', 'create', '--data-dir', '$D', '--repo', '$M', '--zstd-level', '99'], ['99', 'zstd']],
  [['backup', 'create', '--server', 'notaurl', '--repo', '$R'], ['notaurl']],
  [['backup', 'create', '--data-dir', '$D', '--server', 'http://127.0.0.1:1', '--repo', '$R'], ['data-dir', 'server']],
  [['backup', 'list'], ['repo']],
  [['backup', 'list', '--repo', '$M'], ['$M']],
  [['backup', 'list', '--repo', '$F'], ['$F']],
  [['backup', 'list', '--repo', '$X'], ['$X', 'repository']],  // $X: an empty directory, which must stay empty
  [['backup', 'list', '--repo', '$R', '--key-file', '$N'], ['$N', 'key']],
  [['backup', 'describe', '--repo', '$R'], ['name']],
  [['backup', 'describe', '../escape', '--repo', '$R'], ['../escape']],
  [['backup', 'describe', 'nope', '--repo', '$R'], ['nope']],
  [['backup', 'verify', '../escape', '--repo', '$R'], ['../escape']],
  [['backup', 'verify', 'nope', '--repo', '$R', '--parallel', '-3'], ['parallel']],
  [['backup', 'delete', '../escape', '--repo', '$R'], ['../escape']],
  [['backup', 'delete', 'nope', '--repo', '$R'], ['nope']],
  [['backup', 'prune', '--repo', '$R', '--keep-last', 'abc'], ['keep-last']],
  [['backup', 'prune', '--repo', '$R', '--keep-last', '-1'], ['keep-last', '-1']],
  [['backup', 'prune', '--repo', '$R', '--keep-days', '99999999999999999999'], ['keep-days']],
  [['backup', 'prune', '--repo', '$R', '--grace', 'banana'], ['banana', 'grace']],
  [['backup', 'init', '--repo', '$F'], ['$F']],
  [['backup', 'init', '--repo', '$N', '--encrypt'], ['key', 'passphrase']],
  [['backup', 'init', '--repo', '$M', '--zstd-level', '0'], ['zstd', '0']],
  [['backup', 'init', '--repo', '$R'], ['$R', 'exists', 'already']],
  // restore
  [['restore', '--repo', '$R'], ['name']],
  [['restore', '-n', 'nope', '--repo', '$R', '--data-dir', '$D'], ['$D', 'nope']],
  [['restore', '-n', 'nope', '--repo', '$R', '--data-dir', '$F'], ['$F', 'nope']],
  [['restore', '-n', '../escape', '--repo', '$R', '--data-dir', '$N'], ['../escape']],
  [['restore', '-n', 'nope', '--repo', '$R', '--data-dir', '$N', '--rename', 'nocolon'], ['nocolon']],
  [['restore', '-n', 'nope', '--repo', '$R', '--data-dir', '$N', '--suffix', '/../x'], ['suffix', '/../x']],
  [['restore', '-n', 'nope', '--repo', '$R', '--data-dir', '$N', '--parallel', '0'], ['parallel']],
  [['restore', '-n', 'nope', '--repo', '$R'], ['data-dir', 'server']],
  [['restore', '--repo', '$R', '--data-dir', '$N', '--to-time', 'yesterday'], ['yesterday']],
  [['restore', '--repo', '$R', '--data-dir', '$N', '--to-time', '2026-13-01T00:00:00Z'], ['2026-13-01']],
  [['restore', '--repo', '$R', '--data-dir', '$N', '--to-position', 'x/y'], ['x/y']],
  [['restore', '--repo', '$R', '--data-dir', '$N', '--to-latest', '--to-position', '1/5'], ['one of']],
  [['restore', '--repo', '$R', '--data-dir', '$N', '--to-latest'], ['no archived WAL']],
  [['restore', '--repo', '$R', '--data-dir', '$D', '--to-latest'], ['$D', 'not empty']],
  [['restore', '-n', 'nope', '--repo', '$R', '--data-dir', '$N', '--epoch', '2'], ['epoch']],
  // archive
  [['archive'], ['subcommand']],
  [['archive', 'status', '--repo', '$N'], ['$N', 'no repository']],
  [['archive', 'status', '--repo', '$F'], ['$F']],
  [['archive', 'verify', '--repo', '$R', '--from', 'abc'], ['abc']],
  [['archive', 'verify', '--repo', '$R', '--epoch', 'x'], ['epoch']],
  // replication
  [['replication'], ['subcommand']],
  [['replication', 'status', '--server', 'http://127.0.0.1:1'], ['127.0.0.1:1', 'cannot reach']],
  [['replication', 'status', '--server', 'nonsense'], ['nonsense']],
  [['replication', 'status', '--bogus'], ['bogus']],
  // objectstore
  [['objectstore'], ['subcommand']],
  // (`objectstore ls` of a missing local path lists nothing and exits 0: a
  // prefix without keys, as on S3; not an error.)
  [['objectstore', 'ls', '$R', '--page-size', '0'], ['0', 'max_keys', 'page']],
  [['objectstore', 'ls', '$R', '--page-size', 'x'], ['page-size']],
  [['objectstore', 'ls', 'ftp://host/x'], ['ftp']],
  [['objectstore', 'get', '$R/no-such-key'], ['no-such-key']],
  [['objectstore', 'get', '$R/ark-repo.json', '--range', 'abc'], ['abc', 'range']],
  [['objectstore', 'get', '$R/ark-repo.json', '--range', '-5:2'], ['-5', 'range']],
  [['objectstore', 'put', '$R/x', '$N'], ['$N']],
  [['objectstore', 'put', '$N', '$R/x'], ['$N', 'FILE first']],
  [['failover'], ['subcommand']],
  [['failover', 'promote', '--server', 'http://127.0.0.1:1'], ['127.0.0.1:1', 'cannot reach']],
  [['failover', 'promote', '--epoch', 'x'], ['epoch']],
  [['failover', 'status', '--bogus'], ['bogus']],
  [['failover', 'rejoin', '--primary', 'http://127.0.0.1:1'], ['data-dir']],
  [['failover', 'rejoin', '--data-dir', '$D', '--primary', 'http://127.0.0.1:1'], ['127.0.0.1:1', 'cannot reach']],
  [['failover', 'rejoin', '--data-dir', '$D', '--primary', 'nonsense'], ['nonsense']],
  [['failover', 'rejoin', '--data-dir', '$N', '--primary', 'nonsense'], ['nonsense']],
  // the failover monitor (docs/failover.md): refused before it serves anything
  [['monitor'], ['node']],
  [['monitor', '--node', 'a'], ['NAME=']],
  [['monitor', '--node', 'a=http://127.0.0.1:1', '--node', 'a=http://127.0.0.1:2'], ['twice']],
  [['monitor', '--node', 'a=nonsense', '--node', 'b=http://127.0.0.1:2'], ['nonsense']],
  [['monitor', '--node', 'a b=http://127.0.0.1:1', '--node', 'b=http://127.0.0.1:2'], ['holder', 'a b']],
  [['monitor', '--node', 'a=http://127.0.0.1:1', '--node', 'b=http://127.0.0.1:2', '--failures', '0'], ['failures']],
  [['monitor', '--node', 'a=http://127.0.0.1:1', '--node', 'b=http://127.0.0.1:2', '--check-interval-ms', '1'], ['interval']],
  [['monitor', '--node', 'a=http://127.0.0.1:1', '--node', 'b=http://127.0.0.1:2', '--hook', '$N'], ['$N']],
  [['monitor', '--node', 'a=http://127.0.0.1:1', '--node', 'b=http://127.0.0.1:2', '--listen', 'nonsense'], ['nonsense']],
  [['monitor', '--node', 'a=http://127.0.0.1:1', '--node', 'b=http://127.0.0.1:2', '--witness', 'etcd:/x'], ['etcd:/x']],
  [['monitor', '--node', 'a=http://127.0.0.1:1', '--node', 'b=http://127.0.0.1:2', '--dns-server', '127.0.0.1:5353',
    '--dns-zone', 'ark.test', '--dns-name', 'db.other.test'], ['db.other.test']],
  [['monitor', '--node', 'a=http://127.0.0.1:1', '--node', 'b=http://127.0.0.1:2', '--dns-server', '127.0.0.1:5353',
    '--dns-zone', 'ark.test', '--dns-name', 'db.ark.test', '--dns-key-file', '$F'], ['$F']],
  [['monitor', '--config', '$F'], ['$F']],
  [['monitor', '--config', '$N'], ['$N']],
  [['monitor', '--node', 'a=http://127.0.0.1:1', '--node', 'b=http://127.0.0.1:2', '--log-level', 'loud'], ['loud']],
  [['serve', '--data-dir', '$D', '--witness', 'http://127.0.0.1:1'], ['failover.name']],
  [['serve', '--data-dir', '$D', '--witness', 'ftp://x', '--node-name', 'a'], ['ftp://x']],
  [['serve', '--data-dir', '$D', '--witness', 'http://127.0.0.1:1', '--node-name', 'a b'], ['a b']],
  // drills (docs/drills.md): refused before anything is restored or written
  [['drill'], ['subcommand']],
  [['drill', 'run'], ['scenario']],
  [['drill', 'run', 'volcano', '--repo', '$R'], ['volcano']],
  [['drill', 'run', 'restore-check'], ['--repo']],
  [['drill', 'run', 'restore-check', '--repo', '$N'], ['$N']],
  [['drill', 'run', 'restore-check', '--repo', '$F'], ['$F']],
  [['drill', 'run', 'restore-check', '--repo', '$R', '--samples', '0'], ['--samples']],
  [['drill', 'run', 'restore-check', '--repo', '$R', '--parallel', '0'], ['parallel']],
  [['drill', 'run', 'primary-crash'], ['--endpoint']],
  [['drill', 'run', 'site-loss', '--repo', '$R'], ['--endpoint']],
  [['drill', 'run', 'network-partition', '--endpoint', 'http://127.0.0.1:1', '--endpoint', 'http://127.0.0.1:2', '--fault-cmd', 'true'], ['--heal-cmd']],
  [['drill', 'run', 'primary-crash', '--endpoint', 'http://127.0.0.1:1', '--endpoint', 'http://127.0.0.1:2', '--kill-cmd', 'true', '--heal-cmd', 'true'], ['network-partition']],
  [['drill', 'run', 'site-loss', '--repo', '$R', '--endpoint', 'http://127.0.0.1:1'], ['--kill-cmd']],
  [['drill', 'run', 'site-loss', '--repo', '$R', '--endpoint', 'http://127.0.0.1:1', '--kill-cmd', 'true', '--to-latest'], ['site-loss always']],
  [['drill', 'run', 'site-loss', '--endpoint', 'http://127.0.0.1:1', '--kill-cmd', 'true'], ['--repo']],
  [['drill', 'run', 'primary-crash', '--endpoint', 'http://127.0.0.1:1', '--endpoint', 'http://127.0.0.1:2'], ['--kill-cmd']],
  [['drill', 'run', 'primary-crash', '--endpoint', 'http://127.0.0.1:1', '--endpoint', 'http://127.0.0.1:2', '--kill-cmd', 'true',
    '--warmup-markers', '0'], ['warmup']],
  [['drill', 'run', 'switchover', '--endpoint', 'http://127.0.0.1:1', '--endpoint', 'http://127.0.0.1:2', '--kill-cmd', 'true'], ['kill-cmd']],
  // ark dr check (docs/drills.md): refused before judging anything
  [['dr'], ['subcommand']],
  [['dr', 'check'], ['--server']],
  [['dr', 'check', '--server', 'nonsense'], ['nonsense']],
  [['dr', 'check', '--server', 'http://127.0.0.1:1'], ['127.0.0.1:1', 'cannot reach']],
  [['dr', 'check', '--server', 'http://127.0.0.1:1', '--json'], ['127.0.0.1:1', 'cannot reach']],
  [['dr', 'check', '--bogus'], ['bogus']],
  [['objectstore', 'put', '$N/sub/x', '$F', '--if-absent', '--bogus'], ['bogus']],
  [['objectstore', 'rm'], ['urls', 'required']],
];

// Known wrong answers of the CLI in files this suite does not own.
const CLI_KNOWN_FAILURES = [
  // `backup create -c no_such_collection` crashing (and the lease it left
  // making prune "busy") was seen on a build mixing stale objects during
  // parallel edits; a clean build refuses it: kept as regular rows.
];

test('bad-input matrix: every ark subcommand refuses bad arguments and leaves the data alone', async (t) => {
  const server = await startServe('bad-input-cli');
  const base = tempDir('bad-input-cli');
  t.after(async () => {
    await server.cleanup();
    fs.rmSync(base, { recursive: true, force: true });
  });
  await seed(server.endpoint);
  await server.stop();
  const D = path.join(base, 'data');
  fs.cpSync(server.dataDir, D, { recursive: true });
  const F = path.join(base, 'garbage.bin');
  fs.writeFileSync(F, crypto.randomBytes(4096));
  const N = path.join(base, 'no', 'such', 'path');
  const E = path.join(base, 'empty');
  fs.mkdirSync(E);
  const R = path.join(base, 'repo');
  const init = await runArkTimed(['backup', 'init', '--repo', R]);
  assert.equal(init.status, 0, init.stderr);
  const M = path.join(base, 'created', 'by', 'refusal');
  const X = path.join(base, 'empty-written');
  fs.mkdirSync(X);
  const sub = (a) => a.replaceAll('$M', M).replaceAll('$X', X).replaceAll('$D', D).replaceAll('$F', F).replaceAll('$N', N).replaceAll('$E', E).replaceAll('$R', R);
  const dataBefore = treeHash(D);
  const repoBefore = treeHash(R);
  const repoCopy = path.join(base, 'repo-before');
  fs.cpSync(R, repoCopy, { recursive: true });
  const failures = [];
  const todos = [];
  for (const [rawArgs, words] of CLI_CASES) {
    const args = rawArgs.map(sub);
    const shown = `ark ${rawArgs.join(' ')}`;
    // A serve that wrongly starts is stopped after 8 s (a refusal takes well under 1 s).
    const r = await runArkTimed(args, rawArgs[0] === 'serve' ? 8000 : 30000);
    const text = r.stderr + r.stdout;
    let wrong = null;
    if (r.timedOut) wrong = 'did not exit (it ran until killed)';
    else if (r.signal) wrong = `killed by ${r.signal}`;
    else if (/AddressSanitizer|runtime error:|LeakSanitizer/.test(text)) wrong = `sanitizer report: ${text.slice(0, 400)}`;
    else if (r.status === 0) wrong = `exit 0: ${text.slice(0, 300)}`;
    else if (!words.map(sub).some((w) => r.stderr.includes(w))) {
      wrong = `exit ${r.status}, stderr does not name ${words.map(sub).join(' / ')}: ${r.stderr.slice(0, 300)}`;
    }
    const known = CLI_KNOWN_FAILURES.find(([re]) => re.test(shown));
    if (wrong && known) todos.push(`${shown}: ${wrong} [${known[1]}]`);
    else if (wrong) failures.push(`${shown}: ${wrong}`);
    else if (known) failures.push(`${shown}: known failure now passes, remove it from CLI_KNOWN_FAILURES`);
  }
  t.diagnostic(`${CLI_CASES.length} CLI cases; ${failures.length} wrong, ${todos.length} known failures`);
  for (const line of todos) t.diagnostic(`known: ${line.slice(0, 400)}`);
  if (todos.length) {
    await t.test(`known CLI failures (${todos.length}, open findings)`, { todo: true }, () => {
      assert.fail(todos.join('\n'));
    });
  }
  assert.deepEqual(failures, [], `${failures.length} wrong CLI answers:\n${failures.join('\n')}`);
  assert.equal(treeHash(D), dataBefore, 'the data directory changed');
  // The known backup-create crash leaves its lease in locks/: the only
  // change allowed, and only while that row is a known failure.
  const crashed = todos.some((l) => l.includes('-c no_such_collection'));
  const noLocks = (rel) => crashed && rel.startsWith('locks');
  assert.equal(treeHash(R, noLocks), crashed ? treeHash(repoCopy, noLocks) : repoBefore, 'the repository changed');
  assert.equal(fs.existsSync(N), false, `${N} was created`);
  assert.deepEqual(fs.readdirSync(E), [], `${E} was written to`);
  assert.deepEqual(fs.readdirSync(X), [], `${X} was written to`);
  assert.equal(fs.existsSync(M), false, `${M} was created`);
});
