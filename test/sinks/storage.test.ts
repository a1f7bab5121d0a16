import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditReplayError } from '../../src/core/errors.js';
import type { OutputObject, Storage, StorageOptions } from '../../src/sinks/storage.js';
import { azureStorage } from '../../src/sinks/storage/azure-storage.js';
import { gcsStorage } from '../../src/sinks/storage/gcs-storage.js';
import { localStorage } from '../../src/sinks/storage/local-storage.js';
import { s3Storage } from '../../src/sinks/storage/s3-storage.js';
import { storageFor } from '../../src/sinks/storage/storage-registry.js';
import { AZURITE_KEY, startAzurite, type Azurite } from '../helpers/azure-azurite.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { startFakeGcs, type FakeGcs } from '../helpers/gcs-fake-server.js';
import { ROOT } from '../helpers/run-cli.js';
import { isolateAwsEnv, S3_TEST_SECRET, startS3, testAwsEnv, type TestS3 } from '../helpers/s3-server.js';

const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;
/** Large enough that S3 goes multipart (8 MiB parts), GCS sends several chunks and Azure stages several blocks. */
const BIG = 20 * MiB;
/**
 * For the memory check: S3 alone may hold 3 parts of 8 MiB (2 uploading, 1 filling) plus
 * a copy while a part is assembled, more than BIG itself, so "well under the output"
 * needs a larger output: the hold stays the same however large the output grows.
 */
const HUGE = 128 * MiB;

/** One storage under test, and how to look at its location behind its back. */
interface Harness {
  storage: Storage;
  options: StorageOptions;
  /** A fresh URL for an output named `name`. */
  url(name: string): string;
  /** Unfinished writes the location holds: temporary files, multipart uploads, upload sessions. */
  pending(): Promise<string[]>;
  /** False where the store keeps what an abort cannot remove (Azure's uncommitted blocks, which it discards itself). */
  abortClearsPending: boolean;
  /** Environment a child process needs to reach the store. */
  env: NodeJS.ProcessEnv;
}

async function hashOf(stream: Readable): Promise<{ sha: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha: hash.digest('hex'), size };
}

async function readBack(h: Harness, url: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of await h.storage.open(url, h.options)) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

/** Writes `bytes` random bytes in 64 KiB chunks, honouring backpressure; returns their hash. */
async function writeRandom(out: OutputObject, bytes: number): Promise<string> {
  const hash = createHash('sha256');
  for (let done = 0; done < bytes; done += CHUNK) {
    const chunk = randomBytes(Math.min(CHUNK, bytes - done));
    hash.update(chunk);
    if (!out.stream.write(chunk)) await once(out.stream, 'drain');
  }
  return hash.digest('hex');
}

async function write(out: OutputObject, bytes: Buffer | string): Promise<void> {
  if (!out.stream.write(bytes)) await once(out.stream, 'drain');
}

/** Polls until `check` passes (up to 10 s), for what a server does in the background. */
async function eventually(check: () => void): Promise<void> {
  for (let waited = 0; ; waited += 50) {
    try {
      return check();
    } catch (err) {
      if (waited >= 10_000) throw err;
      await sleep(50);
    }
  }
}

async function expectMissing(h: Harness, url: string): Promise<void> {
  expect(await h.storage.exists(url, h.options)).toBe(false);
  const err = await h.storage.open(url, h.options).then(
    (s) => (s.destroy(), null),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AuditReplayError);
  expect((err as AuditReplayError).code).toBe('sink-not-found');
}

/**
 * Runs the write in a child process and reports how much its resident memory grew, so
 * what the in-process servers hold (the GCS fake keeps objects in memory) is not counted.
 * The child first writes a small output, so loading the SDK is not counted either.
 */
