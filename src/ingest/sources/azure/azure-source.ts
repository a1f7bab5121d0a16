import { Readable } from 'node:stream';
import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient, type StoragePipelineOptions } from '@azure/storage-blob';
import { AuditReplayError } from '../../../core/errors.js';
import { resumableRead } from '../../resumable-read.js';
import { DEFAULT_RETRY, httpStatus, isRetryable, withRetry, type RetryPolicy } from '../../../core/retry.js';
import type { DirListing, ObjectInfo, Source, SourceOptions } from '../../source.js';
import { parseAzureUrl, redactAzureSecrets, resolveAzureAuth, type AzureAuth, type AzureLocation } from './azure-url.js';

export interface AzureSourceOptions extends SourceOptions {
  /** Entries per listing page (default 5000, the service's maximum); each page is one list call. */
  pageSize?: number;
  /** Where credentials are read from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /**
   * Blob service endpoint for the key, SAS and DefaultAzureCredential cases (an emulator,
   * a private endpoint); default https://<account>.blob.core.windows.net. A connection string brings its own.
   */
  blobEndpoint?: string;
}

// Our retry policy (retry.ts) is the only one: the SDK's pipeline tries once, and its
// download stream does not re-request on its own (maxRetryRequests: 0).
const PIPELINE: StoragePipelineOptions = { retryOptions: { maxTries: 1 } };

/**
 * An Azure Blob Storage container, or a prefix in it: `az://container/prefix` (account
 * from the environment) or `https://<account>.blob.core.windows.net/<container>/<prefix>`,
 * optionally with a SAS query string. Credentials are picked by `resolveAzureAuth`.
 */
export class AzureSource implements Source {
  readonly url: string;
  private readonly loc: AzureLocation;
  private readonly auth: AzureAuth;
  private readonly secrets: string[];
  private readonly pageSize: number;
  private readonly policy: RetryPolicy;
  private readonly onRetry: SourceOptions['onRetry'];
  /** ETags seen in listings, so a read (and each resume) is pinned to the listed version. */
  private readonly etags = new Map<string, string>();
  private client: Promise<ContainerClient> | null;
  private account: string;
  private readonly endpoint: string | undefined;

  constructor(url: string, options: AzureSourceOptions = {}) {
    this.loc = parseAzureUrl(url);
    this.url = this.loc.displayUrl;
    this.auth = resolveAzureAuth(this.loc, options.env ?? process.env);
    this.secrets = secretsOf(this.auth);
    this.account = this.auth.account ?? this.loc.account ?? '?';
    this.pageSize = options.pageSize ?? 5000;
    this.policy = options.retry ?? DEFAULT_RETRY;
    this.onRetry = options.onRetry;
    this.endpoint = options.blobEndpoint?.replace(/\/+$/, '');
    // Building a client from a key or SAS is synchronous, so a malformed connection
    // string is a usage error at once; DefaultAzureCredential loads @azure/identity (heavy) on first use.
    this.client = this.auth.kind === 'default' ? null : Promise.resolve(this.makeClient(this.serviceClient(this.auth)));
  }

