import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { BlockBlobClient } from '@azure/storage-blob';
import { AuditReplayError } from '../../core/errors.js';
import { DEFAULT_RETRY, httpStatus, isRetryable, withRetry } from '../../core/retry.js';
import { asSinkError, mayHaveTakenEffect } from './storage-errors.js';
import { AzureSource, azureServiceClient, defaultAzureServiceClient, errorCode, isCredentialError, secretsOf } from '../../ingest/sources/azure/azure-source.js';
import { parseAzureUrl, redactAzureSecrets, resolveAzureAuth, type AzureAuth } from '../../ingest/sources/azure/azure-url.js';
import type { OutputObject, Storage } from '../storage.js';

/** Bytes per staged block: 4 MiB blocks reach 195 GiB within Azure's 50,000 blocks per blob. */
const BLOCK_SIZE = 4 * 1024 * 1024;
/** Blocks staging at once; with the block being filled, at most 3 blocks sit in memory. */
const CONCURRENCY = 2;
const MAX_BLOCKS = 50_000;
/**
 * Blob metadata naming the upload that committed a blob (a C# identifier, as Azure
 * requires), so an abort after an ambiguous commit deletes only this upload's blob.
 */
const MARKER = 'auditreplayupload';

/** What an Azure blob URL resolves to: the blob, its credential, and a printable name. */
interface Target {
  blob: BlockBlobClient;
  auth: AzureAuth;
  account: string;
  container: string;
  /** The URL without any SAS: safe to print. */
  url: string;
}

/**
 * Block blobs in Azure Blob Storage: `az://container/blob` (account from the environment)
 * or `https://<account>.blob.core.windows.net/<container>/<blob>[?SAS]`, with the Azure
 * source's credential order (`resolveAzureAuth`). An output stages 4 MiB blocks as the
 * bytes arrive, 2 at a time, and `commit` commits the block list: until then the blob
 * (or the earlier version under its name) is all anyone sees. `uploadStream` is not
 * used because it commits as soon as its input ends. An aborted output's staged blocks
 * are never committed; Azure discards them with the next commit to that name, or after
 * a week.
 */
export const azureStorage: Storage = {
  accepts: (url) => url.startsWith('az://') || /^https:\/\/[^/]+\.blob\.core\.windows\.net\//i.test(url),

  async create(url) {
    const target = await targetOf(url);
    return new AzureOutput(target);
  },

  async open(url) {
    blobOf(url);
    try {
      return await new AzureSource(url).open('');
    } catch (err) {
      throw asSinkError(err);
    }
  },

  async exists(url) {
    const target = await targetOf(url);
    try {
      return await withRetry(() => target.blob.exists());
    } catch (err) {
      throw failure(err, target, 'looking it up');
    }
  },
};

class AzureOutput implements OutputObject {
  readonly url: string;
  readonly stream: Writable;
  private readonly marker = randomUUID();
  private readonly blocks: string[] = [];
  /** Bytes of the block being filled. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Stage calls under way; they never reject (a failure is kept in `failure`). */
  private readonly staging = new Set<Promise<void>>();
  private readonly cancel = new AbortController();
  private state: 'open' | 'committing' | 'committed' | 'failed' | 'aborted' = 'open';
  private failure: Error | null = null;
  /** The call that makes the output visible has been made (it may fail). */
  private finalSent = false;
  /** That call failed without a clear refusal (a lost answer, a 5xx): it may have taken effect. */
  private maybeCommitted = false;

  constructor(private readonly target: Target) {
    this.url = target.url;
    this.stream = new Writable({
      // The callback waits while 2 blocks are staging and a third is full: that is the backpressure.
      write: (chunk: Buffer, _encoding, done) => this.take(chunk).then(() => done(), done),
      final: (done) => this.flush().then(() => done(), done),
    });
    this.stream.on('error', (err) => (this.failure ??= err));
  }

  async commit(): Promise<void> {
    if (this.state === 'committed') return;
    if (this.state !== 'open') throw new AuditReplayError('internal', `${this.url}: commit after ${this.state === 'aborted' ? 'abort' : 'a failed commit'}`);
    if (this.failure) throw failure(this.failure, this.target, 'uploading');
    if (!this.stream.writableEnded) throw new AuditReplayError('internal', `${this.url}: commit before its stream was ended`);
    this.state = 'committing';
    try {
      // `final` has staged the last block and waited for every stage call.
      await finished(this.stream);
      this.finalSent = true;
      // The same list again is harmless, so a commit whose answer was lost is simply retried.
      await withRetry(() => this.target.blob.commitBlockList(this.blocks, { metadata: { [MARKER]: this.marker } }));
      this.state = 'committed';
    } catch (err) {
      this.state = 'failed';
      this.maybeCommitted = this.finalSent && mayHaveTakenEffect(err);
      throw failure(this.failure ?? err, this.target, 'committing its blocks');
    }
  }

  async abort(): Promise<void> {
    if (this.state === 'committed' || this.state === 'aborted') return;
    this.state = 'aborted';
    this.cancel.abort();
    this.stream.destroy();
    await Promise.all(this.staging);
    // Only a commit can have made something visible: remove it if it is this upload's.
    if (this.maybeCommitted) await this.deleteIfOurs();
  }

