import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { AuditReplayError } from '../../../core/errors.js';
import { resumableRead } from '../../resumable-read.js';
import { DEFAULT_RETRY, httpStatus, isRetryable, withRetry, type RetryPolicy } from '../../../core/retry.js';
import type { DirListing, ObjectInfo, Source, SourceOptions } from '../../source.js';

/** Options of the S3 source: the common ones, plus the listing page size. */
export interface S3SourceOptions extends SourceOptions {
  /** Keys per listing page (default 1000, the most S3 returns); tests lower it to exercise paging. */
  listPageSize?: number;
}

/** Error names S3 and the SDK give to refused or missing credentials. */
export const AUTH_NAMES = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'CredentialsProviderError',
  'AllAccessDisabled',
  'AccountProblem',
]);

/**
 * `s3://bucket/prefix` on Amazon S3, or on an S3-compatible store (MinIO, Ceph, s3rver)
 * given by `s3Endpoint` or `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`, addressed
 * path-style. Credentials come from the SDK's default chain (environment, profile, web
 * identity, container or instance role); the region from `AWS_REGION`,
 * `AWS_DEFAULT_REGION` or the profile, and a bucket in another region is followed.
 */
export class S3Source implements Source {
  readonly url: string;
  private readonly bucket: string;
  /** Key prefix of the source root: '' or ending in '/'. */
  private readonly root: string;
  /** The URL's path without a trailing '/': it may name one object rather than a folder. */
  private readonly single: string | null;
  private readonly endpoint: string | undefined;
  private readonly policy: RetryPolicy;
  private readonly pageSize: number | undefined;
  private readonly chunkSize: number;
  private readonly options: S3SourceOptions;
  /** ETags seen in listings, by relative key: a resumed download must read the same version. */
  private readonly etags = new Map<string, string>();
  private clientPromise: Promise<S3Client> | null = null;

  constructor(url: string, options: S3SourceOptions = {}) {
    const { bucket, path } = parseS3Url(url);
    this.url = url;
    this.bucket = bucket;
    this.root = path === '' || path.endsWith('/') ? path : `${path}/`;
    this.single = path === '' || path.endsWith('/') ? null : path;
    this.options = options;
    this.policy = options.retry ?? DEFAULT_RETRY;
    this.pageSize = options.listPageSize;
    this.chunkSize = options.chunkSize ?? 256 * 1024;
    this.endpoint = s3EndpointFrom(options.s3Endpoint);
  }

