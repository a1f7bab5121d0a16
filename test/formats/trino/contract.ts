import type { DecoderFixture } from '../../ingest/decoder-contract.js';

const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);

/**
 * A QueryCompletedEvent as Trino's HTTP event listener posts it (airlift's JSON codec:
 * ISO instants, durations as seconds); `patch` overrides parts of it.
 */
export function trinoEvent(patch: {
  queryId?: string;
  query?: string;
  state?: string;
  createMs?: number;
  endMs?: number;
  catalog?: string | null;
  schema?: string | null;
  user?: string;
  queryType?: string;
  failureInfo?: Record<string, unknown>;
  statistics?: Record<string, unknown>;
} = {}): Record<string, unknown> {
  const create = patch.createMs ?? T0;
  const end = patch.endMs ?? create + 1250;
  const context: Record<string, unknown> = {
    user: patch.user ?? 'alice',
    originalUser: patch.user ?? 'alice',
    principal: patch.user ?? 'alice',
    enabledRoles: [],
    groups: [],
    remoteClientAddress: '10.0.0.7',
    userAgent: 'StatementClientV1/435',
    clientTags: [],
    clientCapabilities: ['PATH', 'PARAMETRIC_DATETIME'],
    source: 'trino-cli',
    timezone: 'UTC',
    sessionProperties: {},
    resourceEstimates: {},
    serverAddress: '10.0.0.2',
    serverVersion: '435',
    environment: 'prod',
    queryType: patch.queryType ?? 'SELECT',
    retryPolicy: 'NONE',
  };
  if (patch.catalog !== null) context.catalog = patch.catalog ?? 'hive';
  if (patch.schema !== null) context.schema = patch.schema ?? 'sales';
  return {
    metadata: {
      queryId: patch.queryId ?? '20261120_100000_00001_abcde',
      transactionId: '8c5d1a7e-0000-4000-8000-000000000001',
      query: patch.query ?? 'SELECT count(*) FROM orders',
      queryState: patch.state ?? 'FINISHED',
      tables: [],
      routines: [],
      uri: 'http://coordinator:8080/v1/query/20261120_100000_00001_abcde',
    },
    statistics: patch.statistics ?? { cpuTime: 0.812, failedCpuTime: 0.0, wallTime: 1.25, queuedTime: 0.003, peakUserMemoryBytes: 1024, totalRows: 10 },
    context,
    ioMetadata: { inputs: [] },
    ...(patch.failureInfo ? { failureInfo: patch.failureInfo } : {}),
    warnings: [],
    createTime: new Date(create).toISOString(),
    executionStartTime: new Date(create + 3).toISOString(),
    endTime: new Date(end).toISOString(),
  };
}

/** Trino query events for the Decoder contract suite: HTTP listener lines and a Kafka one. */
export const fixture: DecoderFixture = {
  lines: [
    JSON.stringify(trinoEvent()),
    JSON.stringify(
      trinoEvent({
        queryId: '20261120_100001_00002_abcde',
        query: 'SELEC 1',
        state: 'FAILED',
        createMs: T0 + 1000,
        failureInfo: { errorCode: { code: 1, name: 'SYNTAX_ERROR', type: 'USER_ERROR' }, failureType: 'io.trino.sql.parser.ParsingException', failureMessage: "line 1:1: mismatched input 'SELEC'", failuresJson: '{}' },
      }),
    ),
    JSON.stringify({
      eventPayload: trinoEvent({ queryId: '20261120_100002_00003_abcde', query: 'CREATE TABLE hive.sales.t (id bigint)', queryType: 'DATA_DEFINITION', createMs: T0 + 2000 }),
      eventMetadata: {},
    }),
  ],
  events: 3,
  badTimestamp: JSON.stringify({ ...trinoEvent(), createTime: 'yesterday' }),
};
