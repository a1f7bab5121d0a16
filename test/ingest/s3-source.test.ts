import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditReplayError } from '../../src/core/errors.js';
import type { RetryPolicy } from '../../src/core/retry.js';
import { openSource } from '../../src/ingest/source-registry.js';
import { credentialSource, S3Source, type S3SourceOptions } from '../../src/ingest/sources/s3/s3-source.js';
import { startFaultProxy, type Fault, type FaultProxy, type SeenRequest } from '../helpers/fault-proxy.js';
import { runCli } from '../helpers/run-cli.js';
import { isolateAwsEnv, S3_TEST_SECRET, startS3, testAwsEnv, type TestS3 } from '../helpers/s3-server.js';
import { okeraLine } from '../helpers/temp-tree.js';
import { sourceContract } from './source-contract.js';

/** Fast backoff so the fault tests take milliseconds, with the default number of tries. */
const FAST: RetryPolicy = { attempts: 6, baseDelayMs: 2, maxDelayMs: 10 };
const BUCKET = 'audit-bucket';
const SLOW_DOWN = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>';
const ACCESS_DENIED = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>';
const PRECONDITION = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>';

let s3: TestS3;
let restoreEnv: () => void;
const proxies: FaultProxy[] = [];

beforeAll(async () => {
  restoreEnv = isolateAwsEnv();
  s3 = await startS3([BUCKET, 'contract']);
});

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  await s3?.close();
  restoreEnv?.();
});

async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

/** A fault proxy in front of the test server, closed after the file. */
async function proxy(plan: (req: Omit<SeenRequest, 'status'>) => Fault): Promise<FaultProxy> {
  const p = await startFaultProxy(s3.endpoint, plan);
  proxies.push(p);
  return p;
}

/** A GetObject (the SDK adds `?x-id=GetObject`), as opposed to a listing (`list-type=2`). */
function isDownload(req: { method: string; url: string }): boolean {
  return req.method === 'GET' && !req.url.includes('list-type=');
}

function source(url: string, options: S3SourceOptions = {}): S3Source {
  return new S3Source(url, { s3Endpoint: s3.endpoint, retry: FAST, ...options });
}

/** Lines of Okera records, about `bytes` long in all. */
function okeraText(bytes: number, day = Date.UTC(2026, 10, 20, 10, 0, 0)): string {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line = okeraLine({ request_id: `r-${i}`, start_unix_time: day + i * 10, statement: `SELECT ${i} FROM sales.orders WHERE note = '${'x'.repeat(200)}'` });
    lines.push(line);
    size += line.length + 1;
  }
  return lines.join('\n') + '\n';
}

let contractRun = 0;
sourceContract('s3 (s3rver)', async (objects) => {
  // Each case gets its own prefix, so the source root is a prefix rather than the bucket.
  const prefix = `run-${++contractRun}/`;
  await Promise.all(Object.entries(objects).map(([key, bytes]) => s3.put('contract', prefix + key, bytes)));
  const src = source(`s3://contract/${prefix}`);
  return { source: src, cleanup: () => src.close() };
});

