import { BlobServiceClient } from '@azure/storage-blob';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startAzurite, type Azurite } from '../helpers/azure-azurite.js';
import { startFakeGcs, type FakeGcs } from '../helpers/gcs-fake-server.js';
import { ensurePostgres, startPostgres, type PostgresCluster } from '../helpers/postgres-server.js';
import { isolateAwsEnv, startS3, type TestS3 } from '../helpers/s3-server.js';
import { sinkContract, type SinkHarness } from './sink-contract.js';

/**
 * The sink contract over every format and every location: local files in each format,
 * S3 (s3rver), Azure Blob (Azurite) and GCS (a fake of its JSON API, named as such:
 * no GCS emulator installs here) each with two formats, and a PostgreSQL 15 table.
 */

const BUCKET = 'sink-contract';
const CONTAINER = 'sink-contract';
let work: string;
let s3: TestS3;
let azurite: Azurite;
let gcs: FakeGcs;
let pg: PostgresCluster;
let restoreAwsEnv: () => void;
let savedAzure: string | undefined;
let seq = 0;

beforeAll(async () => {
  ensurePostgres([]);
  work = await mkdtemp(join(tmpdir(), 'auditreplay-sinks-'));
  restoreAwsEnv = isolateAwsEnv();
  [s3, azurite, gcs, pg] = await Promise.all([startS3([BUCKET], { directory: join(work, 's3') }), startAzurite(), startFakeGcs(), startPostgres()]);
  savedAzure = process.env.AZURE_STORAGE_CONNECTION_STRING;
  process.env.AZURE_STORAGE_CONNECTION_STRING = azurite.connectionString();
  await BlobServiceClient.fromConnectionString(azurite.connectionString()).getContainerClient(CONTAINER).create();
  gcs.createBucket(BUCKET);
}, 600_000);

afterAll(async () => {
  restoreAwsEnv?.();
  if (savedAzure === undefined) Reflect.deleteProperty(process.env, 'AZURE_STORAGE_CONNECTION_STRING');
  else process.env.AZURE_STORAGE_CONNECTION_STRING = savedAzure;
  await Promise.allSettled([s3?.close(), azurite?.stop(), gcs?.close(), pg?.destroy()]);
  if (work) await rm(work, { recursive: true, force: true });
}, 120_000);

function localHarness(name: string): () => Promise<SinkHarness> {
  return async () => ({
    url: async () => {
      const dir = await mkdtemp(join(work, 'local-'));
      return join(dir, name);
    },
    // Only the output itself may be left in its folder: no temporary file.
    leftovers: async (url) => (await readdir(dirname(url))).filter((f) => f !== basename(url)),
  });
}

function objectHarness(scheme: string, name: string, options: () => SinkHarness['options']): () => Promise<SinkHarness> {
  return async () => ({ url: async () => `${scheme}${++seq}-${name}`, options: options() });
}

for (const name of ['results.jsonl', 'results.jsonl.gz', 'results.parquet', 'results.arrow', 'results.arrows']) {
  sinkContract(`local ${name}`, localHarness(name));
}
sinkContract('S3 parquet', objectHarness(`s3://${BUCKET}/out/`, 'r.parquet', () => ({ storage: { s3Endpoint: s3.endpoint } })));
sinkContract('S3 jsonl.gz', objectHarness(`s3://${BUCKET}/out/`, 'r.jsonl.gz', () => ({ storage: { s3Endpoint: s3.endpoint } })));
sinkContract('Azure Blob arrow', objectHarness(`az://${CONTAINER}/out/`, 'r.arrow', () => ({})));
sinkContract('Azure Blob jsonl', objectHarness(`az://${CONTAINER}/out/`, 'r.jsonl', () => ({})));
sinkContract('GCS (fake) arrows', objectHarness(`gs://${BUCKET}/out/`, 'r.arrows', () => ({ storage: { gcsEndpoint: gcs.url } })));
sinkContract('GCS (fake) parquet', objectHarness(`gs://${BUCKET}/out/`, 'r.parquet', () => ({ storage: { gcsEndpoint: gcs.url } })));
sinkContract('PostgreSQL table', async () => {
  const run = `run-${++seq}`;
  return { url: async () => `${pg.url('postgres')}?table=contract.results&run=${run}`, options: { runId: run } };
});
