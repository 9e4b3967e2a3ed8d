// The AWS SDK reads back what Ark wrote, and Ark reads what the SDK wrote,
// against the same s3rver.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const {
  S3Client, GetObjectCommand, PutObjectCommand, HeadObjectCommand, ListObjectsV2Command,
} = require('@aws-sdk/client-s3');
const { BUCKET, startS3rver, runArk, runArkOk, tempDir } = require('./helpers');

function sdk(endpoint) {
  return new S3Client({
    endpoint, region: 'us-east-1', forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
}

async function sdkGet(client, key) {
  const r = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await r.Body.transformToByteArray());
}

test('the AWS SDK reads what Ark wrote and Ark reads what the SDK wrote', async (t) => {
  const s3 = await startS3rver();
  t.after(() => s3.stop());
  const client = sdk(s3.endpoint);
  t.after(() => client.destroy());
  const dir = tempDir('interop');
  const opts = { endpoint: s3.endpoint };

  // Ark -> SDK: a small object with an awkward key, and a multipart one.
  const small = crypto.randomBytes(1000);
  const big = crypto.randomBytes((13 << 20) + 7);
  fs.writeFileSync(path.join(dir, 'small'), small);
  fs.writeFileSync(path.join(dir, 'big'), big);
  await runArkOk(['objectstore', 'put', path.join(dir, 'small'), `s3://${BUCKET}/from-ark/small é+ x.bin`], opts);
  await runArkOk(['objectstore', 'put', path.join(dir, 'big'),
    `s3://${BUCKET}/from-ark/big.bin?multipart_threshold=5MiB&part_size=5MiB`], opts);
  assert.ok((await sdkGet(client, 'from-ark/small é+ x.bin')).equals(small));
  assert.ok((await sdkGet(client, 'from-ark/big.bin')).equals(big), 'multipart object differs');
  const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'from-ark/' }));
  assert.deepEqual(listed.Contents.map((c) => c.Key).sort(), ['from-ark/big.bin', 'from-ark/small é+ x.bin']);

  // SDK -> Ark.
  const sdkBody = crypto.randomBytes((6 << 20) + 3);
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'from-sdk/ü n.bin', Body: sdkBody }));
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'from-sdk/empty', Body: '' }));
  const got = await runArkOk(['objectstore', 'get', `s3://${BUCKET}/from-sdk/ü n.bin`], opts);
  assert.ok(got.stdout.equals(sdkBody), 'Ark read different bytes than the SDK wrote');
  const range = await runArkOk(['objectstore', 'get', `s3://${BUCKET}/from-sdk/ü n.bin`, '--range', '4194300:10'], opts);
  assert.ok(range.stdout.equals(sdkBody.subarray(4194300, 4194310)));
  const empty = await runArkOk(['objectstore', 'get', `s3://${BUCKET}/from-sdk/empty`], opts);
  assert.equal(empty.stdout.length, 0);
  const ls = (await runArkOk(['objectstore', 'ls', '-r', `s3://${BUCKET}/from-sdk/`], opts)).stdout.toString();
  assert.match(ls, /^\s+6291459 .* from-sdk\/ü n\.bin$/m);
  assert.match(ls, /^\s+0 .* from-sdk\/empty$/m);

  // Ark deletes; the SDK sees it gone.
  await runArkOk(['objectstore', 'rm', `s3://${BUCKET}/from-sdk/ü n.bin`], opts);
  await assert.rejects(client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'from-sdk/ü n.bin' })),
    (e) => e.$metadata.httpStatusCode === 404);
});

test('ark objectstore reports a missing object and a refused key without leaking the secret',
  async (t) => {
    const s3 = await startS3rver();
    t.after(() => s3.stop());
    const missing = await runArk(['objectstore', 'get', `s3://${BUCKET}/nope`], { endpoint: s3.endpoint });
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /NotFound.*s3:\/\/ark-node\/nope.*HTTP 404/);
    const denied = await runArk(['objectstore', 'ls', `s3://${BUCKET}/`], {
      endpoint: s3.endpoint,
      extraEnv: { AWS_ACCESS_KEY_ID: 'WRONGKEY', AWS_SECRET_ACCESS_KEY: 'VerySecretValue123' },
    });
    assert.equal(denied.status, 1);
    assert.match(denied.stderr, /PermissionDenied.*HTTP 403 InvalidAccessKeyId/);
    assert.ok(!denied.stderr.includes('VerySecretValue123'), denied.stderr);
  });
