import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/core/audit-event.js';
import { AuditReplayError, EXIT } from '../../src/core/errors.js';
import { extract } from '../../src/extract/extract-pipeline.js';
import { RejectLog } from '../../src/ingest/reject-log.js';
import type { RetryPolicy } from '../../src/core/retry.js';
import { GcsSource, type GcsSourceOptions } from '../../src/ingest/sources/gcs/gcs-source.js';
import { openSource } from '../../src/ingest/source-registry.js';
import { startFaultProxy, type Fault } from '../helpers/fault-proxy.js';
import { startFakeGcs, type FakeGcs } from '../helpers/gcs-fake-server.js';
import { runCli } from '../helpers/run-cli.js';
import { collect, okeraLine } from '../helpers/temp-tree.js';
import { sourceContract } from './source-contract.js';

const FAST: RetryPolicy = { attempts: 4, baseDelayMs: 1, maxDelayMs: 5 };
// The SDK's HTTP client hangs on a connection dropped mid-body; the source notices by the idle timeout.
const IDLE = 300;
const D20 = Date.UTC(2026, 10, 20);
// The CLI's exit code for refused credentials (source-auth), where it has one.
const AUTH_EXIT = (EXIT as Record<string, number>).auth ?? EXIT.failure;
const SECRET = 'MIIEvTOPSECRETKEYMATERIALdoNotPrint0123456789';

let fake: FakeGcs;
let serial = 0;
beforeAll(async () => {
  fake = await startFakeGcs();
});
afterAll(() => fake.close());

function newBucket(): string {
  const name = `auditreplay-${process.pid}-${++serial}`;
  fake.createBucket(name);
  return name;
}