function writeInChild(h: Harness, url: string, bytes: number): Promise<{ sha: string; growth: number }> {
  const script = `
    import { createHash, randomBytes } from 'node:crypto';
    import { once } from 'node:events';
    const { storageFor } = await import(${JSON.stringify(join(ROOT, 'src/sinks/storage/storage-registry.ts'))});
    const job = JSON.parse(process.env.STORAGE_TEST_JOB);
    const storage = storageFor(job.url);
    const warm = await storage.create(job.url + '.warm-up', job.options);
    warm.stream.end('warm-up');
    await warm.commit();
    globalThis.gc();
    const base = process.memoryUsage.rss();
    let peak = base;
    const out = await storage.create(job.url, job.options);
    const hash = createHash('sha256');
    for (let done = 0; done < job.bytes; done += ${CHUNK}) {
      const chunk = randomBytes(Math.min(${CHUNK}, job.bytes - done));
      hash.update(chunk);
      if (!out.stream.write(chunk)) await once(out.stream, 'drain');
      // Collected every MiB, so what is measured is what the output holds, not garbage awaiting the GC.
      if ((done / ${CHUNK}) % 16 === 15) globalThis.gc();
      peak = Math.max(peak, process.memoryUsage.rss());
    }
    out.stream.end();
    await out.commit();
    peak = Math.max(peak, process.memoryUsage.rss());
    process.stdout.write(JSON.stringify({ sha: hash.digest('hex'), growth: peak - base }));
  `;
  const env = { ...process.env, ...h.env, STORAGE_TEST_JOB: JSON.stringify({ url, bytes, options: h.options }) };
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, env, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`writer failed: ${stderr || err.message}`));
      resolve(JSON.parse(stdout) as { sha: string; growth: number });
    });
  });
}

/** The contract every Storage keeps, run against each store's emulator. */
function storageContract(name: string, harness: () => Harness): void {
  describe(`Storage contract: ${name}`, () => {
    let n = 0;
    const fresh = (h: Harness, what: string): string => h.url(`dir/${what}-${++n}.bin`);

    it('gives back the bytes written, identical, after commit (20 MiB in 64 KiB chunks)', { timeout: 60_000 }, async () => {
      const h = harness();
      const url = fresh(h, 'big');
      const out = await h.storage.create(url, h.options);
      const sha = await writeRandom(out, BIG);
      out.stream.end();
      await out.commit();
      expect(await hashOf(await h.storage.open(url, h.options))).toEqual({ sha, size: BIG });
      expect(await h.pending()).toEqual([]);
    });

    it('holds a bounded amount in memory however large the output: the writer grows by well under its size', { timeout: 180_000 }, async () => {
      const h = harness();
      const url = fresh(h, 'huge');
      const { sha, growth } = await writeInChild(h, url, HUGE);
      // Measured here: local ~2 MiB, Azure ~21 (3 blocks of 4 MiB), GCS ~26 (an 8 MiB chunk and its request), S3 ~36 (3 parts of 8 MiB).
      expect(growth).toBeLessThan(HUGE / 2);
      expect(await hashOf(await h.storage.open(url, h.options))).toEqual({ sha, size: HUGE });
    });

    it('shows nothing under the final name before commit, even after the stream has ended', { timeout: 60_000 }, async () => {
      const h = harness();
      const url = fresh(h, 'late');
      const out = await h.storage.create(url, h.options);
      // More than one S3 part, so parts are stored before commit.
      await writeRandom(out, 9 * MiB);
      out.stream.end();
      await sleep(300);
      await expectMissing(h, url);
      await out.commit();
      expect(await h.storage.exists(url, h.options)).toBe(true);
      expect((await readBack(h, url)).length).toBe(9 * MiB);
    });

    it('leaves nothing when aborted: no object and no unfinished upload', { timeout: 60_000 }, async () => {
      const h = harness();
      const url = fresh(h, 'aborted');
      const out = await h.storage.create(url, h.options);
      await writeRandom(out, 10 * MiB);
      await sleep(300);
      if (h.abortClearsPending) expect(await h.pending()).not.toEqual([]);
      await out.abort();
      await expectMissing(h, url);
      if (h.abortClearsPending) expect(await h.pending()).toEqual([]);
      // A second abort, and an abort after commit, change nothing.
      await out.abort();
      await expect(out.commit()).rejects.toThrow(/commit after abort/);
    });

    it('commits an empty output as an empty object', async () => {
      const h = harness();
      const url = fresh(h, 'empty');
      const out = await h.storage.create(url, h.options);
      out.stream.end();
      await expectMissing(h, url);
      await out.commit();
      expect(await h.storage.exists(url, h.options)).toBe(true);
      expect(await readBack(h, url)).toEqual(Buffer.alloc(0));
    });

    it('replaces the object atomically when the same URL is created again', async () => {
      const h = harness();
      const url = fresh(h, 'replaced');
      const first = await h.storage.create(url, h.options);
      first.stream.end('first version\n');
      await first.commit();
      const second = await h.storage.create(url, h.options);
      await write(second, 'second version, ');
      second.stream.end('longer than the first\n');
      await sleep(100);
      // Until the commit, readers see the whole first version.
      expect((await readBack(h, url)).toString()).toBe('first version\n');
      await second.commit();
      expect((await readBack(h, url)).toString()).toBe('second version, longer than the first\n');
      expect(await h.pending()).toEqual([]);
    });

    it('keeps the earlier object when its replacement is aborted', async () => {
      const h = harness();
      const url = fresh(h, 'kept');
      const first = await h.storage.create(url, h.options);
      first.stream.end('kept\n');
      await first.commit();
      const second = await h.storage.create(url, h.options);
      await write(second, 'never seen\n');
      await second.abort();
      expect((await readBack(h, url)).toString()).toBe('kept\n');
    });

    it('does nothing on abort after commit', async () => {
      const h = harness();
      const url = fresh(h, 'done');
      const out = await h.storage.create(url, h.options);
      out.stream.end('done\n');
      await out.commit();
      await out.commit();
      await out.abort();
      expect((await readBack(h, url)).toString()).toBe('done\n');
    });

    it('refuses to commit a stream that was not ended', async () => {
      const h = harness();
      const out = await h.storage.create(fresh(h, 'unended'), h.options);
      await write(out, 'half');
      await expect(out.commit()).rejects.toMatchObject({ code: 'internal' });
      await out.abort();
    });
  });
}

