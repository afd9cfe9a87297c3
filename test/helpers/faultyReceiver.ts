/**
 * A receiver that misbehaves on purpose: a raw TCP server on 127.0.0.1 (so it can
 * break HTTP itself) whose behaviour is chosen by the request path, e.g. POST /reset.
 */
import net from "node:net";

export type Fault =
  | "ok"
  | "reset-before-response" // read the request, then RST
  | "reset-during-response" // send headers and part of the body, then RST
  | "no-headers" // read the request, never answer
  | "trickle" // 200 and a body that arrives one byte every 200 ms
  | "huge" // 200 and a 100 MiB body
  | "invalid-http"; // answer with bytes that are not HTTP

export interface FaultyReceiver {
  url: string;
  port: number;
  /** requests whose headers arrived, by path */
  seen: string[];
  /** bytes of the huge body actually written before the client went away */
  hugeBytesWritten: number;
  close(): Promise<void>;
}

const HUGE = 100 * 1024 * 1024;

function statusLine(code: number, extra = ""): string {
  return `HTTP/1.1 ${code} X\r\ncontent-length: 0\r\nconnection: close\r\n${extra}\r\n`;
}

/** Fixed-status answers: /status/301, /status/503?retry-after=120 … */
function statusResponse(path: string): string | null {
  const m = /^\/status\/(\d{3})(?:\?retry-after=([^&]+))?$/.exec(path);
  if (!m) return null;
  const code = Number(m[1]);
  let extra = "";
  if (m[2]) extra += `retry-after: ${decodeURIComponent(m[2])}\r\n`;
  if (code >= 300 && code < 400) extra += "location: /elsewhere\r\n";
  return statusLine(code, extra);
}

export async function startFaultyReceiver(): Promise<FaultyReceiver> {
  const seen: string[] = [];
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const state = { hugeBytesWritten: 0 };

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let buffered = Buffer.alloc(0);
    let handled = false;
    socket.on("data", (chunk: Buffer) => {
      if (handled) return;
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf("\r\n\r\n");
      if (end < 0) return;
      const head = buffered.subarray(0, end).toString("latin1");
      const length = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      if (buffered.length < end + 4 + length) return;
      handled = true;
      const path = head.split(" ")[1] ?? "/";
      seen.push(path);
      act(socket, path);
    });
  });

  function act(socket: net.Socket, path: string) {
    const fixed = statusResponse(path);
    if (fixed) return void socket.end(fixed);
    switch (path.slice(1) as Fault) {
      case "ok":
        return void socket.end(statusLine(200));
      case "reset-before-response":
        return void socket.resetAndDestroy();
      case "reset-during-response":
        socket.write("HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\npartial");
        return void setTimeout(() => socket.resetAndDestroy(), 20);
      case "no-headers":
        return; // keep the socket open, say nothing
      case "trickle": {
        socket.write("HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n");
        const t = setInterval(() => socket.write("."), 200);
        timers.add(t);
        socket.on("close", () => clearInterval(t));
        return;
      }
      case "huge": {
        socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${HUGE}\r\n\r\n`);
        const block = Buffer.alloc(64 * 1024, 120);
        const pump = () => {
          while (state.hugeBytesWritten < HUGE && !socket.destroyed) {
            state.hugeBytesWritten += block.length;
            if (!socket.write(block)) return void socket.once("drain", pump);
          }
          socket.end();
        };
        return pump();
      }
      case "invalid-http":
        return void socket.end("THIS IS NOT HTTP AT ALL\r\n\r\n");
      default:
        return void socket.end(statusLine(404));
    }
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    get hugeBytesWritten() {
      return state.hugeBytesWritten;
    },
    async close() {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A server that accepts TCP connections and never reads or writes a byte. */
export async function startSilentServer(): Promise<{ url: string; connections: () => number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let count = 0;
  const server = net.createServer((socket) => {
    count++;
    sockets.add(socket);
    socket.pause();
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => count,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
