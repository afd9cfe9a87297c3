/**
 * The bench's receiver, run as its own process (see startReceiver in processes.ts) so
 * it never shares a core's event loop with the dispatcher it measures. A minimal
 * node:http server: reads the body, answers 200 "ok". Paths under /hang/ are read
 * and never answered (a dead receiver). The parent asks for counts over IPC.
 *   --record             keep each x-event-id's receipt time
 *   --key F --cert F     serve HTTPS with this key and certificate
 *   --delay MS           answer each request this long after it arrived (a receiver doing work)
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { record: { type: "boolean", default: false }, key: { type: "string" }, cert: { type: "string" }, delay: { type: "string", default: "0" } },
});
const record = values.record;
const delayMs = Number(values.delay);
let ok = 0;
let hung = 0;
let lastOkAt = 0;
/** x-event-id → receipt time (ms since the epoch, sub-ms precision), only with --record */
let receipts = new Map<string, number>();
const held = new Set<http.ServerResponse>();

const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
  req.resume();
  req.on("end", () => (delayMs > 0 ? setTimeout(answer, delayMs, req, res) : answer(req, res)));
};

function answer(req: http.IncomingMessage, res: http.ServerResponse) {
  if (req.url?.startsWith("/hang/")) {
    hung++;
    held.add(res);
    res.on("close", () => held.delete(res));
    return;
  }
  ok++;
  lastOkAt = performance.timeOrigin + performance.now();
  if (record) {
    const id = req.headers["x-event-id"];
    if (typeof id === "string" && !receipts.has(id)) receipts.set(id, lastOkAt);
  }
  res.writeHead(200, { "content-type": "text/plain", "content-length": "2" });
  res.end("ok");
}

const server =
  values.key && values.cert ? https.createServer({ key: readFileSync(values.key), cert: readFileSync(values.cert) }, handle) : http.createServer(handle);
server.keepAliveTimeout = 60_000;

export type ReceiverMessage = { id: number; type: "stats" | "reset" | "receipts" };

process.on("message", (msg: ReceiverMessage) => {
  if (msg.type === "reset") {
    ok = 0;
    hung = 0;
    lastOkAt = 0;
    receipts = new Map();
    for (const res of held) res.destroy();
    process.send!({ id: msg.id });
  } else if (msg.type === "stats") {
    process.send!({ id: msg.id, ok, hung, lastOkAt });
  } else if (msg.type === "receipts") {
    process.send!({ id: msg.id, receipts: [...receipts] });
  }
});
// The parent went away: go too.
process.on("disconnect", () => process.exit(0));

server.listen(0, "127.0.0.1", () => {
  process.send!({ type: "ready", port: (server.address() as AddressInfo).port });
});
