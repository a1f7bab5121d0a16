/**
 * S3 ingest benchmark: `auditreplay extract` over `s3://` against the same extract over
 * the local folder holding the same objects, in the same run.
 *
 *   npx tsx bench/ingest-s3.ts [--events 2000000] [--seed 42] [--repeat 1] [--cli bin/auditreplay.js]
 *
 * The data set is the one bench/extract.ts uses (bench/data/okera-s<seed>-n<N>/, made
 * with samples/make-samples.ts and reused when present). It is uploaded once per run to
 * an s3rver started in this process on 127.0.0.1, and the CLI reads it through the S3
 * source with `--s3-endpoint`. Nothing is pinned to one core: s3rver runs in this process
 * and serves from the other one, as a remote store would serve from its own machines.
 * Reports PASS/MISS against the target (S3 at least 0.7x the local rate); only a broken
 * run exits non-zero.
 */
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, rmSync, statSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pLimit from 'p-limit';
import { dataSet, fmtInt, mb, pad, parseBenchArgs, ROOT, summaryLine, type DataSet } from './lib/okera-data.js';
import { startS3, testAwsEnv, type TestS3 } from '../test/helpers/s3-server.js';
import { reportResult } from './lib/bench-result.js';

/** The layout bench/extract.ts generates, so both benches share one cache. */
const TARGET_RATIO = 0.7;
const BUCKET = 'bench';

interface Summary {
  type?: string;
  objects?: number;
  records?: number;
  events?: number;
  bytesRead?: number;
  bytesDecoded?: number;
  elapsedMs?: number;
  peakRssBytes?: number;
  listCalls?: number;
  retries?: number;
  resumes?: number;
  rejected?: number;
  [key: string]: unknown;
}

interface CliRun {
  wallMs: number;
  exitCode: number | null;
  summary: Summary | null;
  stderrTail: string;
  /** Stderr lines that are neither progress nor summary JSON (warnings, errors), so none passes unseen. */
  notes: string[];
}

async function upload(s3: TestS3, set: DataSet, prefix: string): Promise<number> {
  const t0 = performance.now();
  const limit = pLimit(4);
  await Promise.all(
    set.files.map((f) => limit(() => s3.put(BUCKET, prefix + f, createReadStream(join(set.dir, f)), statSync(join(set.dir, f)).size))),
  );
  return performance.now() - t0;
}

