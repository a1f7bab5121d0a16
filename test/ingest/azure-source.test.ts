import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import {
  AccountSASPermissions,
  AccountSASResourceTypes,
  AccountSASServices,
  BlobServiceClient,
  StorageSharedKeyCredential,
  generateAccountSASQueryParameters,
  type ContainerClient,
} from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditReplayError, EXIT } from '../../src/core/errors.js';
import type { RetryPolicy } from '../../src/core/retry.js';
import { AzureSource, type AzureSourceOptions } from '../../src/ingest/sources/azure/azure-source.js';
import { AZURITE_ACCOUNT, AZURITE_KEY, startAzurite, type Azurite } from '../helpers/azure-azurite.js';
import { startFaultProxy, type Fault, type FaultProxy, type SeenRequest } from '../helpers/fault-proxy.js';
import { runCli } from '../helpers/run-cli.js';
import { okeraLine } from '../helpers/temp-tree.js';
import { sourceContract } from './source-contract.js';

const FAST: RetryPolicy = { attempts: 4, baseDelayMs: 5, maxDelayMs: 20 };
// A valid base64 key that is not the account's: Azurite answers 403 AuthorizationFailure.
const WRONG_KEY = Buffer.alloc(64, 42).toString('base64');

let azurite: Azurite;
let service: BlobServiceClient;
let containers = 0;

beforeAll(async () => {
  azurite = await startAzurite();
  service = BlobServiceClient.fromConnectionString(azurite.connectionString());
});

afterAll(async () => {
  await azurite?.stop();
});

/** A fresh container holding `objects` (blob name → bytes). */
async function container(objects: Record<string, Buffer | string>): Promise<ContainerClient> {
  const c = service.getContainerClient(`t${++containers}-${process.pid}`);
  await c.create();
  await Promise.all(Object.entries(objects).map(([name, bytes]) => c.getBlockBlobClient(name).uploadData(Buffer.from(bytes))));
  return c;
}

function source(url: string, options: AzureSourceOptions & { via?: string; key?: string } = {}): AzureSource {
  const { via, key, ...rest } = options;
  return new AzureSource(url, { env: { AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString({ ...(via ? { via } : {}), ...(key ? { key } : {}) }) }, ...rest });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

async function rejection(p: Promise<unknown>): Promise<AuditReplayError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AuditReplayError);
  return err as AuditReplayError;
}

const isList = (r: { url: string }): boolean => r.url.includes('comp=list');
const isBlobGet = (r: { method: string; url: string }): boolean => r.method === 'GET' && !r.url.includes('comp=');
const busy: Fault = {
  kind: 'status',
  status: 503,
  headers: { 'x-ms-error-code': 'ServerBusy' },
  body: '<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code><Message>The server is busy.</Message></Error>',
};

function okeraLines(n: number, day = Date.UTC(2026, 10, 20, 10)): string[] {
  return Array.from({ length: n }, (_, i) =>
    okeraLine({ start_unix_time: day + i * 1000, request_id: `req-${i}`, statement: `SELECT * FROM sales.orders WHERE id = ${i} /* ${'x'.repeat(200)} */` }),
  );
}

sourceContract('Azure Blob Storage (Azurite)', async (objects) => {
  // Under a prefix given without a trailing slash, so keys are shown relative to it.
  const c = await container(Object.fromEntries(Object.entries(objects).map(([k, v]) => [`root/${k}`, v])));
  return { source: source(`az://${c.containerName}/root`), cleanup: async () => void (await c.delete()) };
});

