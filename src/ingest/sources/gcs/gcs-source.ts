import { addAbortSignal, Readable } from 'node:stream';
import { Storage, type Bucket } from '@google-cloud/storage';
import { AuditReplayError } from '../../../core/errors.js';
import { resumableRead } from '../../resumable-read.js';
import { DEFAULT_RETRY, httpStatus, isRetryable, withRetry, type RetryOptions, type RetryPolicy } from '../../../core/retry.js';
import type { DirListing, ObjectInfo, Source, SourceOptions } from '../../source.js';

/** GcsSource's settings beyond the shared ones. */
export interface GcsSourceOptions extends SourceOptions {
  /** Entries (objects plus prefixes) per listing page; default 1000, the most the API returns. */
  pageSize?: number;
  /**
   * How long a download may deliver nothing while bytes are wanted before it is given up
   * and resumed (default 60 s, the SDK's request timeout).
   */
  readIdleTimeoutMs?: number;
}

/** The one object-list page shape we ask the API for (partial response via `fields`). */
interface ListPage {
  items?: { name: string; size?: string; generation?: string }[];
  prefixes?: string[];
  nextPageToken?: string;
}

interface ResponseHead {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
}

// Only what listDir uses: full object resources are ~1 KB each, these ~100 bytes.
const LIST_FIELDS = 'items(name,size,generation),prefixes,nextPageToken';
const DEFAULT_PAGE_SIZE = 1000;
const NO_CREDENTIALS = /Could not load the default credentials/;
// Failures of google-auth-library (key files, token exchange) rather than of Cloud Storage.
const AUTH_LIBRARY_FAILURE = /Could not load the default credentials|invalid_grant|invalid_client|unauthorized_client|Could not refresh access token|DECODER routines|does not contain a \w+ field/i;

/**
 * A Google Cloud Storage bucket, `gs://bucket/prefix`, read with @google-cloud/storage.
 * Credentials are Application Default Credentials; `gcsEndpoint` (default
 * STORAGE_EMULATOR_HOST) points at an emulator instead and then sends none. The SDK's
 * own retries are off: retry.ts decides. A resumed read is conditional on the object's
 * generation (`ifGenerationMatch`), so a rewritten object fails with 412 instead of
 * being stitched from two versions.
 */
export class GcsSource implements Source {
  readonly url: string;
  private readonly bucketName: string;
  /** Object-name prefix every key is relative to: '' or ending in '/'. */
  private readonly root: string;
  /** `gs://b/path/file.log` may name one object rather than a folder; checked when the folder is empty. */
  private readonly single: string | null;
  private readonly endpoint: GcsEndpoint | null;
  private readonly storage: Storage;
  private readonly bucket: Bucket;
  private readonly policy: RetryPolicy;
  private readonly pageSize: number;
  private readonly readIdleMs: number;
  private readonly options: GcsSourceOptions;
  /** Generation of each listed object, by key: the precondition of ranged reads. */
  private readonly generations = new Map<string, string>();
  private auth: Promise<void> | null = null;
  /** ADC found no credentials, so requests go out anonymously (public buckets still work). */
  private anonymous = false;

  constructor(url: string, options: GcsSourceOptions = {}) {
    this.url = url;
    this.options = options;
    const { bucket: bucketName, path } = parseGsUrl(url);
    this.bucketName = bucketName;
    this.root = path === '' || path.endsWith('/') ? path : `${path}/`;
    this.single = path === '' || path.endsWith('/') ? null : path;
    this.policy = options.retry ?? DEFAULT_RETRY;
    this.pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    this.readIdleMs = options.readIdleTimeoutMs ?? 60_000;

    ({ storage: this.storage, endpoint: this.endpoint } = createGcsClient(options.gcsEndpoint));
    this.bucket = this.storage.bucket(bucketName);
  }

