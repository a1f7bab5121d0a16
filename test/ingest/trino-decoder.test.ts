import { describe, expect, it } from 'vitest';
import { DECODERS } from '../../src/ingest/decoder-registry.js';
import { parseInstant, parseIsoTime } from '../../src/ingest/decoders/trino/iso-time.js';
import { trinoDecoder } from '../../src/ingest/decoders/trino/trino-decoder.js';
import { parseTrinoDuration } from '../../src/ingest/decoders/trino/trino-duration.js';
import { fixture, trinoEvent } from '../formats/trino/contract.js';
import { okeraLine, pgJsonLine } from '../helpers/temp-tree.js';
import { decodeLines } from './decoder-contract.js';

const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);

describe('Trino QueryCompletedEvent decoder', () => {
  it('maps a finished query: id, create to end times, user, catalog.schema, client and statistics', () => {
    const { events, rejects } = decodeLines(trinoDecoder, [JSON.stringify(trinoEvent({ catalog: 'iceberg', schema: 'web', queryType: 'SELECT' }))]);
    expect(rejects).toEqual([]);
    expect(events).toEqual([
      {
        id: '20261120_100000_00001_abcde',
        ts: T0,
        end: T0 + 1250,
        durationMs: 1250,
        user: 'alice',
        database: 'iceberg.web',
        session: null,
        client: 'trino-cli',
        statement: 'SELECT count(*) FROM orders',
        ok: true,
        error: null,
        source: { format: 'trino', object: 'mem://ymd=2026-11-20/a.log', line: 1 },
        extra: {
          queryState: 'FINISHED',
          queryType: 'SELECT',
          remoteClientAddress: '10.0.0.7',
          userAgent: 'StatementClientV1/435',
          executionStart: T0 + 3,
          wallTimeMs: 1250,
          cpuTimeMs: 812,
          queuedTimeMs: 3,
        },
      },
    ]);
  });

  it('marks a failed query not ok, with the error code name and message', () => {
    const { events } = decodeLines(trinoDecoder, fixture.lines.slice(1, 2));
    expect(events[0]).toMatchObject({
      ok: false,
      error: "SYNTAX_ERROR: line 1:1: mismatched input 'SELEC'",
      extra: { errorCode: 'SYNTAX_ERROR', errorType: 'USER_ERROR', failureType: 'io.trino.sql.parser.ParsingException' },
    });
    const bare = decodeLines(trinoDecoder, [JSON.stringify(trinoEvent({ state: 'FAILED', failureInfo: { errorCode: { code: 65536, name: 'GENERIC_INTERNAL_ERROR', type: 'INTERNAL_ERROR' } } }))]);
    expect(bare.events[0]).toMatchObject({ ok: false, error: 'GENERIC_INTERNAL_ERROR' });
    const noInfo = decodeLines(trinoDecoder, [JSON.stringify(trinoEvent({ state: 'FAILED' }))]);
    expect(noInfo.events[0]).toMatchObject({ ok: false, error: 'query FAILED' });
  });

  it('says nothing of the outcome when the state is neither FINISHED nor FAILED and there is no failureInfo', () => {
    const { events } = decodeLines(trinoDecoder, [JSON.stringify(trinoEvent({ state: 'RUNNING' }))]);
    expect(events[0]).toMatchObject({ ok: null, error: null });
  });

  it("unwraps the Kafka listener's envelope and keeps its metadata", () => {
    const { events } = decodeLines(trinoDecoder, [JSON.stringify({ eventPayload: trinoEvent({ queryId: 'q-kafka' }), eventMetadata: { cluster: 'eu' } })]);
    expect(events[0]).toMatchObject({ id: 'q-kafka', ts: T0, extra: { eventMetadata: { cluster: 'eu' } } });
  });

  it('takes the database as the catalog alone when no schema is set, and null with neither', () => {
    const lines = [JSON.stringify(trinoEvent({ queryId: 'a', schema: null })), JSON.stringify(trinoEvent({ queryId: 'b', catalog: null, schema: null }))];
    expect(decodeLines(trinoDecoder, lines).events.map((e) => e.database)).toEqual(['hive', null]);
  });

  it('skips QueryCreatedEvents and SplitCompletedEvents, counting them', () => {
    const created = { metadata: { queryId: 'q1', query: 'SELECT 1', queryState: 'QUEUED' }, context: { user: 'alice' }, createTime: '2026-11-20T10:00:00Z' };
    const split = { queryId: 'q1', stageId: 'q1.1', taskId: 'q1.1.0.0', createTime: '2026-11-20T10:00:00Z', endTime: '2026-11-20T10:00:01Z', statistics: {} };
    const d = decodeLines(trinoDecoder, [JSON.stringify(created), JSON.stringify(split)]);
    expect(d).toEqual({ events: [], rejects: [], skips: ['trino-query-created', 'trino-split-completed'] });
  });

  it('rejects an event without its query text, naming the listener setting that drops it', () => {
    const e = trinoEvent();
    delete (e.metadata as Record<string, unknown>).query;
    const d = decodeLines(trinoDecoder, [JSON.stringify(e)]);
    expect(d.rejects).toEqual([expect.objectContaining({ line: 1, reason: 'malformed-line', message: expect.stringContaining('excluded fields') })]);
  });

  it('reads instants written as epoch seconds or milliseconds by listeners that write dates as timestamps', () => {
    const e = { ...trinoEvent(), createTime: T0 / 1000 + 0.25, endTime: T0 + 2000, executionStartTime: T0 / 1000 + 0.5 };
    expect(decodeLines(trinoDecoder, [JSON.stringify(e)]).events[0]).toMatchObject({ ts: T0 + 250, end: T0 + 2000, durationMs: 1750 });
  });

  it('sniffs both envelopes from the first line and claims no other format', () => {
    for (const line of fixture.lines) expect(DECODERS.filter((d) => d.sniff(line)).map((d) => d.format)).toEqual(['trino']);
    expect(trinoDecoder.sniff(okeraLine({}))).toBe(false);
    expect(trinoDecoder.sniff(pgJsonLine({}))).toBe(false);
    expect(trinoDecoder.sniff('{"reqUser":"alice","evtTime":"2026-11-20 10:00:00.000","repoType":3}')).toBe(false);
  });
});

