import type { Command } from 'commander';

/** Registers `auditreplay sync` on the program. (Scaffold: being written.) */
export function registerSync(_program: Command, _run: (action: (signal: AbortSignal) => Promise<number>) => Promise<void>): void {}
