/** Console sessions: sign-in with a key, portal links, the cookie on API routes, CSRF, sign-out, expiry. */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cookieValue, sameOrigin } from "../../src/api/consoleAuth.js";
import { sessionCookie } from "../../src/console/routes.js";
import { apiHarness, type ApiHarness } from "../helpers/api.js";

let h: ApiHarness;
beforeEach(async () => {
  h = await apiHarness();
});
afterEach(async () => {
  await h.cleanup();
});

/** The cookie pair from a Set-Cookie header ("hookd_session=…"). */
const cookieOf = (headers: Headers) => headers.get("set-cookie")!.split(";")[0]!;

async function portal(body: unknown, key = h.adminKey) {
  return h.call("POST", "/portal-sessions/", { key, body });
}

async function open(url: string) {
  const token = new URL(url, h.server.url).hash.slice(1);
  const res = await h.call("POST", "/ui/session/portal", { key: null, body: { token } });
  return { res, cookie: res.status === 200 ? cookieOf(res.headers) : "" };
}

describe("POST /portal-sessions/", () => {
  it("gives a one-time link to one customer's console; its cookie reads and (with the CSRF token) writes only that customer's data", async () => {
    const link = await portal({ customer: h.app.customerId, expires_in: 60 });
    expect(link.status).toBe(201);
    // Relative without server.publicUrl: never built from the request's Host.
    expect(link.body.url).toMatch(/^\/ui\/portal#[\w-]{40,}$/);
    expect(Date.parse(link.body.expires_at) - Date.now()).toBeLessThanOrEqual(60_000);

    const { res, cookie } = await open(link.body.url);
    expect(res.body).toMatchObject({ admin: false, customer: h.app.customerId, customers: [{ id: h.app.customerId, name: "acme" }] });
    const setCookie = res.headers.get("set-cookie")!;
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).not.toMatch(/Secure/); // test env; production adds it

    // The link opened one browser, once.
    expect((await open(link.body.url)).res.status).toBe(401);

    const csrf = res.body.csrf_token as string;
    const hook = { url: "http://127.0.0.1:9/in", group: "orders", action: "created" };
    const noToken = await h.call("POST", "/webhooks/", { key: null, headers: { cookie }, body: hook });
    expect(noToken.status).toBe(403);
    expect(noToken.body.error.message).toMatch(/x-csrf-token/);
    const crossSite = await h.call("POST", "/webhooks/", { key: null, headers: { cookie, "x-csrf-token": csrf, origin: "http://evil.example" }, body: hook });
    expect(crossSite.status).toBe(403);
    expect((await h.call("GET", "/webhooks/", { key: null })).status).toBe(401);
    expect((await h.call("GET", "/webhooks/", { key: h.other.key })).body.count).toBe(0);
    const made = await h.call("POST", "/webhooks/", { key: null, headers: { cookie, "x-csrf-token": csrf }, body: hook });
    expect(made.status).toBe(201);
    expect(made.body.customer).toBe(h.app.customerId);

    // The portal session is that customer only: naming another is refused, another's ids are 404.
    const theirs = await h.call("POST", "/webhooks/", { key: h.other.key, body: hook });
    expect((await h.call("GET", `/webhooks/?customer=${h.other.customerId}`, { key: null, headers: { cookie } })).status).toBe(400);
    expect((await h.call("GET", `/webhooks/${theirs.body.id}/`, { key: null, headers: { cookie } })).status).toBe(404);
  });

  it("a portal session may not mint portal links or publish events: 403, nothing made", async () => {
    const link = await portal({ customer: h.app.customerId, expires_in: 60 });
    const { res, cookie } = await open(link.body.url);
    const headers = { cookie, "x-csrf-token": res.body.csrf_token as string };
    const links = async () => (await h.app.store.db.selectFrom("console_sessions").selectAll().execute()).length;
    const events = async () => (await h.app.store.db.selectFrom("events").selectAll().execute()).length;
    const [linksBefore, eventsBefore] = [await links(), await events()];

    const renewed = await h.call("POST", "/portal-sessions/", { key: null, headers, body: {} });
    expect(renewed.status).toBe(403);
    expect(renewed.body.error).toMatchObject({ code: "forbidden", message: expect.stringContaining("portal session may not create portal links") });
    const published = await h.call("POST", "/events/", { key: null, headers, body: { topic: "orders:created", payload: { n: 1 } } });
    expect(published.status).toBe(403);
    expect(published.body.error.message).toContain("may not publish events");
    expect([await links(), await events()]).toEqual([linksBefore, eventsBefore]);

    // What it may do: its own webhooks, end to end.
    const made = await h.call("POST", "/webhooks/", { key: null, headers, body: { url: "http://127.0.0.1:9/p", group: "orders", action: "created" } });
    expect(made.status).toBe(201);
    expect((await h.call("POST", `/webhooks/${made.body.id}/rotate-secret/`, { key: null, headers, body: {} })).status).toBe(200);
    expect((await h.call("GET", "/deliveries/", { key: null, headers: { cookie } })).status).toBe(200);

    // A console signed in with the customer's own key acts with that key's rights.
    const signedIn = await h.call("POST", "/ui/session", { key: null, body: { key: h.key } });
    const keyHeaders = { cookie: cookieOf(signedIn.headers), "x-csrf-token": signedIn.body.csrf_token as string };
    expect((await h.call("POST", "/portal-sessions/", { key: null, headers: keyHeaders, body: {} })).status).toBe(201);
  });

  it("a customer key makes links for itself only; an admin key must name the customer", async () => {
    expect((await portal({}, h.key)).status).toBe(201);
    expect((await portal({ customer: h.other.customerId }, h.key)).status).toBe(400);
    const unnamed = await portal({});
    expect(unnamed.status).toBe(400);
    expect(unnamed.body.error.details).toEqual([{ field: "customer", message: expect.stringContaining("admin key") }]);
    expect((await portal({ customer: "no-such-customer" })).status).toBe(404);
    expect((await portal({ customer: h.app.customerId, expires_in: 999_999 })).status).toBe(400);
  });

  it("an expired link is refused", async () => {
    const link = await portal({ customer: h.app.customerId, expires_in: 1 });
    await h.app.store.db
      .updateTable("console_sessions")
      .set({ expires_at: Date.now() - 1 })
      .execute();
    const { res } = await open(link.body.url);
    expect(res.status).toBe(401);
    expect(res.body.error.message).toMatch(/expired/);
  });
});

