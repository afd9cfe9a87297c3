/**
 * HTTP written by hand over a socket, for what fetch will not send: an empty or
 * missing Host, HTTP/1.0, a header twice, a body shorter than its Content-Length.
 */
import { connect } from "node:net";

export interface RawReply {
  /** null when the server closed the connection without an answer */
  status: number | null;
  text: string;
}

/** Send `request` on a fresh connection and read until the server closes it. */
export function rawRequest(url: string, request: string | Buffer, options: { timeoutMs?: number } = {}): Promise<RawReply> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), hostname, () => socket.end(request));
    socket.setTimeout(options.timeoutMs ?? 15_000, () => socket.destroy());
    socket.on("data", (d: Buffer) => chunks.push(d));
    socket.on("error", () => {}); // a reset is an ending like any other; the status says what came back
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("latin1");
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: status ? Number(status[1]) : null, text });
    });
  });
}

/** A request's bytes: request line, headers in order (repeats kept), blank line, body. */
export function httpText(method: string, target: string, headers: [string, string][], body: string | Buffer = "", version = "HTTP/1.1"): Buffer {
  const head = `${method} ${target} ${version}\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`;
  return Buffer.concat([Buffer.from(head, "utf8"), typeof body === "string" ? Buffer.from(body, "utf8") : body]);
}
