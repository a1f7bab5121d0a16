import { randomUUID } from 'node:crypto';
import { PassThrough, type Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { File } from '@google-cloud/storage';
import { AuditReplayError } from '../../core/errors.js';
import { DEFAULT_RETRY, httpStatus, isRetryable, withRetry } from '../../core/retry.js';
import { asSinkError, mayHaveTakenEffect } from './storage-errors.js';
import { createGcsClient, GcsSource, parseGsUrl, type GcsEndpoint } from '../../ingest/sources/gcs/gcs-source.js';
import type { OutputObject, Storage, StorageOptions } from '../storage.js';

/**
 * Custom object metadata naming the upload that wrote an object, so an abort after an
 * ambiguous commit deletes only this upload's object, never an earlier output.
 */
const MARKER = 'auditreplay-upload';
/**
 * Bytes per upload request (a multiple of 256 KiB, as the API requires). Each request
 * carries one chunk, sent once full, so a slow writer never holds a request open, and
 * at most one chunk sits in memory.
 */
const CHUNK_SIZE = 8 * 1024 * 1024;

/** What a `gs://` URL resolves to. */
interface Target {
  url: string;
  bucket: string;
  file: File;
  endpoint: GcsEndpoint | null;
}

/**
 * Objects in Google Cloud Storage, `gs://bucket/object`, with the GCS source's client
 * (Application Default Credentials, or `gcsEndpoint` / STORAGE_EMULATOR_HOST without
 * credentials; the SDK's retries off, so a failed upload request fails the output, while
 * the calls around it go through retry.ts). An output is a resumable upload: `create`
 * opens the session, the bytes go up in 8 MiB chunks as they are written, and the last
 * chunk, whose request finalizes the object, waits for `commit`. An unfinished upload
 * is invisible; `abort` cancels the session.
 */
export const gcsStorage: Storage = {
  accepts: (url) => url.startsWith('gs://'),

  async create(url, options) {
    const target = targetOf(url, options);
    const marker = randomUUID();
    let session: string;
    try {
      // A retry opens another session; the first, never written to, expires on its own.
      [session] = await withRetry(() => target.file.createResumableUpload({ metadata: { metadata: { [MARKER]: marker } } }));
    } catch (err) {
      throw failure(err, target, 'opening its upload session');
    }
    return new GcsOutput(target, session, marker);
  },

  async open(url, options) {
    objectOf(url);
    try {
      return await new GcsSource(url, options.gcsEndpoint ? { gcsEndpoint: options.gcsEndpoint } : {}).open('');
    } catch (err) {
      throw asSinkError(err);
    }
  },

  async exists(url, options) {
    const target = targetOf(url, options);
    try {
      const [exists] = await withRetry(() => target.file.exists());
      return exists;
    } catch (err) {
      throw failure(err, target, 'looking it up');
    }
  },
};

class GcsOutput implements OutputObject {
  readonly url: string;
  readonly stream: PassThrough;
  /** The SDK's upload stream: ending it finalizes the object, so it ends only at commit. */
  private readonly upload: Writable;
  private state: 'open' | 'committing' | 'committed' | 'failed' | 'aborted' = 'open';
  private failure: Error | null = null;
  private written = 0;
  /** The call that makes the output visible has been made (it may fail). */
  private finalSent = false;
  /** That call failed without a clear refusal (a lost answer, a 5xx): it may have taken effect. */
  private maybeCommitted = false;

  constructor(
    private readonly target: Target,
    /** The session URI: a capability to write the object, so never printed. */
    private readonly session: string,
    private readonly marker: string,
  ) {
    this.url = target.url;
    this.stream = new PassThrough();
    this.stream.on('error', (err) => (this.failure ??= err));
    this.stream.on('data', (chunk: Buffer) => (this.written += chunk.length));
    // Chunked (`Content-Range: bytes A-B/*`, the last one with the total); crc32c is checked against the finished object.
    this.upload = target.file.createWriteStream({ resumable: true, uri: session, chunkSize: CHUNK_SIZE, validation: 'crc32c' });
    this.upload.on('error', (err) => {
      // A failed upload takes no more bytes: stop the writer rather than let it wait on backpressure.
      if (this.state === 'open') this.stream.destroy(failure(err, target, 'uploading', false));
    });
    this.stream.pipe(this.upload, { end: false });
  }

  async commit(): Promise<void> {
    if (this.state === 'committed') return;
    if (this.state !== 'open') throw new AuditReplayError('internal', `${this.url}: commit after ${this.state === 'aborted' ? 'abort' : 'a failed commit'}`);
    if (this.failure) throw failure(this.failure, this.target, 'uploading', false);
    if (!this.stream.writableEnded) throw new AuditReplayError('internal', `${this.url}: commit before its stream was ended`);
    this.state = 'committing';
    try {
      // Every byte has gone through the pipe into the upload (the stream's readable side ended).
      await finished(this.stream);
      this.finalSent = true;
      if (this.written === 0) {
        await this.finishEmpty();
      } else {
        this.upload.end();
        // 'finish' comes once the server has created the object and its crc32c matched ours.
        await finished(this.upload);
      }
      this.state = 'committed';
    } catch (err) {
      this.state = 'failed';
      this.maybeCommitted = this.finalSent && mayHaveTakenEffect(err);
      throw failure(this.failure ?? err, this.target, 'finishing its upload', false);
    }
  }

  async abort(): Promise<void> {
    if (this.state === 'committed' || this.state === 'aborted') return;
    this.state = 'aborted';
    this.stream.unpipe(this.upload);
    this.stream.destroy();
    // With an error, so the SDK also cancels its request in progress (a plain destroy leaves it waiting for bytes).
    if (!this.upload.destroyed) this.upload.destroy(new Error('output aborted'));
    await this.cancelSession();
    if (this.maybeCommitted) await this.deleteIfOurs();
  }

  /**
   * Finalizes a session that received no bytes, with the request the API documents for it
   * (`Content-Range: bytes *\/0`): the SDK's chunked mode would send `bytes 0--1/0`.
   */
  private async finishEmpty(): Promise<void> {
    this.upload.destroy();
    await withRetry(async () => {
      const res = await fetch(this.session, { method: 'PUT', headers: { 'content-range': 'bytes */0' } });
      await res.body?.cancel();
      if (res.status < 200 || res.status >= 300) throw Object.assign(new Error(`finalizing the empty upload: HTTP ${res.status}`), { status: res.status });
    });
  }

  /** Cancels the resumable session (DELETE on its URI, which needs no credentials: the URI is one). */
  private async cancelSession(): Promise<void> {
    let status: number;
    try {
      status = await withRetry(async () => {
        const res = await fetch(this.session, { method: 'DELETE', headers: { 'content-length': '0' } });
        await res.body?.cancel();
        if (res.status >= 500 || res.status === 429) throw Object.assign(new Error(`HTTP ${res.status}`), { status: res.status });
        return res.status;
      });
    } catch (err) {
      throw failure(err, this.target, 'cancelling its upload session');
    }
    // 499 is the API's answer to a cancel; 404 and 410 mean the session is gone already.
    if (status !== 499 && status !== 404 && status !== 410 && (status < 200 || status >= 300)) {
      throw new AuditReplayError('sink-failed', `cannot cancel the upload of ${this.url}: HTTP ${status}; the unfinished upload expires on its own within a week`);
    }
  }

  private async deleteIfOurs(): Promise<void> {
    try {
      const [meta] = await withRetry(() => this.target.file.getMetadata());
      if (meta.metadata?.[MARKER] !== this.marker) return;
      await withRetry(() => this.target.file.delete({ ifGenerationMatch: meta.generation! }));
    } catch (err) {
      if (httpStatus(err) === 404) return;
      throw failure(err, this.target, 'removing the object its failed commit may have written');
    }
  }
}

/** Bucket and object name of `gs://bucket/object`; a URL naming a bucket or a folder (trailing '/') names no object. */
function objectOf(url: string): { bucket: string; name: string } {
  const { bucket, path } = parseGsUrl(url);
  if (path === '' || path.endsWith('/')) {
    throw new AuditReplayError('usage', `'${url}' names no object: an output needs gs://bucket/object, with a name not ending in '/'`);
  }
  return { bucket, name: path };
}

function targetOf(url: string, options: StorageOptions): Target {
  const { bucket, name } = objectOf(url);
  const { storage, endpoint } = createGcsClient(options.gcsEndpoint);
  return { url, bucket, file: storage.bucket(bucket).file(name), endpoint };
}

/** Where the credentials came from, for messages; never the credentials themselves. */
function credentialSource(target: Target): string {
  if (target.endpoint) return `no credentials (emulator endpoint ${target.endpoint.url}, from ${target.endpoint.from})`;
  const file = process.env.GOOGLE_APPLICATION_CREDENTIALS;
  return file ? `Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS=${file})` : 'Application Default Credentials';
}

/** The sink's error for a failed call: names the object and the credential; session URIs (capabilities) are cut out. */
function failure(err: unknown, target: Target, doing: string, retried = true): AuditReplayError {
  if (err instanceof AuditReplayError) return err;
  const status = httpStatus(err);
  const raw = ((err as Error | null)?.message ?? String(err)).replace(/\s+/g, ' ').trim();
  const message = raw.replace(/upload_id=[^&\s"']+/g, 'upload_id=[redacted]').slice(0, 300);
  const at = target.endpoint ? ` at ${target.endpoint.url}` : '';
  if (status === 401 || status === 403 || /Could not load the default credentials|invalid_grant|Could not refresh access token/i.test(raw)) {
    const what = status === 401 ? 'not authenticated (HTTP 401)' : status === 403 ? 'permission denied (HTTP 403)' : 'credentials could not be used';
    return new AuditReplayError(
      'sink-failed',
      `cannot write ${target.url}: ${what} while ${doing}, with ${credentialSource(target)}; the identity needs storage.objects.create (and storage.objects.delete to replace an object) on bucket '${target.bucket}'`,
      { cause: err },
    );
  }
  if (status === 404 && doing.startsWith('opening')) {
    return new AuditReplayError('sink-failed', `cannot write ${target.url}: bucket '${target.bucket}' does not exist${at}`, { cause: err });
  }
  const tries = retried && isRetryable(err) ? ` after ${DEFAULT_RETRY.attempts} tries` : '';
  return new AuditReplayError('sink-failed', `cannot write ${target.url}: ${doing} failed${tries}: ${status !== null ? `HTTP ${status} ` : ''}${message}`, { cause: err });
}

