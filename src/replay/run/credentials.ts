import { readFileSync, statSync } from 'node:fs';
import { AuditReplayError } from '../../core/errors.js';

/**
 * Passwords of the original users, for replaying each session as its own user. The
 * file is a JSON object from user name to a password or a reference to one:
 * `"env:NAME"` (an environment variable, e.g. one a Kubernetes Secret fills) or
 * `"file:/path"` (a mounted secret file; its trailing newline is dropped). References
 * are resolved when first needed and never printed.
 */
export class Credentials {
  private readonly resolved = new Map<string, string>();

  private constructor(
    private readonly path: string,
    private readonly entries: ReadonlyMap<string, string>,
  ) {}

  /** Reads a credentials file; a malformed one is a usage error that names the file, never a value. */
  static load(path: string, warn: (line: string) => void = () => {}): Credentials {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
      if ((statSync(path).mode & 0o077) !== 0) warn(`replay: ${path} can be read by other users; chmod 600 it`);
    } catch (err) {
      throw new AuditReplayError('usage', `--credentials: cannot read ${path}: ${(err as Error).message}`, { cause: err });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new AuditReplayError('usage', `--credentials: ${path} is not JSON: expected {"user": "password" | "env:NAME" | "file:/path", ...}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new AuditReplayError('usage', `--credentials: ${path} must hold one JSON object from user name to password`);
    }
    const entries = new Map<string, string>();
    for (const [user, value] of Object.entries(parsed as Record<string, unknown>)) {
      if (typeof value !== 'string') throw new AuditReplayError('usage', `--credentials: the entry for '${user}' in ${path} is not a string`);
      entries.set(user, value);
    }
    return new Credentials(path, entries);
  }

  /** The user's password, or undefined when the file has no entry (the target's own rules apply: password file, trust). */
  passwordOf(user: string): string | undefined {
    const cached = this.resolved.get(user);
    if (cached !== undefined) return cached;
    const value = this.entries.get(user);
    if (value === undefined) return undefined;
    let password = value;
    if (value.startsWith('env:')) {
      const name = value.slice(4);
      const v = process.env[name];
      if (v === undefined) throw new AuditReplayError('target-auth', `--credentials: the password of '${user}' is in environment variable ${name}, which is not set`);
      password = v;
    } else if (value.startsWith('file:')) {
      const file = value.slice(5);
      try {
        password = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
      } catch (err) {
        throw new AuditReplayError('target-auth', `--credentials: cannot read the password file of '${user}' (${file}): ${(err as Error).message}`);
      }
    }
    this.resolved.set(user, password);
    return password;
  }

  /** How many users the file names (for the run's log line). */
  get size(): number {
    return this.entries.size;
  }

  toString(): string {
    return `credentials from ${this.path} (${this.entries.size} users)`;
  }
}
