import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import crypto from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

/** s3rver's access key id; it does not check SigV4 signatures, so any secret is accepted with it. */
export const S3RVER_KEY_ID = 'S3RVER';
/** A fake secret, distinctive enough that finding it in any output means it leaked. */
export const S3_TEST_SECRET = 'fakeS3secret-Zq7wXk2LmP9vRt4Yb8Nc';

interface ListOptions {
  prefix?: string;
  delimiter?: string;
  maxKeys: number;
  startAfter?: string;
}
interface ListResult {
  objects: { key: string }[];
  commonPrefixes: string[];
  isTruncated: boolean;
}
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer: Server;
  store: { listObjects(bucket: string, options: ListOptions): Promise<ListResult> };
}
type S3rverClass = new (options: {
  port: number;
  address: string;
  silent: boolean;
  directory: string;
  configureBuckets: { name: string }[];
}) => S3rverInstance;

/** One request as s3rver received it. */
export interface S3Request {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

export interface TestS3 {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  /** Every request the server received, in order (headers included, to check Range and If-Match). */
  requests: S3Request[];
  /** A client for setting up objects (path-style, test credentials). */
  client: S3Client;
  put(bucket: string, key: string, body: Buffer | string | Readable, contentLength?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * s3rver seals its ListObjectsV2 continuation tokens with DES, which OpenSSL 3 (Node 17+)
 * only offers with --openssl-legacy-provider, so every truncated listing answers 500.
 * The token only has to come back unchanged, so in this process 'des' becomes a
 * pass-through "cipher"; every other algorithm is untouched.
 */
function letS3rverPage(): void {
  const c = crypto as unknown as { createCipheriv: typeof crypto.createCipheriv; createDecipheriv: typeof crypto.createDecipheriv; __s3rverDes?: true };
  if (c.__s3rverDes) return;
  const passThrough = { update: (data: Buffer | string) => Buffer.from(data), final: () => Buffer.alloc(0) };
  const { createCipheriv, createDecipheriv } = c;
  c.createCipheriv = ((algorithm: string, ...rest: unknown[]) =>
    algorithm === 'des' ? passThrough : (createCipheriv as (...a: unknown[]) => unknown)(algorithm, ...rest)) as typeof crypto.createCipheriv;
  c.createDecipheriv = ((algorithm: string, ...rest: unknown[]) =>
    algorithm === 'des' ? passThrough : (createDecipheriv as (...a: unknown[]) => unknown)(algorithm, ...rest)) as typeof crypto.createDecipheriv;
  c.__s3rverDes = true;
}

/**
 * s3rver 3.7.1 walks its folders for a delimited listing but skips every folder below a
 * common prefix before it has seen a key there, so a key two or more levels down yields
 * no common prefix at all: listing '' over `audit/ymd=2026-10-10/x.log` answers nothing,
 * where S3 answers `audit/`. This lists without the delimiter and folds the keys into
 * common prefixes the way s3rver itself does (same paging: keys count toward max-keys),
 * so only the pruning changes.
 */
function foldCommonPrefixes(store: S3rverInstance['store']): void {
  const list = store.listObjects.bind(store);
  store.listObjects = async (bucket, options) => {
    if (!options.delimiter) return list(bucket, options);
    const all = await list(bucket, { ...options, delimiter: undefined, maxKeys: Number.MAX_SAFE_INTEGER });
    const prefix = options.prefix ?? '';
    const commonPrefixes = new Set<string>();
    const objects: ListResult['objects'] = [];
    let isTruncated = false;
    for (const o of all.objects) {
      const at = o.key.slice(prefix.length).indexOf(options.delimiter);
      if (at !== -1) commonPrefixes.add(o.key.slice(0, prefix.length + at + 1));
      else if (objects.length < options.maxKeys) objects.push(o);
      else {
        isTruncated = true;
        break;
      }
    }
    return { objects, commonPrefixes: [...commonPrefixes].sort(), isTruncated };
  };
}

/**
 * Starts s3rver (the in-process S3 emulator) on a loopback port with its data in
 * `directory` (default: a new temp dir, removed on close) and these buckets.
 */
export async function startS3(buckets: string[], options: { directory?: string } = {}): Promise<TestS3> {
  // The SDK's warning about its own future Node support is noise in test and bench output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  letS3rverPage();
  const S3rver = createRequire(import.meta.url)('s3rver') as S3rverClass;
  const directory = options.directory ?? (await mkdtemp(join(tmpdir(), 'auditreplay-s3rver-')));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: buckets.map((name) => ({ name })) });
  foldCommonPrefixes(server.store);
  const { port } = await server.run();
  const requests: S3Request[] = [];
  server.httpServer.prependListener('request', (req) => requests.push({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers }));
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: S3RVER_KEY_ID, secretAccessKey: S3_TEST_SECRET },
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  return {
    endpoint,
    requests,
    client,
    async put(bucket, key, body, contentLength) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...(contentLength !== undefined ? { ContentLength: contentLength } : {}) }));
    },
    async close() {
      client.destroy();
      server.httpServer.closeAllConnections();
      await server.close();
      if (options.directory === undefined) await rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * Points the AWS SDK's default chain at the test server's credentials and nothing else
 * (no profile, no config files, no endpoint or region from the host). Returns the undo.
 */
export function isolateAwsEnv(overrides: Record<string, string | undefined> = {}): () => void {
  const names = [
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_PROFILE',
    'AWS_REGION',
    'AWS_DEFAULT_REGION',
    'AWS_ENDPOINT_URL',
    'AWS_ENDPOINT_URL_S3',
    'AWS_CONFIG_FILE',
    'AWS_SHARED_CREDENTIALS_FILE',
    'AWS_WEB_IDENTITY_TOKEN_FILE',
    'AWS_EC2_METADATA_DISABLED',
    ...Object.keys(overrides),
  ];
  const saved = new Map(names.map((n) => [n, process.env[n]]));
  const values = { ...testAwsEnv(), ...overrides };
  for (const n of names) {
    const v = values[n];
    if (v === undefined) Reflect.deleteProperty(process.env, n);
    else process.env[n] = v;
  }
  return () => {
    for (const [n, v] of saved) {
      if (v === undefined) Reflect.deleteProperty(process.env, n);
      else process.env[n] = v;
    }
  };
}

/** The environment a CLI child needs to reach the test server with the test credentials, isolated from the host's AWS setup. */
export function testAwsEnv(): Record<string, string | undefined> {
  return {
    AWS_ACCESS_KEY_ID: S3RVER_KEY_ID,
    AWS_SECRET_ACCESS_KEY: S3_TEST_SECRET,
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    AWS_REGION: undefined,
    AWS_DEFAULT_REGION: undefined,
    AWS_ENDPOINT_URL: undefined,
    AWS_ENDPOINT_URL_S3: undefined,
    AWS_CONFIG_FILE: '/nonexistent/auditreplay-test/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/auditreplay-test/aws-credentials',
    AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}
