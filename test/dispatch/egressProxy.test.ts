/**
 * dispatch.proxyUrl: deliveries (https through CONNECT, http in absolute form) and
 * OAuth2 token requests leave through a real local proxy, byte for byte and signed; a
 * target the URL policy refuses is refused before the proxy is asked.
 */
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { fetchToken } from "../../src/dispatch/oauthTokens.js";
import { createAgents, destroyAgents, send } from "../../src/dispatch/request.js";
import { HookdError } from "../../src/errors.js";
import { publish } from "../../src/publishing.js";
import { tempDir, testApp } from "../helpers/app.js";
import { makePrivateCa } from "../helpers/ca.js";
import { startProxy, type TestProxy } from "../helpers/proxy.js";
import { startReceiver, type Received, type Receiver } from "../helpers/receiver.js";
import { startTokenEndpoint } from "../helpers/tokenEndpoint.js";

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function proxy(options: { requireAuth?: string } = {}): Promise<TestProxy> {
  const p = await startProxy(options);
  closers.push(() => p.close());
  return p;
}

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  closers.push(() => r.close());
  return r;
}

/** An https receiver on 127.0.0.1 with a certificate from a private CA (its file in `caFile`). */
async function httpsReceiver(): Promise<{ url: string; caFile: string; requests: Received[] }> {
  const dir = tempDir("hookd-proxy-");
  closers.push(() => dir.cleanup());
  const ca = makePrivateCa(dir.dir);
  const requests: Received[] = [];
  const server = https.createServer({ key: readFileSync(ca.keyFile), cert: readFileSync(ca.certFile) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  closers.push(() => void server.closeAllConnections());
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/in`, caFile: ca.caFile, requests };
}

const payload = '{"id": 1001,  "total":"9.99", "note":"caf\u00e9"}';
const signed = (req: Received) => createHmac("sha256", "s3cret").update(req.body).digest("hex");

describe("deliveries through the egress proxy", () => {
  it("https: one CONNECT tunnel, with the proxy's credentials, to the receiver, which gets the exact bytes and a valid signature", async () => {
    const target = await httpsReceiver();
    const p = await proxy({ requireAuth: `Basic ${Buffer.from("ops:pa ss").toString("base64")}` });
    const app = await testApp({ dispatch: { caFile: target.caFile, proxyUrl: p.url.replace("http://", "http://ops:pa%20ss@") } });
    closers.push(() => app.cleanup());
    await app.hook(target.url);
    await publish(app.store.db, { customerId: app.customerId, topic: "orders:created", payload }, app.publishRules);
    expect(await app.dispatcher.tick()).toMatchObject({ delivered: 1 });
    const port = new URL(target.url).port;
    expect(p.tunnels).toEqual([`127.0.0.1:${port}`]);
    expect(target.requests).toHaveLength(1);
    const got = target.requests[0]!;
    expect(got.body.toString("utf8")).toBe(payload);
    expect(got.headers["x-signature"]).toBe(signed(got));
    expect(got.headers["proxy-authorization"]).toBeUndefined();
  });

  it("http: an absolute-form request through the proxy, the body and signature exact; no CONNECT", async () => {
    const target = await receiver();
    const p = await proxy();
    const app = await testApp({ dispatch: { proxyUrl: p.url } });
    closers.push(() => app.cleanup());
    await app.hook(`${target.url}/in?x=1`);
    await publish(app.store.db, { customerId: app.customerId, topic: "orders:created", payload }, app.publishRules);
    expect(await app.dispatcher.tick()).toMatchObject({ delivered: 1 });
    expect(p.forwarded).toEqual([`${target.url}/in?x=1`]);
    expect(p.tunnels).toEqual([]);
    const got = target.requests[0]!;
    expect(got.body.toString("utf8")).toBe(payload);
    expect(got.headers["x-signature"]).toBe(signed(got));
  });

  it("a proxy that refuses the tunnel is a refused attempt that says so", async () => {
    const target = await httpsReceiver();
    const p = await proxy({ requireAuth: "Basic nobody" });
    const agents = createAgents({ allowPrivateAddresses: true, extraCa: readFileSync(target.caFile, "utf8"), proxyUrl: p.url });
    closers.push(() => destroyAgents(agents));
    const outcome = await send(request(target.url), { timeoutMs: 5000, agents });
    expect(outcome).toMatchObject({ ok: false, error: "refused" });
    expect(outcome.errorMessage).toMatch(/egress proxy refused a tunnel to 127\.0\.0\.1:\d+: HTTP 407/);
    expect(target.requests).toHaveLength(0);
  });

  it("OAuth2 token requests go through the proxy too", async () => {
    const p = await proxy();
    const endpoint = await startTokenEndpoint({ clientId: "c", clientSecret: "s" });
    closers.push(() => endpoint.close());
    const agents = createAgents({ allowPrivateAddresses: true, proxyUrl: p.url });
    closers.push(() => destroyAgents(agents));
    const auth = { type: "oauth2" as const, tokenUrl: endpoint.url, clientId: "c", clientSecret: "s", scope: null };
    const token = await fetchToken(auth, { agents, timeoutMs: 5000, now: Date.now() });
    expect(token.token).toBe(endpoint.issued[0]);
    expect(p.forwarded).toEqual([endpoint.url]);
  });
});

const request = (url: string) => ({
  url,
  body: Buffer.from(payload),
  secret: "s3cret",
  webhookId: "w",
  eventId: "e",
  deliveryId: "d",
  topic: "orders:created",
  attemptNumber: 1,
});

describe("the URL policy through the proxy", () => {
  for (const host of ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"]) {
    for (const scheme of ["http", "https"]) {
      it(`refuses ${scheme}://${host} before the proxy is asked when private addresses are not allowed`, async () => {
        const target = await receiver();
        const p = await proxy();
        const agents = createAgents({ allowPrivateAddresses: false, proxyUrl: p.url });
        closers.push(() => destroyAgents(agents));
        const outcome = await send(request(`${scheme}://${host}:${target.port}/in`), { timeoutMs: 5000, agents });
        expect(outcome.error).toBe("blocked");
        expect(outcome.errorMessage).toMatch(/non-public address/);
        expect(p.tunnels).toEqual([]);
        expect(p.forwarded).toEqual([]);
        expect(p.authorizations).toEqual([]);
        expect(target.requests).toHaveLength(0);
      });
    }
  }
});

describe("dispatch.proxyUrl in the config", () => {
  it("is read from HOOKD_PROXY_URL, and an empty one turns the proxy off", () => {
    expect(loadConfig({ env: { HOOKD_PROXY_URL: "http://proxy.internal:3128" } }).dispatch.proxyUrl).toBe("http://proxy.internal:3128");
    expect(loadConfig({ env: { HOOKD_PROXY_URL: "" } }).dispatch.proxyUrl).toBeNull();
    expect(loadConfig({ env: {} }).dispatch.proxyUrl).toBeNull();
  });

  for (const [given, problem] of [
    ["socks5://proxy:1080", /must be an http:\/\/ URL/],
    ["http://proxy:3128/path", /without a path/],
    ["proxy:3128", /must be an http:\/\/ URL|must be a URL/],
  ] as const) {
    it(`refuses ${given}, naming the key and where it came from, never the value (it may hold a password)`, () => {
      let err: unknown;
      try {
        loadConfig({ env: { HOOKD_PROXY_URL: given } });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(HookdError);
      const message = (err as HookdError).message;
      expect(message).toMatch(/"dispatch\.proxyUrl" in HOOKD_PROXY_URL/);
      expect(message).toMatch(problem);
      expect(message).not.toContain(given);
    });
  }
});
