// Proves Ark's SigV4 signatures right, independently of s3rver (which does
// not check them): a recording proxy sits between `ark objectstore` and
// s3rver, and every request Ark sends is re-signed with @smithy/signature-v4
// (the AWS SDK's signer) from the same inputs; the Authorization headers must
// be identical, and x-amz-content-sha256 must be the body's real SHA-256.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { SignatureV4 } = require('@smithy/signature-v4');
const { Sha256 } = require('@aws-crypto/sha256-js');
const { BUCKET, startS3rver, runArkOk, tempDir } = require('./helpers');

// Forwards to s3rver and records { method, url, headers, body }.
function startRecordingProxy(targetPort) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ method: req.method, url: req.url, headers: { ...req.headers }, body });
      const up = http.request({ host: '127.0.0.1', port: targetPort, method: req.method,
        path: req.url, headers: req.headers }, (upRes) => {
        res.writeHead(upRes.statusCode, upRes.headers);
        upRes.pipe(res);
      });
      up.on('error', () => { res.writeHead(502); res.end(); });
      up.end(body);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({
      requests,
      endpoint: `http://127.0.0.1:${server.address().port}`,
      close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
    }));
  });
}

function parseQuery(search) {
  const query = {};
  if (!search) return query;
  for (const part of search.split('&')) {
    const eq = part.indexOf('=');
    const k = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
    query[k] = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
  }
  return query;
}

function amzDateToDate(s) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  assert.ok(m, `bad x-amz-date ${s}`);
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

// Re-signs a recorded request with the AWS SDK signer; returns its Authorization.
async function resign(rec, { accessKeyId, secretAccessKey, sessionToken, region }) {
  const auth = rec.headers.authorization;
  const signed = /SignedHeaders=([^,]+)/.exec(auth)[1].split(';');
  const headers = {};
  for (const h of signed) {
    assert.ok(h in rec.headers, `signed header ${h} was not sent`);
    headers[h] = rec.headers[h];
  }
  const q = rec.url.indexOf('?');
  const signer = new SignatureV4({
    credentials: { accessKeyId, secretAccessKey, sessionToken },
    region, service: 's3', sha256: Sha256, uriEscapePath: false, applyChecksum: true,
  });
  const out = await signer.sign({
    method: rec.method, protocol: 'http:', hostname: rec.headers.host.split(':')[0],
    port: Number(rec.headers.host.split(':')[1]),
    path: q < 0 ? rec.url : rec.url.slice(0, q),
    query: parseQuery(q < 0 ? '' : rec.url.slice(q + 1)),
    headers, body: rec.body,
  }, { signingDate: amzDateToDate(rec.headers['x-amz-date']) });
  return out.headers.authorization;
}

async function assertAllSignaturesMatch(requests, creds) {
  assert.ok(requests.length > 0, 'no requests were recorded');
  for (const rec of requests) {
    const what = `${rec.method} ${rec.url}`;
    const ours = rec.headers.authorization;
    assert.ok(ours && ours.startsWith('AWS4-HMAC-SHA256 '), `${what}: no SigV4 Authorization`);
    const theirs = await resign(rec, creds);
    assert.equal(ours, theirs, `${what}: signature differs from the AWS SDK's`);
    const sha = rec.headers['x-amz-content-sha256'];
    assert.ok(sha, `${what}: no x-amz-content-sha256`);
    if (sha !== 'UNSIGNED-PAYLOAD') {
      assert.equal(sha, crypto.createHash('sha256').update(rec.body).digest('hex'),
        `${what}: x-amz-content-sha256 is not the body's hash`);
    }
    if (rec.body.length > 0) assert.ok(rec.headers['content-type'], `${what}: body without Content-Type`);
  }
}

const creds = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', region: 'us-east-1' };

