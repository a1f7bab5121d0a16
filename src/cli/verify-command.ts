import type { Command } from 'commander';

/** Registers `auditreplay verify` on the program. (Scaffold: being written.) */
export function registerVerify(_program: Command, _run: (action: (signal: AbortSignal) => Promise<number>) => Promise<void>): void {}
