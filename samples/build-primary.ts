/**
 * Builds the primary of the samples as an embedded PGlite database: the PostgreSQL
 * sample's schema plan (the DDL/DCL history the generator wrote into the logs), its
 * successful statements run in order, one phase per session, the way the primary ran them.
 * It reads the generator's plan, not the logs, so `verify` against what `sync` made from
 * the logs compares two independent paths.
 *
 *   npx tsx samples/build-primary.ts [DIR]     (default .demo/primary; replaced if present)
 */
import { PGlite } from '@electric-sql/pglite';
import { mkdir, rm } from 'node:fs/promises';
import { PLAN } from './gen/pg-statements.js';

const dir = process.argv[2] ?? '.demo/primary';
await rm(dir, { recursive: true, force: true });
await rm(`${dir}.lock`, { force: true });
await mkdir(dir, { recursive: true });
const db = await PGlite.create({ dataDir: dir });
let applied = 0;
try {
  for (const phase of PLAN) {
    await db.exec('RESET search_path');
    for (const st of phase.statements) {
      if (st.fail || !['ddl', 'dcl', 'session'].includes(st.kind)) continue;
      await db.exec(st.sql);
      applied++;
    }
  }
} finally {
  await db.close();
}
process.stderr.write(`build-primary: ${applied} statements of the samples' schema plan applied to pglite://${dir}\n`);
