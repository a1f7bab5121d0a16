import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageFor } from '../../src/sinks/storage/storage-registry.js';
import { ROOT } from '../helpers/run-cli.js';
import { isolateAwsEnv, startS3, testAwsEnv, type TestS3 } from '../helpers/s3-server.js';

/**
 * A writer killed midway (SIGKILL: no cleanup runs) leaves nothing under the final name:
 * a local file is only a hidden temporary file, an S3 upload is never completed.
 */

const BUCKET = 'killed';
let work: string;
let s3: TestS3;
let restoreAwsEnv: () => void;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'auditreplay-sink-kill-'));
  restoreAwsEnv = isolateAwsEnv();
  s3 = await startS3([BUCKET], { directory: join(work, 's3') });
}, 120_000);

afterAll(async () => {
  restoreAwsEnv?.();
  await s3?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Starts writing millions of ReplayResults to `out` and SIGKILLs the writer once `started()` holds. */
async function killMidway(out: string, env: NodeJS.ProcessEnv, started: () => Promise<boolean>): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'lib', 'sink-writer.ts'), '--out', out, '--rows', '20000000'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: 'ignore',
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal === 'SIGKILL' ? -9 : code)));
  const deadline = Date.now() + 60_000;
  while (!(await started())) {
    if (Date.now() > deadline) throw new Error(`the writer of ${out} never started writing`);
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  expect(await exited).toBe(-9);
}

describe('a sink whose writer is killed midway', () => {
  it('leaves no local file under the final name, only its hidden temporary file', async () => {
    const dir = await mkdtemp(join(work, 'local-'));
    const out = join(dir, 'results.parquet');
    await killMidway(out, {}, async () => (await readdir(dir)).some((f) => f.endsWith('.tmp')));
    expect(existsSync(out)).toBe(false);
    expect((await readdir(dir)).every((f) => f.startsWith('.') && f.endsWith('.tmp'))).toBe(true);
  }, 90_000);

  it('leaves no S3 object when the upload was never completed', async () => {
    const url = `s3://${BUCKET}/results.jsonl.gz`;
    const options = { s3Endpoint: s3.endpoint };
    // The writer has sent a part (or more) of its multipart upload once s3rver has seen an UploadPart.
    await killMidway(url, { ...testAwsEnv(), AWS_ENDPOINT_URL: s3.endpoint }, async () => s3.requests.some((r) => r.method === 'PUT' && /partNumber=/.test(r.url)));
    expect(await storageFor(url).exists(url, options)).toBe(false);
  }, 90_000);
});