  async listDir(prefix: string, signal?: AbortSignal): Promise<DirListing> {
    const fullPrefix = this.root + prefix;
    const where = `gs://${this.bucketName}/${fullPrefix}`;
    const retry = this.retryOptions('list', signal);
    await this.ensureAuth(where, signal);
    const prefixes = new Set<string>();
    const objects: ObjectInfo[] = [];
    let pageToken: string | undefined;
    let calls = 0;
    do {
      signal?.throwIfAborted();
      const token = pageToken;
      let page: ListPage;
      try {
        page = await withRetry(() => this.listPage(fullPrefix, token), retry);
      } catch (err) {
        throw this.toSourceError(err, 'list', where);
      }
      calls++;
      for (const item of page.items ?? []) {
        // A zero-byte "folder" placeholder (console-created) is not a log.
        if (!item.name.startsWith(this.root) || (item.name.endsWith('/') && Number(item.size) === 0)) continue;
        const key = item.name.slice(this.root.length);
        const size = item.size === undefined ? null : Number(item.size);
        objects.push({ key, size: size !== null && Number.isFinite(size) ? size : null });
        if (item.generation) this.generations.set(key, item.generation);
      }
      // Pages may repeat a prefix ("duplicate prefixes are omitted" holds within a page only).
      for (const p of page.prefixes ?? []) if (p.startsWith(this.root)) prefixes.add(p.slice(this.root.length));
      pageToken = page.nextPageToken || undefined;
    } while (pageToken);

    if (prefix === '' && this.single !== null && prefixes.size === 0 && objects.length === 0) {
      const one = await this.statSingle(this.single, retry);
      calls++;
      if (one) return { prefixes: [], objects: [one], calls };
    }
    return { prefixes: [...prefixes], objects, calls };
  }

  async open(key: string, options: { offset?: number; signal?: AbortSignal } = {}): Promise<Readable> {
    const name = this.objectName(key);
    const where = `gs://${this.bucketName}/${name}`;
    const start = options.offset ?? 0;
    const { signal } = options;
    const retry = this.retryOptions('read', signal);
    await this.ensureAuth(where, signal);

    // A first read from byte 0 takes the object as it is now; a read from an offset
    // continues the object that was listed, and every resume continues the generation
    // the first response came from.
    let generation = start > 0 ? this.generations.get(key) : undefined;
    let lastError: unknown;
    const attempt = async (offset: number): Promise<Readable> => {
      const got = await this.download(name, offset, generation);
      generation ??= got.generation ?? this.generations.get(key);
      got.stream.on('error', (err) => (lastError = err));
      return got.stream;
    };

    let first: Readable;
    try {
      first = await withRetry(() => attempt(start), retry);
    } catch (err) {
      throw this.toSourceError(err, 'read', where);
    }
    let firstTaken = false;
    const inner = resumableRead(
      async (delivered) => {
        if (!firstTaken) {
          firstTaken = true;
          return first;
        }
        return attempt(start + delivered);
      },
      { ...retry, onResume: () => this.options.onRetry?.('resume', lastError) },
    );
    const toSourceError = (err: unknown) => this.toSourceError(err, 'read', where);
    const outer = Readable.from(rethrowAs(inner, toSourceError), { objectMode: false });
    // A stream destroyed before it was read never starts the generators above, so their
    // cleanup would not run: release the open response here.
    outer.once('close', () => {
      inner.destroy();
      if (!firstTaken) first.destroy();
    });
    if (signal) addAbortSignal(signal, outer);
    return outer;
  }

  async close(): Promise<void> {
    // The SDK holds no per-client sockets (node-fetch uses the shared agent) and has nothing to close.
  }

  private objectName(key: string): string {
    return key === '' && this.single !== null ? this.single : this.root + key;
  }

  private retryOptions(what: 'list' | 'read', signal: AbortSignal | undefined): RetryOptions {
    return { policy: this.policy, ...(signal ? { signal } : {}), onRetry: (err) => this.options.onRetry?.(what, err) };
  }

  private async listPage(prefix: string, pageToken: string | undefined): Promise<ListPage> {
    const [, , response] = await this.bucket.getFiles({
      ...(prefix ? { prefix } : {}),
      delimiter: '/',
      autoPaginate: false,
      maxResults: this.pageSize,
      fields: LIST_FIELDS,
      ...(pageToken ? { pageToken } : {}),
    });
    return (response ?? {}) as ListPage;
  }