describe('Azure source against Azurite', () => {
  it('reports every listing page as a list call and joins the pages', async () => {
    const c = await container({ 'p/a.log': 'a', 'p/b.log': 'b', 'p/c.log': 'c', 'p/d/x.log': 'x', 'p/e/y.log': 'y' });
    const listing = await source(`az://${c.containerName}/p/`, { pageSize: 2 }).listDir('');
    expect(listing.calls).toBe(3);
    expect(listing.prefixes.sort()).toEqual(['d/', 'e/']);
    expect(listing.objects.map((o) => o.key).sort()).toEqual(['a.log', 'b.log', 'c.log']);
    expect(listing.objects.every((o) => o.size === 1)).toBe(true);
    await c.delete();
  });

  it('reads a URL that names a single blob as a one-object source', async () => {
    const c = await container({ 'dir/one.log': 'one\n', 'dir/one.log.bak': 'no\n' });
    const s = source(`az://${c.containerName}/dir/one.log`);
    const listing = await s.listDir('');
    expect(listing.objects).toEqual([{ key: '', size: 4 }]);
    expect((await readAll(await s.open(''))).toString()).toBe('one\n');
    await c.delete();
  });

  it('fails a read cleanly when the blob changed after it was listed (If-Match on the listed ETag)', async () => {
    const c = await container({ 'a.log': 'version 1\n' });
    const s = source(`az://${c.containerName}`);
    await s.listDir('');
    await c.getBlockBlobClient('a.log').uploadData(Buffer.from('version 2, longer\n'));
    const err = await rejection(s.open('a.log'));
    expect(err.code).toBe('source-failed');
    expect(err.message).toMatch(new RegExp(`reading az://${c.containerName}/a.log: the blob changed .*412 ConditionNotMet`));
    await c.delete();
  });

  it('names a missing container and a missing blob as not found', async () => {
    const gone = await rejection(source('az://no-such-container/audit/').listDir(''));
    expect(gone.code).toBe('source-not-found');
    expect(gone.message).toMatch(/container 'no-such-container' of account 'devstoreaccount1' does not exist/);
    const c = await container({ 'a.log': 'a\n' });
    const missing = await rejection(source(`az://${c.containerName}`).open('nope.log'));
    expect(missing.code).toBe('source-not-found');
    expect(missing.message).toMatch(new RegExp(`reading az://${c.containerName}/nope.log: no such blob \\(404 BlobNotFound\\)`));
    await c.delete();
  });

  it('reads through an https URL with an account SAS, and never shows the SAS when it is refused', async () => {
    const c = await container({ 'audit/ymd=2026-11-20/a.log': 'a\n' });
    const sasFor = (key: string): string =>
      generateAccountSASQueryParameters(
        {
          permissions: AccountSASPermissions.parse('rl'),
          resourceTypes: AccountSASResourceTypes.parse('sco').toString(),
          services: AccountSASServices.parse('b').toString(),
          expiresOn: new Date(Date.now() + 3_600_000),
        },
        new StorageSharedKeyCredential(AZURITE_ACCOUNT, key),
      ).toString();
    const base = `https://${AZURITE_ACCOUNT}.blob.core.windows.net/${c.containerName}/audit/`;
    const good = new AzureSource(`${base}?${sasFor(AZURITE_KEY)}`, { env: {}, blobEndpoint: azurite.blobEndpoint });
    expect(good.url).toBe(base);
    expect((await good.listDir('')).prefixes).toEqual(['ymd=2026-11-20/']);
    expect((await readAll(await good.open('ymd=2026-11-20/a.log'))).toString()).toBe('a\n');

    const badSas = sasFor(WRONG_KEY);
    const bad = new AzureSource(`${base}?${badSas}`, { env: {}, blobEndpoint: azurite.blobEndpoint, retry: FAST });
    const err = await rejection(bad.listDir(''));
    expect(err.code).toBe('source-auth');
    expect(err.message).toMatch(/using the SAS token in the URL/);
    const sig = new URLSearchParams(badSas).get('sig')!;
    for (const text of [err.message, String(err.stack)]) {
      expect(text).not.toContain(sig);
      expect(text).not.toContain(encodeURIComponent(sig));
      expect(text).not.toContain(badSas);
    }
    await c.delete();
  });

  it('authenticates with AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY, naming them when the key is wrong', async () => {
    const c = await container({ 'a.log': 'a\n' });
    const env = (key: string) => ({ AZURE_STORAGE_ACCOUNT: AZURITE_ACCOUNT, AZURE_STORAGE_KEY: key });
    const ok = new AzureSource(`az://${c.containerName}`, { env: env(AZURITE_KEY), blobEndpoint: azurite.blobEndpoint });
    expect((await ok.listDir('')).objects.map((o) => o.key)).toEqual(['a.log']);
    const err = await rejection(new AzureSource(`az://${c.containerName}`, { env: env(WRONG_KEY), blobEndpoint: azurite.blobEndpoint }).listDir(''));
    expect(err.code).toBe('source-auth');
    expect(err.message).toMatch(/the account key from AZURE_STORAGE_KEY \(account 'devstoreaccount1' from AZURE_STORAGE_ACCOUNT\)/);
    expect(err.message).not.toContain(WRONG_KEY);
    await c.delete();
  });
  it('stops a read when its signal aborts, without retrying or resuming', async () => {
    const c = await container({ 'big.log': Buffer.alloc(4 * 1024 * 1024, 'x') });
    const events: string[] = [];
    const controller = new AbortController();
    const stream = await source(`az://${c.containerName}`, { onRetry: (w) => events.push(w) }).open('big.log', { signal: controller.signal });
    const err = await (async () => {
      try {
        for await (const _chunk of stream) controller.abort();
      } catch (e) {
        return e as Error;
      }
      return null;
    })();
    expect(err?.name).toBe('AbortError');
    expect(events).toEqual([]);
    await c.delete();
  });

  it('falls back to DefaultAzureCredential when no other credential is set, and fails with an error naming the source', { timeout: 20_000 }, async () => {
    // No storage credentials and (in tests) no network: whatever DefaultAzureCredential finds, the call fails.
    const s = new AzureSource('az://logs/audit/', { env: { AZURE_STORAGE_ACCOUNT: 'auditreplaynosuch' }, retry: FAST });
    const err = await rejection(s.listDir(''));
    expect(['source-auth', 'source-failed', 'source-not-found']).toContain(err.code);
    expect(err.message).toMatch(/^listing az:\/\/logs\/audit\/: /);
    if (err.code === 'source-auth') expect(err.message).toMatch(/DefaultAzureCredential/);
  });
});