describe('Trino times and durations', () => {
  it('reads durations as numbers of seconds, ISO 8601 and airlift text', () => {
    expect(parseTrinoDuration(1.1)).toBe(1100);
    expect(parseTrinoDuration(0)).toBe(0);
    expect(parseTrinoDuration('PT1.5S')).toBe(1500);
    expect(parseTrinoDuration('PT2M3.25S')).toBe(123_250);
    expect(parseTrinoDuration('PT1H')).toBe(3_600_000);
    expect(parseTrinoDuration('1.23s')).toBe(1230);
    expect(parseTrinoDuration('150.00ms')).toBe(150);
    expect(parseTrinoDuration('2.00m')).toBe(120_000);
    expect(parseTrinoDuration('10.00us')).toBe(0.01);
    expect(parseTrinoDuration('PT')).toBeNull();
    expect(parseTrinoDuration('soon')).toBeNull();
    expect(parseTrinoDuration(null)).toBeNull();
  });

  it('reads ISO instants with any fraction and zone, and refuses impossible ones', () => {
    expect(parseIsoTime('2026-11-20T10:00:00Z')).toBe(T0);
    expect(parseIsoTime('2026-11-20T10:00:00.123456789Z')).toBeCloseTo(T0 + 123.456789, 6);
    expect(parseIsoTime('2026-11-20T11:30:00+01:30')).toBe(T0);
    expect(parseIsoTime('2026-11-20T05:00:00-0500')).toBe(T0);
    expect(parseIsoTime('2026-11-20 10:00:00.000')).toBe(T0);
    expect(parseIsoTime('2026-11-20T24:00:00Z')).toBeNull();
    expect(parseIsoTime('2025-02-29T10:00:00Z')).toBeNull();
    expect(parseIsoTime('2024-02-29T10:00:00Z')).toBe(Date.UTC(2024, 1, 29, 10));
    expect(parseInstant(T0 / 1000)).toBe(T0);
    expect(parseInstant(T0)).toBe(T0);
    expect(parseInstant(true)).toBeNull();
  });
});
