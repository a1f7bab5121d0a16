import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** One object as the fake holds it: the live generation only (a bucket without versioning). */
export interface FakeGcsObject {
  bucket: string;
  name: string;
  bytes: Buffer;
  generation: string;
  metageneration: number;
  contentType: string;
  contentEncoding: string | undefined;
  cacheControl: string | undefined;
  md5Hash: string;
  crc32c: string;
  created: string;
  /** Custom metadata (the resource's `metadata` map), as an upload set it. */
  metadata?: Record<string, string>;
}

/** A request the fake answered, for assertions on what the SDK sent. */
export interface FakeGcsRequest {
  method: string;
  /** The path as sent, still percent-encoded. */
  path: string;
  query: Record<string, string>;
  range: string | undefined;
  kind: 'list' | 'metadata' | 'media' | 'upload' | 'delete' | 'unsupported';
  status: number;
}

export interface FakeGcs {
  /** http://127.0.0.1:PORT, to pass as gcsEndpoint / STORAGE_EMULATOR_HOST. */
  url: string;
  requests: FakeGcsRequest[];
  createBucket(name: string): void;
  deleteBucket(name: string): void;
  /** Stores an object as a new generation (the tests' direct way in, next to the SDK's resumable upload). */
  putObject(
    bucket: string,
    name: string,
    bytes: Buffer | string,
    options?: { contentType?: string; contentEncoding?: string; cacheControl?: string; metadata?: Record<string, string> },
  ): FakeGcsObject;
  /** The live object, if any (a test's way to look without going through the API). */
  getObject(bucket: string, name: string): FakeGcsObject | undefined;
  /** Resumable upload sessions neither finalized nor cancelled, with the bytes each has received. */
  openUploads(): { bucket: string; name: string; received: number }[];
  close(): Promise<void>;
}

/**
 * A FAKE of the Google Cloud Storage JSON API, in memory on a loopback port, since no
 * GCS emulator installs here. It implements only what @google-cloud/storage calls for
 * auditreplay, after the API's documented behaviour:
 * - `GET /storage/v1/b/{bucket}/o`: objects.list with `prefix`, `delimiter`,
 *   `maxResults` (items plus prefixes per page, default and cap 1000), `pageToken`,
 *   `fields` (partial response); `items` and `prefixes` are left out when empty.
 * - `GET /storage/v1/b/{bucket}/o/{object}`: objects.get metadata, and with `alt=media`
 *   the bytes (also at `/download/storage/v1/...`, the mediaLink form): `Range` (206,
 *   416 past the end), `generation`, `ifGenerationMatch`/`ifGenerationNotMatch`/
 *   `ifMetagenerationMatch` (412/304), gzip-encoded objects served as stored when the
 *   request accepts gzip and decompressed (transcoded, Range ignored) when it does not,
 *   and the x-goog-* response headers.
 * - `DELETE /storage/v1/b/{bucket}/o/{object}`: objects.delete (204), with `ifGenerationMatch`.
 * - Resumable uploads: `POST /upload/storage/v1/b/{bucket}/o?uploadType=resumable&name=…`
 *   opens a session (JSON metadata body, `X-Upload-Content-Type`) and answers its URI in
 *   `Location`; `PUT` to that URI sends bytes with `Content-Range: bytes A-B/*` (a chunk:
 *   308 and `Range: bytes=0-N`), `bytes A-B/TOTAL` or `bytes A-*\/*` (the rest of the
 *   object: the object is created when the request ends, 200 and its resource),
 *   `bytes *\/*` (status: 308) or `bytes *\/TOTAL` (finalize); `DELETE` to it cancels the
 *   session (499, as the API answers), ending a PUT still in progress. Until finalized an
 *   upload is invisible: objects.get and list do not see it. `ifGenerationMatch` is
 *   checked when the object is created (412).
 * - Errors as Google's JSON error body `{"error":{"code","message","errors":[…]}}`.
 * Anything else answers 501, so an SDK call the fake does not know fails loudly.
 */
