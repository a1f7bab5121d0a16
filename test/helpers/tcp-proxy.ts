import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

export interface TcpProxy {
  /** The loopback port clients connect to instead of the server's. */
  port: number;
  /** Destroys every live connection, both sides, at once: the client sees the server vanish. */
  dropAll(): void;
  /**
   * Connections opened from now on are cut (both sides destroyed) once `n` bytes have
   * gone from the client to the server: the byte that would pass `n` is never sent.
   * Connections already open are not affected; `Infinity` stops cutting.
   */
  cutAfterBytes(n: number): void;
  /** Stops listening and drops every live connection. */
  close(): Promise<void>;
}

/**
 * A loopback TCP proxy to `127.0.0.1:targetPort`, for tests that need a connection to
 * die mid-operation (a network cut, a load balancer timing out) rather than the server
 * ending it politely.
 */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const live = new Set<Socket>();
  let cutAt: number | null = null;
  const server = createServer((client) => {
    const budget = cutAt;
    const upstream = connect(targetPort, '127.0.0.1');
    live.add(client);
    live.add(upstream);
    client.on('close', () => {
      live.delete(client);
      // Lets what was already forwarded reach the server before its side closes too.
      upstream.end();
    });
    upstream.on('close', () => {
      live.delete(upstream);
      client.destroy();
    });
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    let sent = 0;
    client.on('data', (chunk: Buffer) => {
      if (budget !== null && sent + chunk.length > budget) {
        upstream.end(chunk.subarray(0, Math.max(0, budget - sent)));
        sent = budget;
        cut(client);
        return;
      }
      sent += chunk.length;
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on('drain', () => client.resume());
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const dropAll = (): void => {
    for (const s of live) cut(s);
    live.clear();
  };
  return {
    port: (server.address() as AddressInfo).port,
    dropAll,
    cutAfterBytes(n: number) {
      cutAt = n;
    },
    close() {
      dropAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Ends a socket with a TCP reset, as a network cut looks to the peer. */
function cut(socket: Socket): void {
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}
