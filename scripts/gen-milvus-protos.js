#!/usr/bin/env node
// Writes proto/milvus/*.proto — the Milvus gRPC wire definitions — from the
// descriptors shipped in the pinned npm package @zilliz/milvus2-sdk-node
// (tests/node/package.json; installed by `npm ci` in tests/node).
//
//   node scripts/gen-milvus-protos.js            regenerate proto/milvus/
//   node scripts/gen-milvus-protos.js --check    exit 1 if proto/milvus/ differs
//
// Why from the SDK's descriptors and not retyped: the SDK talks to real
// Milvus with exactly these messages, so field numbers, types and names match
// Milvus by construction. Why committed rather than generated at build time:
// `make run` must build Ark without Node; `--check` (run by the test suite,
// tests/node/grpc_protos.test.js) proves the committed files still equal the
// pinned package's.
//
// What is emitted: every message, enum and service of the milvus.proto.*
// packages, one file per package, with field numbers, labels (repeated,
// proto3 `optional`), maps, oneofs, `packed` and `deprecated`. Left out, as
// they do not change the wire: extensions and custom options (Milvus's
// privilege annotations), reserved ranges, and comments. google.protobuf
// types are imported from protoc's own well-known files.
'use strict';
const fs = require('fs');
const path = require('path');

const repo = path.resolve(__dirname, '..');
const nodeDir = path.join(repo, 'tests', 'node');
const pb = require(require.resolve('protobufjs', { paths: [nodeDir] }));
const sdkDir = path.dirname(
  require.resolve('@zilliz/milvus2-sdk-node/package.json', { paths: [nodeDir] }));
const sdk = JSON.parse(fs.readFileSync(path.join(sdkDir, 'dist', 'sdk.json'), 'utf8'));
const json = require(path.join(sdkDir, 'dist', 'milvus', 'proto-json', 'milvus.js')).default;

const root = pb.Root.fromJSON(json);
root.resolveAll();

const WELL_KNOWN = {
  Any: 'any', Timestamp: 'timestamp', Duration: 'duration', Empty: 'empty', Struct: 'struct',
  Value: 'struct', ListValue: 'struct', NullValue: 'struct', FieldMask: 'field_mask',
  BoolValue: 'wrappers', BytesValue: 'wrappers', DoubleValue: 'wrappers', FloatValue: 'wrappers',
  Int32Value: 'wrappers', Int64Value: 'wrappers', StringValue: 'wrappers', UInt32Value: 'wrappers',
  UInt64Value: 'wrappers',
};

// Package of a reflection object: the namespace path of its outermost type.
function packageOf(obj) {
  let o = obj;
  while (o.parent && (o.parent instanceof pb.Type)) o = o.parent;
  return o.parent.fullName.replace(/^\./, '');
}

const files = new Map();  // package -> {imports: Set, body: []}
function fileFor(pkg) {
  if (!files.has(pkg)) files.set(pkg, { imports: new Set(), body: [] });
  return files.get(pkg);
}

function typeRef(file, pkg, t) {
  const full = t.fullName.replace(/^\./, '');
  const tpkg = packageOf(t);
  if (tpkg === 'google.protobuf') {
    const wk = WELL_KNOWN[t.name];
    if (!wk) throw new Error(`google.protobuf.${t.name}: no well-known file for it`);
    file.imports.add(`google/protobuf/${wk}.proto`);
  } else if (tpkg !== pkg) {
    file.imports.add(`milvus/${shortName(tpkg)}.proto`);
  }
  return '.' + full;
}

const SCALARS = new Set(['double', 'float', 'int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64',
  'fixed32', 'fixed64', 'sfixed32', 'sfixed64', 'bool', 'string', 'bytes']);

function fieldType(file, pkg, f) {
  if (SCALARS.has(f.type)) return f.type;
  if (!f.resolvedType) throw new Error(`${f.fullName}: unresolved type ${f.type}`);
  return typeRef(file, pkg, f.resolvedType);
}

function fieldOptions(f) {
  const o = [];
  if (f.options && f.options.packed !== undefined) o.push(`packed = ${f.options.packed}`);
  if (f.options && f.options.deprecated) o.push('deprecated = true');
  return o.length ? ` [${o.join(', ')}]` : '';
}

function emitEnum(out, e, ind) {
  out.push(`${ind}enum ${e.name} {`);
  const aliased = new Set(Object.values(e.values)).size !== Object.keys(e.values).length;
  if (aliased) out.push(`${ind}  option allow_alias = true;`);
  for (const [k, v] of Object.entries(e.values)) {
    const dep = e.valuesOptions && e.valuesOptions[k] && e.valuesOptions[k].deprecated;
    out.push(`${ind}  ${k} = ${v}${dep ? ' [deprecated = true]' : ''};`);
  }
  out.push(`${ind}}`);
}

