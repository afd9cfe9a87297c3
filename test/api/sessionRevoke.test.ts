/**
 * Revoking an API key ends what it opened, on both stores: console sessions signed in
 * with it, portal links it made (unopened: they no longer open) and the portal sessions
 * opened from them; another key's sessions stay.
 */
import { afterEach, describe, expect, it } from "vitest";
import { authenticate, revokeApiKey } from "../../src/store/apiKeys.js";
import { apiHarness, type ApiHarness } from "../helpers/api.js";
import { backends } from "../helpers/backends.js";

const cookieOf = (headers: Headers) => headers.get("set-cookie")!.split(";")[0]!;

describe.each(backends)("%s", (backend) => {
  let h: ApiHarness;
  afterEach(async () => {
    await h.cleanup();
  });

  async function signIn(key: string) {
    const res = await h.call("POST", "/ui/session", { key: null, body: { key } });
    expect(res.status).toBe(200);
    return { cookie: cookieOf(res.headers), csrf: res.body.csrf_token as string };
  }
  const revoke = async (key: string) => {
    const principal = await authenticate(h.app.store.db, key);
    expect(await revokeApiKey(h.app.store.db, principal!.keyId)).toBe(true);
  };
  const portalToken = (url: string) => new URL(url, h.server.url).hash.slice(1);

  it("signs out the console sessions a revoked key opened, and voids its links; another key's session stays", async () => {
    h = await apiHarness({}, backend);
    const mine = await signIn(h.key);
    const others = await signIn(h.other.key);
    const unopened = await h.call("POST", "/portal-sessions/", { body: {} });
    const opened = await h.call("POST", "/portal-sessions/", { body: {} });
    const portal = await h.call("POST", "/ui/session/portal", { key: null, body: { token: portalToken(opened.body.url) } });
    expect(portal.status).toBe(200);
    const portalCookie = cookieOf(portal.headers);
    // A link made from the console session names the key the session was opened with.
    const fromConsole = await h.call("POST", "/portal-sessions/", { key: null, headers: { cookie: mine.cookie, "x-csrf-token": mine.csrf }, body: {} });
    expect(fromConsole.status).toBe(201);
    expect((await h.call("GET", "/webhooks/", { key: null, headers: { cookie: mine.cookie } })).status).toBe(200);

    await revoke(h.key);

    const refused = await h.call("GET", "/webhooks/", { key: null, headers: { cookie: mine.cookie } });
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toMatch(/sign in again/);
    expect((await h.call("GET", "/ui/session", { key: null, headers: { cookie: mine.cookie } })).status).toBe(401);
    expect((await h.call("GET", "/webhooks/", { key: null, headers: { cookie: portalCookie } })).status).toBe(401);
    for (const link of [unopened, fromConsole]) {
      const res = await h.call("POST", "/ui/session/portal", { key: null, body: { token: portalToken(link.body.url) } });
      expect(res.status).toBe(401);
    }
    expect((await h.call("GET", "/webhooks/", { key: null, headers: { cookie: others.cookie } })).status).toBe(200);
    // Nothing of the revoked key is left behind.
    const left = await h.app.store.db.selectFrom("console_sessions").select("customer_id").execute();
    expect(left).toEqual([{ customer_id: h.other.customerId }]);
  });
});
