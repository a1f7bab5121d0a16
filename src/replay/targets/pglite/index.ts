import type { TargetFactory } from '../../target.js';
import { PgliteTarget } from './pglite-target.js';

export const pgliteTargetFactory: TargetFactory = {
  accepts: (url) => /^pglite:\/\//i.test(url),
  create: async (url) => PgliteTarget.open(url),
};