  async listDir(prefix: string, signal?: AbortSignal): Promise<DirListing> {
    const container = await this.containerClient();
    const root = this.loc.prefix;
    const full = root + prefix;
    const prefixes: string[] = [];
    const objects: ObjectInfo[] = [];
    let calls = 0;
    let token: string | undefined;
    do {
      const page = await this.retrying('list', signal, async () => {
        // A fresh iterator from the last continuation token per page, so a retried page resumes the listing where it stopped.
        const pages = container
          .listBlobsByHierarchy('/', { prefix: full, ...(signal ? { abortSignal: signal } : {}) })
          .byPage({ maxPageSize: this.pageSize, ...(token ? { continuationToken: token } : {}) });
        const next = await pages.next();
        return next.done ? null : next.value;
      }).catch((err: unknown) => {
        throw this.failure(err, `listing ${this.nameOf(prefix)}`);
      });
      calls++;
      if (!page) break;
      for (const p of page.segment.blobPrefixes ?? []) prefixes.push(p.name.slice(root.length));
      for (const b of page.segment.blobItems) {
        // A zero-length "folder marker" named like the prefix itself is not an object of it.
        if (b.name === full) continue;
        const key = b.name.slice(root.length);
        if (b.properties.etag) this.etags.set(key, b.properties.etag);
        objects.push({ key, size: b.properties.contentLength ?? null });
      }
      token = page.continuationToken || undefined;
    } while (token);
    if (prefix === '' && prefixes.length === 0 && objects.length === 0 && this.loc.single !== null) {
      const single = await this.singleBlob(container, signal);
      calls++;
      if (single) return { prefixes: [], objects: [single], calls };
    }
    return { prefixes, objects, calls };
  }

  async open(key: string, options: { offset?: number; signal?: AbortSignal } = {}): Promise<Readable> {
    const container = await this.containerClient();
    const blob = container.getBlobClient(this.blobName(key));
    const name = this.nameOf(key);
    const start = options.offset ?? 0;
    const { signal } = options;
    let etag = this.etags.get(key);
    let lastDrop: unknown = null;
    const fetch = async (delivered: number): Promise<Readable> => {
      let res;
      try {
        res = await blob.download(start + delivered, undefined, {
          maxRetryRequests: 0,
          conditions: etag ? { ifMatch: etag } : {},
          ...(signal ? { abortSignal: signal } : {}),
        });
      } catch (err) {
        // Reading from the very end: Azure answers 416 where there is nothing left to send.
        if (httpStatus(err) === 416) return Readable.from([], { objectMode: false });
        throw err;
      }
      // Without a listed ETag, the first answer's ETag pins the resumes to the version being read.
      etag ??= res.etag;
      if (!res.readableStreamBody) throw new AuditReplayError('internal', `download of ${name} has no body stream`);
      return checkedBody(res.readableStreamBody as Readable, res.contentLength ?? null, signal, (err) => (lastDrop = err));
    };
    // The first request is made here, not on the first read, so a missing object or refused access fails open().
    let first: Readable | null = await this.retrying('read', signal, () => fetch(0)).catch((err: unknown) => {
      throw this.failure(err, `reading ${name}`);
    });
    const bytes = resumableRead(
      async (delivered) => {
        if (first && delivered === 0) {
          const f = first;
          first = null;
          return f;
        }
        first?.destroy();
        first = null;
        return fetch(delivered);
      },
      {
        policy: this.policy,
        ...(signal ? { signal } : {}),
        onRetry: (err) => this.onRetry?.('read', err),
        onResume: (offset) => this.onRetry?.('resume', lastDrop ?? new Error(`resumed ${name} at byte ${start + offset}`)),
      },
    );
    const failure = (err: unknown): Error => this.failure(err, `reading ${name}`);
    async function* mapped(): AsyncGenerator<Buffer> {
      try {
        yield* bytes;
      } catch (err) {
        throw failure(err);
      }
    }
    const out = Readable.from(mapped(), { objectMode: false });
    out.once('close', () => {
      first?.destroy();
      bytes.destroy();
    });
    return out;
  }

  async close(): Promise<void> {
    // Nothing to release: the SDK holds only idle keep-alive sockets, which Node unrefs, so they never keep the process alive.
  }

  private containerClient(): Promise<ContainerClient> {
    this.client ??= this.defaultClient();
    return this.client;
  }

  private async defaultClient(): Promise<ContainerClient> {
    return this.makeClient(await defaultAzureServiceClient(this.serviceUrl()));
  }

  private serviceClient(auth: AzureAuth): BlobServiceClient {
    return azureServiceClient(auth, this.account, this.serviceUrl());
  }