// ---------------------------------------------------------------------------- local

let localDir: string;
beforeAll(async () => {
  localDir = await mkdtemp(join(tmpdir(), 'auditreplay-storage-'));
});
afterAll(async () => {
  await rm(localDir, { recursive: true, force: true });
});

/** Temporary files left anywhere under the folder. */
async function tempFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  return entries.filter((e) => e.endsWith('.tmp'));
}

storageContract('local files', () => ({
  storage: localStorage,
  options: {},
  url: (name) => join(localDir, 'local', name),
  pending: () => tempFiles(localDir),
  abortClearsPending: true,
  env: {},
}));

describe('local storage', () => {
  it('takes file:// URLs and creates missing folders', async () => {
    const url = `file://${join(localDir, 'by-url', 'a', 'b', 'out.txt')}`;
    const out = await localStorage.create(url, {});
    out.stream.end('via file://\n');
    await out.commit();
    expect(existsSync(join(localDir, 'by-url', 'a', 'b', 'out.txt'))).toBe(true);
    expect((await readBack({ storage: localStorage, options: {} } as Harness, url)).toString()).toBe('via file://\n');
  });

  it('reports a folder it cannot create as sink-failed', async () => {
    // A file where a folder should be.
    const file = join(localDir, 'plain-file');
    const blocker = await localStorage.create(file, {});
    blocker.stream.end('x');
    await blocker.commit();
    const err = await localStorage.create(join(file, 'sub', 'out.txt'), {}).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'sink-failed' });
    expect((err as Error).message).toContain(join(file, 'sub', 'out.txt'));
  });
});

// ---------------------------------------------------------------------------- S3

const BUCKET = 'outputs';
let s3: TestS3;
let s3Dir: string;
let restoreAwsEnv: () => void;
/** s3rver answers AbortMultipartUpload with 405 and cannot list uploads; this proxy does the abort on its store. */
let s3Proxy: FaultProxy;

/** Multipart uploads s3rver holds (it keeps each in a folder until completed). */
async function s3Uploads(): Promise<string[]> {
  return readdir(join(s3Dir, BUCKET, '._S3rver_uploads')).catch(() => [] as string[]);
}