describe('Azure source under faults (fault proxy in front of Azurite)', () => {
  let proxy: FaultProxy | null = null;
  let plan: (r: Omit<SeenRequest, 'status'>) => Fault = () => ({ kind: 'pass' });
  beforeAll(async () => {
    proxy = await startFaultProxy(azurite.url, (r) => plan(r));
  });
  afterAll(async () => {
    await proxy?.close();
  });
  const seen = (since: number): SeenRequest[] => proxy!.requests.slice(since);

  it('retries 503 ServerBusy on a listing and a download, and delivers each exactly once', async () => {
    const lines = okeraLines(50);
    const c = await container({ 'ymd=2026-11-20/a.log': lines.join('\n') + '\n', 'ymd=2026-11-20/b.log': 'b\n' });
    const since = proxy!.requests.length;
    let lists = 0;
    let gets = 0;
    plan = (r) => {
      if (isList(r) && ++lists <= 2) return busy;
      if (isBlobGet(r) && ++gets <= 2) return busy;
      return { kind: 'pass' };
    };
    const retries: string[] = [];
    const s = source(`az://${c.containerName}`, { via: proxy!.url, retry: FAST, onRetry: (what) => retries.push(what) });
    const root = await s.listDir('');
    const day = await s.listDir('ymd=2026-11-20/');
    expect(root).toEqual({ prefixes: ['ymd=2026-11-20/'], objects: [], calls: 1 });
    expect(day.objects.map((o) => o.key)).toEqual(['ymd=2026-11-20/a.log', 'ymd=2026-11-20/b.log']);
    const text = (await readAll(await s.open('ymd=2026-11-20/a.log'))).toString();
    expect(text.split('\n').filter(Boolean)).toEqual(lines);
    expect(retries).toEqual(['list', 'list', 'read', 'read']);
    expect(seen(since).map((r) => r.status)).toEqual([503, 503, 200, 200, 503, 503, 200]);
    plan = () => ({ kind: 'pass' });
    await c.delete();
  });

  it('resumes a download cut in the middle with a ranged read, so every byte arrives once and in order', async () => {
    const lines = okeraLines(12_000);
    const plain = Buffer.from(lines.join('\n') + '\n');
    const gz = gzipSync(plain);
    expect(plain.length).toBeGreaterThan(3_000_000);
    const c = await container({ 'big.log': plain, 'big.log.gz': gz });
    for (const [key, bytes, cutAt] of [
      ['big.log', plain, 1_000_003],
      ['big.log.gz', gz, Math.floor(gz.length / 2)],
    ] as const) {
      const since = proxy!.requests.length;
      let cut = false;
      plan = (r) => (isBlobGet(r) && !cut ? ((cut = true), { kind: 'cut', afterBytes: cutAt }) : { kind: 'pass' });
      const events: string[] = [];
      const s = source(`az://${c.containerName}`, { via: proxy!.url, retry: FAST, onRetry: (what) => events.push(what) });
      await s.listDir('');
      const got = await readAll(await s.open(key));
      expect(got.length).toBe(bytes.length);
      expect(got.equals(bytes)).toBe(true);
      expect(events).toEqual(['resume']);
      // The resumed request is a ranged one (206), made once, after the cut.
      expect(seen(since).filter(isBlobGet).map((r) => r.status)).toEqual(['cut', 206]);
    }
    plan = () => ({ kind: 'pass' });
    await c.delete();
  });

  it('fails fast with a source-auth error naming the container and the connection string on a wrong key', async () => {
    const c = await container({ 'a.log': 'a\n' });
    const since = proxy!.requests.length;
    const retries: string[] = [];
    const started = Date.now();
    const err = await rejection(source(`az://${c.containerName}/audit/`, { via: proxy!.url, key: WRONG_KEY, onRetry: (w) => retries.push(w) }).listDir(''));
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(err.code).toBe('source-auth');
    expect(err.message).toMatch(
      new RegExp(`listing az://${c.containerName}/audit/: access to container '${c.containerName}' of account 'devstoreaccount1' was refused \\(403 AuthorizationFailure\\) using the connection string from AZURE_STORAGE_CONNECTION_STRING`),
    );
    expect(err.message).not.toContain(WRONG_KEY);
    expect(seen(since).map((r) => r.status)).toEqual([403]);
    expect(retries).toEqual([]);
    await c.delete();
  });

  it('does not retry a 403 on a download either', async () => {
    const c = await container({ 'a.log': 'a\n' });
    const since = proxy!.requests.length;
    plan = (r) => (isBlobGet(r) ? { kind: 'status', status: 403, headers: { 'x-ms-error-code': 'AuthorizationPermissionMismatch' } } : { kind: 'pass' });
    const err = await rejection(source(`az://${c.containerName}`, { via: proxy!.url }).open('a.log'));
    expect(err.code).toBe('source-auth');
    expect(err.message).toMatch(/403 AuthorizationPermissionMismatch.*Storage Blob Data Reader/);
    expect(seen(since)).toHaveLength(1);
    plan = () => ({ kind: 'pass' });
    await c.delete();
  });

  it('gives up after the retry policy with a source-failed error naming the object', async () => {
    const c = await container({ 'a.log': 'a\n' });
    const since = proxy!.requests.length;
    plan = (r) => (isBlobGet(r) ? busy : { kind: 'pass' });
    const err = await rejection(source(`az://${c.containerName}`, { via: proxy!.url, retry: FAST }).open('a.log'));
    expect(err.code).toBe('source-failed');
    expect(err.message).toMatch(new RegExp(`reading az://${c.containerName}/a.log failed after 4 tries: 503 ServerBusy`));
    expect(seen(since)).toHaveLength(4);
    plan = () => ({ kind: 'pass' });
    await c.delete();
  });
});

