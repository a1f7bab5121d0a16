/**
 * Where records go. A sink's output appears complete or not at all: nothing is visible
 * under the final name until `commit`, and `abort` removes what was written.
 */
export interface Sink<T> {
  /** Safe-to-print description of the destination. */
  readonly url: string;
  /** Writes a batch; resolves when the sink can take more (backpressure). */
  write(batch: readonly T[]): Promise<void>;
  /** Makes the output visible under its final name. */
  commit(): Promise<void>;
  /** Discards the output; safe to call after a failure, and after commit (then it does nothing). */
  abort(): Promise<void>;
}

export interface SinkFactory {
  /** True when this factory handles the URL (by scheme or extension). */
  accepts(url: string): boolean;
  create<T>(url: string, options: SinkOptions<T>): Promise<Sink<T>>;
}

export interface SinkOptions<T> {
  /** A faster text form for row formats; JSON.stringify when absent. */
  toJson?: (record: T) => string;
}