beforeAll(async () => {
  restoreAwsEnv = isolateAwsEnv();
  s3Dir = await mkdtemp(join(tmpdir(), 'auditreplay-s3-out-'));
  s3 = await startS3([BUCKET], { directory: s3Dir });
  s3Proxy = await startFaultProxy(s3.endpoint, (req) => {
    const m = /^\/[^/?]+\/[^?]+\?(?:.*&)?uploadId=([0-9a-f]+)/.exec(req.url);
    if (req.method !== 'DELETE' || !m) return { kind: 'pass' };
    const dir = join(s3Dir, BUCKET, '._S3rver_uploads', m[1]!);
    if (!existsSync(dir)) {
      return { kind: 'status', status: 404, body: '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>' };
    }
    rmSync(dir, { recursive: true, force: true });
    return { kind: 'status', status: 204 };
  });
});
afterAll(async () => {
  await s3Proxy?.close();
  await s3?.close();
  await rm(s3Dir, { recursive: true, force: true });
  restoreAwsEnv?.();
});

storageContract('S3 (s3rver, with AbortMultipartUpload done by a proxy on its store)', () => ({
  storage: s3Storage,
  options: { s3Endpoint: s3Proxy.url },
  url: (name) => `s3://${BUCKET}/${name}`,
  pending: s3Uploads,
  abortClearsPending: true,
  env: testAwsEnv(),
}));

describe('S3 storage', () => {
  it('uploads a large output in 8 MiB parts, completing the upload only at commit', { timeout: 60_000 }, async () => {
    const url = `s3://${BUCKET}/parts/big.bin`;
    const from = s3Proxy.requests.length;
    const out = await s3Storage.create(url, { s3Endpoint: s3Proxy.url });
    const sha = await writeRandom(out, 17 * MiB);
    out.stream.end();
    // Two full parts went up while writing; the last waits for commit.
    await eventually(() => expect(s3Proxy.requests.slice(from).filter((r) => r.method === 'PUT' && r.url.includes('partNumber=')).length).toBe(2));
    await sleep(300);
    const before = s3Proxy.requests.slice(from);
    expect(before.filter((r) => r.method === 'POST' && r.url.includes('uploads')).length).toBe(1);
    expect(before.filter((r) => r.method === 'PUT' && r.url.includes('partNumber=')).length).toBe(2);
    expect(before.some((r) => r.method === 'POST' && r.url.includes('uploadId='))).toBe(false);
    await out.commit();
    const after = s3Proxy.requests.slice(from);
    expect(after.filter((r) => r.method === 'PUT' && r.url.includes('partNumber=')).length).toBe(3);
    expect(after.filter((r) => r.method === 'POST' && r.url.includes('uploadId=')).length).toBe(1);
    expect(await hashOf(await s3Storage.open(url, { s3Endpoint: s3Proxy.url }))).toEqual({ sha, size: 17 * MiB });
  });

  it('says which upload it could not abort when the store refuses AbortMultipartUpload', { timeout: 60_000 }, async () => {
    // Straight to s3rver, which answers 405 MethodNotAllowed.
    const out = await s3Storage.create(`s3://${BUCKET}/refused/abort.bin`, { s3Endpoint: s3.endpoint });
    await writeRandom(out, 9 * MiB);
    await sleep(300);
    const err = await out.abort().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'sink-failed' });
    expect((err as Error).message).toMatch(/s3:\/\/outputs\/refused\/abort\.bin.*MethodNotAllowed.*lifecycle rule AbortIncompleteMultipartUpload/);
    for (const id of await s3Uploads()) rmSync(join(s3Dir, BUCKET, '._S3rver_uploads', id), { recursive: true, force: true });
  });

  it('reports refused credentials as sink-failed, naming the bucket and never the secret', async () => {
    const denied = await startFaultProxy(s3.endpoint, () => ({
      kind: 'status',
      status: 403,
      body: '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>',
    }));
    try {
      const out = await s3Storage.create(`s3://${BUCKET}/denied.txt`, { s3Endpoint: denied.url });
      out.stream.end('x');
      const err = await out.commit().catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'sink-failed' });
      expect((err as Error).message).toMatch(/s3:\/\/outputs\/denied\.txt: access to bucket 'outputs'.*refused.*AccessDenied.*AWS_ACCESS_KEY_ID/);
      expect((err as Error).message).not.toContain(S3_TEST_SECRET);
      await out.abort();
    } finally {
      await denied.close();
    }
  });

  it('refuses a URL that names no object', async () => {
    await expect(s3Storage.create(`s3://${BUCKET}/folder/`, { s3Endpoint: s3Proxy.url })).rejects.toMatchObject({ code: 'usage' });
  });
});