function gcsJsonError(code: number, message: string, reason: string): Fault {
  return {
    kind: 'status',
    status: code,
    headers: { 'content-type': 'application/json; charset=UTF-8' },
    body: JSON.stringify({ error: { code, message, errors: [{ message, domain: 'global', reason }] } }),
  };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

async function extractIds(source: GcsSource): Promise<string[]> {
  const { events } = extract({ source, window: { from: D20, to: D20 + 86_400_000 }, rejects: new RejectLog({ write: async () => {} }) });
  return (await collect<AuditEvent>(events)).map((e) => e.id);
}

function okeraLog(ids: string[], startMs: number, stepMs = 1000): string {
  return ids.map((id, i) => okeraLine({ request_id: id, start_unix_time: startMs + i * stepMs })).join('\n') + '\n';
}

/** Bytes that neither repeat nor compress, so a misplaced resume cannot go unnoticed. */
function patterned(length: number): Buffer {
  const b = Buffer.alloc(length);
  let x = 2463534242;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

sourceContract('gcs against a fake GCS JSON API server, since no emulator installs here', async (objects) => {
  const bucket = newBucket();
  // Outside the source's prefix: must never show up.
  fake.putObject(bucket, 'elsewhere.log', 'not under logs/\n');
  for (const [key, bytes] of Object.entries(objects)) fake.putObject(bucket, `logs/${key}`, bytes);
  return { source: new GcsSource(`gs://${bucket}/logs`, { gcsEndpoint: fake.url, retry: FAST }), cleanup: async () => fake.deleteBucket(bucket) };
});

describe('GCS source against a fake GCS JSON API server, since no emulator installs here', () => {
  const source = (url: string, options: GcsSourceOptions = {}) => new GcsSource(url, { gcsEndpoint: fake.url, retry: FAST, ...options });

  it('pages through a listing with a small page size and counts every page as a list call', async () => {
    const bucket = newBucket();
    for (const key of ['a.log', 'b.log', 'c.log', 'd/1.log', 'd/2.log', 'e.log', 'f/1.log', 'g.log']) fake.putObject(bucket, `root/${key}`, `${key}\n`);
    const before = fake.requests.length;
    const listing = await source(`gs://${bucket}/root/`, { pageSize: 2 }).listDir('');
    const lists = fake.requests.slice(before).filter((r) => r.kind === 'list');
    // a b | c d/ | e f/ | g: four pages of at most two entries (objects and prefixes together).
    expect(listing.calls).toBe(4);
    expect(lists.length).toBe(4);
    expect(lists.map((r) => r.query.maxResults)).toEqual(['2', '2', '2', '2']);
    expect(lists[0]!.query).toMatchObject({ prefix: 'root/', delimiter: '/' });
    expect(lists.slice(1).every((r) => r.query.pageToken)).toBe(true);
    expect(listing.prefixes).toEqual(['d/', 'f/']);
    expect(listing.objects.map((o) => o.key)).toEqual(['a.log', 'b.log', 'c.log', 'e.log', 'g.log']);
    expect(listing.objects[0]).toEqual({ key: 'a.log', size: 6 });
  });

  it('reads an object stored with Content-Encoding gzip as its stored bytes, from the start and from an offset', async () => {
    const bucket = newBucket();
    const gz = gzipSync(okeraLog(['g1', 'g2', 'g3'], D20));
    fake.putObject(bucket, 'z.log.gz', gz, { contentType: 'text/plain', contentEncoding: 'gzip' });
    // The fake, like GCS, would gunzip it for a client that does not accept gzip.
    const transcoded = await new Promise<Buffer>((resolve, reject) =>
      get(`${fake.url}/storage/v1/b/${bucket}/o/z.log.gz?alt=media`, (res) => readAll(res).then(resolve, reject)).on('error', reject),
    );
    expect(transcoded.equals(gz)).toBe(false);

    const before = fake.requests.length;
    const s = source(`gs://${bucket}`);
    expect((await readAll(await s.open('z.log.gz'))).equals(gz)).toBe(true);
    expect((await readAll(await s.open('z.log.gz', { offset: 10 }))).equals(gz.subarray(10))).toBe(true);
    const media = fake.requests.slice(before).filter((r) => r.kind === 'media');
    // From byte 0 no Range at all: `bytes=0-` would be answered 416 for an empty object.
    expect(media.map((r) => r.range)).toEqual([undefined, 'bytes=10-']);
  });

  it('treats gs://bucket/path/file.log as a one-object source', async () => {
    const bucket = newBucket();
    fake.putObject(bucket, 'one/file.log', 'x\n');
    const s = source(`gs://${bucket}/one/file.log`);
    expect(await s.listDir('')).toEqual({ prefixes: [], objects: [{ key: '', size: 2 }], calls: 2 });
    expect((await readAll(await s.open(''))).toString()).toBe('x\n');
  });

  it('takes the endpoint from STORAGE_EMULATOR_HOST (scheme optional), and the gcsEndpoint option over it', async () => {
    const bucket = newBucket();
    fake.putObject(bucket, 'a.log', 'a\n');
    const saved = process.env.STORAGE_EMULATOR_HOST;
    try {
      process.env.STORAGE_EMULATOR_HOST = fake.url.replace('http://', '');
      const viaEnv = await openSource(`gs://${bucket}`, { retry: FAST });
      expect((await viaEnv.listDir('')).objects).toEqual([{ key: 'a.log', size: 2 }]);
      expect((await readAll(await viaEnv.open('a.log'))).toString()).toBe('a\n');
      // The SDK would send JSON API calls to STORAGE_EMULATOR_HOST whatever apiEndpoint says.
      process.env.STORAGE_EMULATOR_HOST = 'http://127.0.0.1:9';
      const viaOption = await openSource(`gs://${bucket}`, { retry: FAST, gcsEndpoint: `${fake.url}/storage/v1/` });
      expect((await viaOption.listDir('')).objects).toEqual([{ key: 'a.log', size: 2 }]);
      expect((await readAll(await viaOption.open('a.log'))).toString()).toBe('a\n');
    } finally {
      restoreEnv('STORAGE_EMULATOR_HOST', saved);
    }
  });

  it('retries a listing answered 503 and a download answered 429, and every record arrives exactly once', async () => {
    const bucket = newBucket();
    fake.putObject(bucket, 'audit/ymd=2026-11-20/a.log', okeraLog(['a1', 'a2', 'a3'], D20 + 3_600_000));
    fake.putObject(bucket, 'audit/ymd=2026-11-20/b.log', okeraLog(['b1', 'b2'], D20 + 7_200_000));
    let lists = 0;
    let media = 0;
    const proxy = await startFaultProxy(fake.url, (req) => {
      if (req.url.includes('alt=media')) return ++media === 1 ? gcsJsonError(429, 'The rate of change requests to the object exceeds the rate limit.', 'rateLimitExceeded') : { kind: 'pass' };
      return ++lists <= 2 ? gcsJsonError(503, 'We encountered an internal error. Please try again.', 'backendError') : { kind: 'pass' };
    });
    try {
      const retried: string[] = [];
      const s = new GcsSource(`gs://${bucket}/audit`, { gcsEndpoint: proxy.url, retry: FAST, onRetry: (what) => retried.push(what) });
      expect(await extractIds(s)).toEqual(['a1', 'a2', 'a3', 'b1', 'b2']);
      expect(retried.sort()).toEqual(['list', 'list', 'read']);
      expect(proxy.requests.filter((r) => r.status === 503 || r.status === 429).length).toBe(3);
    } finally {
      await proxy.close();
    }
  });

  it('resumes a download cut midway through a several-MB object with a ranged read conditional on its generation', async () => {
    const bucket = newBucket();
    const big = patterned(5 * 1024 * 1024 + 7);
    const stored = fake.putObject(bucket, 'big.bin', big);
    const cutAt = 2_000_000;
    const proxy = await startFaultProxy(fake.url, (req) => (req.n === 1 ? { kind: 'cut', afterBytes: cutAt } : { kind: 'pass' }));
    try {
      const retried: string[] = [];
      const s = new GcsSource(`gs://${bucket}`, { gcsEndpoint: proxy.url, retry: FAST, readIdleTimeoutMs: IDLE, onRetry: (what) => retried.push(what) });
      expect((await readAll(await s.open('big.bin'))).equals(big)).toBe(true);
      expect(retried).toEqual(['resume']);
      expect(proxy.requests.map((r) => r.status)).toEqual(['cut', 206]);
      const resumed = proxy.requests[1]!;
      expect(resumed.range).toBe(`bytes=${cutAt}-`);
      expect(new URL(resumed.url, proxy.url).searchParams.get('ifGenerationMatch')).toBe(stored.generation);
    } finally {
      await proxy.close();
    }
  });

  it('delivers every record of a several-MB log exactly once and in order across a cut download', async () => {
    const bucket = newBucket();
    const ids = Array.from({ length: 12_000 }, (_, i) => `r${String(i).padStart(5, '0')}`);
    const log = okeraLog(ids, D20 + 60_000, 500);
    expect(log.length).toBeGreaterThan(3 * 1024 * 1024);
    fake.putObject(bucket, 'audit/ymd=2026-11-20/big.log', log);
    let media = 0;
    const proxy = await startFaultProxy(fake.url, (req) => (req.url.includes('alt=media') && ++media === 1 ? { kind: 'cut', afterBytes: 1_234_567 } : { kind: 'pass' }));
    try {
      const retried: string[] = [];
      const s = new GcsSource(`gs://${bucket}/audit/`, { gcsEndpoint: proxy.url, retry: FAST, readIdleTimeoutMs: IDLE, onRetry: (what) => retried.push(what) });
      expect(await extractIds(s)).toEqual(ids);
      expect(retried).toEqual(['resume']);
      expect(proxy.requests.filter((r) => r.range === 'bytes=1234567-').length).toBe(1);
    } finally {
      await proxy.close();
    }
  });

  it('does not take a paused reader for a stalled download', async () => {
    const bucket = newBucket();
    const big = patterned(3 * 1024 * 1024);
    fake.putObject(bucket, 'slow.bin', big);
    const retried: string[] = [];
    const stream = await source(`gs://${bucket}`, { readIdleTimeoutMs: 100, onRetry: (w) => retried.push(w) }).open('slow.bin');
    const parts: Buffer[] = [];
    let paused = false;
    for await (const chunk of stream) {
      parts.push(chunk as Buffer);
      if (!paused) {
        paused = true;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    expect(Buffer.concat(parts).equals(big)).toBe(true);
    expect(retried).toEqual([]);
  });

  it('stops a download when its signal aborts, and the source stays usable', async () => {
    const bucket = newBucket();
    fake.putObject(bucket, 'big.bin', patterned(4 * 1024 * 1024));
    fake.putObject(bucket, 'small.log', 's\n');
    const s = source(`gs://${bucket}`);
    const controller = new AbortController();
    const stream = await s.open('big.bin', { signal: controller.signal });
    const err = await (async () => {
      for await (const _chunk of stream) controller.abort();
    })().catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'AbortError' });
    expect(stream.destroyed).toBe(true);
    expect((await readAll(await s.open('small.log'))).toString()).toBe('s\n');
  });

  it('fails a resumed read clearly when the object was replaced in between, instead of joining two versions', async () => {
    const bucket = newBucket();
    fake.putObject(bucket, 'swap.bin', patterned(3_000_000));
    const proxy = await startFaultProxy(fake.url, (req) => {
      if (req.n === 1) return { kind: 'cut', afterBytes: 1_000_000 };
      // Rewritten just before the resume reaches the server.
      if (req.n === 2) fake.putObject(bucket, 'swap.bin', patterned(3_000_001));
      return { kind: 'pass' };
    });
    try {
      const s = new GcsSource(`gs://${bucket}`, { gcsEndpoint: proxy.url, retry: FAST, readIdleTimeoutMs: IDLE });
      const err = await readAll(await s.open('swap.bin')).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(AuditReplayError);
      expect((err as AuditReplayError).code).toBe('source-failed');
      expect((err as Error).message).toMatch(new RegExp(`gs://${bucket}/swap\\.bin: the object was replaced while it was being read`));
      expect(proxy.requests.map((r) => r.status)).toEqual(['cut', 412]);
    } finally {
      await proxy.close();
    }
  });

  it('fails fast with source-auth on 403, naming the bucket and the credential source, for a listing and a download', async () => {
    const bucket = newBucket();
    fake.putObject(bucket, 'a.log', 'a\n');
    const denied = gcsJsonError(403, `anonymous caller does not have storage.objects.list access to the Google Cloud Storage bucket. Permission 'storage.objects.list' denied on resource (or it may not exist).`, 'forbidden');
    const proxy = await startFaultProxy(fake.url, () => denied);
    const mediaOnly = await startFaultProxy(fake.url, (req) => (req.url.includes('alt=media') ? denied : { kind: 'pass' }));
    try {
      const retried: string[] = [];
      const started = Date.now();
      const err = await new GcsSource(`gs://${bucket}/logs/`, { gcsEndpoint: proxy.url, onRetry: (w) => retried.push(w) }).listDir('').catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(err).toMatchObject({ name: 'AuditReplayError', code: 'source-auth' });
      expect((err as Error).message).toContain(`gs://${bucket}/logs/: permission denied (HTTP 403) with no credentials (emulator endpoint ${proxy.url}, from --gcs-endpoint)`);
      expect((err as Error).message).toContain("Permission 'storage.objects.list' denied");
      expect(proxy.requests.length).toBe(1);

      const s = new GcsSource(`gs://${bucket}`, { gcsEndpoint: mediaOnly.url, onRetry: (w) => retried.push(w) });
      await s.listDir('');
      await expect(s.open('a.log')).rejects.toMatchObject({ code: 'source-auth', message: expect.stringContaining(`gs://${bucket}/a.log: permission denied (HTTP 403)`) });
      expect(mediaOnly.requests.filter((r) => r.url.includes('alt=media')).length).toBe(1);
      expect(retried).toEqual([]);
    } finally {
      await proxy.close();
      await mediaOnly.close();
    }
  });

  it('reports a missing bucket as source-not-found naming it', async () => {
    const err = await source('gs://no-such-bucket-here/logs').listDir('').catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'AuditReplayError', code: 'source-not-found' });
    expect((err as Error).message).toMatch(/^bucket 'no-such-bucket-here' does not exist at http:\/\/127\.0\.0\.1:\d+ \(listing gs:\/\/no-such-bucket-here\/logs\/\)$/);
  });

  it('reports a missing object as source-not-found naming it', async () => {
    const bucket = newBucket();
    await expect(source(`gs://${bucket}/logs`).open('ymd=2026-11-20/gone.log')).rejects.toMatchObject({
      code: 'source-not-found',
      message: expect.stringContaining(`gs://${bucket}/logs/ymd=2026-11-20/gone.log: no such object`),
    });
  });

  it('gives up with source-failed naming the object once the retries run out', async () => {
    const bucket = newBucket();
    fake.putObject(bucket, 'a.log', 'a\n');
    const proxy = await startFaultProxy(fake.url, (req) => (req.url.includes('alt=media') ? gcsJsonError(503, 'Service Unavailable', 'backendError') : { kind: 'pass' }));
    try {
      const retried: string[] = [];
      const s = new GcsSource(`gs://${bucket}`, { gcsEndpoint: proxy.url, retry: FAST, onRetry: (w) => retried.push(w) });
      await expect(s.open('a.log')).rejects.toMatchObject({
        code: 'source-failed',
        message: `gs://${bucket}/a.log: reading failed after 4 attempts: HTTP 503 Service Unavailable`,
      });
      expect(retried).toEqual(['read', 'read', 'read']);
      expect(proxy.requests.filter((r) => r.url.includes('alt=media')).length).toBe(4);
    } finally {
      await proxy.close();
    }
  });

  it('names Application Default Credentials and the key file path, never the key, when the credentials cannot be used', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'auditreplay-gcs-'));
    const saved = { gac: process.env.GOOGLE_APPLICATION_CREDENTIALS, emu: process.env.STORAGE_EMULATOR_HOST };
    try {
      const badKey = join(dir, 'bad-key.json');
      await writeFile(badKey, serviceAccountJson(SECRET));
      const notJson = join(dir, 'not-json.json');
      await writeFile(notJson, `private_key=${SECRET}\n`);
      delete process.env.STORAGE_EMULATOR_HOST;
      for (const [file, reason] of [
        [badKey, 'its private key cannot be read'],
        [notJson, 'the credentials file is not valid JSON'],
      ] as const) {
        process.env.GOOGLE_APPLICATION_CREDENTIALS = file;
        const err = await new GcsSource('gs://private-bucket/logs', { retry: FAST }).listDir('').catch((e: unknown) => e);
        expect(err).toMatchObject({ name: 'AuditReplayError', code: 'source-auth' });
        expect((err as Error).message).toBe(
          `gs://private-bucket/logs/: cannot get an access token from Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS=${file}): ${reason}`,
        );
      }
    } finally {
      restoreEnv('GOOGLE_APPLICATION_CREDENTIALS', saved.gac);
      restoreEnv('STORAGE_EMULATOR_HOST', saved.emu);
      await rm(dir, { recursive: true, force: true });
    }
  });
});