/** Runs the CLI once with stdout on /dev/null; the last stderr line is its JSON summary. */
async function runCli(cli: string, source: string, set: DataSet, extraArgs: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  const args = [cli, 'extract', '--source', source, ...extraArgs, '--from', set.from, '--to', set.to, '--format', 'okera', '--out', '-'];
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let tail = '';
  let partial = '';
  const notes: string[] = [];
  child.stderr.on('data', (d: Buffer) => {
    tail = (tail + d.toString()).slice(-65_536);
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) if (l.trim() !== '' && !l.startsWith('{') && notes.length < 20) notes.push(l);
  });
  const exitCode = await new Promise<number | null>((res) => child.on('close', res));
  const wallMs = performance.now() - t0;
  const lines = tail.trimEnd().split('\n');
  const summary = summaryLine<Summary>(lines);
  return { wallMs, exitCode, summary, stderrTail: lines.slice(-8).join('\n'), notes };
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2), 'bench/ingest-s3.ts');
  console.log(`bench: ingest-s3, node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} CPU(s)`);
  console.log('bench: NOT pinned to one core: s3rver runs in this process and serves from the other core while the CLI runs');
  if (!existsSync(args.cli)) throw new Error(`CLI not found: ${args.cli}`);
  if (args.cli === join(ROOT, 'bin', 'auditreplay.js') && !existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
    throw new Error('dist/cli/main.js is missing: run `npm run build` first');
  }
  const set = await dataSet(args.events, args.seed);
  const directory = await mkdtemp(join(tmpdir(), 'auditreplay-bench-s3-'));
  const s3 = await startS3([BUCKET], { directory });
  const prefix = `${basename(set.dir)}/`;
  const url = `s3://${BUCKET}/${prefix}`;
  let broken = false;
  const rows: { label: string; run: CliRun }[] = [];
  try {
    const uploadMs = await upload(s3, set, prefix);
    console.log(`s3:    s3rver on ${s3.endpoint}; uploaded ${set.files.length} objects, ${mb(set.bytes)} MB, in ${(uploadMs / 1000).toFixed(1)} s to ${url}`);
    const runs: [string, () => Promise<CliRun>][] = [
      ['local', () => runCli(args.cli, set.dir, set, [], {})],
      ['s3', () => runCli(args.cli, url, set, ['--s3-endpoint', s3.endpoint], testAwsEnv())],
    ];
    // Rounds alternate local and S3, so a load change on a shared machine hits both alike.
    const best = new Map<string, CliRun>();
    for (let round = 0; round < args.repeat && !broken; round++) {
      for (const [label, run] of runs) {
        process.stdout.write(`run:   ${label.padEnd(6)} ${fmtInt(set.events)} events ... `);
        const r = await run();
        console.log(`${(r.wallMs / 1000).toFixed(2)} s, exit ${r.exitCode}`);
        for (const note of r.notes) console.log(`       stderr: ${note}`);
        const prev = best.get(label);
        if (r.exitCode !== 0 || r.summary === null) {
          broken = true;
          console.error(`error: ${label} run ${r.exitCode !== 0 ? `exited with ${r.exitCode}` : 'printed no JSON summary as its last stderr line'}:`);
          console.error(r.stderrTail.replace(/^/gm, '       '));
          best.set(label, r);
        } else if (prev === undefined || r.wallMs < prev.wallMs) best.set(label, r);
      }
    }
    for (const [label] of runs) {
      const r = best.get(label);
      if (r) rows.push({ label, run: r });
    }
  } finally {
    await s3.close();
    rmSync(directory, { recursive: true, force: true });
  }

  const widths = [6, 10, 8, 8, 10, 9, 9, 10, 6, 8, 8];
  console.log('');
  console.log(pad(['source', 'events', 'wall s', 'cli s', 'events/s', 'MB/s gz', 'MB/s raw', 'peak RSS', 'lists', 'retries', 'resumes'], widths));
  for (const { label, run } of rows) {
    const s = run.summary;
    if (run.exitCode !== 0 || s === null) {
      console.log(pad([label, fmtInt(set.events), 'failed'], widths.slice(0, 3)));
      continue;
    }
    const secs = run.wallMs / 1000;
    console.log(
      pad(
        [
          label,
          fmtInt(s.events ?? 0),
          secs.toFixed(2),
          s.elapsedMs !== undefined ? (s.elapsedMs / 1000).toFixed(2) : '-',
          fmtInt((s.events ?? 0) / secs),
          ((s.bytesRead ?? 0) / (1024 * 1024) / secs).toFixed(1),
          ((s.bytesDecoded ?? 0) / (1024 * 1024) / secs).toFixed(1),
          s.peakRssBytes !== undefined ? `${mb(s.peakRssBytes)} MB` : '-',
          String(s.listCalls ?? '-'),
          String(s.retries ?? '-'),
          String(s.resumes ?? '-'),
        ],
        widths,
      ),
    );
  }
  console.log('');
  console.log("wall s: process start to exit; cli s: the summary's elapsedMs; events/s and MB/s per wall second, MB/s gz from");
  console.log("bytesRead (compressed, as stored) and raw from bytesDecoded; peak RSS: the summary's peakRssBytes; lists, retries,");
  console.log('resumes: listCalls, retries and resumes from the summary. Events go to stdout, which is /dev/null.');

  const local = rows.find((r) => r.label === 'local');
  const remote = rows.find((r) => r.label === 's3');
  const ok = (r: typeof local): r is { label: string; run: CliRun } => r !== undefined && r.run.exitCode === 0 && r.run.summary !== null;
  console.log('');
  if (ok(local) && ok(remote)) {
    const ls = local.run.summary!;
    const rs = remote.run.summary!;
    for (const field of ['events', 'records', 'bytesRead', 'bytesDecoded', 'objects', 'listCalls'] as const) {
      if (ls[field] !== rs[field]) console.warn(`warn:  ${field} differs: local ${String(ls[field])}, s3 ${String(rs[field])}`);
    }
    if (rs.events !== set.events && rs.events !== set.parts) {
      console.warn(`warn:  s3 summary says ${rs.events} events; the generator made ${set.events} requests, ${set.parts} counting statement parts`);
    }
    const ratio = local.run.wallMs / remote.run.wallMs;
    console.log(
      `${ratio >= TARGET_RATIO ? 'PASS' : 'MISS'}  S3 reads at ${ratio.toFixed(2)}x the local rate: ${fmtInt((rs.events ?? 0) / (remote.run.wallMs / 1000))} vs ${fmtInt((ls.events ?? 0) / (local.run.wallMs / 1000))} events/s (target >= ${TARGET_RATIO}x)`,
    );
    reportResult({
      workload: `okera from s3:// (s3rver), ${fmtInt(set.events)} requests (gzip)`,
      peer: 'the same extract from the local folder',
      unit: 'events/s',
      rate: (rs.events ?? 0) / (remote.run.wallMs / 1000),
      peakRssBytes: rs.peakRssBytes ?? null,
      mbPerSec: (rs.bytesDecoded ?? 0) / (1024 * 1024) / (remote.run.wallMs / 1000),
      peerRate: (ls.events ?? 0) / (local.run.wallMs / 1000),
      peerPeakRssBytes: ls.peakRssBytes ?? null,
      ratio,
      note: `target: ratio >= ${TARGET_RATIO}`,
    });
  } else {
    console.log('n/a   S3/local ratio: a run did not complete');
    reportResult({
      workload: `okera from s3:// (s3rver), ${fmtInt(set.events)} requests (gzip)`,
      peer: 'the same extract from the local folder',
      unit: 'events/s',
      rate: null,
      peakRssBytes: null,
      note: 'failed: a run did not complete',
    });
  }
  process.exitCode = broken ? 1 : 0;
}

await main();