  private async statSingle(name: string, retry: RetryOptions): Promise<ObjectInfo | null> {
    try {
      const [meta] = await withRetry(() => this.bucket.file(name).getMetadata(), retry);
      if (meta.generation !== undefined) this.generations.set('', String(meta.generation));
      const size = Number(meta.size);
      return { key: '', size: Number.isFinite(size) ? size : null };
    } catch (err) {
      if (httpStatus(err) === 404) return null;
      throw this.toSourceError(err, 'list', `gs://${this.bucketName}/${name}`);
    }
  }

  /**
   * One media GET from `offset`, resolved once the response head is in, so a missing
   * object or a refusal surfaces here rather than on the first read.
   */
  private async download(name: string, offset: number, generation: string | undefined): Promise<{ stream: Readable; generation: string | undefined }> {
    const file = this.bucket.file(name);
    if (generation !== undefined) {
      // createReadStream takes no preconditions; the JSON API's media GET does, as a query parameter.
      file.interceptors.push({
        request: (opts) => {
          opts.qs = { ...(opts.qs as Record<string, unknown> | undefined), ifGenerationMatch: generation };
          // The options already hold the resolved `uri` the declared return type asks for.
          return opts as ReturnType<(typeof file.interceptors)[number]['request']>;
        },
      });
    }
    // No Range header from byte 0: the API answers 416 to `bytes=0-` on an empty object.
    // decompress false, and the SDK's Accept-Encoding: gzip, keep gzip-encoded objects as stored.
    const sdk = file.createReadStream({ validation: false, decompress: false, ...(offset > 0 ? { start: offset } : {}) });
    let head: ResponseHead;
    try {
      head = await new Promise<ResponseHead>((resolve, reject) => {
        sdk.on('response', (res: ResponseHead) => {
          if (res.statusCode >= 200 && res.statusCode < 300) resolve(res);
        });
        sdk.once('error', reject);
        sdk.read(0);
      });
    } catch (err) {
      sdk.destroy();
      // Past the last byte: a resume after the whole body had arrived has nothing left to read.
      if (offset > 0 && httpStatus(err) === 416) return { stream: Readable.from([]), generation };
      throw err;
    }
    if (offset > 0) {
      const range = header(head, 'content-range') ?? '';
      if (head.statusCode !== 206 || !range.startsWith(`bytes ${offset}-`)) {
        sdk.destroy();
        throw new AuditReplayError(
          'source-failed',
          `gs://${this.bucketName}/${name}: asked for the bytes from ${offset} and got HTTP ${head.statusCode}${range ? ` (${range})` : ''}; not reading on, since bytes would be repeated`,
        );
      }
    }
    const expected = Number(header(head, 'content-length') ?? NaN);
    const stream = watchedBody(sdk, Number.isFinite(expected) ? expected : null, this.readIdleMs);
    return { stream, generation: header(head, 'x-goog-generation') ?? generation };
  }

  /** Gets an access token once up front, so unusable credentials fail fast and are named. */
  private ensureAuth(where: string, signal: AbortSignal | undefined): Promise<void> {
    if (this.endpoint) return Promise.resolve();
    this.auth ??= withRetry(() => this.storage.authClient.getAccessToken(), { policy: this.policy, ...(signal ? { signal } : {}) }).then(
      () => undefined,
      (err: unknown) => {
        if (err instanceof Error && NO_CREDENTIALS.test(err.message)) {
          // What the SDK does too: go on without credentials; a private bucket then answers 401/403.
          this.anonymous = true;
          return;
        }
        const code = isRetryable(err) ? 'source-failed' : 'source-auth';
        throw new AuditReplayError(code, `${where}: cannot get an access token from ${this.credentialSource()}: ${safeAuthReason(err)}`, { cause: err });
      },
    );
    return this.auth;
  }

  /** Where credentials came from, for messages; never the credentials themselves. */
  private credentialSource(): string {
    if (this.endpoint) return `no credentials (emulator endpoint ${this.endpoint.url}, from ${this.endpoint.from})`;
    const file = process.env.GOOGLE_APPLICATION_CREDENTIALS;
    if (file) return `Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS=${file})`;
    return this.anonymous ? 'Application Default Credentials (none found; the request went out anonymously)' : 'Application Default Credentials';
  }

