/**
 * A real HTTP receiver on 127.0.0.1 with a real port. Records every request with its
 * raw body bytes; the responder decides each answer.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export type Responder = (req: Received, res: http.ServerResponse) => void;

export interface Receiver {
  url: string;
  port: number;
  requests: Received[];
  respond(fn: Responder): void;
  close(): Promise<void>;
}

export const ok: Responder = (_req, res) => {
  res.writeHead(200, { "content-type": "text/plain" });
  res.end("ok");
};

export interface ReceiverOptions {
  /**
   * How long an idle keep-alive connection stays open (Node's default: 5 s). A test that
   * pauses sending for about that long (an outage) may see a request sent on a
   * connection the receiver is closing at that moment fail as `reset`: set it longer.
   */
  keepAliveTimeoutMs?: number;
}

export async function startReceiver(responder: Responder = ok, options: ReceiverOptions = {}): Promise<Receiver> {
  let current = responder;
  const requests: Received[] = [];
  const sockets = new Set<import("node:net").Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const received: Received = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      requests.push(received);
      current(received, res);
    });
  });
  if (options.keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = options.keepAliveTimeoutMs;
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    respond(fn) {
      current = fn;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing listens on (bound then released). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