// ---------------------------------------------------------------------------- Azure

const CONTAINER = 'outputs';
let azurite: Azurite;
let container: ReturnType<BlobServiceClient['getContainerClient']>;
const savedAzureEnv = new Map<string, string | undefined>();
const AZURE_VARS = ['AZURE_STORAGE_CONNECTION_STRING', 'AZURE_STORAGE_ACCOUNT', 'AZURE_STORAGE_KEY', 'AZURE_STORAGE_SAS_TOKEN'];

beforeAll(async () => {
  azurite = await startAzurite();
  for (const name of AZURE_VARS) {
    savedAzureEnv.set(name, process.env[name]);
    Reflect.deleteProperty(process.env, name);
  }
  process.env.AZURE_STORAGE_CONNECTION_STRING = azurite.connectionString();
  container = BlobServiceClient.fromConnectionString(azurite.connectionString()).getContainerClient(CONTAINER);
  await container.create();
});
afterAll(async () => {
  for (const [name, value] of savedAzureEnv) {
    if (value === undefined) Reflect.deleteProperty(process.env, name);
    else process.env[name] = value;
  }
  await azurite?.stop();
});

/** Blobs that exist only as uncommitted blocks (what staging leaves until a commit or Azure's clean-up). */
async function uncommittedBlobs(): Promise<string[]> {
  const names: string[] = [];
  for await (const b of container.listBlobsFlat({ includeUncommitedBlobs: true })) names.push(b.name);
  const committed = new Set<string>();
  for await (const b of container.listBlobsFlat()) committed.add(b.name);
  return names.filter((n) => !committed.has(n));
}

storageContract('Azure Blob Storage (Azurite)', () => ({
  storage: azureStorage,
  options: {},
  url: (name) => `az://${CONTAINER}/${name}`,
  // Staged blocks of an aborted output cannot be removed by a client; Azure drops them (next commit, or a week).
  pending: async () => [],
  abortClearsPending: false,
  env: { AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString() },
}));

describe('Azure storage', () => {
  it('stages blocks while writing and commits the block list only at commit', { timeout: 60_000 }, async () => {
    const url = `az://${CONTAINER}/staged/out.bin`;
    const out = await azureStorage.create(url, {});
    const sha = await writeRandom(out, 9 * MiB);
    out.stream.end();
    // 'finish' comes once every block, the short last one too, is staged.
    await finished(out.stream);
    expect(await uncommittedBlobs()).toContain('staged/out.bin');
    const blocks = await container.getBlockBlobClient('staged/out.bin').getBlockList('uncommitted');
    // Listed in no particular order.
    expect(blocks.uncommittedBlocks?.map((b) => b.size).sort((x, y) => x - y)).toEqual([1 * MiB, 4 * MiB, 4 * MiB]);
    await out.commit();
    expect(await hashOf(await azureStorage.open(url, {}))).toEqual({ sha, size: 9 * MiB });
  });

  it('reports a refused key as sink-failed, naming the container and never the key', async () => {
    const wrongKey = Buffer.alloc(64, 42).toString('base64');
    process.env.AZURE_STORAGE_CONNECTION_STRING = azurite.connectionString({ key: wrongKey });
    try {
      const out = await azureStorage.create(`az://${CONTAINER}/denied.txt`, {});
      out.stream.end('x');
      const err = await out.commit().catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'sink-failed' });
      expect((err as Error).message).toMatch(/az:\/\/outputs\/denied\.txt.*container 'outputs' of account 'devstoreaccount1' was refused.*403/);
      expect((err as Error).message).not.toContain(wrongKey);
      expect((err as Error).message).not.toContain(AZURITE_KEY);
      await out.abort();
    } finally {
      process.env.AZURE_STORAGE_CONNECTION_STRING = azurite.connectionString();
    }
  });

  it('refuses a URL that names no blob', async () => {
    await expect(azureStorage.create(`az://${CONTAINER}/folder/`, {})).rejects.toMatchObject({ code: 'usage' });
  });
});

