/**
 * The bench's receiver, run as its own process (see startReceiver in processes.ts) so
 * it never shares a core's event loop with the dispatcher it measures. A minimal
 * node:http server: reads the body, answers 200 "ok". Paths under /hang/ are read
 * and never answered (a dead receiver); under /slow/ answered after 100 ms (a
 * receiver across a network); under /fail/ answered 500; under /flaky/P/ answered 500
 * for P% of that path's requests, chosen by a seeded generator (the same failures on
 * every run, reseeded on reset). It counts requests in flight per path (the most at
 * once), and distinct X-Delivery-Ids (duplicates). The parent asks for counts over IPC.
 *   --record             keep each x-event-id's receipt time, and each path's first request's place among all requests
 *   --key F --cert F     serve HTTPS with this key and certificate
 *   --delay MS           answer each request this long after it arrived (a receiver doing work)
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { seeded } from "../helpers/seeded.js";

const { values } = parseArgs({
  options: { record: { type: "boolean", default: false }, key: { type: "string" }, cert: { type: "string" }, delay: { type: "string", default: "0" } },
});
const record = values.record;
const delayMs = Number(values.delay);
let ok = 0;
let hung = 0;
let lastOkAt = 0;
let firstOkAt = 0;
let failed = 0;
const SLOW_MS = 100;
/** requests in flight per path, and the most seen at once on any path */
const inFlight = new Map<string, number>();
let maxInFlight = 0;
let requests = 0;
let deliveryIds = new Set<string>();
/** x-event-id → receipt time (ms since the epoch, sub-ms precision), only with --record */
let receipts = new Map<string, number>();
const held = new Set<http.ServerResponse>();
/** path → the number of its first request among all requests (1-based), only with --record */
let firsts = new Map<string, number>();
/** /flaky/P/ paths → their seeded generator */
let flaky = new Map<string, () => number>();

/** Whether this request to a /flaky/P/ path fails. */
function flakyFails(path: string): boolean {
  const m = /^\/flaky\/(\d+)\//.exec(path);
  if (!m) return false;
  let random = flaky.get(path);
  if (!random) flaky.set(path, (random = seeded(7)));
  return random() * 100 < Number(m[1]);
}

const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
  req.resume();
  const path = req.url ?? "/";
  const n = (inFlight.get(path) ?? 0) + 1;
  inFlight.set(path, n);
  maxInFlight = Math.max(maxInFlight, n);
  res.on("close", () => inFlight.set(path, (inFlight.get(path) ?? 1) - 1));
  requests++;
  if (record && !firsts.has(path)) firsts.set(path, requests);
  const id = req.headers["x-delivery-id"];
  if (typeof id === "string") deliveryIds.add(id);
  req.on("end", () => {
    if (path.startsWith("/fail/") || flakyFails(path)) {
      failed++;
      res.writeHead(500).end();
      return;
    }
    const wait = path.startsWith("/slow/") ? SLOW_MS : delayMs;
    if (wait > 0) setTimeout(answer, wait, req, res);
    else answer(req, res);
  });
};

function answer(req: http.IncomingMessage, res: http.ServerResponse): void {
  if (req.url?.startsWith("/hang/")) {
    hung++;
    held.add(res);
    res.on("close", () => held.delete(res));
    return;
  }
  ok++;
  lastOkAt = performance.timeOrigin + performance.now();
  if (ok === 1) firstOkAt = lastOkAt;
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

export type ReceiverMessage = { id: number; type: "stats" | "reset" | "receipts" | "firsts" };

process.on("message", (msg: ReceiverMessage) => {
  if (msg.type === "reset") {
    ok = 0;
    hung = 0;
    lastOkAt = 0;
    firstOkAt = 0;
    failed = 0;
    maxInFlight = 0;
    requests = 0;
    deliveryIds = new Set();
    receipts = new Map();
    firsts = new Map();
    flaky = new Map();
    for (const res of held) res.destroy();
    process.send!({ id: msg.id });
  } else if (msg.type === "stats") {
    process.send!({ id: msg.id, ok, hung, lastOkAt, firstOkAt, failed, maxInFlight, requests, distinct: deliveryIds.size });
  } else if (msg.type === "receipts") {
    process.send!({ id: msg.id, receipts: [...receipts] });
  } else if (msg.type === "firsts") {
    process.send!({ id: msg.id, firsts: [...firsts] });
  }
});
// The parent went away: go too.
process.on("disconnect", () => process.exit(0));

server.listen(0, "127.0.0.1", () => {
  process.send!({ type: "ready", port: (server.address() as AddressInfo).port });
});
