import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { finished } from 'node:stream/promises';
import { AbortMultipartUploadCommand, DeleteObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { AuditReplayError } from '../../core/errors.js';
import { DEFAULT_RETRY, httpStatus, isRetryable, withRetry } from '../../core/retry.js';
import { asSinkError, mayHaveTakenEffect } from './storage-errors.js';
import { AUTH_NAMES, createS3Client, credentialSource, endpointForMessages, parseS3Url, S3Source, s3EndpointFrom } from '../../ingest/sources/s3/s3-source.js';
import type { OutputObject, Storage, StorageOptions } from '../storage.js';

/** Bytes per part: S3's minimum is 5 MiB; 8 MiB parts reach 78 GiB within S3's 10,000 parts. */
const PART_SIZE = 8 * 1024 * 1024;
/** Parts uploading at once; with the part being filled, at most 3 parts sit in memory. */
const QUEUE_SIZE = 2;
/**
 * User metadata (x-amz-meta-…) naming the upload that wrote an object, so an abort after
 * an ambiguous commit deletes the object only if it is this upload's, never an earlier output.
 */
const MARKER = 'auditreplay-upload';

/**
 * Objects in S3 or an S3-compatible store, `s3://bucket/key`, with the S3 source's client
 * setup (credential chain, `s3Endpoint` / AWS_ENDPOINT_URL path-style, region). An output
 * is a multipart upload (lib-storage's `Upload`, 8 MiB parts, 2 at a time, so memory stays
 * bounded whatever the size) whose last part and CompleteMultipartUpload wait for
 * `commit`; an output under one part is a single PutObject at commit. Nothing is visible
 * before. The SDK retries each upload call (up to DEFAULT_RETRY.attempts tries): the part
 * is in memory, and lib-storage gives our retry policy no way in.
 */
export const s3Storage: Storage = {
  accepts: (url) => url.startsWith('s3://'),

  async create(url, options) {
    const { bucket, key } = objectOf(url);
    const client = await createS3Client(s3EndpointFrom(options.s3Endpoint), url, bucket, { maxAttempts: DEFAULT_RETRY.attempts });
    return new S3Output(url, bucket, key, client, options);
  },

  async open(url, options) {
    objectOf(url);
    const source = new S3Source(url, options.s3Endpoint ? { s3Endpoint: options.s3Endpoint } : {});
    try {
      const stream = await source.open('');
      stream.once('close', () => void source.close());
      return stream;
    } catch (err) {
      await source.close();
      throw asSinkError(err);
    }
  },

  async exists(url, options) {
    const { bucket, key } = objectOf(url);
    const client = await createS3Client(s3EndpointFrom(options.s3Endpoint), url, bucket);
    try {
      await withRetry(() => client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
      return true;
    } catch (err) {
      if (httpStatus(err) === 404) return false;
      throw failure(err, url, bucket, 'looking it up', options);
    } finally {
      client.destroy();
    }
  },
};

class S3Output implements OutputObject {
  readonly url: string;
  readonly stream: PassThrough;
  /** What lib-storage reads; it ends only at commit, so the last part and the completion wait for it. */
  private readonly body = new PassThrough();
  private readonly upload: Upload;
  private readonly done: Promise<unknown>;
  private readonly marker = randomUUID();
  private state: 'open' | 'committing' | 'committed' | 'failed' | 'aborted' = 'open';
  private failure: Error | null = null;
  /** The call that makes the output visible has been made (it may fail). */
  private finalSent = false;
  /** That call failed without a clear refusal (a lost answer, a 5xx): it may have taken effect. */
  private maybeCommitted = false;

  constructor(
    url: string,
    private readonly bucket: string,
    private readonly key: string,
    private readonly client: S3Client,
    private readonly options: StorageOptions,
  ) {
    this.url = url;
    const stream = new PassThrough();
    this.stream = stream;
    stream.on('error', (err) => (this.failure ??= err));
    // The upload reports its failures through `done`; this keeps a destroyed body from throwing.
    this.body.on('error', () => undefined);
    stream.pipe(this.body, { end: false });
    this.upload = new Upload({
      client,
      params: { Bucket: bucket, Key: key, Body: this.body, Metadata: { [MARKER]: this.marker } },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      leavePartsOnError: false,
    });
    // Starts reading the body now: parts go up as they fill, while the caller writes.
    this.done = this.upload.done();
    this.done.catch((err: unknown) => {
      // A failed upload reads no more: stop the writer rather than let it wait on backpressure forever.
      if (this.state === 'open') stream.destroy(failure(err, url, bucket, 'uploading', options));
    });
  }

  async commit(): Promise<void> {
    if (this.state === 'committed') return;
    if (this.state !== 'open') throw new AuditReplayError('internal', `${this.url}: commit after ${this.state === 'aborted' ? 'abort' : 'a failed commit'}`);
    if (this.failure) throw failure(this.failure, this.url, this.bucket, 'uploading', this.options);
    if (!this.stream.writableEnded) throw new AuditReplayError('internal', `${this.url}: commit before its stream was ended`);
    this.state = 'committing';
    try {
      // Every byte has gone through the pipe into the body (the stream's readable side ended).
      await finished(this.stream);
      this.finalSent = true;
      this.body.end();
      await this.done;
      this.state = 'committed';
      this.client.destroy();
    } catch (err) {
      this.state = 'failed';
      this.maybeCommitted = this.finalSent && mayHaveTakenEffect(err);
      throw failure(this.failure ?? err, this.url, this.bucket, 'uploading', this.options);
    }
  }

  async abort(): Promise<void> {
    if (this.state === 'committed' || this.state === 'aborted') return;
    this.state = 'aborted';
    this.stream.unpipe(this.body);
    this.stream.destroy();
    // Rather than upload.abort(), which settles `done` at once while parts may still be
    // in flight: a body that fails makes the uploaders stop after their current part,
    // lib-storage abort the multipart upload, and only then settle `done`.
    this.body.destroy(new Error('output aborted'));
    const completed = await this.done.then(
      () => true,
      () => false,
    );
    try {
      const uploadId = this.upload.uploadId;
      // Again, even after lib-storage's own attempt: S3 asks for a repeat when parts were still
      // arriving, and an answer of NoSuchUpload means it is gone.
      if (!completed && uploadId) await this.abortMultipart(uploadId);
      // A commit that failed may still have completed on the server (its answer lost).
      if (completed || this.maybeCommitted) await this.deleteIfOurs();
    } finally {
      this.client.destroy();
    }
  }

  private async abortMultipart(uploadId: string): Promise<void> {
    try {
      await withRetry(() => this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, UploadId: uploadId })));
    } catch (err) {
      if (httpStatus(err) === 404 || (err as Error).name === 'NoSuchUpload') return;
      const cause = failure(err, this.url, this.bucket, 'aborting its multipart upload', this.options);
      throw new AuditReplayError(
        'sink-failed',
        `${cause.message}; its parts stay stored (and billed) until the upload is aborted, e.g. by a bucket lifecycle rule AbortIncompleteMultipartUpload`,
        { cause: err },
      );
    }
  }

  /** Deletes the object if this upload wrote it (its marker), leaving any other version alone. */
  private async deleteIfOurs(): Promise<void> {
    try {
      const head = await withRetry(() => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key })));
      if (head.Metadata?.[MARKER] !== this.marker) return;
      await withRetry(() => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key })));
    } catch (err) {
      if (httpStatus(err) === 404) return;
      throw failure(err, this.url, this.bucket, 'removing the object its failed commit may have written', this.options);
    }
  }
}

