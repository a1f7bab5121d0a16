import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalSource } from '../../src/ingest/sources/local/local-source.js';
import { openSource } from '../../src/ingest/source-registry.js';
import { sourceContract } from './source-contract.js';

sourceContract('local folder', async (objects) => {
  const root = await mkdtemp(join(tmpdir(), 'auditreplay-src-'));
  for (const [key, bytes] of Object.entries(objects)) {
    await mkdir(dirname(join(root, key)), { recursive: true });
    await writeFile(join(root, key), bytes);
  }
  return { source: new LocalSource(root), cleanup: () => rm(root, { recursive: true, force: true }) };
});

describe('local source', () => {
  it('accepts a file:// URL and a single file as a one-object source', async () => {
    const root = await mkdtemp(join(tmpdir(), 'auditreplay-src-'));
    try {
      await writeFile(join(root, 'one.log'), 'x\n');
      const viaUrl = await openSource(`file://${root}`);
      expect((await viaUrl.listDir('')).objects.map((o) => o.key)).toEqual(['one.log']);
      const single = await openSource(join(root, 'one.log'));
      expect((await single.listDir('')).objects).toEqual([{ key: '', size: 2 }]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('names the source when the folder does not exist', async () => {
    await expect(new LocalSource('/nonexistent/auditreplay').listDir('')).rejects.toThrow(/\/nonexistent\/auditreplay: no such folder/);
  });

  it('refuses a URL scheme it has no source for', async () => {
    await expect(openSource('ftp://host/logs')).rejects.toThrow(/no source for 'ftp:\/\/' URLs/);
  });
});
