// The AWS SDK for JavaScript baseline for bench/object_store_bench.sh: the
// same data, the same s3rver, the SDK's standard tools (lib-storage Upload
// for the large object, PutObject/GetObject for small ones), the same
// parallelism as Ark. Prints Markdown table rows like object_store_bench.
//
//   node sdk_bench.js ENDPOINT BUCKET SCRATCH_DIR SMALL_COUNT PARALLEL
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { pipeline } = require('node:stream/promises');
const { S3Client, GetObjectCommand, PutObjectCommand } = require('@aws-sdk/client-s3');
const { Upload } = require('@aws-sdk/lib-storage');

async function main() {
  const [endpoint, bucket, dir, smallCountArg, parallelArg] = process.argv.slice(2);
  const smallCount = Number(smallCountArg);
  const parallel = Number(parallelArg);
  const client = new S3Client({
    endpoint, region: 'us-east-1', forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestHandler: { httpAgent: { keepAlive: true, maxSockets: parallel } },
  });
  const row = (what, seconds, bytes, objects) => console.log(
    `| s3rver | ${what} | AWS SDK JS v3 | ${seconds.toFixed(2)} | ${(bytes / seconds / 1048576).toFixed(1)} | ${objects > 1 ? (objects / seconds).toFixed(0) : ''} |`);

  const src = path.join(dir, 'large.src');
  const size = fs.statSync(src).size;
  let t0 = performance.now();
  await new Upload({
    client, queueSize: parallel > 4 ? 4 : parallel, partSize: 8 << 20,
    params: { Bucket: bucket, Key: 'sdk/large/object.bin', Body: fs.createReadStream(src) },
  }).done();
  row('1 object upload', (performance.now() - t0) / 1000, size, 1);

  t0 = performance.now();
  const out = path.join(dir, 'large.sdk.out');
  const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'sdk/large/object.bin' }));
  await pipeline(got.Body, fs.createWriteStream(out));
  const fd = fs.openSync(out, 'r+');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  row('1 object download', (performance.now() - t0) / 1000, size, 1);
  fs.rmSync(out);

  const small = [];
  for (let i = 0; i < smallCount; i++) small.push(fs.readFileSync(path.join(dir, 'small-src', String(i))));
  const bytes = small.reduce((a, b) => a + b.length, 0);
  const runPool = async (fn) => {
    let next = 0;
    await Promise.all(Array.from({ length: parallel }, async () => {
      while (next < smallCount) await fn(next++);
    }));
  };
  t0 = performance.now();
  await runPool((i) => client.send(new PutObjectCommand({ Bucket: bucket, Key: `sdk/small/${i}`, Body: small[i] })));
  row(`${smallCount} objects upload`, (performance.now() - t0) / 1000, bytes, smallCount);
  t0 = performance.now();
  await runPool(async (i) => {
    const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: `sdk/small/${i}` }));
    const b = Buffer.from(await r.Body.transformToByteArray());
    if (!b.equals(small[i])) throw new Error(`small object ${i} differs`);
  });
  row(`${smallCount} objects download`, (performance.now() - t0) / 1000, bytes, smallCount);
  client.destroy();
}

main().catch((e) => { console.error(e); process.exit(1); });