  private serviceUrl(): string {
    return this.endpoint ?? `https://${this.account}.blob.core.windows.net`;
  }

  private makeClient(service: BlobServiceClient): ContainerClient {
    if (this.auth.account === null && this.loc.account === null) this.account = service.accountName || this.account;
    return service.getContainerClient(this.loc.container);
  }

  private async singleBlob(container: ContainerClient, signal: AbortSignal | undefined): Promise<ObjectInfo | null> {
    const name = this.loc.single!;
    try {
      const props = await this.retrying('list', signal, () => container.getBlobClient(name).getProperties(signal ? { abortSignal: signal } : {}));
      if (props.etag) this.etags.set('', props.etag);
      return { key: '', size: props.contentLength ?? null };
    } catch (err) {
      if (httpStatus(err) === 404 && errorCode(err) !== 'ContainerNotFound') return null;
      throw this.failure(err, `listing ${this.url}`);
    }
  }

  private retrying<T>(what: 'list' | 'read', signal: AbortSignal | undefined, op: () => Promise<T>): Promise<T> {
    return withRetry(op, { policy: this.policy, ...(signal ? { signal } : {}), onRetry: (err) => this.onRetry?.(what, err) });
  }

  private blobName(key: string): string {
    return key === '' && this.loc.single !== null ? this.loc.single : this.loc.prefix + key;
  }

  private nameOf(key: string): string {
    if (key === '') return this.url;
    return this.url.endsWith('/') ? this.url + key : `${this.url}/${key}`;
  }

  private redact(text: string): string {
    return redactAzureSecrets(text, this.secrets);
  }

  /** Turns an SDK failure into an AuditReplayError that names the container or object, the credential, and never a secret. */
  private failure(err: unknown, doing: string): Error {
    if (err instanceof AuditReplayError) return err;
    if ((err as Error | null)?.name === 'AbortError') return err as Error;
    const status = httpStatus(err);
    const code = errorCode(err);
    const container = `container '${this.loc.container}' of account '${this.account}'`;
    const detail = [status, code].filter((x) => x !== null).join(' ');
    const said = this.redact(firstLine(err));
    if (isCredentialError(err)) {
      return new AuditReplayError(
        'source-auth',
        `${doing}: no token for ${container} from ${this.auth.describe}: ${said}; sign in (e.g. 'az login'), ` +
          'or set AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN',
        { cause: err },
      );
    }
    if (status === 401 || status === 403) {
      const hint = code === 'AuthorizationPermissionMismatch' ? "; the identity is known but lacks a data role such as 'Storage Blob Data Reader'" : '';
      return new AuditReplayError('source-auth', `${doing}: access to ${container} was refused (${detail}) using ${this.auth.describe}${hint}`, { cause: err });
    }
    if (status === 404) {
      if (code === 'ContainerNotFound' || (doing.startsWith('listing') && code !== 'BlobNotFound')) {
        return new AuditReplayError('source-not-found', `${doing}: ${container} does not exist`, { cause: err });
      }
      return new AuditReplayError('source-not-found', `${doing}: no such blob (${detail})`, { cause: err });
    }
    if (status === 412) {
      return new AuditReplayError('source-failed', `${doing}: the blob changed after it was listed or while it was read (${detail}: its ETag no longer matches); run again to read the new version`, { cause: err });
    }
    const tries = isRetryable(err) ? ` after ${this.policy.attempts} tries` : '';
    return new AuditReplayError('source-failed', `${doing} failed${tries}: ${detail ? `${detail}: ` : ''}${said}`, { cause: err });
  }
}

/**
 * The blob service client for a key, SAS or connection string credential (synchronous,
 * so a malformed connection string is a usage error at once); `serviceUrl` is
 * https://<account>.blob.core.windows.net or an emulator's. The pipeline tries once.
 */