/** Bucket and key of `s3://bucket/key`; a URL naming a bucket or a folder (trailing '/') names no object. */
function objectOf(url: string): { bucket: string; key: string } {
  const { bucket, path } = parseS3Url(url);
  if (path === '' || path.endsWith('/')) {
    throw new AuditReplayError('usage', `'${url}' names no object: an output needs s3://bucket/key, with a key not ending in '/'`);
  }
  return { bucket, key: path };
}

/** The sink's error for a failed call; never includes a secret (only error names, statuses and S3's messages). */
function failure(err: unknown, url: string, bucket: string, doing: string, options: StorageOptions): AuditReplayError {
  if (err instanceof AuditReplayError) return err;
  const e = err as { name?: string; message?: string };
  const status = httpStatus(err);
  const name = e?.name ?? 'Error';
  const detail = `${name}${status ? ` (HTTP ${status})` : ''}${e?.message && e.message !== name ? `: ${e.message}` : ''}`;
  let endpoint: string | undefined;
  try {
    endpoint = s3EndpointFrom(options.s3Endpoint);
  } catch {
    endpoint = undefined;
  }
  const at = endpoint ? ` at ${endpointForMessages(endpoint)}` : '';
  if (name === 'CredentialsProviderError') {
    return new AuditReplayError(
      'sink-failed',
      `${url}: no AWS credentials could be loaded for bucket '${bucket}' from ${credentialSource()} (${e.message ?? name}); set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or a role`,
      { cause: err },
    );
  }
  if (status === 401 || status === 403 || AUTH_NAMES.has(name)) {
    return new AuditReplayError(
      'sink-failed',
      `${url}: access to bucket '${bucket}'${at} was refused while ${doing} (${detail}) using credentials from ${credentialSource()}; check the keys and that they may s3:PutObject (and s3:AbortMultipartUpload) there`,
      { cause: err },
    );
  }
  if (name === 'NoSuchBucket') return new AuditReplayError('sink-failed', `${url}: bucket '${bucket}' does not exist${at}`, { cause: err });
  const tries = isRetryable(err) ? ` after ${DEFAULT_RETRY.attempts} tries` : '';
  return new AuditReplayError('sink-failed', `${url}: ${doing} failed${tries}: ${detail}`, { cause: err });
}