  private toSourceError(err: unknown, op: 'list' | 'read', where: string): unknown {
    if (err instanceof AuditReplayError || (err as Error)?.name === 'AbortError') return err;
    const status = httpStatus(err);
    const at = this.endpoint ? ` at ${this.endpoint.url}` : '';
    if (status === 401 || status === 403 || (err instanceof Error && AUTH_LIBRARY_FAILURE.test(err.message))) {
      const what = status === 401 ? 'not authenticated (HTTP 401)' : status === 403 ? 'permission denied (HTTP 403)' : 'credentials could not be used';
      const detail = status === 401 || status === 403 ? apiMessage(err) : safeAuthReason(err);
      return new AuditReplayError('source-auth', `${where}: ${what} with ${this.credentialSource()}${detail ? `: ${detail}` : ''}`, { cause: err });
    }
    if (status === 404) {
      const message =
        op === 'list'
          ? `bucket '${this.bucketName}' does not exist${at} (listing ${where})`
          : `${where}: no such object${at}`;
      return new AuditReplayError('source-not-found', message, { cause: err });
    }
    if (status === 412) {
      return new AuditReplayError('source-failed', `${where}: the object was replaced while it was being read (its generation changed); not joining bytes of two versions, run again`, { cause: err });
    }
    const tries = isRetryable(err) ? ` after ${this.policy.attempts} attempts` : '';
    return new AuditReplayError('source-failed', `${where}: ${op === 'list' ? 'listing' : 'reading'} failed${tries}: ${describe(err)}`, { cause: err });
  }
}

/** Splits `gs://bucket/path` (path may be empty); an invalid bucket name is a usage error. */
export function parseGsUrl(url: string): { bucket: string; path: string } {
  const m = /^gs:\/\/([^/]*)(?:\/(.*))?$/.exec(url);
  const bucket = m?.[1] ?? '';
  if (!/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/.test(bucket)) {
    throw new AuditReplayError('usage', `'${url}' is not a gs://BUCKET[/PREFIX] URL with a valid bucket name (3-222 of a-z 0-9 . _ -)`);
  }
  return { bucket, path: m?.[2] ?? '' };
}

/** Where a GCS client sends requests when it is not Google Cloud itself: the URL, and which setting named it. */
export interface GcsEndpoint {
  url: string;
  from: string;
}

/**
 * A Storage client with the SDK's retries off: for `gcsEndpoint` (default
 * STORAGE_EMULATOR_HOST), which then gets no credentials, else Google Cloud with
 * Application Default Credentials (endpoint null).
 */
export function createGcsClient(gcsEndpoint: string | undefined): { storage: Storage; endpoint: GcsEndpoint | null } {
  const rawEndpoint = gcsEndpoint ?? process.env.STORAGE_EMULATOR_HOST;
  const endpoint = rawEndpoint ? { url: normalizeEndpoint(rawEndpoint), from: gcsEndpoint ? '--gcs-endpoint' : 'STORAGE_EMULATOR_HOST' } : null;
  const storage = new Storage({
    // autoRetry false alone makes the SDK try once (maxRetries 0 is read as "default").
    retryOptions: { autoRetry: false, maxRetries: 0 },
    ...(endpoint ? { apiEndpoint: endpoint.url } : {}),
  });
  if (endpoint) {
    // The SDK uses STORAGE_EMULATOR_HOST verbatim as its JSON API base even when
    // apiEndpoint says otherwise; pin both to the endpoint we chose.
    storage.baseUrl = `${endpoint.url}/storage/v1`;
    storage.apiEndpoint = endpoint.url;
  }
  return { storage, endpoint };
}