function restoreEnv(name: 'GOOGLE_APPLICATION_CREDENTIALS' | 'STORAGE_EMULATOR_HOST', value: string | undefined): void {
  if (value !== undefined) process.env[name] = value;
  else if (name === 'GOOGLE_APPLICATION_CREDENTIALS') delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
  else delete process.env.STORAGE_EMULATOR_HOST;
}

function serviceAccountJson(secret: string): string {
  return JSON.stringify({
    type: 'service_account',
    project_id: 'auditreplay-test',
    private_key_id: 'k1',
    private_key: `-----BEGIN PRIVATE KEY-----\n${secret}\n-----END PRIVATE KEY-----\n`,
    client_email: 'reader@auditreplay-test.iam.gserviceaccount.com',
    client_id: '1',
    token_uri: 'https://oauth2.googleapis.com/token',
  });
}

describe('auditreplay extract --source gs:// against a fake GCS JSON API server, since no emulator installs here', () => {
  let bucket: string;
  let dir: string;
  let keyFile: string;
  beforeAll(async () => {
    bucket = newBucket();
    fake.putObject(bucket, 'audit/ymd=2026-11-19/a.log', okeraLog(['d19'], D20 - 7_200_000));
    fake.putObject(bucket, 'audit/ymd=2026-11-20/a.log', okeraLog(['a1', 'a2', 'a3'], D20 + 3_600_000));
    fake.putObject(bucket, 'audit/ymd=2026-11-20/b.log.gz', gzipSync(okeraLog(['b1', 'b2'], D20 + 5_400_000)), { contentEncoding: 'gzip' });
    fake.putObject(bucket, 'audit/ymd=2026-11-22/a.log', okeraLog(['d22'], D20 + 2 * 86_400_000));
    dir = await mkdtemp(join(tmpdir(), 'auditreplay-gcs-cli-'));
    keyFile = join(dir, 'sa.json');
    await writeFile(keyFile, serviceAccountJson(SECRET));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const window = ['--from', '2026-11-20', '--to', '2026-11-21', '--progress', 'none'];

  it('extracts the events of an uploaded Okera tree and counts the list calls', async () => {
    const r = await runCli(['extract', '--source', `gs://${bucket}/audit`, '--gcs-endpoint', fake.url, ...window], {
      env: { GOOGLE_APPLICATION_CREDENTIALS: keyFile, STORAGE_EMULATOR_HOST: undefined },
    });
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as AuditEvent);
    expect(events.map((e) => e.id)).toEqual(['a1', 'a2', 'a3', 'b1', 'b2']);
    expect(events[0]!.source.object).toBe(`gs://${bucket}/audit/ymd=2026-11-20/a.log`);
    // audit/ (whose 11-19 and 11-22 partitions are pruned) and ymd=2026-11-20/.
    expect(r.summary).toMatchObject({ listCalls: 2, objects: 2, prunedPrefixes: 2, retries: 0, resumes: 0, rejected: 0 });
    expect(r.stdout + r.stderr).not.toContain(SECRET);
  });

  it('never prints the key, also in runs that fail on purpose with unusable credentials or a 403', async () => {
    const noKey = await runCli(['extract', '--source', `gs://${bucket}/audit`, ...window], {
      env: { GOOGLE_APPLICATION_CREDENTIALS: keyFile, STORAGE_EMULATOR_HOST: undefined },
    });
    expect(noKey.code).toBe(AUTH_EXIT);
    expect(noKey.stderr).toContain(`auditreplay: gs://${bucket}/audit/: cannot get an access token from Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS=${keyFile})`);
    expect(noKey.stdout + noKey.stderr).not.toContain(SECRET);

    const proxy = await startFaultProxy(fake.url, () => gcsJsonError(403, 'Forbidden', 'forbidden'));
    try {
      const denied = await runCli(['extract', '--source', `gs://${bucket}/audit`, '--gcs-endpoint', proxy.url, ...window], {
        env: { GOOGLE_APPLICATION_CREDENTIALS: keyFile, STORAGE_EMULATOR_HOST: undefined },
      });
      expect(denied.code).toBe(AUTH_EXIT);
      expect(denied.stderr).toContain(`auditreplay: gs://${bucket}/audit/: permission denied (HTTP 403) with no credentials (emulator endpoint ${proxy.url}, from --gcs-endpoint)`);
      expect(denied.stdout + denied.stderr).not.toContain(SECRET);
      expect(proxy.requests.length).toBe(1);
    } finally {
      await proxy.close();
    }
  });
});
