/**
 * One delivery request: the headers (pure) and the HTTP POST (got).
 */
import http from "node:http";
import https from "node:https";
import { createSecureContext, rootCertificates } from "node:tls";
import got, { type Agents, type BeforeRequestHook, type RequestFunction } from "got";
import { classifyError, classifyStatus, type AttemptOutcome } from "./outcome.js";
import { guardConnections } from "./connectGuard.js";
import { proxyAgents } from "./egressProxy.js";
import { requestHeaders, type RequestCommon } from "./signedHeaders.js";

export type { RequestCommon } from "./signedHeaders.js";

/** At most this much of a response is read; the rest is dropped with the socket. */
export const MAX_RESPONSE_READ = 64 * 1024;
/** This much of it is kept with the attempt. */
export const KEPT_RESPONSE_BYTES = 1024;

/**
 * got's cache settings, none (hookd uses no cache): its defaults list the four keys,
 * unset. Each request copies them, and on Node 20 (V8 11.3) spreading an object that
 * holds keys into the request's options (got's createNativeRequestOptions, 34 more keys
 * after it) built new hidden classes every time: 35-80 µs and about 21 KB of garbage a
 * request, 6% of a tick's CPU. An empty one costs 0.4 µs, as either does on Node 22 and 24.
 */
const NO_CACHE_OPTIONS = {};

const freshCacheOptions: BeforeRequestHook = (options) => {
  options.cacheOptions = NO_CACHE_OPTIONS;
};

/**
 * http.request or https.request with only the options got set. got passes all 34 of its
 * request options, most of them undefined, and Node copies that object twice more per
 * request (ClientRequest, then the agent's addRequest). Dropping the unset ones changes
 * nothing Node reads (a missing option is an undefined one) and, counted with callgrind
 * on Node 20, saves about 90,000 instructions a request (6.90 against 6.44 G for 5,000).
 */
const sendRequest: RequestFunction = (url, options) => (url.protocol === "https:" ? https : http).request(url, setOptionsOnly(options));

/** `options` without its undefined entries. Pure. */
export function setOptionsOnly<T extends object>(options: T): T {
  const set: Partial<T> = {};
  for (const key in options) if (options[key] !== undefined) set[key] = options[key];
  return set as T;
}

/**
 * got with what every delivery request shares set once: no retries or redirects (hookd
 * schedules its own), any status an answer, the body as sent. Options given per call
 * are merged and validated per call; set here, they are not, which cut got's CPU per
 * request by about a tenth (a loop of 20,000 POSTs, 314 against 347 µs).
 */
const deliveryGot = got.extend({
  method: "POST",
  retry: { limit: 0 },
  followRedirect: false,
  throwHttpErrors: false,
  decompress: false,
  request: sendRequest,
  hooks: { beforeRequest: [freshCacheOptions] },
});

/** One delivery's request: the webhook's common parts, the event's body and ids. */
export interface DeliveryRequest extends RequestCommon {
  body: Buffer;
  eventId: string;
  deliveryId: string;
}

export function deliveryHeaders(req: DeliveryRequest, nowMs: number): Record<string, string> {
  const identity = { ids: { "x-event-id": req.eventId, "x-delivery-id": req.deliveryId }, standardId: req.eventId };
  return requestHeaders(req, identity, req.body, nowMs);
}

export interface AgentRules {
  allowPrivateAddresses: boolean;
  /** PEM certificates of extra authorities to trust for https (dispatch.caFile), besides the public ones */
  extraCa?: string | null;
  /** idle keep-alive sockets kept per host (dispatch.concurrency); Node's default is 256 */
  maxIdleSockets?: number;
  /** dispatch.proxyUrl: every request leaves through this HTTP proxy (dispatch/egressProxy.ts) */
  proxyUrl?: string | null;
  /** how long a proxy may take to open a tunnel (dispatch.timeoutMs) */
  proxyConnectTimeoutMs?: number;
}

/**
 * Keep-alive agents shared by every request of a process. Unless private addresses
 * are allowed, the URL policy guards every connection they open (through the egress
 * proxy, when one is set: every target before the proxy is asked).
 */
