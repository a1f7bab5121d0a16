import { AuditReplayError } from '../core/errors.js';
import type { Target, TargetFactory, TargetOptions } from './target.js';
import { pgliteTargetFactory } from './targets/pglite/index.js';
import { postgresTargetFactory } from './targets/postgres/index.js';

const factories: TargetFactory[] = [postgresTargetFactory, pgliteTargetFactory];

/** Opens the target for a URL, chosen by scheme: `postgres://`/`postgresql://`, `pglite://DIR`, `pglite://memory`. */
export async function openTarget(url: string, options: TargetOptions = {}): Promise<Target> {
  const factory = factories.find((f) => f.accepts(url));
  if (!factory) {
    const scheme = /^([a-z][a-z0-9+.-]+):\/\//i.exec(url)?.[1];
    throw new AuditReplayError('usage', `no target for ${scheme ? `'${scheme}://' URLs` : `'${url}'`}: use postgres://user@host:port/db, pglite://DIR or pglite://memory`);
  }
  return factory.create(url, options);
}
