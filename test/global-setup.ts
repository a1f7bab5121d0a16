import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { aptInstall, debianPackageInstalled } from './helpers/postgres-server.js';

/** Debian packages the tests use: PostgreSQL 15 with pgAudit, and chromium for the HTML report. */
const PACKAGES = ['postgresql-15', 'postgresql-15-pgaudit', 'chromium'];

/**
 * Installs the Debian packages the tests need, when missing (as root), and builds dist/
 * once: the CLI tests run the real `bin/auditreplay.js`, so a plain `vitest run` never
 * tests a stale build.
 */
export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  // Installed here, once, before the test files run two at a time: two apt-get runs at once fail on dpkg's lock.
  const missing = PACKAGES.filter((p) => !debianPackageInstalled(p));
  if (missing.length > 0 && process.getuid?.() === 0) aptInstall(missing);
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
}