export async function startFakeGcs(): Promise<FakeGcs> {
  const buckets = new Map<string, Map<string, FakeGcsObject>>();
  const requests: FakeGcsRequest[] = [];
  const sessions = new Map<string, UploadSession>();
  let lastSession = 0;
  let lastGeneration = 0n;
  let base = '';

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(url.searchParams);
    const seen: FakeGcsRequest = { method: req.method ?? 'GET', path: url.pathname, query, range: req.headers.range, kind: 'unsupported', status: 0 };
    requests.push(seen);
    res.on('finish', () => (seen.status = res.statusCode));
    const upload = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname);
    if (upload) {
      seen.kind = 'upload';
      return handleUpload(req, res, decodeURIComponent(upload[1]!), url.searchParams);
    }
    req.resume();
    const m = /^\/(download\/)?storage\/v1\/b\/([^/]+)\/o(?:\/(.+))?$/.exec(url.pathname);
    if (req.method === 'DELETE' && m && m[1] === undefined && m[3] !== undefined) {
      seen.kind = 'delete';
      return deleteObject(res, decodeURIComponent(m[2]!), decodeURIComponent(m[3]), query);
    }
    if (req.method !== 'GET' || !m) {
      sendError(res, 501, `not implemented by the fake GCS server: ${req.method} ${url.pathname}`, 'notImplemented');
      return;
    }
    const download = m[1] !== undefined;
    const bucketName = decodeURIComponent(m[2]!);
    const objectName = m[3] === undefined ? undefined : decodeURIComponent(m[3]);
    const bucket = buckets.get(bucketName);
    if (objectName === undefined) {
      seen.kind = 'list';
      if (download) return sendError(res, 404, 'Not Found', 'notFound');
      if (!bucket) return sendError(res, 404, 'The specified bucket does not exist.', 'notFound');
      return listObjects(res, bucketName, bucket, url.searchParams);
    }
    const media = query.alt === 'media';
    seen.kind = media ? 'media' : 'metadata';
    if (download && !media) return sendError(res, 400, 'Invalid argument: alt=media is required here.', 'invalid');
    if (!bucket) return sendError(res, 404, 'The specified bucket does not exist.', 'notFound');
    const object = bucket.get(objectName);
    if (!object || (query.generation !== undefined && query.generation !== object.generation)) {
      return sendError(res, 404, `No such object: ${bucketName}/${objectName}`, 'notFound');
    }
    if (query.ifGenerationMatch !== undefined && query.ifGenerationMatch !== object.generation) return preconditionFailed(res);
    if (query.ifMetagenerationMatch !== undefined && query.ifMetagenerationMatch !== String(object.metageneration)) return preconditionFailed(res);
    if (query.ifGenerationNotMatch !== undefined && query.ifGenerationNotMatch === object.generation) {
      res.writeHead(304);
      res.end();
      return;
    }
    if (!media) return sendJson(res, 200, applyFields(objectResource(object), url.searchParams.get('fields')));
    return sendMedia(req, res, object);
  });

  function objectResource(o: FakeGcsObject): Record<string, unknown> {
    const b = encodeURIComponent(o.bucket);
    const n = encodeURIComponent(o.name);
    return {
      kind: 'storage#object',
      id: `${o.bucket}/${o.name}/${o.generation}`,
      selfLink: `${base}/storage/v1/b/${b}/o/${n}`,
      mediaLink: `${base}/download/storage/v1/b/${b}/o/${n}?generation=${o.generation}&alt=media`,
      name: o.name,
      bucket: o.bucket,
      generation: o.generation,
      metageneration: String(o.metageneration),
      contentType: o.contentType,
      storageClass: 'STANDARD',
      size: String(o.bytes.length),
      md5Hash: o.md5Hash,
      crc32c: o.crc32c,
      etag: etagOf(o),
      timeCreated: o.created,
      updated: o.created,
      timeStorageClassUpdated: o.created,
      ...(o.contentEncoding ? { contentEncoding: o.contentEncoding } : {}),
      ...(o.cacheControl ? { cacheControl: o.cacheControl } : {}),
      ...(o.metadata ? { metadata: o.metadata } : {}),
    };
  }

  function deleteObject(res: ServerResponse, bucketName: string, objectName: string, query: Record<string, string>): void {
    const bucket = buckets.get(bucketName);
    if (!bucket) return sendError(res, 404, 'The specified bucket does not exist.', 'notFound');
    const object = bucket.get(objectName);
    if (!object) return sendError(res, 404, `No such object: ${bucketName}/${objectName}`, 'notFound');
    if (query.ifGenerationMatch !== undefined && query.ifGenerationMatch !== object.generation) return preconditionFailed(res);
    bucket.delete(objectName);
    res.writeHead(204);
    res.end();
  }

  function handleUpload(req: IncomingMessage, res: ServerResponse, bucketName: string, params: URLSearchParams): void {
    const id = params.get('upload_id');
    if (req.method === 'POST' && id === null) return startSession(req, res, bucketName, params);
    const session = id === null ? undefined : sessions.get(id);
    if (req.method === 'PUT' && session) return putToSession(req, res, session);
    if (req.method === 'DELETE' && session) {
      req.resume();
      sessions.delete(session.id);
      // A PUT still sending learns of the cancel the way a client would: an answer, then the connection goes.
      if (session.active) {
        sendError(session.active, 499, 'The upload was cancelled.', 'clientClosedRequest');
        session.active = null;
      }
      return sendError(res, 499, 'The upload was cancelled.', 'clientClosedRequest');
    }
    req.resume();
    if (id !== null) return sendError(res, 404, 'No such upload session (finished, cancelled or never opened).', 'notFound');
    sendError(res, 501, `not implemented by the fake GCS server: ${req.method} upload (uploadType=${params.get('uploadType')})`, 'notImplemented');
  }

  function startSession(req: IncomingMessage, res: ServerResponse, bucketName: string, params: URLSearchParams): void {
    const body: Buffer[] = [];
    req.on('data', (chunk: Buffer) => body.push(chunk));
    req.on('end', () => {
      if (params.get('uploadType') !== 'resumable') {
        return sendError(res, 501, `not implemented by the fake GCS server: uploadType=${params.get('uploadType')}`, 'notImplemented');
      }
      if (!buckets.has(bucketName)) return sendError(res, 404, 'The specified bucket does not exist.', 'notFound');
      let resource: { name?: unknown; contentType?: unknown; metadata?: unknown } = {};
      const text = Buffer.concat(body).toString('utf8');
      if (text.trim() !== '') {
        try {
          resource = JSON.parse(text) as typeof resource;
        } catch {
          return sendError(res, 400, 'Invalid JSON in the object resource.', 'parseError');
        }
      }
      const name = params.get('name') ?? (typeof resource.name === 'string' ? resource.name : '');
      if (name === '') return sendError(res, 400, 'Required parameter: name', 'required');
      const header = req.headers['x-upload-content-type'];
      const contentType = typeof header === 'string' ? header : typeof resource.contentType === 'string' ? resource.contentType : 'application/octet-stream';
      const metadata =
        resource.metadata !== null && typeof resource.metadata === 'object'
          ? Object.fromEntries(Object.entries(resource.metadata as Record<string, unknown>).map(([k, v]) => [k, String(v)]))
          : undefined;
      const ifGenerationMatch = params.get('ifGenerationMatch') ?? undefined;
      const id = `fake-${++lastSession}-${Date.now().toString(36)}`;
      sessions.set(id, { id, bucket: bucketName, name, contentType, metadata, ifGenerationMatch, chunks: [], received: 0, active: null });
      const location = `${base}/upload/storage/v1/b/${encodeURIComponent(bucketName)}/o?uploadType=resumable&name=${encodeURIComponent(name)}&upload_id=${id}`;
      res.writeHead(200, { location, 'content-length': '0' });
      res.end();
    });
  }

  function putToSession(req: IncomingMessage, res: ServerResponse, session: UploadSession): void {
    const range = (req.headers['content-range'] ?? '').trim();
    // `bytes */*` or `bytes */TOTAL`: no data, a status query or the finalizing of what was sent.
    const query = /^bytes \*\/(\*|\d+)$/.exec(range);
    // `bytes A-B/*`, `bytes A-B/TOTAL` or `bytes A-*\/*`; no header at all sends the whole object.
    const data = range === '' ? ['', '0', '*', '*'] : /^bytes (\d+)-(\d+|\*)\/(\*|\d+)$/.exec(range);
    if (!query && !data) {
      req.resume();
      return sendError(res, 400, `Invalid Content-Range: ${range}`, 'invalid');
    }
    if (query) {
      req.resume();
      req.on('end', () => {
        if (query[1] === '*') return incomplete(res, session);
        if (Number(query[1]) !== session.received) return sendError(res, 400, `The upload has ${session.received} bytes, not ${query[1]}.`, 'invalid');
        finalize(res, session);
      });
      return;
    }
    const start = Number(data![1]);
    if (start > session.received) {
      req.resume();
      return sendError(res, 400, `Content-Range starts at ${start} but the session has ${session.received} bytes.`, 'invalid');
    }
    // Bytes the session already has (a resent chunk) are skipped, as the API does.
    let skip = session.received - start;
    session.active = res;
    req.on('data', (chunk: Buffer) => {
      if (session.active !== res) return;
      const fresh = skip >= chunk.length ? null : chunk.subarray(skip);
      skip = Math.max(0, skip - chunk.length);
      if (!fresh) return;
      session.chunks.push(fresh);
      session.received += fresh.length;
    });
    req.on('end', () => {
      if (session.active !== res) return;
      session.active = null;
      const total = data![3]!;
      if (total === '*') return data![2] === '*' ? finalize(res, session) : incomplete(res, session);
      if (Number(total) !== session.received) {
        return Number(total) > session.received ? incomplete(res, session) : sendError(res, 400, `The upload has ${session.received} bytes, more than ${total}.`, 'invalid');
      }
      finalize(res, session);
    });
    // A client that goes away mid-request leaves what arrived in the session, to be resumed or cancelled.
    req.on('close', () => {
      if (session.active === res) session.active = null;
    });
  }

  function incomplete(res: ServerResponse, session: UploadSession): void {
    res.writeHead(308, { 'content-length': '0', ...(session.received > 0 ? { range: `bytes=0-${session.received - 1}` } : {}) });
    res.end();
  }

  function finalize(res: ServerResponse, session: UploadSession): void {
    sessions.delete(session.id);
    const bucket = buckets.get(session.bucket);
    if (!bucket) return sendError(res, 404, 'The specified bucket does not exist.', 'notFound');
    const live = bucket.get(session.name);
    if (session.ifGenerationMatch !== undefined && session.ifGenerationMatch !== (live?.generation ?? '0')) return preconditionFailed(res);
    const object = store(session.bucket, session.name, Buffer.concat(session.chunks), {
      contentType: session.contentType,
      ...(session.metadata ? { metadata: session.metadata } : {}),
    });
    sendJson(res, 200, objectResource(object));
  }

  function store(
    bucket: string,
    name: string,
    bytes: Buffer | string,
    options: { contentType?: string; contentEncoding?: string; cacheControl?: string; metadata?: Record<string, string> } = {},
  ): FakeGcsObject {
    const b = buckets.get(bucket);
    if (!b) throw new Error(`fake GCS: no bucket ${bucket}`);
    const data = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
    // Real generations are microsecond timestamps, unique and increasing per object.
    const now = BigInt(Date.now()) * 1000n;
    lastGeneration = now > lastGeneration ? now : lastGeneration + 1n;
    const object: FakeGcsObject = {
      bucket,
      name,
      bytes: data,
      generation: String(lastGeneration),
      metageneration: 1,
      contentType: options.contentType ?? 'application/octet-stream',
      contentEncoding: options.contentEncoding,
      cacheControl: options.cacheControl,
      md5Hash: createHash('md5').update(data).digest('base64'),
      crc32c: crc32cBase64(data),
      created: new Date().toISOString(),
      ...(options.metadata ? { metadata: options.metadata } : {}),
    };
    b.set(name, object);
    return object;
  }

  function listObjects(res: ServerResponse, bucketName: string, bucket: Map<string, FakeGcsObject>, params: URLSearchParams): void {
    const prefix = params.get('prefix') ?? '';
    const delimiter = params.get('delimiter') ?? '';
    const maxParam = params.get('maxResults');
    const max = maxParam === null ? 1000 : Number(maxParam);
    if (!Number.isInteger(max) || max < 0) return sendError(res, 400, `Invalid value for maxResults: ${maxParam}`, 'invalid');
    const pageSize = Math.min(max === 0 ? 1000 : max, 1000);
    let after: string | null = null;
    const token = params.get('pageToken');
    if (token) {
      after = Buffer.from(token, 'base64url').toString('utf8');
      if (!after.startsWith(`${bucketName}\n`)) return sendError(res, 400, 'Invalid pageToken.', 'invalid');
      after = after.slice(bucketName.length + 1);
    }
    // Entries in the API's order (UTF-8 byte order of names); a prefix stands where its first name would.
    const entries: { key: string; object?: FakeGcsObject }[] = [];
    for (const name of [...bucket.keys()].filter((n) => n.startsWith(prefix)).sort(utf8Compare)) {
      const rest = name.slice(prefix.length);
      const cut = delimiter ? rest.indexOf(delimiter) : -1;
      if (cut >= 0) {
        const p = prefix + rest.slice(0, cut + delimiter.length);
        if (entries[entries.length - 1]?.key !== p) entries.push({ key: p });
      } else entries.push({ key: name, object: bucket.get(name)! });
    }
    const from = after === null ? 0 : entries.findIndex((e) => utf8Compare(e.key, after) > 0);
    const page = from < 0 ? [] : entries.slice(from, from + pageSize);
    const more = from >= 0 && from + pageSize < entries.length;
    const items = page.filter((e) => e.object).map((e) => objectResource(e.object!));
    const prefixes = page.filter((e) => !e.object).map((e) => e.key);
    const body: Record<string, unknown> = { kind: 'storage#objects' };
    if (more) body.nextPageToken = Buffer.from(`${bucketName}\n${page[page.length - 1]!.key}`).toString('base64url');
    if (prefixes.length > 0) body.prefixes = prefixes;
    if (items.length > 0) body.items = items;
    sendJson(res, 200, applyFields(body, params.get('fields')));
  }

  function sendMedia(req: IncomingMessage, res: ServerResponse, o: FakeGcsObject): void {
    const acceptsGzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const transcode = o.contentEncoding === 'gzip' && !acceptsGzip && !/no-transform/.test(o.cacheControl ?? '');
    const headers: Record<string, string> = {
      'content-type': o.contentType,
      etag: etagOf(o),
      'x-goog-generation': o.generation,
      'x-goog-metageneration': String(o.metageneration),
      'x-goog-stored-content-encoding': o.contentEncoding ?? 'identity',
      'x-goog-stored-content-length': String(o.bytes.length),
      'x-goog-hash': `crc32c=${o.crc32c},md5=${o.md5Hash}`,
      'x-goog-storage-class': 'STANDARD',
    };
    if (transcode) {
      // Decompressive transcoding: no Content-Length, no Content-Encoding, and Range is ignored.
      res.writeHead(200, { ...headers, 'x-guploader-response-body-transformations': 'gunzipped' });
      res.end(gunzipSync(o.bytes));
      return;
    }
    if (o.contentEncoding) headers['content-encoding'] = o.contentEncoding;
    const length = o.bytes.length;
    const range = parseRange(req.headers.range, length);
    if (range === 'unsatisfiable') return sendError(res, 416, 'Request range not satisfiable', 'requestedRangeNotSatisfiable');
    if (range === null) {
      res.writeHead(200, { ...headers, 'content-length': String(length) });
      res.end(o.bytes);
      return;
    }
    const [begin, end] = range;
    res.writeHead(206, { ...headers, 'content-length': String(end - begin + 1), 'content-range': `bytes ${begin}-${end}/${length}` });
    res.end(o.bytes.subarray(begin, end + 1));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: base,
    requests,
    createBucket(name) {
      if (!buckets.has(name)) buckets.set(name, new Map());
    },
    deleteBucket(name) {
      buckets.delete(name);
    },
    putObject(bucket, name, bytes, options = {}) {
      return store(bucket, name, bytes, options);
    },
    getObject(bucket, name) {
      return buckets.get(bucket)?.get(name);
    },
    openUploads() {
      return [...sessions.values()].map((u) => ({ bucket: u.bucket, name: u.name, received: u.received }));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A resumable upload in progress: what the session was opened with, and the bytes so far. */
interface UploadSession {
  id: string;
  bucket: string;
  name: string;
  contentType: string;
  metadata: Record<string, string> | undefined;
  ifGenerationMatch: string | undefined;
  chunks: Buffer[];
  received: number;
  /** The response of a PUT still receiving bytes, so a cancel can answer it. */
  active: ServerResponse | null;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

function sendError(res: ServerResponse, code: number, message: string, reason: string, more: Record<string, string> = {}): void {
  sendJson(res, code, { error: { code, message, errors: [{ message, domain: 'global', reason, ...more }] } });
}

function preconditionFailed(res: ServerResponse): void {
  sendError(res, 412, 'At least one of the pre-conditions you specified did not hold.', 'conditionNotMet', { locationType: 'header', location: 'If-Match' });
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n`; null for no or unparsable Range (served whole, as HTTP says). */
function parseRange(header: string | undefined, length: number): [number, number] | null | 'unsatisfiable' {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) return 'unsatisfiable';
    return [Math.max(0, length - n), length - 1];
  }
  const begin = Number(m[1]);
  if (begin >= length) return 'unsatisfiable';
  const end = m[2] === '' ? length - 1 : Math.min(Number(m[2]), length - 1);
  return end < begin ? null : [begin, end];
}

function utf8Compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The API's object ETag: base64 of the protobuf fields generation (1) and metageneration (2). */
function etagOf(o: FakeGcsObject): string {
  const varint = (v: bigint): number[] => {
    const out: number[] = [];
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v > 0n) byte |= 0x80;
      out.push(byte);
    } while (v > 0n);
    return out;
  };
  return Buffer.from([0x08, ...varint(BigInt(o.generation)), 0x10, ...varint(BigInt(o.metageneration))]).toString('base64');
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();

/** CRC32C (Castagnoli) as the API prints it: base64 of the big-endian 4 bytes. */
function crc32cBase64(data: Buffer): string {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = CRC32C_TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((crc ^ 0xffffffff) >>> 0);
  return out.toString('base64');
}

type FieldTree = Map<string, FieldTree | null>;

/**
 * The partial-response `fields` parameter: `a,b(c,d),e/f`. Keeps the named fields,
 * applying a sub-selection to each element of an array.
 */
function applyFields(value: Record<string, unknown>, fields: string | null): Record<string, unknown> {
  if (!fields) return value;
  return pick(value, parseFields(fields)) as Record<string, unknown>;
}

function parseFields(spec: string): FieldTree {
  let i = 0;
  const list = (): FieldTree => {
    const tree: FieldTree = new Map();
    for (;;) {
      const start = i;
      while (i < spec.length && !',()/'.includes(spec[i]!)) i++;
      const name = spec.slice(start, i).trim();
      let sub: FieldTree | null = null;
      if (spec[i] === '(') {
        i++;
        sub = list();
        i++; // ')'
      } else if (spec[i] === '/') {
        i++;
        const rest = list1();
        sub = rest;
      }
      const prev = tree.get(name);
      tree.set(name, prev && sub ? new Map([...prev, ...sub]) : prev === null || sub === null ? null : sub);
      if (spec[i] !== ',') return tree;
      i++;
    }
  };
  // After `a/`: exactly one field path, which may itself have a sub-selection.
  const list1 = (): FieldTree => {
    const start = i;
    while (i < spec.length && !',()/'.includes(spec[i]!)) i++;
    const name = spec.slice(start, i).trim();
    let sub: FieldTree | null = null;
    if (spec[i] === '(') {
      i++;
      sub = list();
      i++;
    } else if (spec[i] === '/') {
      i++;
      sub = list1();
    }
    return new Map([[name, sub]]);
  };
  return list();
}

function pick(value: unknown, tree: FieldTree): unknown {
  if (Array.isArray(value)) return value.map((v) => pick(v, tree));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [name, sub] of tree) {
    if (!(name in value)) continue;
    const v = (value as Record<string, unknown>)[name];
    out[name] = sub ? pick(v, sub) : v;
  }
  return out;
}
