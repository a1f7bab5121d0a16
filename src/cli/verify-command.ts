import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { EXIT } from '../core/errors.js';
import { parseNameMap, type NameMaps } from '../replay/name-map.js';
import type { Target } from '../replay/target.js';
import { openTarget } from '../replay/target-registry.js';
import { formatDrift } from '../replay/verify/catalog-diff.js';
import { verifyCatalogs, type VerifyCounts } from '../replay/verify/verify-catalogs.js';
import { collect, list } from './flag-values.js';
import { addObservabilityFlags, Observability, type ObservabilityFlags } from './observability-flags.js';

export interface VerifyFlags extends Partial<ObservabilityFlags> {
  primary: string;
  secondary: string;
  schema?: string;
  database?: string;
  mapSchema?: string[];
  mapRole?: string[];
  mapDatabase?: string[];
  json?: boolean;
}

const EXAMPLES = `
Examples:
  # after a sync: are the secondary's schemas, grants and roles those of the primary?
  $ auditreplay verify --primary postgres://audit@prod:5432/appdb --secondary postgres://sync@standby:5432/appdb

  # two schemas only, the primary's 'sales' is 'sales_copy' on the secondary; JSON for a job
  $ auditreplay verify --primary postgres://prod/appdb --secondary pglite://./copy --database appdb \\
      --schema sales,ref --map-schema sales=sales_copy --json

Exit codes: 0 the catalogs agree, 1 drift (or a failure), 2 usage, 4 credentials refused.
`;

/** Registers `auditreplay verify` on the program. */
export function registerVerify(program: Command, run: (action: (signal: AbortSignal) => Promise<number>) => Promise<void>): void {
  const command = program
    .command('verify')
    .description('Compare the catalogs of the primary and the secondary (schemas, tables, columns, indexes, grants, roles) and report drift.');
  addObservabilityFlags(command)
    .requiredOption('--primary <url>', 'the primary: postgres://user@host:port/db, pglite://DIR or pglite://memory')
    .requiredOption('--secondary <url>', 'the secondary, same forms')
    .option('--schema <schemas>', "compare only these schemas (the primary's names), comma-separated; default all but system schemas")
    .option('--database <dbs>', "compare only these databases (the primary's names), comma-separated; default every connectable database of the primary")
    .option('--map-schema <from=to>', "a primary schema's name on the secondary; repeatable or comma-separated", collect)
    .option('--map-role <from=to>', "a primary role's name on the secondary; repeatable or comma-separated", collect)
    .option('--map-database <from=to>', "a primary database's name on the secondary; repeatable or comma-separated", collect)
    .option('--json', 'print one JSON document on stdout instead of text')
    .addHelpText('after', EXAMPLES)
    .action((flags: VerifyFlags) => run((signal) => runVerify(flags, signal)));
}

/**
 * Runs verify with parsed flags; returns 0 when the catalogs agree and 1 on drift. Its
 * result goes to stdout; stderr stays empty unless something goes wrong, and the summary
 * goes only to `--metrics-file`.
 */
export async function runVerify(flags: VerifyFlags, signal?: AbortSignal): Promise<number> {
  const maps: NameMaps = {
    schema: parseNameMap(flags.mapSchema, '--map-schema'),
    role: parseNameMap(flags.mapRole, '--map-role'),
    database: parseNameMap(flags.mapDatabase, '--map-database'),
  };
  const runId = randomUUID();
  const obs = await Observability.start({ logFormat: flags.logFormat ?? 'json', logLevel: flags.logLevel ?? 'info', ...(flags.metricsFile ? { metricsFile: flags.metricsFile } : {}) }, { command: 'verify', runId });
  const started = Date.now();
  const targets: Target[] = [];
  try {
    const primary = await openTarget(flags.primary, { applicationName: 'auditreplay verify' });
    targets.push(primary);
    const secondary = await openTarget(flags.secondary, { applicationName: 'auditreplay verify' });
    targets.push(secondary);
    const databases = list(flags.database);
    const schemas = list(flags.schema);
    const result = await verifyCatalogs(primary, secondary, {
      ...(databases ? { databases } : {}),
      ...(schemas ? { schemas } : {}),
      maps,
      ...(signal ? { signal } : {}),
    });
    if (flags.json) {
      const doc = { primary: primary.url, secondary: secondary.url, ...result };
      process.stdout.write(`${JSON.stringify(doc)}\n`);
    } else if (result.equal) {
      process.stdout.write(`no drift: ${describeCounts(result.counts)} compared (${primary.url} vs ${secondary.url})\n`);
    } else {
      process.stdout.write(`drift: ${result.drift.length} difference${result.drift.length === 1 ? '' : 's'} between ${primary.url} (primary) and ${secondary.url} (secondary)\n`);
      process.stdout.write(formatDrift(result.drift));
    }
    const summary = {
      type: 'summary' as const,
      command: 'verify',
      runId,
      primary: primary.url,
      secondary: secondary.url,
      equal: result.equal,
      drift: result.drift.length,
      counts: result.counts,
      elapsedMs: Date.now() - started,
    };
    // Debug: verify's answer is on stdout, and a clean run keeps stderr empty.
    if (flags.metricsFile) await obs.summaryFile(summary);
    obs.log.debug(summary, `verify: ${result.equal ? 'no drift' : `${result.drift.length} differences`}`);
    return result.equal ? EXIT.ok : EXIT.failure;
  } finally {
    await obs.close();
    // Sequentially: two PGlite targets in one process share nothing, but closing one at a time keeps errors readable.
    for (const t of targets) await t.close().catch(() => {});
  }
}

function describeCounts(counts: VerifyCounts): string {
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([what, n]) => `${n} ${n === 1 ? singular(what) : what}`)
    .join(', ');
}

function singular(word: string): string {
  return word === 'indexes' ? 'index' : word.replace(/s$/, '');
}