describe('auditreplay extract from Azure (real CLI)', () => {
  const secretsIn = (text: string, connectionString: string): string[] =>
    [AZURITE_KEY, WRONG_KEY, connectionString, 'AccountKey='].filter((s) => text.includes(s));

  it('extracts the events of an uploaded Okera tree, counts list calls, and never prints the key, even when refused', async () => {
    const day = Date.UTC(2026, 10, 20, 10);
    const c = await container({
      'audit/ymd=2026-11-20/a.log': okeraLines(3, day).join('\n') + '\n',
      'audit/ymd=2026-11-20/b.log.gz': gzipSync(okeraLine({ start_unix_time: day + 60_000, request_id: 'req-gz', statement: 'CREATE TABLE t (a int)' }) + '\n'),
      'audit/ymd=2026-11-10/old.log': okeraLine({ start_unix_time: Date.UTC(2026, 10, 10, 10), request_id: 'old' }) + '\n',
    });
    const dir = await mkdtemp(join(tmpdir(), 'auditreplay-az-cli-'));
    try {
      const connectionString = azurite.connectionString();
      const out = join(dir, 'events.jsonl');
      const ok = await runCli(['extract', '--source', `az://${c.containerName}/audit`, '--from', '2026-11-20', '--to', '2026-11-21', '--out', out, '--progress', 'none'], {
        env: { AZURE_STORAGE_CONNECTION_STRING: connectionString },
      });
      expect(ok.code, ok.stderr).toBe(0);
      const events = (await readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { id: string; kind: string; source: { object: string } });
      expect(events.map((e) => e.id)).toEqual(['req-0', 'req-1', 'req-2', 'req-gz']);
      expect(events[3]!.kind).toBe('ddl');
      expect(events[0]!.source.object).toBe(`az://${c.containerName}/audit/ymd=2026-11-20/a.log`);
      // root + audit/ymd=2026-11-20/; the 2026-11-10 partition is pruned without a listing
      expect(ok.summary).toMatchObject({ listCalls: 2, objects: 2, selected: 4, prunedPrefixes: 1, retries: 0 });
      expect(secretsIn(ok.stdout + ok.stderr, connectionString)).toEqual([]);

      const wrong = azurite.connectionString({ key: WRONG_KEY });
      const refused = await runCli(['extract', '--source', `az://${c.containerName}/audit`, '--from', '2026-11-20', '--to', '2026-11-21', '--progress', 'none'], {
        env: { AZURE_STORAGE_CONNECTION_STRING: wrong },
      });
      // A refusal has its own exit code where the CLI defines one (EXIT.auth), else the generic failure.
      expect(refused.code).toBe((EXIT as Record<string, number>).auth ?? EXIT.failure);
      expect(refused.stderr).toMatch(/access to container '.*' of account 'devstoreaccount1' was refused \(403 AuthorizationFailure\) using the connection string from AZURE_STORAGE_CONNECTION_STRING/);
      expect(secretsIn(refused.stdout + refused.stderr, wrong)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
      await c.delete();
    }
  });
});
