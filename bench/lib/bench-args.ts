import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { ROOT } from './okera-data.js';

/**
 * Reads a benchmark's flags: `--<name> N` for each whole-number default given, and
 * `--cli PATH` (default bin/auditreplay.js); `--help` prints the usage and exits.
 */
export function parseNumericFlags<T extends Record<string, number>>(argv: string[], script: string, defaults: T): T & { cli: string } {
  const args: Record<string, number> = { ...defaults };
  let cli = join(ROOT, 'bin', 'auditreplay.js');
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    const name = flag.replace(/^--/, '');
    if (flag === '--cli' && value !== undefined) {
      cli = resolve(value);
      i++;
    } else if (flag === '--help' || flag === '-h') {
      console.log(`usage: npx tsx ${script} ${Object.keys(defaults).map((k) => `[--${k} N]`).join(' ')} [--cli PATH]`);
      process.exit(0);
    } else if (flag.startsWith('--') && name in defaults) {
      const n = Number(value);
      if (value === undefined || !Number.isInteger(n) || n < 1) throw new Error(`${flag} takes a positive whole number`);
      args[name] = n;
      i++;
    } else throw new Error(`unknown argument: ${flag}`);
  }
  return { ...(args as T), cli };
}

/** Whether a command is on PATH. */
export function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Whether taskset exists, so runs are pinned to CPU 0. */
export const PINNED = which('taskset');

/** The command pinned to CPU 0 with taskset when it exists, so tools compare on one core. */
export function pinned(cmd: string, args: string[]): [string, string[]] {
  return PINNED ? ['taskset', ['-c', '0', cmd, ...args]] : [cmd, args];
}
