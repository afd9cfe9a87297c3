/**
 * `headers` and `auth` at a real receiver, through real ticks, on both stores: the
 * webhook's own headers, a static bearer token, and OAuth2 client credentials against a
 * real token endpoint (one token for many deliveries, a new one when it expires, a 401
 * answered by a fresh token and one more try, a failing token endpoint). No secret is
 * ever logged or shown.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/dispatch/clock.js";
import { Dispatcher } from "../../src/dispatch/dispatcher.js";
import { publish as publishEvent } from "../../src/publishing.js";
import { webhookJson } from "../../src/store/model.js";
import { createWebhook, getWebhook } from "../../src/store/webhooks.js";
import { testApp } from "../helpers/app.js";
import { backends } from "../helpers/backends.js";
import { memoryLogger, type MemoryLog } from "../helpers/logs.js";
import { ok, startReceiver, type Receiver, type Responder } from "../helpers/receiver.js";
import { startTokenEndpoint, type TokenEndpoint, type TokenOptions } from "../helpers/tokenEndpoint.js";

type App = Awaited<ReturnType<typeof testApp>>;

const CLIENT = { clientId: "hookd-client", clientSecret: "oauth-client-secret-canary" };
const BEARER = "static-bearer-token-canary";

describe.each(backends)("receiver auth and headers (%s)", (backend) => {
  let app: App | undefined;
  let receiver: Receiver | undefined;
  let tokens: TokenEndpoint | undefined;
  let log: MemoryLog;
  afterEach(async () => {
    await receiver?.close();
    await tokens?.close();
    await app?.cleanup();
    app = receiver = tokens = undefined;
  });

  async function setup(responder: Responder = ok, token?: Partial<TokenOptions>) {
    log = memoryLogger("debug");
    receiver = await startReceiver(responder);
    if (token) tokens = await startTokenEndpoint({ ...CLIENT, ...token });
    app = await testApp({}, backend, log.logger);
    return app;
  }

  const oauth2 = (scope?: string) => ({
    type: "oauth2",
    token_url: tokens!.url,
    client_id: CLIENT.clientId,
    client_secret: CLIENT.clientSecret,
    ...(scope ? { scope } : {}),
  });

  async function hook(settings: Record<string, unknown>, path = "/in"): Promise<string> {
    const { row } = await createWebhook(
      app!.store.db,
      app!.keyring,
      app!.customerId,
      { url: `${receiver!.url}${path}`, group: "orders", action: "created", hash_secret: "s3cret", ...settings },
      app!.webhookRules,
    );
    return row.id;
  }

  const publish = (n = 1, now?: number) =>
    Promise.all(
      Array.from({ length: n }, (_, i) =>
        publishEvent(app!.store.db, { customerId: app!.customerId, topic: "orders:created", payload: `{"n":${i}}` }, app!.publishRules, now),
      ),
    );

  const attempts = () => app!.store.db.selectFrom("attempts").selectAll().orderBy("started_at").execute();

  /** Nothing secret in the log, the attempts or any read of the webhook. */
  async function noSecretsShown(id: string) {
    const shown = JSON.stringify([webhookJson(await getWebhook(app!.store.db, id), app!.keyring), await attempts()]);
    for (const canary of [CLIENT.clientSecret, BEARER, ...(tokens?.issued ?? [])]) {
      expect(log.text()).not.toContain(canary);
      expect(shown).not.toContain(canary);
    }
  }

  it("adds the webhook's own headers and a bearer token to every request", async () => {
    await setup();
    const id = await hook({ headers: { "X-Tenant": "acme", "x-api-version": "2024-06-01" }, auth: { type: "bearer", token: BEARER } });
    await publish(2);
    expect((await app!.dispatcher.tick()).delivered).toBe(2);
    for (const req of receiver!.requests) {
      expect(req.headers).toMatchObject({ "x-tenant": "acme", "x-api-version": "2024-06-01", authorization: `Bearer ${BEARER}` });
    }
    expect(webhookJson(await getWebhook(app!.store.db, id), app!.keyring)).toMatchObject({
      headers: { "X-Tenant": "acme", "x-api-version": "2024-06-01" },
      auth: { type: "bearer" },
    });
    await noSecretsShown(id);
  });

  it("OAuth2: fetches one token for many deliveries, with the client's Basic credentials and the scope", async () => {
    await setup(ok, {});
    const id = await hook({ auth: oauth2("hooks:write orders:read") });
    await publish(12);
    expect((await app!.dispatcher.tick()).delivered).toBe(12);
    expect(tokens!.issued).toEqual(["tok_1"]);
    expect(tokens!.credentials()).toEqual([{ id: CLIENT.clientId, secret: CLIENT.clientSecret }]);
    expect(Object.fromEntries(tokens!.forms()[0]!)).toEqual({ grant_type: "client_credentials", scope: "hooks:write orders:read" });
    expect(tokens!.receiver.requests[0]!.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(new Set(receiver!.requests.map((r) => r.headers.authorization))).toEqual(new Set(["Bearer tok_1"]));
    // The next tick still uses it.
    await publish(1);
    await app!.dispatcher.tick();
    expect(tokens!.issued).toEqual(["tok_1"]);
    expect(webhookJson(await getWebhook(app!.store.db, id), app!.keyring).auth).toEqual({
      type: "oauth2",
      token_url: tokens!.url,
      client_id: CLIENT.clientId,
      scope: "hooks:write orders:read",
    });
    await noSecretsShown(id);
  });

  it("OAuth2: keeps a token until shortly before expires_in, then fetches a new one", async () => {
    await setup(ok, { expiresIn: 120 });
    await hook({ auth: oauth2() });
    const clock = new ManualClock();
    const dispatcher = new Dispatcher(app!.store.db, app!.config.dispatch, app!.config.retry, log.logger, { clock, keyring: app!.keyring });
    try {
      // Published on the test's clock, so each is due at the tick that follows.
      await publish(1, clock.now());
      await dispatcher.tick();
      expect(tokens!.issued).toEqual(["tok_1"]);
      clock.advance(100_000); // within the token's life, less the margin
      await publish(1, clock.now());
      await dispatcher.tick();
      expect(tokens!.issued).toEqual(["tok_1"]);
      clock.advance(10_000); // 110 s: past 120 s less the margin (12 s)
      await publish(1, clock.now());
      await dispatcher.tick();
      expect(tokens!.issued).toEqual(["tok_1", "tok_2"]);
      expect(receiver!.requests.map((r) => r.headers.authorization)).toEqual(["Bearer tok_1", "Bearer tok_1", "Bearer tok_2"]);
    } finally {
      dispatcher.close();
    }
  });

  it("OAuth2: a 401 from the receiver gets a fresh token and one more try, within the same attempt", async () => {
    // The receiver only accepts the second token: the first was revoked on its side.
    await setup((req, res) => res.writeHead(req.headers.authorization === "Bearer tok_2" ? 200 : 401).end(), {});
    await hook({ auth: oauth2() });
    await publish(1);
    expect((await app!.dispatcher.tick()).delivered).toBe(1);
    expect(receiver!.requests.map((r) => r.headers.authorization)).toEqual(["Bearer tok_1", "Bearer tok_2"]);
    expect(tokens!.issued).toEqual(["tok_1", "tok_2"]);
    expect(await attempts()).toEqual([expect.objectContaining({ number: 1, status_code: 200, error: null })]);
  });

  it("OAuth2: retries once only: a receiver that keeps answering 401 fails the attempt as http 401", async () => {
    await setup((_req, res) => res.writeHead(401).end("no"), {});
    await hook({ auth: oauth2() });
    await publish(1);
    const summary = await app!.dispatcher.tick();
    expect(summary).toMatchObject({ delivered: 0, rescheduled: 1 });
    expect(receiver!.requests).toHaveLength(2);
    expect(tokens!.issued).toHaveLength(2);
    expect(await attempts()).toEqual([expect.objectContaining({ number: 1, status_code: 401, error: "http" })]);
  });

  it.each([
    [
      "refuses the client",
      { status: 401, body: '{"error":"invalid_client","error_description":"bad secret oauth-client-secret-canary"}' },
      "HTTP 401: invalid_client",
    ],
    ["fails", { status: 503, body: "down for maintenance" }, "HTTP 503"],
    ["answers without a token", { status: 200, body: '{"token_type":"Bearer"}' }, "no usable access_token"],
  ])("OAuth2: a token endpoint that %s fails the attempt with error class auth, sending nothing", async (_name, fail, message) => {
    await setup(ok, { fail });
    const id = await hook({ auth: oauth2() });
    await publish(1);
    expect((await app!.dispatcher.tick()).rescheduled).toBe(1);
    expect(receiver!.requests).toEqual([]);
    const [attempt] = await attempts();
    expect(attempt).toMatchObject({ number: 1, status_code: null, error: "auth" });
    expect(attempt!.error_message).toContain(message);
    const delivery = await app!.store.db.selectFrom("deliveries").selectAll().executeTakeFirstOrThrow();
    expect(delivery).toMatchObject({ status: "pending", attempts: 1, last_error: "auth" });
    await noSecretsShown(id);
  });

  it("OAuth2: token requests dial through the dispatcher's address guard", async () => {
    receiver = await startReceiver();
    tokens = await startTokenEndpoint(CLIENT);
    log = memoryLogger("debug");
    app = await testApp({ security: { allowHttp: true, allowPrivateAddresses: false } }, backend, log.logger);
    // Saved under sandbox rules, as if the config changed since: the guard still stops the token request.
    const sandbox = { ...app.webhookRules, url: { allowHttp: true, allowPrivateAddresses: true } };
    const input = { url: `${receiver.url}/in`, group: "orders", action: "created", auth: oauth2() };
    await createWebhook(app.store.db, app.keyring, app.customerId, input, sandbox);
    await publish(1);
    await app.dispatcher.tick();
    expect(tokens.receiver.requests).toEqual([]);
    const [attempt] = await attempts();
    expect(attempt).toMatchObject({ error: "auth", error_message: expect.stringContaining("the OAuth2 token request failed (blocked)") });
  });

  it("OAuth2: a token endpoint that is not there is an auth failure naming the transport error", async () => {
    await setup(ok, {});
    await tokens!.close();
    await hook({ auth: oauth2() });
    await publish(1);
    await app!.dispatcher.tick();
    const [attempt] = await attempts();
    expect(attempt).toMatchObject({ error: "auth", error_message: expect.stringContaining("the OAuth2 token request failed (refused)") });
  });
});
