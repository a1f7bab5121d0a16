/**
 * Writes N synthetic ReplayResults through one sink and prints what it cost, as one JSON
 * line: {"rows", "seconds", "rowsPerSec", "peakRssBytes"}. Run once per sink by
 * bench/sinks.ts, in its own process so each sink's peak RSS is its own.
 *
 *   npx tsx bench/lib/sink-writer.ts --out /tmp/x.parquet [--rows 2000000] [--batch 1000]
 */
import type { ReplayResult } from '../../src/core/replay-result.js';
import { replayResultToJson } from '../../src/core/replay-result.js';
import { REPLAY_RESULT_SCHEMA } from '../../src/sinks/record-schema.js';
import { openSink } from '../../src/sinks/sink-registry.js';

const argv = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
};
const out = flag('out', '');
if (!out) throw new Error('--out is required');
const rows = Number(flag('rows', '2000000'));
const batchSize = Number(flag('batch', '1000'));

/** Results that look like a replay's: a few hundred fingerprints, 2% failures, realistic times. */
function result(i: number): ReplayResult {
  const failed = i % 50 === 0;
  const scheduledAt = 1795168800000 + i * 0.25;
  return {
    runId: '6c1f9a52-3d0e-4b7a-9f55-0a1b2c3d4e5f',
    originalId: `6afc2331.bd2c:${i}`,
    fingerprintId: ((i % 337) * 2654435761).toString(16).padStart(16, '0').slice(-16),
    kind: i % 10 === 0 ? 'session' : 'query',
    target: 'postgres://replay@secondary:5432/app',
    scheduledAt,
    startedAt: scheduledAt + (i % 7) * 0.013,
    durationMs: 0.2 + (i % 97) * 0.071,
    rows: failed ? null : i % 13,
    checksum: failed ? null : (i * 40503).toString(16).padStart(16, '0'),
    ok: !failed,
    sqlState: failed ? '42P01' : null,
    error: failed ? 'relation "app.recent_orders" does not exist' : null,
    originalDurationMs: i % 5 === 0 ? null : 0.3 + (i % 89) * 0.05,
    attempt: 1,
  };
}

const sink = await openSink<ReplayResult>(out, { schema: REPLAY_RESULT_SCHEMA, runId: 'bench', toJson: replayResultToJson });
const t0 = performance.now();
let peak = process.memoryUsage().rss;
try {
  for (let i = 0; i < rows; i += batchSize) {
    const batch: ReplayResult[] = [];
    for (let j = i; j < Math.min(rows, i + batchSize); j++) batch.push(result(j));
    await sink.write(batch);
    if ((i / batchSize) % 100 === 0) peak = Math.max(peak, process.memoryUsage().rss);
  }
  await sink.commit();
} catch (err) {
  await sink.abort();
  throw err;
}
const seconds = (performance.now() - t0) / 1000;
peak = Math.max(peak, process.resourceUsage().maxRSS * 1024);
console.log(JSON.stringify({ rows, seconds, rowsPerSec: rows / seconds, peakRssBytes: peak }));
