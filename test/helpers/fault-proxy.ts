import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does with one request. */
export type Fault =
  | { kind: 'pass' }
  /** Answer with this status (and body) without asking the server. */
  | { kind: 'status'; status: number; body?: string; headers?: Record<string, string> }
  /** Forward, but cut the connection after this many bytes of the response body. */
  | { kind: 'cut'; afterBytes: number };

export interface SeenRequest {
  method: string;
  url: string;
  /** 1-based count of requests so far. */
  n: number;
  range: string | undefined;
  status: number | 'cut';
}

export interface FaultProxy {
  /** http://127.0.0.1:PORT */
  url: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

/**
 * An HTTP proxy on a loopback port that sits between a storage SDK and its (emulated)
 * server and injects faults: throttling answers, refusals, downloads cut midway. It is
 * how the fault tests make a real server misbehave on cue.
 */
export async function startFaultProxy(target: string, plan: (req: Omit<SeenRequest, 'status'>) => Fault): Promise<FaultProxy> {
  const to = new URL(target);
  const requests: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    const seen: SeenRequest = { method: req.method ?? 'GET', url: req.url ?? '/', n: requests.length + 1, range: req.headers.range, status: 0 };
    requests.push(seen);
    const fault = plan(seen);
    if (fault.kind === 'status') {
      seen.status = fault.status;
      req.resume();
      res.writeHead(fault.status, { 'content-type': 'application/xml', ...fault.headers });
      res.end(fault.body ?? '');
      return;
    }
    const upstream = request(
      { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: { ...req.headers, host: to.host } },
      (up: IncomingMessage) => {
        seen.status = fault.kind === 'cut' ? 'cut' : (up.statusCode ?? 0);
        res.writeHead(up.statusCode ?? 502, up.headers);
        if (fault.kind !== 'cut') {
          up.pipe(res);
          return;
        }
        let sent = 0;
        up.on('data', (chunk: Buffer) => {
          if (sent >= fault.afterBytes) return;
          const room = fault.afterBytes - sent;
          res.write(room >= chunk.length ? chunk : chunk.subarray(0, room));
          sent += Math.min(room, chunk.length);
          if (sent >= fault.afterBytes) {
            up.destroy();
            // Destroying the socket mid-body is what a dropped connection looks like to the client.
            setImmediate(() => res.socket?.destroy());
          }
        });
        up.on('end', () => res.end());
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
