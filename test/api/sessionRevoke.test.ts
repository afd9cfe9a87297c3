/**
 * Revoking an API key ends what it opened, on both stores: console sessions signed in
 * with it, portal links it made (unopened: they no longer open) and the portal sessions
 * opened from them; another key's sessions stay. And migration 013 on a database that
 * has sessions from before it, which name no key.
 */
import { afterEach, describe, expect, it } from "vitest";
import { authenticate, createApiKey, revokeApiKey } from "../../src/store/apiKeys.js";
import { createConsoleSession, findConsoleSession } from "../../src/store/consoleSessions.js";
import { migrateToLatest } from "../../src/store/migrate.js";
import { down } from "../../src/store/migrations/013_session_keys.js";
import { apiHarness, type ApiHarness } from "../helpers/api.js";
import { testApp, type TestApp } from "../helpers/app.js";
import { undoMigration } from "../helpers/migrations.js";
import { backends } from "../helpers/backends.js";

const cookieOf = (headers: Headers) => headers.get("set-cookie")!.split(";")[0]!;

describe.each(backends)("%s", (backend) => {
  let h: ApiHarness | undefined;
  let app: (TestApp & { cleanup: () => Promise<void> }) | undefined;
  afterEach(async () => {
    await h?.cleanup();
    await app?.cleanup();
    h = app = undefined;
  });

  async function signIn(key: string) {
    const res = await h!.call("POST", "/ui/session", { key: null, body: { key } });
    expect(res.status).toBe(200);
    return { cookie: cookieOf(res.headers), csrf: res.body.csrf_token as string };
  }
  const revoke = async (key: string) => {
    const principal = await authenticate(h!.app.store.db, key);
    expect(await revokeApiKey(h!.app.store.db, principal!.keyId)).toBe(true);
  };
  const portalToken = (url: string) => new URL(url, h!.server.url).hash.slice(1);

  it("signs out the console sessions a revoked key opened, and voids its links; another key's session stays", async () => {
    h = await apiHarness({}, backend);
    const { call } = h;
    const mine = await signIn(h.key);
    const others = await signIn(h.other.key);
    const unopened = await call("POST", "/portal-sessions/", { body: {} });
    const opened = await call("POST", "/portal-sessions/", { body: {} });
    const portal = await call("POST", "/ui/session/portal", { key: null, body: { token: portalToken(opened.body.url) } });
    expect(portal.status).toBe(200);
    const portalCookie = cookieOf(portal.headers);
    // A link made from the console session names the key the session was opened with.
    const fromConsole = await call("POST", "/portal-sessions/", { key: null, headers: { cookie: mine.cookie, "x-csrf-token": mine.csrf }, body: {} });
    expect(fromConsole.status).toBe(201);
    expect((await call("GET", "/webhooks/", { key: null, headers: { cookie: mine.cookie } })).status).toBe(200);

    await revoke(h.key);

    const refused = await call("GET", "/webhooks/", { key: null, headers: { cookie: mine.cookie } });
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toMatch(/API key was revoked: sign in again/);
    expect((await call("GET", "/ui/session", { key: null, headers: { cookie: mine.cookie } })).status).toBe(401);
    expect((await call("GET", "/webhooks/", { key: null, headers: { cookie: portalCookie } })).status).toBe(401);
    for (const link of [unopened, fromConsole]) {
      const res = await call("POST", "/ui/session/portal", { key: null, body: { token: portalToken(link.body.url) } });
      expect(res.status).toBe(401);
    }
    expect((await call("GET", "/webhooks/", { key: null, headers: { cookie: others.cookie } })).status).toBe(200);
    // Nothing of the revoked key is left behind.
    const left = await h.app.store.db.selectFrom("console_sessions").select("customer_id").execute();
    expect(left).toEqual([{ customer_id: h.other.customerId }]);
  });

  it("migration 013 ends the sessions and links made before it, which name no key; later ones go with theirs", async () => {
    app = await testApp({}, backend);
    const db = app.store.db;
    // The database as it was before 013, with a session and a link of that time.
    await undoMigration(db, "013_session_keys", down);
    const soon = Date.now() + 60_000;
    for (const [id, kind] of [
      ["old-session", "session"],
      ["old-link", "link"],
    ] as const) {
      await db
        .insertInto("console_sessions")
        .values({ id, kind, customer_id: app.customerId, csrf_token: "t", created_at: Date.now(), expires_at: soon } as never)
        .execute();
    }

    expect(await migrateToLatest(db)).toMatchObject({ applied: ["013_session_keys"] });

    expect(await db.selectFrom("console_sessions").selectAll().execute()).toEqual([]);
    const key = await createApiKey(db, app.customerId);
    const { token } = await createConsoleSession(db, "session", app.customerId, key.id, soon);
    expect(await findConsoleSession(db, token)).toMatchObject({ apiKeyId: key.id });
    await revokeApiKey(db, key.id);
    expect(await findConsoleSession(db, token)).toBeNull();
  });
});