describe('S3 source on s3rver', () => {
  it('pages through a long listing, counting each page as a list call', async () => {
    const keys = ['p/a.log', 'p/b.log', 'p/c.log', 'p/d.log', 'p/e.log', 'p/sub1/x.log', 'p/sub2/y.log'];
    await Promise.all(keys.map((k) => s3.put(BUCKET, `paging/${k}`, `${k}\n`)));
    const src = source(`s3://${BUCKET}/paging`, { listPageSize: 2 });
    try {
      const listing = await src.listDir('p/');
      expect(listing.objects.map((o) => o.key)).toEqual(['p/a.log', 'p/b.log', 'p/c.log', 'p/d.log', 'p/e.log']);
      expect(listing.objects.map((o) => o.size)).toEqual([8, 8, 8, 8, 8]);
      expect([...listing.prefixes].sort()).toEqual(['p/sub1/', 'p/sub2/']);
      expect(listing.calls).toBe(3);
      const lists = s3.requests.filter((r) => r.url.includes('list-type=2') && r.url.includes('prefix=paging%2Fp%2F'));
      expect(lists.map((r) => new URL(r.url, 'http://x').searchParams.get('delimiter'))).toEqual(['/', '/', '/']);
    } finally {
      await src.close();
    }
  });

  it('reads a URL that names one object as a one-object source', async () => {
    await s3.put(BUCKET, 'single/one.log', 'one\n');
    const src = source(`s3://${BUCKET}/single/one.log`);
    try {
      expect((await src.listDir('')).objects).toEqual([{ key: '', size: 4 }]);
      expect((await readAll(await src.open(''))).toString()).toBe('one\n');
    } finally {
      await src.close();
    }
  });

  it('is chosen for s3:// URLs and takes its endpoint from AWS_ENDPOINT_URL, path-style', async () => {
    await s3.put(BUCKET, 'env-endpoint/x.log', 'x\n');
    const restore = isolateAwsEnv({ AWS_ENDPOINT_URL: s3.endpoint });
    const src = await openSource(`s3://${BUCKET}/env-endpoint/`, { retry: FAST });
    try {
      const before = s3.requests.length;
      expect((await src.listDir('')).objects.map((o) => o.key)).toEqual(['x.log']);
      expect(s3.requests.slice(before).map((r) => r.url.split('?')[0])).toEqual([`/${BUCKET}/`]);
    } finally {
      await src.close();
      restore();
    }
  });

  it('signs for AWS_DEFAULT_REGION when AWS_REGION is not set', async () => {
    const restore = isolateAwsEnv({ AWS_DEFAULT_REGION: 'eu-west-3' });
    const src = source(`s3://${BUCKET}/`);
    try {
      const before = s3.requests.length;
      await src.listDir('');
      expect(s3.requests[before]?.headers.authorization).toContain('/eu-west-3/s3/aws4_request');
    } finally {
      await src.close();
      restore();
    }
  });

  it('fails with a clear error naming the bucket when no region is configured for AWS itself', async () => {
    const restore = isolateAwsEnv();
    const src = new S3Source('s3://some-bucket/logs/', { retry: FAST });
    try {
      const err = await src.listDir('').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuditReplayError);
      expect((err as AuditReplayError).code).toBe('usage');
      expect((err as Error).message).toMatch(/no AWS region is configured for bucket 'some-bucket'.*AWS_REGION/);
    } finally {
      await src.close();
      restore();
    }
  });

  it('fails with source-auth naming the default chain when no credentials can be found at all', async () => {
    const restore = isolateAwsEnv({ AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined });
    const src = source(`s3://${BUCKET}/`);
    try {
      const err = await src.listDir('').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuditReplayError);
      expect((err as AuditReplayError).code).toBe('source-auth');
      expect((err as Error).message).toMatch(/no AWS credentials could be loaded for bucket 'audit-bucket' from the default AWS credential chain/);
    } finally {
      await src.close();
      restore();
    }
  });

  it('names the credential source the SDK chain will use, from the environment', () => {
    expect(credentialSource({ AWS_ACCESS_KEY_ID: 'AKIA', AWS_SECRET_ACCESS_KEY: S3_TEST_SECRET })).toBe('environment variables (AWS_ACCESS_KEY_ID)');
    expect(credentialSource({ AWS_PROFILE: 'audit-reader' })).toBe("profile 'audit-reader'");
    // The SDK prefers a named profile over the environment keys, so the message does too.
    expect(credentialSource({ AWS_PROFILE: 'audit-reader', AWS_ACCESS_KEY_ID: 'AKIA' })).toBe("profile 'audit-reader'");
    expect(credentialSource({ AWS_WEB_IDENTITY_TOKEN_FILE: '/var/run/token' })).toBe('web identity token (AWS_WEB_IDENTITY_TOKEN_FILE)');
    expect(credentialSource({})).toMatch(/^the default AWS credential chain/);
  });

  it('asks for a range from the offset, conditional on the ETag of the listing', async () => {
    const body = Buffer.from('0123456789abcdef\n');
    await s3.put(BUCKET, 'ranged/r.log', body);
    const src = source(`s3://${BUCKET}/ranged/`);
    try {
      const [listed] = (await src.listDir('')).objects;
      expect(listed?.key).toBe('r.log');
      const before = s3.requests.length;
      expect((await readAll(await src.open('r.log', { offset: 10 }))).toString()).toBe('abcdef\n');
      const get = s3.requests.slice(before).find((r) => r.method === 'GET');
      expect(get?.headers.range).toBe('bytes=10-');
      expect(get?.headers['if-match']).toMatch(/^"[0-9a-f]{32}"$/);
    } finally {
      await src.close();
    }
  });

  it('fails with source-not-found naming a bucket that does not exist', async () => {
    const src = source('s3://no-such-bucket-here/logs/');
    try {
      const err = await src.listDir('').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuditReplayError);
      expect((err as AuditReplayError).code).toBe('source-not-found');
      expect((err as Error).message).toContain("bucket 'no-such-bucket-here' does not exist");
    } finally {
      await src.close();
    }
  });

  it('fails with source-not-found when nothing lies under the prefix', async () => {
    const src = source(`s3://${BUCKET}/no-such-prefix/`);
    try {
      await expect(src.listDir('')).rejects.toMatchObject({ code: 'source-not-found', message: expect.stringContaining(`s3://${BUCKET}/no-such-prefix/`) });
      await expect(src.open('missing.log')).rejects.toMatchObject({ code: 'source-not-found', message: expect.stringContaining('no such object') });
    } finally {
      await src.close();
    }
  });

  it('refuses an unknown access key at once with source-auth naming the bucket and the credential source, never the secret', async () => {
    const restore = isolateAwsEnv({ AWS_ACCESS_KEY_ID: 'AKIAWRONGKEY0000' });
    const retries: string[] = [];
    const src = source(`s3://${BUCKET}/`, { onRetry: (what) => retries.push(what) });
    try {
      const err = await src.listDir('').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuditReplayError);
      expect((err as AuditReplayError).code).toBe('source-auth');
      const message = (err as Error).message;
      expect(message).toContain(`bucket '${BUCKET}'`);
      expect(message).toContain('environment variables (AWS_ACCESS_KEY_ID)');
      expect(message).toContain('InvalidAccessKeyId');
      expect(message).not.toContain(S3_TEST_SECRET);
      expect(retries).toEqual([]);
    } finally {
      await src.close();
      restore();
    }
  });
});

