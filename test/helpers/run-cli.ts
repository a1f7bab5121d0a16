import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The JSON summary line the CLI ends with when stderr is not a terminal. */
  summary: Record<string, unknown> | null;
}

/** Runs `bin/auditreplay.js` as a user would, from the project root. */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; onSpawn?: (pid: number) => void } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/auditreplay.js', ...args], { cwd: ROOT, env: { ...process.env, ...options.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    child.on('close', (code) => {
      const lines = stderr.trim().split('\n');
      let summary: Record<string, unknown> | null = null;
      try {
        const last = JSON.parse(lines[lines.length - 1] ?? '') as Record<string, unknown>;
        if (last.type === 'summary') summary = last;
      } catch {
        summary = null;
      }
      resolve({ code, stdout, stderr, summary });
    });
  });
}
