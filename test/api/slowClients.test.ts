/**
 * Slow and greedy clients: a stalled body or header is cut off after the configured
 * time, connections past server.maxConnections are closed at once, and none of it
 * reaches the log as an error.
 */
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiHarness, type ApiHarness } from "../helpers/api.js";
import { memoryLogger, type MemoryLog } from "../helpers/logs.js";

let h: ApiHarness;
let log: MemoryLog;
beforeAll(async () => {
  log = memoryLogger("info");
  h = await apiHarness({ server: { headersTimeoutMs: 1000, bodyTimeoutMs: 1000, requestTimeoutMs: 3000, maxConnections: 3 } }, "sqlite", log.logger);
});
afterAll(async () => {
  await h.cleanup();
});

/** Open a connection, write `text`, and resolve with whatever comes back once the server closes it. */
function stall(text: string): { socket: Socket; closed: Promise<string> } {
  const { hostname, port } = new URL(h.server.url);
  const socket = connect(Number(port), hostname);
  let received = "";
  socket.on("data", (d: Buffer) => (received += d.toString("latin1")));
  socket.on("error", () => {});
  socket.write(text);
  return { socket, closed: new Promise((resolve) => socket.on("close", () => resolve(received))) };
}

describe("slow clients", () => {
  it("a body that stops coming is cut off, without an error in the log", async () => {
    const { closed } = stall(
      `POST /events/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${h.key}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"topic":`,
    );
    const received = await closed;
    expect(received).not.toMatch(/^HTTP\/1\.1 2/);
    expect(await h.app.store.db.selectFrom("events").selectAll().execute()).toEqual([]);
  });

  it("headers that never end are cut off with 408", async () => {
    const { closed } = stall("GET /webhooks/ HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    expect(await closed).toMatch(/^(HTTP\/1\.1 408|$)/);
  });

  it("connections past server.maxConnections are closed at once; the others are served", async () => {
    const held = [stall(""), stall(""), stall("")];
    // Wait until the server has all three, then one more is over the limit.
    await new Promise((r) => setTimeout(r, 500));
    const extra = stall(`GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(await extra.closed).toBe("");
    for (const c of held) c.socket.destroy();
    await Promise.all(held.map((c) => c.closed));
    expect((await h.call("GET", "/healthz")).status).toBe(200);
  });

  it("logged none of it as an error", () => {
    expect(log.entries().filter((e) => e.level >= 50)).toEqual([]);
  });
});