  async listDir(prefix: string, signal?: AbortSignal): Promise<DirListing> {
    const client = await this.client();
    const full = this.root + prefix;
    const prefixes = new Set<string>();
    const objects: ObjectInfo[] = [];
    let calls = 0;
    let token: string | undefined;
    do {
      // Each page is its own call, retried alone: a throttled page does not restart the listing.
      const page = await this.call('list', `${this.url} (listing ${full || '/'})`, signal, () =>
        client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Delimiter: '/',
            ...(full ? { Prefix: full } : {}),
            ...(token ? { ContinuationToken: token } : {}),
            ...(this.pageSize ? { MaxKeys: this.pageSize } : {}),
          }),
          signal ? { abortSignal: signal } : {},
        ),
      );
      calls++;
      for (const p of page.CommonPrefixes ?? []) if (p.Prefix) prefixes.add(p.Prefix.slice(this.root.length));
      for (const o of page.Contents ?? []) {
        // "Folder" marker objects (zero bytes, key ending in '/') that consoles create hold no logs.
        if (!o.Key || o.Key.endsWith('/')) continue;
        const key = o.Key.slice(this.root.length);
        objects.push({ key, size: o.Size ?? null });
        if (o.ETag) this.etags.set(key, o.ETag);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);

    if (prefix === '' && this.root !== '' && prefixes.size === 0 && objects.length === 0) {
      return this.listSingle(client, calls, signal);
    }
    // Stores may repeat a prefix on the next page (s3rver does); the Set drops it, this keeps S3's order.
    return { prefixes: [...prefixes], objects, calls };
  }

  /** Nothing under `prefix/`: the URL may name one object, like a single local file. */
  private async listSingle(client: S3Client, calls: number, signal?: AbortSignal): Promise<DirListing> {
    const missing = new AuditReplayError('source-not-found', `${this.url}: nothing found under s3://${this.bucket}/${this.root} (no objects or folders)`);
    if (this.single === null) throw missing;
    const key = this.single;
    try {
      const head = await withRetry(
        () => client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }), signal ? { abortSignal: signal } : {}),
        this.retryOptions('list', signal),
      );
      if (head.ETag) this.etags.set('', head.ETag);
      return { prefixes: [], objects: [{ key: '', size: head.ContentLength ?? null }], calls: calls + 1 };
    } catch (err) {
      if (httpStatus(err) === 404) throw missing;
      throw this.fail(err, 'list', this.url);
    }
  }

  async open(key: string, options: { offset?: number; signal?: AbortSignal } = {}): Promise<Readable> {
    const client = await this.client();
    const { signal } = options;
    const offset = options.offset ?? 0;
    const objectKey = key === '' && this.single !== null ? this.single : this.root + key;
    const name = `s3://${this.bucket}/${objectKey}`;
    // The listing's ETag, else the one the first response carries: every later ranged
    // read is conditional on it, so a replaced object fails (412) instead of being spliced.
    let etag = this.etags.get(key);
    const get = async (from: number): Promise<Readable> => {
      try {
        const res = await client.send(
          new GetObjectCommand({
            Bucket: this.bucket,
            Key: objectKey,
            // `bytes=0-` would be refused (416) on an empty object, so offset 0 asks for all of it.
            ...(from > 0 ? { Range: `bytes=${from}-` } : {}),
            ...(etag ? { IfMatch: etag } : {}),
          }),
          signal ? { abortSignal: signal } : {},
        );
        etag ??= res.ETag;
        return res.Body as Readable;
      } catch (err) {
        // A resume that lands exactly on the end (or an offset past it) has nothing left to read.
        if (from > 0 && httpStatus(err) === 416) return Readable.from([]);
        throw err;
      }
    };

    // The first request is made now, not on the first read, so a prefetch starts the
    // transfer and a missing object or refused credential fails here, as a local file does.
    let first: Readable | null = await this.call('read', name, signal, () => get(offset));
    const bytes = resumableRead(
      async (delivered) => {
        if (first) {
          const body = first;
          first = null;
          return body;
        }
        return get(offset + delivered);
      },
      {
        ...this.retryOptions('read', signal),
        onResume: (delivered) =>
          this.options.onRetry?.('resume', new Error(`download of ${name} broke after ${offset + delivered} bytes; resuming there`)),
      },
    );
    const fail = (err: unknown): Error => this.fail(err, 'read', name);
    async function* mapped(): AsyncGenerator<Buffer> {
      try {
        for await (const chunk of bytes) yield chunk as Buffer;
      } catch (err) {
        throw fail(err);
      }
    }
    const stream = Readable.from(mapped(), { objectMode: false, highWaterMark: this.chunkSize });
    // A stream destroyed before its first read never starts `mapped`: release the socket here.
    stream.once('close', () => {
      first?.destroy();
      first = null;
      bytes.destroy();
    });
    return stream;
  }

  async close(): Promise<void> {
    const pending = this.clientPromise;
    this.clientPromise = null;
    if (pending) (await pending.catch(() => null))?.destroy();
  }

  private client(): Promise<S3Client> {
    this.clientPromise ??= this.makeClient();
    return this.clientPromise;
  }

  private makeClient(): Promise<S3Client> {
    return createS3Client(this.endpoint, this.url, this.bucket);
  }

  private retryOptions(what: 'list' | 'read', signal?: AbortSignal) {
    return {
      policy: this.policy,
      ...(signal ? { signal } : {}),
      onRetry: (err: unknown) => this.options.onRetry?.(what, err),
    };
  }

  /** Runs one storage call through the shared retry policy and turns its final failure into an AuditReplayError. */
  private async call<T>(what: 'list' | 'read', target: string, signal: AbortSignal | undefined, op: () => Promise<T>): Promise<T> {
    try {
      return await withRetry(op, this.retryOptions(what, signal));
    } catch (err) {
      throw this.fail(err, what, target);
    }
  }

  /** The error to report for a failed call on `target`; never includes a secret (only error names, statuses and S3's messages). */
  private fail(err: unknown, what: 'list' | 'read', target: string): Error {
    if (err instanceof AuditReplayError) return err;
    const e = err as { name?: string; message?: string };
    if (e?.name === 'AbortError') return err as Error;
    const status = httpStatus(err);
    const name = e?.name ?? 'Error';
    const detail = `${name}${status ? ` (HTTP ${status})` : ''}${e?.message && e.message !== name ? `: ${e.message}` : ''}`;
    const at = this.endpoint ? ` at ${endpointForMessages(this.endpoint)}` : '';
    if (name === 'CredentialsProviderError') {
      return new AuditReplayError(
        'source-auth',
        `${target}: no AWS credentials could be loaded for bucket '${this.bucket}' from ${credentialSource()} (${e.message ?? name}); set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or a role`,
        { cause: err },
      );
    }
    if (status === 401 || status === 403 || AUTH_NAMES.has(name)) {
      return new AuditReplayError(
        'source-auth',
        `${target}: access to bucket '${this.bucket}'${at} was refused (${detail}) using credentials from ${credentialSource()}; check the keys and that they may ${what === 'list' ? 's3:ListBucket' : 's3:GetObject'} there`,
        { cause: err },
      );
    }
    if (name === 'NoSuchBucket' || (status === 404 && what === 'list')) {
      return new AuditReplayError('source-not-found', `${this.url}: bucket '${this.bucket}' does not exist${at}`, { cause: err });
    }
    if (name === 'NoSuchKey' || status === 404) {
      return new AuditReplayError('source-not-found', `${target}: no such object`, { cause: err });
    }
    if (status === 412 || name === 'PreconditionFailed') {
      return new AuditReplayError(
        'source-failed',
        `${target}: the object was replaced while it was being read (its ETag no longer matches), so the read stopped rather than splice two versions; run again to read the new one`,
        { cause: err },
      );
    }
    const tries = isRetryable(err) ? ` after ${this.policy.attempts} tries` : '';
    return new AuditReplayError('source-failed', `${target}: ${what === 'list' ? 'listing' : 'reading'} failed${tries}: ${detail}`, { cause: err });
  }
}

