import { setMaxListeners } from 'node:events';
import { Command, CommanderError } from 'commander';
import { AuditReplayError, EXIT } from '../core/errors.js';
import { logger } from '../core/logger.js';
import { registerCompare } from './compare-command.js';
import { registerExtract } from './extract-command.js';
import { registerReplay } from './replay-command.js';
import { registerSync } from './sync-command.js';
import { registerVerify } from './verify-command.js';
import { applyConfig, parseWithoutRunning } from './config/apply-config.js';
import { registerConfig } from './config/config-command.js';
import { configurableCommands } from './config/config-keys.js';

/** Runs a command's action; the checks of `checkInvocation` skip it. */
export type Runner = (action: (signal: AbortSignal) => Promise<number>) => Promise<void>;

/** The auditreplay program with every command registered; `run` runs their actions. */
export function buildProgram(run: Runner, env: NodeJS.ProcessEnv = process.env): Command {
  const program = new Command('auditreplay')
    .description('Replays data-platform audit logs: extract statements, sync DDL/DCL to a secondary, replay and compare.')
    .exitOverride()
    .enablePositionalOptions()
    .addHelpText(
      'after',
      `
Examples:
  $ auditreplay extract --source samples/logs --from 2026-11-17 --to 2026-11-21 --out events.jsonl
  $ auditreplay extract --source /data/audit --from 24h --kind ddl,dcl --rejects rejects.jsonl
  $ auditreplay sync --config auditreplay.yaml
  $ auditreplay config print sync --config auditreplay.yaml

Every flag can also come from a config file (--config FILE or AUDITREPLAY_CONFIG) and from
AUDITREPLAY_<FLAG> environment variables; flags win over env, env over the file.

Exit codes: 0 ok, 1 failure (sync halted, verify found drift), 2 usage, 3 too many rejects, 4 credentials refused,
5 another sync holds the target, 6 compare's gate failed, 130 interrupted (SIGINT), 143 stopped by SIGTERM.`,
    )
    .showHelpAfterError('(add --help for usage and examples)');
  registerExtract(program, run);
  registerSync(program, run);
  registerVerify(program, run);
  registerReplay(program, run);
  registerCompare(program, run);
  for (const command of configurableCommands(program)) {
    command.option('--config <file>', 'read flags from a YAML or JSON file (default: AUDITREPLAY_CONFIG); flags > AUDITREPLAY_* env > file');
  }
  registerConfig(program, run, env, () => buildProgram(async () => {}, env));
  return program;
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let code: number = EXIT.ok;
  // SIGINT/SIGTERM stop the pipeline at the next batch: sync commits what it applied,
  // replay keeps its results, extract discards its partial output.
  const controller = new AbortController();
  // Every object read and statement in flight listens to this one signal: many listeners by design.
  setMaxListeners(0, controller.signal);
  let stoppedBy: NodeJS.Signals | null = null;
  const stop = (signal: NodeJS.Signals): void => {
    stoppedBy = signal;
    controller.abort(new AuditReplayError('aborted', `interrupted by ${signal}`));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const program = buildProgram(async (action) => {
    code = await action(controller.signal);
  }, env);

  try {
    applyConfig(program, argv, env);
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (controller.signal.aborted) code = reportError(controller.signal.reason);
    else if (err instanceof CommanderError) code = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    else code = reportError(err);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  // Kubernetes reads 143 as "stopped by SIGTERM"; the command already stopped gracefully.
  return code === EXIT.interrupted && stoppedBy === 'SIGTERM' ? EXIT.terminated : code;
}

/**
 * Parses a command line with the CLI's own parser, the config file and `env` applied,
 * without running it: what a Kubernetes Job's args are checked with. Throws a `usage`
 * error saying what is wrong; otherwise returns the command and its effective values.
 */
export async function checkInvocation(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ command: string; values: Record<string, unknown> }> {
  const applied = await parseWithoutRunning(buildProgram(async () => {}, env), argv, env);
  if (!applied) throw new AuditReplayError('usage', `no command in '${argv.join(' ')}'`);
  return { command: applied.command.name(), values: applied.command.opts() };
}

function reportError(err: unknown): number {
  const log = logger('cli');
  if (err instanceof AuditReplayError) {
    // A halted sync has printed its report already.
    if (err.code !== 'sync-halted') log.error({ code: err.code, ...(err.sqlState ? { sqlState: err.sqlState } : {}) }, `auditreplay: ${err.message}`);
    switch (err.code) {
      case 'usage':
      case 'bad-time':
        return EXIT.usage;
      case 'too-many-rejects':
        return EXIT.tooManyRejects;
      case 'source-auth':
      case 'target-auth':
        return EXIT.auth;
      case 'target-busy':
        return EXIT.busy;
      case 'aborted':
        return EXIT.interrupted;
      default:
        return EXIT.failure;
    }
  }
  if ((err as Error)?.name === 'AbortError') {
    log.warn('auditreplay: interrupted; outputs discarded');
    return EXIT.interrupted;
  }
  log.fatal({ err }, `auditreplay: unexpected error: ${(err as Error)?.message ?? String(err)}`);
  return EXIT.failure;
}
