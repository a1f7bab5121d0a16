/**
 * Compare benchmark: the comparison engine on N executions per side (500 fingerprints,
 * lognormal latencies, every id on both sides), in this process, at each size given;
 * prints rows/s (both sides together) and peak RSS. The engine spills both sides to hash
 * partitions on disk and joins one partition at a time, so memory should not grow with N.
 *
 *   npx tsx bench/compare.ts [--rows 1000000] [--big 10000000]   (--big 0 skips the large run)
 */
import { cpus } from 'node:os';
import { compareExecutions } from '../src/compare/compare-engine.js';
import type { Execution } from '../src/compare/compare-model.js';
import { mulberry32 } from '../src/core/random.js';
import { fmtInt, mb } from './lib/okera-data.js';
import { reportResult } from './lib/bench-result.js';

const argv = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const TARGET_ROWS_PER_SEC = 1_000_000;
const TARGET_RSS = 1024 * 1024 * 1024;

async function* side(rows: number, seed: number, factor: number): AsyncGenerator<Execution[]> {
  const random = mulberry32(seed);
  for (let i = 0; i < rows; i += 10_000) {
    const batch: Execution[] = [];
    for (let j = i; j < Math.min(rows, i + 10_000); j++) {
      const fp = j % 500;
      const z = Math.sqrt(-2 * Math.log(random() || 1e-12)) * Math.cos(2 * Math.PI * random());
      batch.push({
        originalId: `q${j}`,
        fingerprintId: `fp${fp}`,
        fingerprint: null,
        statement: null,
        durationMs: Math.exp((fp % 20) / 4 + 0.3 * z) * factor,
        ok: true,
        sqlState: null,
        rows: 1,
        checksum: 'c',
        attempt: 1,
      });
    }
    yield batch;
  }
}

async function measure(rows: number): Promise<void> {
  const t0 = performance.now();
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 200);
  try {
    const report = await compareExecutions(side(rows, 1, 1), side(rows, 2, 1.1), { baseline: 'generated', candidate: 'generated x1.1' });
    const seconds = (performance.now() - t0) / 1000;
    peak = Math.max(peak, process.memoryUsage().rss);
    const perSec = (2 * rows) / seconds;
    console.log(
      `rows:  ${fmtInt(rows)} per side: ${seconds.toFixed(1)} s, ${fmtInt(perSec)} rows/s (both sides), peak RSS ${mb(peak)} MB; ` +
        `${report.join.matched === rows ? 'all joined' : `JOINED ${report.join.matched}`}, geomean ${report.overall.geomeanRatio?.toFixed(3)}`,
    );
    console.log(`target >= ${fmtInt(TARGET_ROWS_PER_SEC)} rows/s: ${perSec >= TARGET_ROWS_PER_SEC ? 'PASS' : 'MISS'}; peak RSS <= 1 GB: ${peak <= TARGET_RSS ? 'PASS' : 'MISS'}`);
    reportResult({
      workload: `${fmtInt(rows)} executions per side (in memory)`,
      peer: 'none',
      unit: 'rows/s',
      rate: perSec,
      peakRssBytes: peak,
      note: `rows of both sides per second; targets: >= ${fmtInt(TARGET_ROWS_PER_SEC)} rows/s, peak RSS <= 1 GB`,
    });
  } finally {
    clearInterval(timer);
  }
}

console.log(`bench: compare engine, node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} CPU(s)`);
await measure(flag('rows', 1_000_000));
const big = flag('big', 10_000_000);
if (big > 0) await measure(big);