/** Splits `s3://bucket/path` (path may be empty); anything else is a usage error. */
export function parseS3Url(url: string): { bucket: string; path: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m || !m[1]) throw new AuditReplayError('usage', `'${url}' is not an S3 URL: use s3://bucket or s3://bucket/prefix`);
  return { bucket: m[1], path: m[2] ?? '' };
}

/** The S3-compatible endpoint to use: `s3Endpoint`, else AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, else none (AWS itself). */
export function s3EndpointFrom(s3Endpoint: string | undefined): string | undefined {
  const endpoint = s3Endpoint ?? (process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || undefined);
  if (endpoint !== undefined && !URL.canParse(endpoint)) {
    throw new AuditReplayError('usage', `the S3 endpoint '${endpoint}' is not a URL (give e.g. http://127.0.0.1:9000)`);
  }
  return endpoint;
}

/**
 * An S3 client as auditreplay uses them: the SDK's default credential chain, `endpoint`
 * (if any) addressed path-style, the region from the environment or profile (us-east-1
 * for a private endpoint without one), and one attempt per call unless `overrides` say
 * otherwise. `url` and `bucket` only name the target in errors.
 */
export async function createS3Client(endpoint: string | undefined, url: string, bucket: string, overrides: Partial<S3ClientConfig> = {}): Promise<S3Client> {
  // The SDK warns on every run under Node 20 about its own future releases; auditreplay
  // supports Node 20, so the warning is noise to its users unless they ask for it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const config: S3ClientConfig = {
    // Our retry policy (retry.ts) is the only one: the SDK makes one attempt per call.
    maxAttempts: 1,
    followRegionRedirects: true,
    // Full-object checksums would be checked only after the last byte, when the records
    // are already passed on, and not at all on a resumed (ranged) read; gzip's CRC and
    // the decoders catch corrupt data, TLS a corrupt transfer.
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestChecksumCalculation: 'WHEN_REQUIRED',
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    ...overrides,
  };
  // The SDK reads AWS_REGION and the profile's region itself, but not AWS_DEFAULT_REGION.
  const envRegion = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || undefined;
  if (envRegion) return new S3Client({ ...config, region: envRegion });
  const client = new S3Client(config);
  try {
    await client.config.region();
    return client;
  } catch {
    client.destroy();
  }
  // A private store rarely cares about the region; AWS itself needs one to sign with.
  if (endpoint) return new S3Client({ ...config, region: 'us-east-1' });
  throw new AuditReplayError(
    'usage',
    `${url}: no AWS region is configured for bucket '${bucket}'; set AWS_REGION (or AWS_DEFAULT_REGION, or region in your AWS profile), for example AWS_REGION=us-east-1 (a bucket in another region is then followed)`,
  );
}

/**
 * Where the SDK's default chain takes credentials from, judged from the environment the
 * way the chain itself goes: AWS_PROFILE comes before the AWS_ACCESS_KEY_ID pair (the
 * SDK skips the environment keys when a profile is named), then web identity.
 */
export function credentialSource(env: NodeJS.ProcessEnv = process.env): string {
  if (env.AWS_PROFILE) return `profile '${env.AWS_PROFILE}'`;
  if (env.AWS_ACCESS_KEY_ID) return 'environment variables (AWS_ACCESS_KEY_ID)';
  if (env.AWS_WEB_IDENTITY_TOKEN_FILE) return 'web identity token (AWS_WEB_IDENTITY_TOKEN_FILE)';
  return 'the default AWS credential chain (default profile, container or instance role)';
}

/** The endpoint without any user:password part, safe to print. */
export function endpointForMessages(endpoint: string): string {
  const u = new URL(endpoint);
  return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
}
