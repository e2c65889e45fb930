// Object I/O for backups through @aws-sdk/client-s3: the same calls run against S3 on AWS and against
// the region's s3rver locally (path-style, fixed local credentials). Only the client's endpoint differs.
import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CopyObjectCommand, DeleteObjectCommand, CreateBucketCommand, GetObjectCommand, HeadBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client, type _Object } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { ResolvedDefinition } from '@conduit/definition';

export interface ObjectStore {
  client: S3Client;
  /** This region's backup bucket. */
  bucket: string;
  /** The other region's bucket every object is copied to (null: one region, or copyToSecondary off). */
  copyBucket: string | null;
}

/** Bucket names as on AWS: one per region of the definition. */
export const backupBucket = (d: ResolvedDefinition, region: string) => `${d.name}-backups-${region}`;

// The SDK warns once per process that its releases after January 2027 need Node 22; the pinned version
// runs on Node 20, which is what this repository targets.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export function localObjectStore(d: ResolvedDefinition): ObjectStore {
  const client = new S3Client({
    endpoint: `http://${d.address}:${d.local.ports.objectStore}`,
    region: d.regions.primary,
    forcePathStyle: true,
    // s3rver accepts any well-formed signature; these are its documented defaults, not secrets.
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    // s3rver predates the SDK's default CRC32 trailers (aws-chunked): checksums only where S3 requires them.
    // Integrity is ours anyway: a SHA-256 per object in the manifest, and GCM tags per frame.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
  });
  const copy = d.backup.copyToSecondary && d.regions.secondary ? backupBucket(d, d.regions.secondary) : null;
  return { client, bucket: backupBucket(d, d.regions.primary), copyBucket: copy };
}

/** Creates the buckets when missing (s3rver starts empty; on AWS Terraform made them). */
export async function ensureBuckets(s: ObjectStore): Promise<void> {
  for (const Bucket of [s.bucket, s.copyBucket].filter((b): b is string => b !== null)) {
    try {
      await s.client.send(new HeadBucketCommand({ Bucket }));
    } catch {
      await s.client.send(new CreateBucketCommand({ Bucket }));
    }
  }
}

export interface Uploaded {
  key: string;
  bytes: number;
  sha256: string;
}

/** Streams into one object (multipart, 8 MiB parts), hashing what it sends; then copies it to the other region. */
export async function uploadStream(s: ObjectStore, key: string, body: Readable): Promise<Uploaded> {
  const hash = createHash('sha256');
  let bytes = 0;
  const tap = new PassThrough();
  tap.on('data', (b: Buffer) => { hash.update(b); bytes += b.length; });
  const upload = new Upload({ client: s.client, params: { Bucket: s.bucket, Key: key, Body: tap }, partSize: 8 << 20, queueSize: 2 });
  await Promise.all([pipeline(body, tap), upload.done()]);
  await copyToOtherRegion(s, key);
  return { key, bytes, sha256: hash.digest('hex') };
}

export async function putObject(s: ObjectStore, key: string, body: Buffer | string): Promise<Uploaded> {
  const buf = typeof body === 'string' ? Buffer.from(body) : body;
  await s.client.send(new PutObjectCommand({ Bucket: s.bucket, Key: key, Body: buf }));
  await copyToOtherRegion(s, key);
  return { key, bytes: buf.length, sha256: createHash('sha256').update(buf).digest('hex') };
}

/** S3 replication's part: every object also lands in the other region's bucket. */
async function copyToOtherRegion(s: ObjectStore, key: string): Promise<void> {
  if (!s.copyBucket) return;
  await s.client.send(new CopyObjectCommand({ Bucket: s.copyBucket, Key: key, CopySource: `${s.bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}` }));
}

export async function getStream(s: ObjectStore, key: string, bucket = s.bucket): Promise<Readable> {
  const r = await s.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return r.Body as Readable;
}

export async function getBuffer(s: ObjectStore, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await getStream(s, key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function listObjects(s: ObjectStore, prefix: string): Promise<_Object[]> {
  const out: _Object[] = [];
  let token: string | undefined;
  do {
    const r = await s.client.send(new ListObjectsV2Command({ Bucket: s.bucket, Prefix: prefix, ContinuationToken: token }));
    out.push(...(r.Contents ?? []));
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/**
 * Moves objects under `prefix` (copy, then delete; in this bucket only: the other region's copy stays as it
 * was, as S3 replication does not replicate deletes by default). Used for history no restore may replay.
 */
export async function moveObjects(s: ObjectStore, keys: string[], prefix: string): Promise<void> {
  for (const Key of keys) {
    await s.client.send(new CopyObjectCommand({ Bucket: s.bucket, Key: `${prefix}${Key}`, CopySource: `${s.bucket}/${encodeURIComponent(Key).replace(/%2F/g, '/')}` }));
    await s.client.send(new DeleteObjectCommand({ Bucket: s.bucket, Key }));
  }
}