export function azureServiceClient(auth: AzureAuth, account: string, serviceUrl: string): BlobServiceClient {
  switch (auth.kind) {
    case 'connection-string':
      try {
        return BlobServiceClient.fromConnectionString(auth.connectionString, PIPELINE);
      } catch (err) {
        throw new AuditReplayError('usage', `AZURE_STORAGE_CONNECTION_STRING is not a usable connection string: ${redactAzureSecrets((err as Error).message, secretsOf(auth))}`);
      }
    case 'account-key':
      return new BlobServiceClient(serviceUrl, new StorageSharedKeyCredential(account, auth.key), PIPELINE);
    case 'url-sas':
    case 'env-sas':
      return new BlobServiceClient(`${serviceUrl}?${auth.sas}`, undefined, PIPELINE);
    case 'default':
      throw new AuditReplayError('internal', 'DefaultAzureCredential clients are made asynchronously');
  }
}

/** The blob service client for DefaultAzureCredential; @azure/identity (heavy) is loaded only here. */
export async function defaultAzureServiceClient(serviceUrl: string): Promise<BlobServiceClient> {
  const { DefaultAzureCredential } = await import('@azure/identity');
  return new BlobServiceClient(serviceUrl, new DefaultAzureCredential(), PIPELINE);
}

/** The secret strings of a credential, to redact from messages. */
export function secretsOf(auth: AzureAuth): string[] {
  switch (auth.kind) {
    case 'url-sas':
    case 'env-sas':
      return [auth.sas, ...auth.sas.split('&').map((p) => p.slice(p.indexOf('=') + 1))].filter((s) => s.length >= 16);
    case 'account-key':
      return [auth.key];
    case 'connection-string':
      return [auth.connectionString, ...auth.connectionString.split(';').map((p) => p.slice(p.indexOf('=') + 1))].filter((s) => s.length >= 16);
    case 'default':
      return [];
  }
}

/** The service's error code (e.g. BlobNotFound) of an SDK error, if any. */
export function errorCode(err: unknown): string | null {
  const e = err as { code?: unknown; details?: { errorCode?: unknown } } | null;
  const code = e?.details?.errorCode ?? e?.code;
  return typeof code === 'string' ? code : null;
}

/** True for DefaultAzureCredential's failures to get a token (as opposed to the service refusing one). */
export function isCredentialError(err: unknown): boolean {
  const name = (err as Error | null)?.name ?? '';
  return /^(CredentialUnavailable|AggregateAuthentication|Authentication(Required)?)Error$/.test(name);
}

function firstLine(err: unknown): string {
  const message = (err as Error | null)?.message ?? String(err);
  return message.split('\n')[0]!.slice(0, 300);
}

/**
 * Passes a download's body on, and turns a body that ends short or breaks (a dropped
 * connection, which the SDK reports as an abort or "data corruption") into a retryable
 * ECONNRESET, so resumableRead resumes it with a ranged read.
 */
function checkedBody(body: Readable, expected: number | null, signal: AbortSignal | undefined, onDrop: (err: Error) => void): Readable {
  async function* bytes(): AsyncGenerator<Buffer> {
    let got = 0;
    try {
      for await (const chunk of body) {
        const b = chunk as Buffer;
        got += b.length;
        yield b;
      }
    } catch (err) {
      if (signal?.aborted) throw err;
      // Every byte arrived: a connection error after the last one loses nothing.
      if (expected !== null && got >= expected) return;
      throw dropped(got, expected, err);
    }
    if (expected !== null && got < expected) throw dropped(got, expected, undefined);
  }
  function dropped(got: number, expected: number | null, cause: unknown): Error {
    const err = Object.assign(new Error(`connection dropped after ${got} of ${expected ?? '?'} bytes`), { code: 'ECONNRESET' }, cause === undefined ? {} : { cause });
    onDrop(err);
    return err;
  }
  const out = Readable.from(bytes(), { objectMode: false });
  out.once('close', () => body.destroy());
  return out;
}
