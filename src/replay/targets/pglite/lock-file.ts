import { open, readFile, rm } from 'node:fs/promises';
import { AuditReplayError } from '../../../core/errors.js';

export interface LockFile {
  release(): Promise<void>;
}

/**
 * Takes `path` as an exclusive lock (created with O_EXCL, holding our pid). A lock left
 * by a process that is gone (killed -9) is taken over; one held by a live process is
 * `target-busy`.
 */
export async function acquireLockFile(path: string, what: string): Promise<LockFile> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      let released = false;
      return {
        release: async () => {
          if (released) return;
          released = true;
          await rm(path, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
        throw new AuditReplayError('target-busy', `${what} is in use by process ${pid} (lock ${path})`);
      }
      await rm(path, { force: true });
    }
  }
  throw new AuditReplayError('target-busy', `${what}: could not take the lock ${path}`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