describe('S3 source through a fault proxy', () => {
  it('retries throttled listing pages and downloads, and delivers everything exactly once', async () => {
    const text = okeraText(300_000);
    await s3.put(BUCKET, 'throttle/ymd=2026-11-20/a.log', text);
    await s3.put(BUCKET, 'throttle/ymd=2026-11-20/b.log', 'b\n');
    let lists = 0;
    let gets = 0;
    const p = await proxy((req) => {
      if (req.method !== 'GET') return { kind: 'pass' };
      const isList = req.url.includes('list-type=2');
      const n = isList ? ++lists : ++gets;
      return n <= 2 ? { kind: 'status', status: 503, body: SLOW_DOWN } : { kind: 'pass' };
    });
    const seen: string[] = [];
    const src = new S3Source(`s3://${BUCKET}/throttle/`, { s3Endpoint: p.url, retry: FAST, listPageSize: 1, onRetry: (what) => seen.push(what) });
    try {
      const listing = await src.listDir('ymd=2026-11-20/');
      expect(listing.objects.map((o) => o.key)).toEqual(['ymd=2026-11-20/a.log', 'ymd=2026-11-20/b.log']);
      expect(listing.calls).toBe(2);
      expect((await readAll(await src.open('ymd=2026-11-20/a.log'))).toString()).toBe(text);
      expect(seen).toEqual(['list', 'list', 'read', 'read']);
      expect(p.requests.filter((r) => r.status === 503)).toHaveLength(4);
    } finally {
      await src.close();
    }
  });

  it('resumes a download cut in the middle with a ranged read conditional on the ETag, byte for byte', async () => {
    const big = Buffer.from(okeraText(4_000_000));
    await s3.put(BUCKET, 'cut/ymd=2026-11-20/big.log', big);
    let gets = 0;
    const p = await proxy((req) => (isDownload(req) && ++gets === 1 ? { kind: 'cut', afterBytes: 1_000_000 } : { kind: 'pass' }));
    const seen: string[] = [];
    const src = new S3Source(`s3://${BUCKET}/cut/`, { s3Endpoint: p.url, retry: FAST, onRetry: (what) => seen.push(what) });
    try {
      const [listed] = (await src.listDir('ymd=2026-11-20/')).objects;
      const before = s3.requests.length;
      const got = await readAll(await src.open(listed!.key));
      expect(got.length).toBe(big.length);
      expect(got.equals(big)).toBe(true);
      expect(seen).toEqual(['resume']);
      const downloads = p.requests.filter(isDownload);
      expect(downloads.map((r) => r.status)).toEqual(['cut', 206]);
      const resumedAt = Number(/^bytes=(\d+)-$/.exec(downloads[1]?.range ?? '')?.[1]);
      expect(resumedAt).toBeGreaterThan(0);
      expect(resumedAt).toBeLessThanOrEqual(1_000_000);
      const resumed = s3.requests.slice(before).filter((r) => r.method === 'GET')[1];
      expect(resumed?.headers['if-match']).toMatch(/^"[0-9a-f]{32}"$/);
    } finally {
      await src.close();
    }
  });

  it('stops with source-failed when the object changed before the resume (412), rather than splicing two versions', async () => {
    await s3.put(BUCKET, 'changed/a.log', okeraText(3_000_000));
    let gets = 0;
    const p = await proxy((req) => {
      if (!isDownload(req)) return { kind: 'pass' };
      return ++gets === 1 ? { kind: 'cut', afterBytes: 500_000 } : { kind: 'status', status: 412, body: PRECONDITION };
    });
    const src = new S3Source(`s3://${BUCKET}/changed/`, { s3Endpoint: p.url, retry: FAST });
    try {
      await src.listDir('');
      const err = await readAll(await src.open('a.log')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuditReplayError);
      expect((err as AuditReplayError).code).toBe('source-failed');
      expect((err as Error).message).toMatch(/s3:\/\/audit-bucket\/changed\/a\.log: the object was replaced while it was being read/);
      expect(gets).toBe(2);
    } finally {
      await src.close();
    }
  });

  it('fails fast with source-auth on 403, without retrying', async () => {
    await s3.put(BUCKET, 'denied/a.log', 'a\n');
    const p = await proxy(() => ({ kind: 'status', status: 403, body: ACCESS_DENIED }));
    const seen: string[] = [];
    const src = new S3Source(`s3://${BUCKET}/denied/`, { s3Endpoint: p.url, retry: { attempts: 6, baseDelayMs: 1000, maxDelayMs: 1000 }, onRetry: (w) => seen.push(w) });
    try {
      const started = Date.now();
      const listErr = await src.listDir('').catch((e: unknown) => e);
      const openErr = await src.open('a.log').catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(900);
      for (const err of [listErr, openErr]) {
        expect(err).toBeInstanceOf(AuditReplayError);
        expect((err as AuditReplayError).code).toBe('source-auth');
        expect((err as Error).message).toContain(`access to bucket '${BUCKET}'`);
        expect((err as Error).message).toContain('AccessDenied');
        expect((err as Error).message).toContain('environment variables (AWS_ACCESS_KEY_ID)');
        expect((err as Error).message).not.toContain(S3_TEST_SECRET);
      }
      expect(p.requests).toHaveLength(2);
      expect(seen).toEqual([]);
    } finally {
      await src.close();
    }
  });

  it('gives up after the retries with source-failed naming the object', async () => {
    await s3.put(BUCKET, 'down/a.log', 'a\n');
    const p = await proxy((req) => (isDownload(req) ? { kind: 'status', status: 500 } : { kind: 'pass' }));
    const src = new S3Source(`s3://${BUCKET}/down/`, { s3Endpoint: p.url, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
    try {
      await src.listDir('');
      const err = await src.open('a.log').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuditReplayError);
      expect((err as AuditReplayError).code).toBe('source-failed');
      expect((err as Error).message).toMatch(/^s3:\/\/audit-bucket\/down\/a\.log: reading failed after 3 tries: .*HTTP 500/);
      expect(p.requests.filter((r) => r.status === 500)).toHaveLength(3);
    } finally {
      await src.close();
    }
  });
});

describe('auditreplay extract on s3://', () => {
  const day = Date.UTC(2026, 10, 20, 10, 0, 0);

  beforeAll(async () => {
    await s3.client.send(new CreateBucketCommand({ Bucket: 'cli-logs' }));
    await s3.put('cli-logs', 'okera/ymd=2026-11-20/a.log', [0, 1, 2].map((i) => okeraLine({ request_id: `a-${i}`, start_unix_time: day + i * 1000 })).join('\n') + '\n');
    await s3.put('cli-logs', 'okera/ymd=2026-11-20/b.log.gz', gzipSync([3, 4].map((i) => okeraLine({ request_id: `b-${i}`, start_unix_time: day + i * 1000 })).join('\n') + '\n'));
    await s3.put('cli-logs', 'okera/ymd=2026-11-25/c.log', okeraLine({ request_id: 'c-0', start_unix_time: Date.UTC(2026, 10, 25, 10) }) + '\n');
  });

  const args = (endpoint: string) => ['extract', '--source', 's3://cli-logs/okera', '--s3-endpoint', endpoint, '--from', '2026-11-20', '--to', '2026-11-21', '--format', 'okera'];

  it('extracts the events of the window and counts the list calls, never printing the secret', async () => {
    const res = await runCli(args(s3.endpoint), { env: testAwsEnv() });
    expect(res.code, res.stderr).toBe(0);
    const ids = res.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id);
    expect(ids).toEqual(['a-0', 'a-1', 'a-2', 'b-3', 'b-4']);
    // okera/ and ymd=2026-11-20/; ymd=2026-11-25/ is pruned
    expect(res.summary).toMatchObject({ listCalls: 2, objects: 2, prunedPrefixes: 1, retries: 0, resumes: 0 });
    expect(res.stdout + res.stderr).not.toContain(S3_TEST_SECRET);
  });

  it('resumes a cut download and counts the throttled retries in the summary', async () => {
    const text = okeraText(2_000_000, day);
    await s3.put('cli-logs', 'big/ymd=2026-11-20/big.log', text);
    let gets = 0;
    const p = await proxy((req) => {
      if (req.method !== 'GET') return { kind: 'pass' };
      if (!isDownload(req)) return req.n === 1 ? { kind: 'status', status: 503, body: SLOW_DOWN } : { kind: 'pass' };
      return ++gets === 1 ? { kind: 'cut', afterBytes: 700_000 } : { kind: 'pass' };
    });
    const res = await runCli(
      ['extract', '--source', 's3://cli-logs/big/', '--s3-endpoint', p.url, '--from', '2026-11-20', '--to', '2026-11-21', '--format', 'okera'],
      { env: testAwsEnv() },
    );
    expect(res.code, res.stderr).toBe(0);
    const ids = res.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id);
    const expected = text.trim().split('\n').map((l) => (JSON.parse(l) as { request_id: string }).request_id);
    expect(ids).toEqual(expected);
    expect(res.summary).toMatchObject({ retries: 1, resumes: 1, rejected: 0, records: expected.length });
  });

  it('fails with exit code 4 on wrong credentials, naming the credential source and not the secret', async () => {
    const res = await runCli(args(s3.endpoint), { env: { ...testAwsEnv(), AWS_ACCESS_KEY_ID: 'AKIAWRONGKEY0000' } });
    expect(res.code).toBe(4);
    expect(res.stderr).toContain("access to bucket 'cli-logs'");
    expect(res.stderr).toContain('environment variables (AWS_ACCESS_KEY_ID)');
    expect(res.stdout + res.stderr).not.toContain(S3_TEST_SECRET);
  });
});
