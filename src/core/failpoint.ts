/**
 * Crash points for the kill -9 tests. `AUDITREPLAY_FAILPOINT=name[:n]` makes the process
 * SIGKILL itself the n-th time (default the first) it passes `failpoint(name)`: a real,
 * unclean death between two exact steps, which a timer-based kill cannot aim at.
 * Without the variable this is one comparison per call.
 */
const spec = process.env.AUDITREPLAY_FAILPOINT ?? '';
const [armedName, armedCount] = spec.split(':');
let remaining = Number(armedCount ?? '1') || 1;

export function failpoint(name: string): void {
  if (!spec || name !== armedName) return;
  if (--remaining > 0) return;
  process.stderr.write(`auditreplay: failpoint ${name} reached; killing the process (AUDITREPLAY_FAILPOINT)\n`);
  process.kill(process.pid, 'SIGKILL');
  // The signal lands as the syscall returns; never run another line of the caller meanwhile.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}
