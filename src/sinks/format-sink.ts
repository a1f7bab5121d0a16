import { AuditReplayError } from '../core/errors.js';
import type { EncoderOptions, RecordEncoder, RecordFormat } from './record-format.js';
import type { Row } from './record-schema.js';
import type { Sink } from './sink.js';
import type { OutputObject } from './storage.js';

/**
 * A file format written to a storage location: records go through the format's encoder
 * into the output object's stream, and the object becomes visible only on commit (the
 * encoder's footer first, then the rename or the upload's completion).
 */
export class FormatSink<T> implements Sink<T> {
  private readonly encoder: RecordEncoder;
  private done = false;

  constructor(
    format: RecordFormat,
    private readonly output: OutputObject,
    options: EncoderOptions,
  ) {
    this.encoder = format.encoder(output.stream, options);
  }

  get url(): string {
    return this.output.url;
  }

  async write(batch: readonly T[]): Promise<void> {
    if (this.done) throw new AuditReplayError('internal', `${this.url}: write after commit or abort`);
    try {
      await this.encoder.write(batch as readonly Row[]);
    } catch (err) {
      throw this.failed(err, 'write');
    }
  }

  async commit(): Promise<void> {
    if (this.done) return;
    this.done = true;
    try {
      await this.encoder.end();
      await this.output.commit();
    } catch (err) {
      await this.output.abort().catch(() => {});
      throw this.failed(err, 'finish');
    }
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.output.abort();
  }

  private failed(err: unknown, what: string): AuditReplayError {
    return err instanceof AuditReplayError ? err : new AuditReplayError('sink-failed', `cannot ${what} ${this.url}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
}