test('every request of ark objectstore put/get/ls/rm carries an AWS-identical SigV4 signature',
  async (t) => {
    const s3 = await startS3rver();
    const proxy = await startRecordingProxy(s3.port);
    t.after(async () => { await proxy.close(); await s3.stop(); });
    const dir = tempDir('sigv4');
    const small = path.join(dir, 'small');
    const big = path.join(dir, 'big');
    fs.writeFileSync(small, 'hello signature');
    fs.writeFileSync(big, crypto.randomBytes((11 << 20) + 5));
    const opts = { endpoint: proxy.endpoint };
    const base = `s3://${BUCKET}`;
    const mp = '?multipart_threshold=5MiB&part_size=5MiB';

    await runArkOk(['objectstore', 'put', small, `${base}/dir/a b+c=d&é.txt`], opts);
    await runArkOk(['objectstore', 'put', big, `${base}/dir/big.bin${mp}`], opts);  // multipart
    for (let i = 0; i < 5; i++) await runArkOk(['objectstore', 'put', small, `${base}/many/k${i}`], opts);
    const got = await runArkOk(['objectstore', 'get', `${base}/dir/a b+c=d&é.txt`], opts);
    assert.equal(got.stdout.toString(), 'hello signature');
    await runArkOk(['objectstore', 'get', `${base}/dir/big.bin`, path.join(dir, 'big.out'), '--range', '5242000:2000'], opts);
    const ls = await runArkOk(['objectstore', 'ls', `${base}/dir/`], opts);
    assert.match(ls.stdout.toString(), /a b\+c=d&é\.txt/);
    const paged = await runArkOk(['objectstore', 'ls', '-r', '--page-size', '2', `${base}/many/`], opts);
    assert.equal(paged.stdout.toString().trim().split('\n').length, 5);
    await runArkOk(['objectstore', 'rm', `${base}/dir/a b+c=d&é.txt`], opts);
    await runArkOk(['objectstore', 'rm', '-r', `${base}/many/`], opts);  // DeleteObjects

    const kinds = new Set(proxy.requests.map((r) => {
      const q = r.url.split('?')[1] || '';
      return `${r.method} ${q.replace(/=[^&]*/g, '')}`;
    }));
    for (const k of ['PUT ', 'POST uploads', 'PUT partNumber&uploadId', 'POST uploadId',
      'GET ', 'GET list-type&max-keys&prefix', 'GET continuation-token&list-type&max-keys&prefix',
      'DELETE ', 'POST delete']) {
      assert.ok([...kinds].some((x) => x.startsWith(k) || x === k.trim()),
        `no ${k} request was made (saw ${[...kinds].join(', ')})`);
    }
    await assertAllSignaturesMatch(proxy.requests, creds);
  });

test('a session token is sent as x-amz-security-token and signed', async (t) => {
  const s3 = await startS3rver();
  const proxy = await startRecordingProxy(s3.port);
  t.after(async () => { await proxy.close(); await s3.stop(); });
  await runArkOk(['objectstore', 'put', '-', `s3://${BUCKET}/tok`], {
    endpoint: proxy.endpoint, input: 'x', extraEnv: { AWS_SESSION_TOKEN: 'session/token+value==' },
  });
  const rec = proxy.requests[0];
  assert.equal(rec.headers['x-amz-security-token'], 'session/token+value==');
  assert.match(rec.headers.authorization, /SignedHeaders=[^,]*x-amz-security-token/);
  await assertAllSignaturesMatch(proxy.requests, { ...creds, sessionToken: 'session/token+value==' });
});

test('a wrong secret yields a different signature (the check can fail)', async (t) => {
  const s3 = await startS3rver();
  const proxy = await startRecordingProxy(s3.port);
  t.after(async () => { await proxy.close(); await s3.stop(); });
  await runArkOk(['objectstore', 'put', '-', `s3://${BUCKET}/x`], { endpoint: proxy.endpoint, input: 'x' });
  const theirs = await resign(proxy.requests[0], { ...creds, secretAccessKey: 'WRONG' });
  assert.notEqual(proxy.requests[0].headers.authorization, theirs);
});