export function createAgents(rules: AgentRules = { allowPrivateAddresses: true }): Agents {
  // Idle sockets past maxFreeSockets are closed, so above 256 in flight every lull cost
  // new TLS handshakes; keep as many as may be in flight.
  const idle = rules.maxIdleSockets ? { maxFreeSockets: Math.max(256, rules.maxIdleSockets) } : {};
  const options = { keepAlive: true, scheduling: "lifo" as const, ...idle };
  // Node's `ca` replaces the public roots rather than adding to them, so they are listed too.
  // One secure context for every connection: given as `ca`, the agent would parse the
  // ~140 PEM roots again for each new connection and key its socket pool by their text.
  const trust = rules.extraCa ? { secureContext: createSecureContext({ ca: [...rootCertificates, rules.extraCa] }) } : {};
  if (rules.proxyUrl) {
    // The proxy itself is trusted; the URL policy is applied to each target before the proxy is asked.
    const proxied = { proxyUrl: rules.proxyUrl, allowPrivateAddresses: rules.allowPrivateAddresses, connectTimeoutMs: rules.proxyConnectTimeoutMs };
    return proxyAgents(proxied, { http: options, https: { ...options, ...trust } });
  }
  const agents = { http: new http.Agent(options), https: new https.Agent({ ...options, ...trust }) };
  if (!rules.allowPrivateAddresses) {
    guardConnections(agents.http);
    guardConnections(agents.https);
  }
  return agents;
}

export function destroyAgents(agents: Agents): void {
  (agents.http as http.Agent | undefined)?.destroy();
  (agents.https as https.Agent | undefined)?.destroy();
}

export interface SendOptions {
  timeoutMs: number;
  agents: Agents;
  signal?: AbortSignal;
}

/** POST the delivery; never throws: every ending is an AttemptOutcome. */
export function send(req: DeliveryRequest, options: SendOptions): Promise<AttemptOutcome> {
  return post(req.url, req.body, (now) => deliveryHeaders(req, now), options);
}

/**
 * POST `body` to `url` with the headers made for the moment it is sent (signatures
 * carry that time); never throws: every ending is an AttemptOutcome.
 */
export function post(url: string, body: Buffer, headersAt: (nowMs: number) => Record<string, string>, options: SendOptions): Promise<AttemptOutcome> {
  const startedAt = Date.now();
  const headers = headersAt(startedAt);
  return new Promise<AttemptOutcome>((resolve) => {
    let statusCode: number | null = null;
    let retryAfter: string | null = null;
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let readBytes = 0;
    let settled = false;

    const finish = (error: { code?: unknown; name?: unknown; message?: string } | null) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener("abort", onAbort);
      const durationMs = Date.now() - startedAt;
      const responseBody = kept.length > 0 ? Buffer.concat(kept).toString("utf8") : statusCode === null ? null : "";
      if (error) {
        resolve({
          startedAt,
          durationMs,
          ok: false,
          statusCode,
          error: classifyError(error),
          errorMessage: String(error.message ?? error.code ?? "request failed").slice(0, 500),
          responseBody,
          retryAfter,
        });
        return;
      }
      const cls = classifyStatus(statusCode ?? 0);
      resolve({
        startedAt,
        durationMs,
        ok: cls === null,
        statusCode,
        error: cls,
        errorMessage: cls === null ? null : `HTTP ${statusCode}`,
        responseBody,
        retryAfter,
      });
    };

    const stream = deliveryGot.stream(url, { body, headers, agent: options.agents, timeout: { request: options.timeoutMs } });
    stream.on("response", (res: http.IncomingMessage) => {
      statusCode = res.statusCode ?? null;
      const ra = res.headers["retry-after"];
      retryAfter = typeof ra === "string" ? ra : null;
    });
    stream.on("data", (chunk: Buffer) => {
      readBytes += chunk.length;
      if (keptBytes < KEPT_RESPONSE_BYTES) {
        const part = chunk.subarray(0, KEPT_RESPONSE_BYTES - keptBytes);
        kept.push(part);
        keptBytes += part.length;
      }
      if (readBytes >= MAX_RESPONSE_READ) {
        // Enough: the status is known and the receiver has had its say.
        finish(null);
        stream.destroy();
      }
    });
    stream.on("end", () => finish(null));
    stream.on("error", (err: Error & { code?: string }) => finish(err));
    // Our own abort listener, removed when the request ends: got only drops the one it
    // adds for `signal` when its stream is destroyed, so one shared signal gathered a
    // listener per request, and every addEventListener walked them all.
    function onAbort() {
      stream.destroy(Object.assign(new Error("This operation was aborted."), { name: "AbortError", code: "ERR_ABORTED" }));
    }
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener("abort", onAbort, { once: true });
  });
}
