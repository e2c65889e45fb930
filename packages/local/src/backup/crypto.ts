// Backup encryption: AES-256-GCM in independent frames, so a stream of any size is encrypted and
// authenticated as it flows (one GCM message is limited to ~64 GB and authenticates only at its end).
// Each frame has its own nonce (random 8-byte prefix + frame counter) and tag; the counter and a
// "last frame" flag are authenticated data, so reordered, dropped or truncated frames fail too.
//
//   header  "CBK1" | nonce prefix (8)
//   frame   length (u32 BE, plaintext bytes) | ciphertext | tag (16)      (the last frame has flag 1)
//
// The key: 32 random bytes in the local key store (outside the state folder: KMS's part; on AWS the
// data key comes from the region's KMS key). Its id (first 16 hex of its SHA-256) is in every manifest,
// so a wrong key is named as such before a single frame is tried.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';

const MAGIC = Buffer.from('CBK1');
const FRAME = 1 << 20;
const TAG = 16;

export const keyId = (key: Buffer) => createHash('sha256').update(key).digest('hex').slice(0, 16);

/** The region's backup key (created once, mode 600). Lives in the key store, never in the bucket. */
export function loadOrCreateBackupKey(keysDir: string, name: string): Buffer {
  const file = join(keysDir, `${name}.key`);
  if (!existsSync(file)) {
    mkdirSync(keysDir, { recursive: true, mode: 0o700 });
    writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
  }
  return readBackupKey(file);
}

export function readBackupKey(file: string): Buffer {
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`${file} is not a 256-bit backup key (base64 of 32 bytes)`);
  return key;
}

const aad = (counter: number, last: boolean) => {
  const b = Buffer.alloc(5);
  b.writeUInt32BE(counter, 0);
  b[4] = last ? 1 : 0;
  return b;
};
const nonce = (prefix: Buffer, counter: number) => {
  const n = Buffer.alloc(12);
  prefix.copy(n, 0);
  n.writeUInt32BE(counter, 8);
  return n;
};

export class EncryptStream extends Transform {
  private readonly prefix = randomBytes(8);
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private counter = 0;

  constructor(private readonly key: Buffer) {
    super();
    this.push(Buffer.concat([MAGIC, this.prefix]));
  }

  private frame(plain: Buffer, last: boolean): Buffer {
    const c = createCipheriv('aes-256-gcm', this.key, nonce(this.prefix, this.counter));
    c.setAAD(aad(this.counter, last));
    const body = Buffer.concat([c.update(plain), c.final()]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(plain.length, 0);
    this.counter += 1;
    return Buffer.concat([len, body, c.getAuthTag()]);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    while (this.pendingBytes > FRAME) {
      const all = Buffer.concat(this.pending);
      this.push(this.frame(all.subarray(0, FRAME), false));
      const rest = all.subarray(FRAME);
      this.pending = [rest];
      this.pendingBytes = rest.length;
    }
    cb();
  }

  override _flush(cb: TransformCallback): void {
    this.push(this.frame(Buffer.concat(this.pending), true));
    cb();
  }
}

export class DecryptStream extends Transform {
  private buf: Buffer = Buffer.alloc(0);
  private prefix: Buffer | null = null;
  private counter = 0;
  private ended = false;

  /** @param label names the object in errors ("full/2026-…/data.mbs.zst.enc"). */
  constructor(private readonly key: Buffer, private readonly label: string) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    try {
      this.drain();
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }

  private drain(): void {
    if (!this.prefix) {
      if (this.buf.length < 12) return;
      if (!this.buf.subarray(0, 4).equals(MAGIC)) throw new Error(`${this.label}: not an encrypted backup stream (bad header)`);
      this.prefix = Buffer.from(this.buf.subarray(4, 12));
      this.buf = this.buf.subarray(12);
    }
    while (this.buf.length >= 4) {
      if (this.ended) throw new Error(`${this.label}: data after the last frame`);
      const len = this.buf.readUInt32BE(0);
      if (len > FRAME) throw new Error(`${this.label}: frame ${this.counter} claims ${len} bytes (corrupted)`);
      if (this.buf.length < 4 + len + TAG) return;
      const body = this.buf.subarray(4, 4 + len);
      const tag = this.buf.subarray(4 + len, 4 + len + TAG);
      const plain = this.open(body, tag);
      this.push(plain);
      this.buf = this.buf.subarray(4 + len + TAG);
    }
  }

  /** Tries the frame as a middle frame, then as the last one (the flag is authenticated, not stored). */
  private open(body: Buffer, tag: Buffer): Buffer {
    for (const last of [false, true]) {
      try {
        const d = createDecipheriv('aes-256-gcm', this.key, nonce(this.prefix!, this.counter));
        d.setAAD(aad(this.counter, last));
        d.setAuthTag(tag);
        const plain = Buffer.concat([d.update(body), d.final()]);
        this.counter += 1;
        this.ended = last;
        return plain;
      } catch { /* try the other flag */ }
    }
    throw new Error(`${this.label}: frame ${this.counter} fails authentication (corrupted object or wrong key)`);
  }

  override _flush(cb: TransformCallback): void {
    if (!this.ended || this.buf.length > 0) cb(new Error(`${this.label}: truncated (no last frame after ${this.counter} frames)`));
    else cb();
  }
}
