import type { StorageOptions } from '../storage.js';
import { storageFor } from './storage-registry.js';

/** Writes a small text output (a report, a summary) to a path or object URL, atomically. */
export async function writeTextObject(url: string, text: string, options: StorageOptions = {}): Promise<void> {
  const output = await storageFor(url).create(url, options);
  try {
    output.stream.end(text);
    await output.commit();
  } catch (err) {
    await output.abort();
    throw err;
  }
}
