/**
 * The driver's own ceiling for replay's workload: N pgbench-style SELECTs on C connections
 * through the PostgreSQL target's `execute` (node-postgres and the row handler replay
 * uses), with nothing of replay around them: no log reading, sessions, pacing or results.
 * What replay loses to this floor is its own cost; what the floor loses to pgbench is the
 * runtime's.
 *
 *   npx tsx bench/lib/driver-floor.ts --url postgres://postgres@127.0.0.1:5432/postgres [--queries 200000] [--connections 4]
 *
 * Prints one JSON line: {"queries", "connections", "seconds", "qps", "cpuUserMs", "cpuSystemMs"}.
 */
import { openTarget } from '../../src/replay/target-registry.js';

const argv = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
};
const url = flag('url', '');
if (!url) throw new Error('--url is required');
const queries = Number(flag('queries', '200000'));
const connections = Number(flag('connections', '4'));
const accounts = Number(flag('accounts', '1000000'));

const target = await openTarget(url);
try {
  const sessions = await Promise.all(Array.from({ length: connections }, () => target.connect()));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    sessions.map(async (s, k) => {
      for (let i = k; i < queries; i += connections) {
        await s.execute(`SELECT abalance FROM pgbench_accounts WHERE aid = ${((i * 7919) % accounts) + 1};`, { onRows: () => {} });
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  console.log(JSON.stringify({ queries, connections, seconds, qps: queries / seconds, cpuUserMs: cpu.user / 1000, cpuSystemMs: cpu.system / 1000 }));
} finally {
  await target.close();
}
