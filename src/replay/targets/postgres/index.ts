import type { TargetFactory } from '../../target.js';
import { PostgresTarget } from './postgres-target.js';

export const postgresTargetFactory: TargetFactory = {
  accepts: (url) => /^postgres(ql)?:\/\//i.test(url),
  create: async (url, options) => new PostgresTarget(url, options),
};