/** Adds a scheme (http, as emulators speak) and drops a trailing `/storage/v1`, which the SDK adds itself. */
function normalizeEndpoint(raw: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw.trim()) ? raw.trim() : `http://${raw.trim()}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new AuditReplayError('usage', `GCS endpoint '${raw}' is not a URL`);
  }
  // origin leaves out any user:password, so the endpoint is safe to print.
  return u.origin + u.pathname.replace(/\/+$/, '').replace(/\/storage\/v1$/, '');
}

/**
 * The SDK's download stream, made to fail (retryably, so the read resumes) when it
 * stalls or ends short. Its HTTP client (node-fetch 2) neither errors nor ends when the
 * connection drops in the middle of a body with a Content-Length: the stream would
 * wait forever. So a body that delivers nothing for `idleMs` while bytes are wanted
 * counts as dropped; waiting on a slow consumer does not count.
 */
function watchedBody(sdk: Readable, expected: number | null, idleMs: number): Readable {
  let seen = 0;
  let ended = false;
  let timer: NodeJS.Timeout | null = null;
  const disarm = (): void => {
    if (timer) clearTimeout(timer);
    timer = null;
  };
  const pump = (): void => {
    disarm();
    for (let chunk = sdk.read() as Buffer | null; chunk !== null; chunk = sdk.read() as Buffer | null) {
      seen += chunk.length;
      if (!out.push(chunk)) return;
    }
    if (ended) return;
    timer = setTimeout(() => out.destroy(Object.assign(new Error(`download delivered nothing for ${idleMs} ms after ${seen} bytes`), { code: 'ETIMEDOUT' })), idleMs);
    timer.unref();
  };
  const out = new Readable({
    read: pump,
    destroy(err, done) {
      disarm();
      sdk.destroy();
      done(err);
    },
  });
  sdk.on('readable', pump);
  sdk.once('end', () => {
    ended = true;
    disarm();
    if (expected !== null && seen !== expected) {
      out.destroy(Object.assign(new Error(`download ended after ${seen} of ${expected} bytes`), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    } else out.push(null);
  });
  sdk.once('error', (err) => out.destroy(err));
  return out;
}

function header(head: ResponseHead, name: string): string | undefined {
  const v = head.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Passes the bytes through and turns a final failure into what `map` makes of it. */
async function* rethrowAs(inner: Readable, map: (err: unknown) => unknown): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of inner) yield chunk as Buffer;
  } catch (err) {
    throw map(err);
  } finally {
    inner.destroy();
  }
}

/** The API's own message: an ApiError's, or the JSON error body a failed download carries as its message. */
function apiMessage(err: unknown): string {
  let msg = typeof (err as Error)?.message === 'string' ? (err as Error).message : '';
  try {
    const body = JSON.parse(msg) as { error?: { message?: unknown } };
    if (typeof body?.error?.message === 'string') msg = body.error.message;
  } catch {
    // Not JSON: the message as it is.
  }
  msg = msg.replace(/\s+/g, ' ').trim();
  return msg.length > 300 ? `${msg.slice(0, 300)}…` : msg;
}

function describe(err: unknown): string {
  const status = httpStatus(err);
  const msg = apiMessage(err);
  if (status !== null) return `HTTP ${status}${msg ? ` ${msg}` : ''}`;
  const code = (err as { code?: unknown })?.code;
  return `${typeof code === 'string' && !msg.includes(code) ? `${code} ` : ''}${msg || String(err)}`;
}

/**
 * Why credentials could not be used, from a fixed set of phrases: the auth library's
 * own messages may quote the credentials file (a JSON syntax error shows its text).
 */
function safeAuthReason(err: unknown): string {
  const e = err as { name?: unknown; code?: unknown; message?: unknown; response?: { status?: unknown; data?: { error?: unknown } } };
  const msg = typeof e?.message === 'string' ? e.message : '';
  if (e?.code === 'ENOENT' || /does not exist, or it is not a file/.test(msg)) return 'the credentials file does not exist';
  if (e?.name === 'SyntaxError') return 'the credentials file is not valid JSON';
  if ((typeof e?.code === 'string' && e.code.startsWith('ERR_OSSL')) || /DECODER routines/.test(msg)) return 'its private key cannot be read';
  const field = /does not contain a (\w+) field/.exec(msg);
  if (field) return `the credentials file has no ${field[1]}`;
  const oauth = e?.response?.data?.error;
  if (typeof oauth === 'string' && /^[a-z_]{1,40}$/.test(oauth)) return `the token service refused them (${oauth})`;
  const status = httpStatus(err);
  return `they could not be used (${typeof e?.name === 'string' ? e.name : 'error'}${typeof e?.code === 'string' ? ` ${e.code}` : ''}${status !== null ? `, HTTP ${status}` : ''})`;
}