function isSyntheticOneof(o) {
  return o.fieldsArray.length === 1 && o.fieldsArray[0].options &&
         o.fieldsArray[0].options.proto3_optional;
}

function emitType(out, file, pkg, t, ind) {
  out.push(`${ind}message ${t.name} {`);
  for (const n of t.nestedArray) {
    if (n instanceof pb.Type) emitType(out, file, pkg, n, ind + '  ');
    else if (n instanceof pb.Enum) emitEnum(out, n, ind + '  ');
  }
  const inOneof = new Set();
  for (const o of t.oneofsArray) {
    if (isSyntheticOneof(o)) continue;
    for (const f of o.fieldsArray) inOneof.add(f);
  }
  for (const f of t.fieldsArray) {
    if (inOneof.has(f)) continue;
    const ty = fieldType(file, pkg, f);
    let line;
    if (f.map) {
      line = `map<${f.keyType}, ${ty}> ${f.name} = ${f.id}`;
    } else {
      const label = f.repeated ? 'repeated ' : (f.options && f.options.proto3_optional ? 'optional ' : '');
      line = `${label}${ty} ${f.name} = ${f.id}`;
    }
    out.push(`${ind}  ${line}${fieldOptions(f)};`);
  }
  for (const o of t.oneofsArray) {
    if (isSyntheticOneof(o)) continue;
    out.push(`${ind}  oneof ${o.name} {`);
    for (const f of o.fieldsArray) {
      out.push(`${ind}    ${fieldType(file, pkg, f)} ${f.name} = ${f.id}${fieldOptions(f)};`);
    }
    out.push(`${ind}  }`);
  }
  out.push(`${ind}}`);
}

function emitService(out, file, pkg, s) {
  out.push(`service ${s.name} {`);
  for (const m of s.methodsArray) {
    const req = typeRef(file, pkg, m.resolvedRequestType);
    const res = typeRef(file, pkg, m.resolvedResponseType);
    out.push(`  rpc ${m.name}(${m.requestStream ? 'stream ' : ''}${req}) returns (` +
             `${m.responseStream ? 'stream ' : ''}${res});`);
  }
  out.push('}');
}

function shortName(pkg) { return pkg.split('.').pop(); }

function walk(ns) {
  for (const o of ns.nestedArray) {
    if (o instanceof pb.Field) continue;  // extensions: not emitted
    const isType = o instanceof pb.Type || o instanceof pb.Enum || o instanceof pb.Service;
    if (!isType) { walk(o); continue; }
    const pkg = packageOf(o);
    if (!pkg.startsWith('milvus.proto.')) continue;
    const file = fileFor(pkg);
    if (o instanceof pb.Type) emitType(file.body, file, pkg, o, '');
    else if (o instanceof pb.Enum) emitEnum(file.body, o, '');
    else emitService(file.body, file, pkg, o);
    file.body.push('');
  }
}
walk(root);

const outDir = path.join(repo, 'proto', 'milvus');
const rendered = new Map();
for (const [pkg, file] of [...files.entries()].sort()) {
  const name = `${shortName(pkg)}.proto`;
  const head = [
    `// GENERATED by scripts/gen-milvus-protos.js from @zilliz/milvus2-sdk-node ${sdk.version}`,
    `// (Milvus API ${sdk.milvusVersion}). Do not edit: regenerate instead.`,
    'syntax = "proto3";',
    '',
    `package ${pkg};`,
    '',
  ];
  for (const imp of [...file.imports].sort()) head.push(`import "${imp}";`);
  if (file.imports.size) head.push('');
  rendered.set(name, head.concat(file.body).join('\n').replace(/\n+$/, '\n'));
}

if (process.argv.includes('--check')) {
  let bad = 0;
  const present = fs.existsSync(outDir) ? fs.readdirSync(outDir).filter((f) => f.endsWith('.proto')) : [];
  for (const [name, text] of rendered) {
    const p = path.join(outDir, name);
    if (!fs.existsSync(p) || fs.readFileSync(p, 'utf8') !== text) {
      console.error(`proto/milvus/${name} differs from @zilliz/milvus2-sdk-node ${sdk.version}`);
      bad++;
    }
  }
  for (const name of present) {
    if (!rendered.has(name)) { console.error(`proto/milvus/${name} is not in the package`); bad++; }
  }
  if (bad) {
    console.error('run: node scripts/gen-milvus-protos.js');
    process.exit(1);
  }
  console.log(`proto/milvus matches @zilliz/milvus2-sdk-node ${sdk.version} (Milvus ${sdk.milvusVersion})`);
} else {
  fs.mkdirSync(outDir, { recursive: true });
  for (const [name, text] of rendered) fs.writeFileSync(path.join(outDir, name), text);
  console.log(`wrote ${rendered.size} files to proto/milvus (Milvus ${sdk.milvusVersion})`);
}
