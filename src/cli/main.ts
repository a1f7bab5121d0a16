import { setMaxListeners } from 'node:events';
import { Command, CommanderError } from 'commander';
import { AuditReplayError, EXIT } from '../core/errors.js';
import { registerCompare } from './compare-command.js';
import { registerExtract } from './extract-command.js';
import { registerReplay } from './replay-command.js';
import { registerSync } from './sync-command.js';
import { registerVerify } from './verify-command.js';

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command('auditreplay')
    .description('Replays data-platform audit logs: extract statements, sync DDL/DCL to a secondary, replay and compare.')
    .exitOverride()
    .addHelpText(
      'after',
      `
Examples:
  $ auditreplay extract --source samples/logs --from 2026-11-17 --to 2026-11-21 --out events.jsonl
  $ auditreplay extract --source /data/audit --from 24h --kind ddl,dcl --rejects rejects.jsonl

Exit codes: 0 ok, 1 failure (sync halted, verify found drift), 2 usage, 3 too many rejects, 4 credentials refused,
5 another sync holds the target, 6 compare's gate failed, 130 interrupted.`,
    )
    .showHelpAfterError('(add --help for usage and examples)');

  // SIGINT/SIGTERM stop the pipeline at the next batch; sinks then discard their partial output.
  const controller = new AbortController();
  // Every object read and statement in flight listens to this one signal: many listeners by design.
  setMaxListeners(0, controller.signal);
  const stop = (): void => controller.abort(new AuditReplayError('aborted', 'interrupted; outputs discarded'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const run = async (action: (signal: AbortSignal) => Promise<number>): Promise<void> => {
    code = await action(controller.signal);
  };
  registerExtract(program, run);
  registerSync(program, run);
  registerVerify(program, run);
  registerReplay(program, run);
  registerCompare(program, run);

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (controller.signal.aborted) return reportError(controller.signal.reason);
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    return reportError(err);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  return code;
}

function reportError(err: unknown): number {
  if (err instanceof AuditReplayError) {
    // A halted sync has printed its report already.
    if (err.code !== 'sync-halted') process.stderr.write(`auditreplay: ${err.message}\n`);
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
    process.stderr.write('auditreplay: interrupted; outputs discarded\n');
    return EXIT.interrupted;
  }
  process.stderr.write(`auditreplay: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
  return EXIT.failure;
}