  private async take(chunk: Buffer): Promise<void> {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    while (this.pendingBytes >= BLOCK_SIZE) {
      const all = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = all.length > BLOCK_SIZE ? [all.subarray(BLOCK_SIZE)] : [];
      this.pendingBytes = all.length - BLOCK_SIZE;
      await this.stage(all.subarray(0, BLOCK_SIZE));
    }
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes > 0) {
      const last = Buffer.concat(this.pending, this.pendingBytes);
      this.pending = [];
      this.pendingBytes = 0;
      await this.stage(last);
    }
    await Promise.all(this.staging);
    if (this.failure) throw this.failure;
  }

  /** Starts staging one block, after waiting for a free slot; throws the first failure of any block. */
  private async stage(block: Buffer): Promise<void> {
    while (this.staging.size >= CONCURRENCY) await Promise.race(this.staging);
    if (this.failure) throw this.failure;
    if (this.cancel.signal.aborted) throw new AuditReplayError('aborted', `${this.url}: output aborted`);
    if (this.blocks.length >= MAX_BLOCKS) {
      throw new AuditReplayError('sink-failed', `cannot write ${this.url}: more than ${MAX_BLOCKS} blocks of ${BLOCK_SIZE} bytes, the most a block blob holds`);
    }
    // Block ids are base64 of equal length within a blob; the marker keeps ours apart from another writer's.
    const id = Buffer.from(`${this.marker}-${String(this.blocks.length).padStart(6, '0')}`).toString('base64');
    this.blocks.push(id);
    const call: Promise<void> = withRetry(() => this.target.blob.stageBlock(id, block, block.length, { abortSignal: this.cancel.signal }), {
      signal: this.cancel.signal,
    })
      .then(
        () => undefined,
        (err: unknown) => {
          if (!this.cancel.signal.aborted) this.failure ??= failure(err, this.target, 'staging a block');
        },
      )
      .finally(() => this.staging.delete(call));
    this.staging.add(call);
  }

  private async deleteIfOurs(): Promise<void> {
    try {
      const props = await withRetry(() => this.target.blob.getProperties());
      if (props.metadata?.[MARKER] !== this.marker) return;
      await withRetry(() => this.target.blob.delete({ conditions: { ifMatch: props.etag! } }));
    } catch (err) {
      if (httpStatus(err) === 404) return;
      throw failure(err, this.target, 'removing the blob its failed commit may have written');
    }
  }
}

/** Parses an Azure URL that must name a blob (a path not ending in '/'). */
function blobOf(url: string): ReturnType<typeof parseAzureUrl> & { single: string } {
  const loc = parseAzureUrl(url);
  if (loc.single === null) {
    throw new AuditReplayError('usage', `'${loc.displayUrl}' names no blob: an output needs az://container/blob or https://<account>.blob.core.windows.net/<container>/<blob>, not ending in '/'`);
  }
  return { ...loc, single: loc.single };
}

/** Picks the credential (`resolveAzureAuth`) and makes the blob's client. */
async function targetOf(url: string): Promise<Target> {
  const loc = blobOf(url);
  const auth = resolveAzureAuth(loc, process.env);
  const account = auth.account ?? loc.account ?? '?';
  const serviceUrl = `https://${account}.blob.core.windows.net`;
  const service = auth.kind === 'default' ? await defaultAzureServiceClient(serviceUrl) : azureServiceClient(auth, account, serviceUrl);
  const blob = service.getContainerClient(loc.container).getBlockBlobClient(loc.single);
  // A connection string may name the account only through its endpoint: the client knows it.
  return { blob, auth, account: account === '?' ? service.accountName || account : account, container: loc.container, url: loc.displayUrl };
}

/** The sink's error for a failed call: names the blob and the credential, never a secret. */
function failure(err: unknown, target: Target, doing: string): AuditReplayError {
  if (err instanceof AuditReplayError) return err;
  const status = httpStatus(err);
  const code = errorCode(err);
  const where = `container '${target.container}' of account '${target.account}'`;
  const detail = [status, code].filter((x) => x !== null).join(' ');
  const message = ((err as Error | null)?.message ?? String(err)).split('\n')[0]!.slice(0, 300);
  const said = redactAzureSecrets(message, secretsOf(target.auth));
  if (isCredentialError(err)) {
    return new AuditReplayError(
      'sink-failed',
      `cannot write ${target.url}: no token for ${where} from ${target.auth.describe}: ${said}; sign in (e.g. 'az login'), ` +
        'or set AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN',
      { cause: err },
    );
  }
  if (status === 401 || status === 403) {
    const hint = code === 'AuthorizationPermissionMismatch' ? "; the identity is known but lacks a data role such as 'Storage Blob Data Contributor'" : '';
    return new AuditReplayError('sink-failed', `cannot write ${target.url}: access to ${where} was refused while ${doing} (${detail}) using ${target.auth.describe}${hint}`, {
      cause: err,
    });
  }
  if (code === 'ContainerNotFound') return new AuditReplayError('sink-failed', `cannot write ${target.url}: ${where} does not exist`, { cause: err });
  const tries = isRetryable(err) ? ` after ${DEFAULT_RETRY.attempts} tries` : '';
  return new AuditReplayError('sink-failed', `cannot write ${target.url}: ${doing} failed${tries}: ${detail ? `${detail}: ` : ''}${said}`, { cause: err });
}