// ---------------------------------------------------------------------------- GCS

const GCS_BUCKET = 'auditreplay-outputs';
let gcs: FakeGcs;
beforeAll(async () => {
  gcs = await startFakeGcs();
  gcs.createBucket(GCS_BUCKET);
});
afterAll(() => gcs?.close());

storageContract('GCS (a fake of the JSON API, since no GCS emulator installs here)', () => ({
  storage: gcsStorage,
  options: { gcsEndpoint: gcs.url },
  url: (name) => `gs://${GCS_BUCKET}/${name}`,
  pending: async () => gcs.openUploads().map((u) => `${u.bucket}/${u.name} (${u.received} bytes)`),
  abortClearsPending: true,
  env: {},
}));

describe('GCS storage', () => {
  it('sends full 8 MiB chunks into a resumable session while writing, and the last one, which finalizes it, at commit', { timeout: 60_000 }, async () => {
    const url = `gs://${GCS_BUCKET}/session/out.bin`;
    const out = await gcsStorage.create(url, { gcsEndpoint: gcs.url });
    const sha = await writeRandom(out, 9 * MiB);
    out.stream.end();
    // The first chunk is on the server, in an upload that is not an object yet.
    await eventually(() => expect(gcs.openUploads()).toEqual([{ bucket: GCS_BUCKET, name: 'session/out.bin', received: 8 * MiB }]));
    await sleep(300);
    expect(gcs.openUploads()).toEqual([{ bucket: GCS_BUCKET, name: 'session/out.bin', received: 8 * MiB }]);
    expect(gcs.getObject(GCS_BUCKET, 'session/out.bin')).toBeUndefined();
    await out.commit();
    expect(gcs.openUploads()).toEqual([]);
    expect(gcs.getObject(GCS_BUCKET, 'session/out.bin')?.metadata).toEqual({ 'auditreplay-upload': expect.any(String) });
    expect(await hashOf(await gcsStorage.open(url, { gcsEndpoint: gcs.url }))).toEqual({ sha, size: 9 * MiB });
  });

  it('reports a missing bucket as sink-failed when the output is created', async () => {
    const err = await gcsStorage.create('gs://auditreplay-no-such-bucket/out.txt', { gcsEndpoint: gcs.url }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'sink-failed' });
    expect((err as Error).message).toContain("bucket 'auditreplay-no-such-bucket' does not exist");
  });

  it('refuses a URL that names no object', async () => {
    await expect(gcsStorage.create(`gs://${GCS_BUCKET}/folder/`, { gcsEndpoint: gcs.url })).rejects.toMatchObject({ code: 'usage' });
  });
});

// ---------------------------------------------------------------------------- registry

describe('storageFor', () => {
  it('picks the storage by scheme, and a local file for a path or file:// URL', async () => {
    const url = join(localDir, 'registry', 'out.txt');
    const out = await storageFor(url).create(url, {});
    out.stream.end('local\n');
    await out.commit();
    expect(await storageFor(`file://${url}`).exists(`file://${url}`, {})).toBe(true);
    expect(await storageFor(`s3://${BUCKET}/none.txt`).exists(`s3://${BUCKET}/none.txt`, { s3Endpoint: s3Proxy.url })).toBe(false);
    expect(await storageFor(`az://${CONTAINER}/none.txt`).exists(`az://${CONTAINER}/none.txt`, {})).toBe(false);
    expect(await storageFor(`gs://${GCS_BUCKET}/none.txt`).exists(`gs://${GCS_BUCKET}/none.txt`, { gcsEndpoint: gcs.url })).toBe(false);
    expect(storageFor('https://acct.blob.core.windows.net/c/x.txt').accepts('https://acct.blob.core.windows.net/c/x.txt')).toBe(true);
  });

  it('refuses a scheme it cannot write to rather than taking it for a local path', () => {
    expect(() => storageFor('ftp://example.com/out.txt')).toThrow(expect.objectContaining({ code: 'usage', message: expect.stringContaining("'ftp://'") }) as Error);
  });
});