describe("signing in with a key", () => {
  it("an admin key opens every customer; sign-out ends the session", async () => {
    const bad = await h.call("POST", "/ui/session", { key: null, body: { key: "hk_adm_wrong" } });
    expect(bad.status).toBe(401);
    const res = await h.call("POST", "/ui/session", { key: null, body: { key: h.adminKey } });
    expect(res.status).toBe(200);
    expect(res.body.admin).toBe(true);
    expect(res.body.customers.map((c: { name: string }) => c.name).sort()).toEqual(["acme", "globex"]);
    const cookie = cookieOf(res.headers);
    expect(cookie).not.toContain(h.adminKey);
    expect((await h.call("GET", `/webhooks/?customer=${h.other.customerId}`, { key: null, headers: { cookie } })).status).toBe(200);

    const session = await h.call("GET", "/ui/session", { key: null, headers: { cookie } });
    expect(session.body.csrf_token).toBe(res.body.csrf_token);
    expect((await h.call("DELETE", "/ui/session", { key: null, headers: { cookie } })).status).toBe(403);
    const out = await h.call("DELETE", "/ui/session", { key: null, headers: { cookie, "x-csrf-token": res.body.csrf_token } });
    expect(out.status).toBe(204);
    expect(out.headers.get("set-cookie")).toMatch(/Max-Age=0/);
    expect((await h.call("GET", "/webhooks/", { key: null, headers: { cookie } })).status).toBe(401);
    expect((await h.call("GET", "/ui/session", { key: null, headers: { cookie } })).status).toBe(401);
  });

  it("an expired session is refused, by the API and by the console", async () => {
    const res = await h.call("POST", "/ui/session", { key: null, body: { key: h.key } });
    const cookie = cookieOf(res.headers);
    expect((await h.call("GET", "/webhooks/", { key: null, headers: { cookie } })).status).toBe(200);
    await h.app.store.db
      .updateTable("console_sessions")
      .set({ expires_at: Date.now() - 1 })
      .execute();
    const after = await h.call("GET", "/webhooks/", { key: null, headers: { cookie } });
    expect(after.status).toBe(401);
    expect(after.body.error.message).toMatch(/expired/);
    expect((await h.call("GET", "/ui/session", { key: null, headers: { cookie } })).status).toBe(401);
  });

  it("from another site's page is refused", async () => {
    const res = await h.call("POST", "/ui/session", { key: null, headers: { origin: "http://evil.example" }, body: { key: h.key } });
    expect(res.status).toBe(403);
  });
});

describe("cookie and origin rules", () => {
  it("the session cookie is HttpOnly and SameSite=Strict always, Secure in production", () => {
    expect(sessionCookie("tok", 60, false)).toBe("hookd_session=tok; Path=/; HttpOnly; SameSite=Strict; Max-Age=60");
    expect(sessionCookie("tok", 60, true)).toBe("hookd_session=tok; Path=/; HttpOnly; SameSite=Strict; Max-Age=60; Secure");
  });

  it.each([
    ["a=1; hookd_session=abc; b=2", "abc"],
    ["hookd_session=", null],
    ["other=x", null],
    [undefined, null],
  ])("cookie header %s → %s", (header, value) => expect(cookieValue(header, "hookd_session")).toBe(value));

  it.each([
    [undefined, "h:1", true],
    ["http://h:1", "h:1", true],
    ["http://h:2", "h:1", false],
    ["null", "h:1", false],
  ])("origin %s on host %s may write: %s", (origin, host, ok) => expect(sameOrigin(origin, host)).toBe(ok));
});
