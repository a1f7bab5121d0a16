import { readFileSync } from 'node:fs';
import { link, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { AuditReplayError } from '../../../core/errors.js';

export interface LockFile {
  /** Removes the lock if it is still ours; safe to call twice. */
  release(): Promise<void>;
}

/** Who holds a lock: enough to tell a live holder from a dead one, even when a pid is reused (containers restart as pid 1). */
interface Holder {
  pid: number;
  /** The process's start time in clock ticks since boot (Linux), null elsewhere. */
  start: string | null;
  host: string;
}

/** Locks this process holds: a second open in the same process is as busy as one in another. */
const held = new Set<string>();
let seq = 0;

/**
 * Takes `path` as an exclusive lock holding our pid, start time and host name. A lock
 * left by a process that is gone (killed -9, or a pid now used by another process) is
 * taken over; one held by a live process, by this process, or by another host is
 * `target-busy`. `what` names the locked thing in messages.
 */
export async function acquireLockFile(path: string, what: string): Promise<LockFile> {
  if (held.has(path)) throw new AuditReplayError('target-busy', `${what} is already open in this process (lock ${path})`);
  const me: Holder = { pid: process.pid, start: startTime(process.pid), host: hostname() };
  const mine = JSON.stringify(me);
  // Written aside and linked into place, so a reader never sees a half-written lock.
  const temp = `${path}.${process.pid}.${++seq}.tmp`;
  await writeFile(temp, mine);
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await link(temp, path);
        held.add(path);
        return { release: () => release(path, mine) };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      if (held.has(path)) throw new AuditReplayError('target-busy', `${what} is already open in this process (lock ${path})`);
      const text = await readFile(path, 'utf8').catch(() => null);
      if (text === null) continue; // released meanwhile
      const holder = parseHolder(text);
      if (holder && holder.host !== me.host) {
        throw new AuditReplayError('target-busy', `${what} is locked by process ${holder.pid} on host ${holder.host} (lock ${path}; remove it if that process is gone)`);
      }
      if (holder && alive(holder)) throw new AuditReplayError('target-busy', `${what} is in use by process ${holder.pid} (lock ${path})`);
      // Stale: move it aside (atomic, so only one taker wins it), and put it back if it turns out to be a live lock taken meanwhile.
      const aside = `${path}.${process.pid}.${++seq}.stale`;
      try {
        await rename(path, aside);
      } catch {
        continue;
      }
      const moved = await readFile(aside, 'utf8').catch(() => '');
      if (moved !== text) {
        await link(aside, path).catch(() => {});
        await rm(aside, { force: true });
        throw new AuditReplayError('target-busy', `${what} was locked by another process just now (lock ${path})`);
      }
      await rm(aside, { force: true });
    }
    throw new AuditReplayError('target-busy', `${what}: could not take the lock ${path}`);
  } finally {
    await rm(temp, { force: true });
  }
}

async function release(path: string, mine: string): Promise<void> {
  if (!held.delete(path)) return;
  const text = await readFile(path, 'utf8').catch(() => null);
  if (text === mine) await rm(path, { force: true });
}

function parseHolder(text: string): Holder | null {
  try {
    const h = JSON.parse(text) as Partial<Holder> | null;
    if (typeof h?.pid === 'number' && typeof h.host === 'string') return { pid: h.pid, start: typeof h.start === 'string' ? h.start : null, host: h.host };
  } catch {
    // not JSON: an older lock holding only a pid
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? { pid, start: null, host: hostname() } : null;
}

/** The start time field of /proc/PID/stat: with the pid, it names one process for the life of the machine. */
function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces; start time is field 22, the 20th after it.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function alive(holder: Holder): boolean {
  // Our own pid but not in `held`: a previous incarnation (a restarted container) that is gone.
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (holder.start === null) return true;
  const now = startTime(holder.pid);
  return now === null || now === holder.start;
}
