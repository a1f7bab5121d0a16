import { spawnSync } from 'node:child_process';
import { aptInstall, debianPackageInstalled } from '../../test/helpers/postgres-server.js';

/** The log_time at the start of a csvlog line as ISO 8601, shifted by `shiftMs`. */
export function isoOf(line: string, shiftMs: number): string {
  const ms = Date.parse(line.slice(0, 23).replace(' ', 'T') + 'Z');
  if (Number.isNaN(ms)) throw new Error(`no log_time at the start of ${JSON.stringify(line.slice(0, 80))}`);
  return new Date(ms + shiftMs).toISOString();
}

/** A csvlog's first line and its last line that starts with a time (the window's ends). */
export function firstAndLastLine(file: string): [string, string] {
  const head = spawnSync('head', ['-n', '1', file]).stdout.toString().trim();
  const tail = spawnSync('sh', ['-c', `tail -n 200 '${file}' | grep -E '^[0-9]{4}-' | tail -n 1`]).stdout.toString().trim();
  return [head, tail];
}

/** Installs the Debian packages a benchmark needs when missing (as root), else says what to install. */
export function ensurePackages(packages: readonly string[]): void {
  const missing = packages.filter((p) => !debianPackageInstalled(p));
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`missing Debian packages: ${missing.join(' ')} (apt-get install -y ${missing.join(' ')}, as root)`);
  console.log(`setup: apt-get install -y ${missing.join(' ')}`);
  aptInstall(missing);
}

/**
 * Installs the peer tools' Debian packages when missing, as ensurePackages does, but a tool
 * that still cannot be had (no root, no network) is not an error: the bench measures
 * without it and says so. Returns why each missing package is missing, by package name.
 */
export function ensurePeerPackages(packages: readonly string[]): Map<string, string> {
  const missing = new Map<string, string>();
  for (const p of packages) {
    try {
      ensurePackages([p]);
    } catch (err) {
      missing.set(p, (err as Error).message.split('\n')[0] ?? String(err));
    }
    if (!missing.has(p) && !debianPackageInstalled(p)) missing.set(p, `${p} is not installed`);
  }
  for (const [p, why] of missing) console.log(`WARN  peer tool ${p} is missing (${why}): measuring without it`);
  return missing;
}
