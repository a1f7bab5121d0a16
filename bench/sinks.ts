/**
 * Sink benchmark: 2,000,000 ReplayResults written to each local sink (JSON lines, gzip
 * JSON lines, Parquet, Arrow IPC file and stream), each in a process of its own; prints
 * rows/s, bytes on disk and peak RSS, and reads every output back through the sink
 * registry (rows/s of reading, and that the count matches).
 *
 *   npx tsx bench/sinks.ts [--rows 2000000] [--cli unused]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPLAY_RESULT_SCHEMA } from '../src/sinks/record-schema.js';
import { readRecords } from '../src/sinks/sink-registry.js';
import { parseNumericFlags } from './lib/bench-args.js';
import { fmtInt, mb, pad, ROOT } from './lib/okera-data.js';
import { reportResult } from './lib/bench-result.js';

const SINKS = ['results.jsonl', 'results.jsonl.gz', 'results.parquet', 'results.arrow', 'results.arrows'];

function writeWith(out: string, rows: number): Promise<{ rows: number; seconds: number; rowsPerSec: number; peakRssBytes: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'lib', 'sink-writer.ts'), '--out', out, '--rows', String(rows)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`writing ${out} failed (${code}): ${stderr}`));
      resolve(JSON.parse(stdout.trim().split('\n').pop()!) as { rows: number; seconds: number; rowsPerSec: number; peakRssBytes: number });
    });
  });
}

async function main(): Promise<void> {
  const args = parseNumericFlags(process.argv.slice(2), 'bench/sinks.ts', { rows: 2_000_000 });
  console.log(`bench: sinks, node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} CPU(s), ${fmtInt(args.rows)} ReplayResults per sink`);
  const dir = await mkdtemp(join(tmpdir(), 'auditreplay-bench-sinks-'));
  const widths = [18, 12, 11, 10, 12, 11];
  const lines: string[] = [];
  /** The .jsonl sink's write rate: the baseline the other sinks' rows are relative to. */
  let baseline: number | null = null;
  let broken = false;
  try {
    for (const name of SINKS) {
      const out = join(dir, name);
      process.stdout.write(`run:   ${name.padEnd(18)} ... `);
      try {
        const w = await writeWith(out, args.rows);
        const bytes = (await stat(out)).size;
        const t0 = performance.now();
        let n = 0;
        for await (const batch of readRecords(out, REPLAY_RESULT_SCHEMA)) n += batch.length;
        const readSeconds = (performance.now() - t0) / 1000;
        if (n !== args.rows) throw new Error(`read back ${n} rows of ${args.rows}`);
        console.log(`${w.seconds.toFixed(1)} s`);
        lines.push(pad([name, fmtInt(w.rowsPerSec), `${mb(bytes)} MB`, `${(bytes / args.rows).toFixed(1)}`, `${mb(w.peakRssBytes)} MB`, fmtInt(n / readSeconds)], widths));
        if (name === 'results.jsonl') baseline = w.rowsPerSec;
        const isBaseline = name === 'results.jsonl';
        reportResult({
          workload: `write ${name.slice('results'.length)}, ${fmtInt(args.rows)} ReplayResults`,
          peer: isBaseline ? 'none (the baseline of the sink rows)' : '.jsonl write (baseline)',
          unit: 'rows/s',
          rate: w.rowsPerSec,
          peakRssBytes: w.peakRssBytes,
          mbPerSec: bytes / (1024 * 1024) / w.seconds,
          peerRate: isBaseline ? null : baseline,
          ratio: isBaseline || baseline === null ? null : w.rowsPerSec / baseline,
          note: `read back at ${fmtInt(n / readSeconds)} rows/s; ${(bytes / args.rows).toFixed(0)} bytes/row on disk; MB/s is bytes written`,
        });
      } catch (err) {
        broken = true;
        console.log(`broken: ${(err as Error).message}`);
        reportResult({ workload: `write ${name.slice('results'.length)}, ${fmtInt(args.rows)} ReplayResults`, peer: '-', unit: 'rows/s', rate: null, peakRssBytes: null, note: `failed: ${(err as Error).message.split('\n')[0]}` });
      }
      await rm(out, { force: true });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  console.log('');
  console.log(pad(['sink', 'write rows/s', 'on disk', 'bytes/row', 'peak RSS', 'read rows/s'], widths));
  for (const l of lines) console.log(l);
  console.log('');
  console.log('write rows/s: records made and written through openSink, commit included, in a process of its own (peak RSS is that process\'s);');
  console.log('read rows/s: the same file read back through readRecords in this process (what compare does).');
  if (broken) process.exit(1);
}

await main();
