/**
 * The hostile inputs of issue 13, one by one, with the answer each must get. (The fuzz
 * test sends hundreds more; this names what each case means.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiHarness, type ApiHarness } from "../helpers/api.js";
import { backends } from "../helpers/backends.js";
import { memoryLogger, type MemoryLog } from "../helpers/logs.js";
import { numericQueryParams } from "../helpers/numericParams.js";
import { httpText, rawRequest } from "../helpers/rawHttp.js";

let h: ApiHarness;
let log: MemoryLog;
beforeAll(async () => {
  log = memoryLogger("debug");
  h = await apiHarness({ limits: { maxWebhooksPerCustomer: 3 } }, "sqlite", log.logger);
});
afterAll(async () => {
  await h.cleanup();
});

const count = async (table: "webhooks" | "events") => (await h.app.store.db.selectFrom(table).selectAll().execute()).length;
const hook = (url: string, extra: Record<string, unknown> = {}) =>
  h.call("POST", "/webhooks/", { body: { url, group: "orders", action: "created", ...extra } });

describe("hostile inputs", () => {
  it("a page past what the store can hold is a 400 on both paginated lists", async () => {
    const created = await hook("http://127.0.0.1:9/pages");
    for (const path of ["/webhooks/", `/webhooks/${created.body.id}/deliveries/`]) {
      for (const page of ["1e20", "99999999999999999999", "1000000001"]) {
        const res = await h.call("GET", `${path}?page=${page}`);
        expect(res.status).toBe(400);
        expect(res.body.error.details[0].field).toBe("page");
      }
    }
    await h.call("DELETE", `/webhooks/${created.body.id}/`);
  });

  it("an empty, invalid or missing Host gets a correct answer whose links do not come from it", async () => {
    const auth: [string, string] = ["Authorization", `Bearer ${h.key}`];
    for (const [headers, version] of [
      [[["Host", ""], auth], "HTTP/1.1"],
      [[["Host", "[::1"], auth], "HTTP/1.1"],
      [[["Host", "evil.example"], auth], "HTTP/1.1"],
      [[auth], "HTTP/1.0"],
    ] as [[string, string][], string][]) {
      const reply = await rawRequest(h.server.url, httpText("GET", "/webhooks/?limit=1&page=2", [...headers, ["Connection", "close"]], "", version));
      expect(reply.status).toBe(200);
      const body = JSON.parse(reply.text.slice(reply.text.indexOf("\r\n\r\n") + 4));
      expect(body.previous).toBe("/webhooks/?limit=1&page=1");
      expect(reply.text).not.toContain("evil.example");
    }
  });

  it("no link in any answer comes from a hostile Host or X-Forwarded-Host, on every paginated route and portal links", async () => {
    const created = await hook("http://127.0.0.1:9/links");
    for (let i = 0; i < 3; i++) expect((await h.call("POST", "/events/", { body: { topic: "orders:created", payload: { i } } })).status).toBe(202);
    const routes: [string, string, string][] = [
      ["GET", "/webhooks/?limit=1&page=2", ""],
      ["GET", "/events/?limit=1", ""],
      ["GET", "/deliveries/?limit=1", ""],
      ["GET", `/webhooks/${created.body.id}/deliveries/?limit=1&page=2`, ""],
      ["POST", "/portal-sessions/", "{}"],
    ];
    for (const [method, path, body] of routes) {
      const headers: [string, string][] = [
        ["Host", "evil.example"],
        ["X-Forwarded-Host", "evil-forwarded.example"],
        ["X-Forwarded-Proto", "https"],
        ["Authorization", `Bearer ${h.key}`],
        ...(body
          ? ([
              ["Content-Type", "application/json"],
              ["Content-Length", String(body.length)],
            ] as [string, string][])
          : []),
        ["Connection", "close"],
      ];
      const reply = await rawRequest(h.server.url, httpText(method, path, headers, body));
      expect(reply.status, `${method} ${path}`).toBeLessThan(300);
      expect(reply.text, `${method} ${path}`).not.toContain("evil");
      const answer = JSON.parse(reply.text.slice(reply.text.indexOf("\r\n\r\n") + 4));
      const links = [answer.next, answer.previous, answer.url].filter((l): l is string => typeof l === "string");
      expect(links.length, `${method} ${path} gives a link`).toBeGreaterThan(0);
      for (const link of links) expect(link, `${method} ${path}`).toMatch(/^\/(webhooks|events|deliveries|ui)\//);
    }
    await h.call("DELETE", `/webhooks/${created.body.id}/`);
  });

  it("builds links on server.publicUrl when it is configured", async () => {
    const other = await apiHarness({ server: { publicUrl: "https://hooks.example.com/api" } });
    try {
      const res = await other.call("GET", "/webhooks/?limit=5&page=3", { headers: { host: "evil.example" } });
      expect(res.body.previous).toBe("https://hooks.example.com/api/webhooks/?limit=5&page=1");
      for (let i = 0; i < 2; i++) await other.call("POST", "/events/", { body: { topic: "orders:created", payload: { i } } });
      const events = await other.call("GET", "/events/?limit=1");
      expect(events.body.next).toMatch(/^https:\/\/hooks\.example\.com\/api\/events\/\?limit=1&cursor=/);
      const link = await other.call("POST", "/portal-sessions/", { body: {} });
      expect(link.body.url).toMatch(/^https:\/\/hooks\.example\.com\/api\/ui\/portal#[\w-]{40,}$/);
    } finally {
      await other.cleanup();
    }
  });

  it("refuses a payload nested past 100 levels, and reads back one that is accepted", async () => {
    const before = await count("events");
    const deep = await h.call("POST", "/events/", { raw: `{"topic":"orders:created","payload":${"[".repeat(5000)}${"]".repeat(5000)}}` });
    expect(deep.status).toBe(400);
    expect(deep.body.error.details).toEqual([{ field: "payload", message: "must not nest deeper than 100 levels" }]);
    expect(await count("events")).toBe(before);

    const payload = `${"[".repeat(100)}"\\"[{"${"]".repeat(100)}`;
    const ok = await h.call("POST", "/events/", { raw: `{"topic":"orders:created","payload":${payload}}` });
    expect(ok.status).toBe(202);
    const back = await h.call("GET", `/events/${ok.body.id}/`);
    expect(back.status).toBe(200);
    expect(JSON.stringify(back.body.payload)).toBe(payload);
  });

  it("a repeated Idempotency-Key header is a 400, and nothing is published", async () => {
    const before = await count("events");
    const body = Buffer.from('{"topic":"orders:created","payload":{}}');
    const headers: [string, string][] = [
      ["Host", "x"],
      ["Authorization", `Bearer ${h.key}`],
      ["Content-Type", "application/json"],
      ["Content-Length", String(body.length)],
      ["Idempotency-Key", "a"],
      ["Idempotency-Key", "b"],
      ["Connection", "close"],
    ];
    const reply = await rawRequest(h.server.url, httpText("POST", "/events/", headers, body));
    expect(reply.status).toBe(400);
    expect(reply.text).toContain("must be sent once (got 2 idempotency-key headers)");
    expect(await count("events")).toBe(before);
  });

  it("a lone surrogate in a secret, a URL or an idempotency key is a 400, not silently changed", async () => {
    const before = await count("webhooks");
    const secret = await h.call("POST", "/webhooks/", { raw: '{"url":"http://127.0.0.1:9/s","group":"orders","action":"created","hash_secret":"abc\\ud800"}' });
    expect(secret.status).toBe(400);
    expect(secret.body.error.details).toEqual([{ field: "hash_secret", message: "must be valid Unicode (it holds a lone surrogate)" }]);
    const url = await h.call("POST", "/webhooks/", { raw: '{"url":"http://127.0.0.1:9/\\udc00","group":"orders","action":"created"}' });
    expect(url.status).toBe(400);
    expect(url.body.error.details[0]).toMatchObject({ field: "url", message: expect.stringContaining("lone surrogates") });
    expect(await count("webhooks")).toBe(before);
    const key = await h.call("POST", "/events/", { raw: '{"topic":"orders:created","payload":{},"idempotency_key":"k\\ud800"}' });
    expect(key.status).toBe(400);
    // A paired surrogate is an ordinary character.
    expect((await hook("http://127.0.0.1:9/s", { hash_secret: "\ud83d\ude9a" })).status).toBe(201);
  });

  it("JSON in a charset other than UTF-8 is a 415; UTF-8 by any spelling is fine", async () => {
    const body = '{"topic":"orders:created","payload":{"n":1}}';
    for (const charset of ["latin1", "ISO-8859-1", "utf-16", '"windows-1252"']) {
      const res = await h.call("POST", "/events/", { raw: body, headers: { "content-type": `application/json; charset=${charset}` } });
      expect(res.status).toBe(415);
      expect(res.body.error.code).toBe("unsupported_media_type");
    }
    for (const charset of ["utf-8", "UTF-8", '"utf-8"', "utf8"]) {
      expect((await h.call("POST", "/events/", { raw: body, headers: { "content-type": `application/json; charset=${charset}` } })).status).toBe(202);
    }
  });

  it("a second webhook with the same URL and topic is a 409; another topic is fine; so is the URL once normalised", async () => {
    const first = await hook("http://127.0.0.1:9/dup");
    expect(first.status).toBe(201);
    const twin = await hook("HTTP://127.0.0.1:9/dup");
    expect(twin.status).toBe(409);
    expect(twin.body.error.details).toEqual([{ field: "url", message: `webhook ${first.body.id} already has this URL and topic` }]);
    const moved = await h.call("PATCH", `/webhooks/${first.body.id}/`, { body: { action: "updated" } });
    expect(moved.status).toBe(200);
    expect((await hook("http://127.0.0.1:9/dup")).status).toBe(201);
  });

  it("past limits.maxWebhooksPerCustomer a new webhook is a 409, and the other customer is not affected", async () => {
    const live = (await h.call("GET", "/webhooks/")).body.count as number;
    for (let i = live; i < 3; i++) expect((await hook(`http://127.0.0.1:9/limit${i}`)).status).toBe(201);
    const over = await hook("http://127.0.0.1:9/one-too-many");
    expect(over.status).toBe(409);
    expect(over.body.error.message).toContain("limits.maxWebhooksPerCustomer");
    expect((await hook("http://127.0.0.1:9/theirs")).status).toBe(409);
    expect(
      (await h.call("POST", "/webhooks/", { key: h.other.key, body: { url: "http://127.0.0.1:9/theirs", group: "orders", action: "created" } })).status,
    ).toBe(201);
  });

  it("never logs a credential from the query string", async () => {
    await h.call("GET", "/webhooks/?api_key=hk_cus_SECRET_IN_QUERY&access_token=TOKEN_IN_QUERY&limit=1");
    const text = log.text();
    expect(text).toContain("api_key=[redacted]");
    expect(text).not.toContain("hk_cus_SECRET_IN_QUERY");
    expect(text).not.toContain("TOKEN_IN_QUERY");
    expect(text).toContain("limit=1");
  });
});

/** Numbers no parameter takes: infinite, past a double, not integers, not decimal. */
const HOSTILE_NUMBERS = ["1e400", "-1e400", "Infinity", "-Infinity", "NaN", "9".repeat(400), `-${"9".repeat(400)}`, "1.5", "0x10", "1e3", " 1", "1e-400"];

describe.each(backends)("hostile numbers (%s)", (backend) => {
  let n: ApiHarness;
  let hookId: string;
  beforeAll(async () => {
    n = await apiHarness({}, backend);
    hookId = (await n.call("POST", "/webhooks/", { body: { url: "http://127.0.0.1:9/numbers", group: "orders", action: "created" } })).body.id;
  });
  afterAll(async () => {
    await n?.cleanup();
  });

  it("GET /webhooks/?page=1e400 is a 400 naming page (it was a 500)", async () => {
    const res = await n.call("GET", "/webhooks/?page=1e400");
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ field: "page", message: "must be integer" }]);
  });

  it("every numeric query parameter of every route answers 400 naming it, never 5xx", async () => {
    for (const [path, param] of numericQueryParams(hookId)) {
      for (const value of HOSTILE_NUMBERS) {
        const res = await n.call("GET", `${path}?${param}=${encodeURIComponent(value)}`);
        expect(res.status, `${path}?${param}=${value.slice(0, 20)}`).toBe(400);
        expect(res.body.error.details.map((d: { field: string }) => d.field)).toEqual([param]);
      }
    }
    // Still read as numbers when they are ones; every bad parameter is named at once.
    expect((await n.call("GET", "/webhooks/?page=%2B1&limit=0010")).status).toBe(200);
    const both = await n.call("GET", "/webhooks/?page=1e400&limit=0&sort=nope");
    expect(both.body.error.details.map((d: { field: string }) => d.field)).toEqual(["page", "limit", "sort"]);
  });

  it("digits past a double's range say which end they are past", async () => {
    const big = await n.call("GET", `/webhooks/?limit=${"9".repeat(400)}`);
    expect(big.body.error.details).toEqual([{ field: "limit", message: "must be <= 500" }]);
    const small = await n.call("GET", `/stats/?bucket=-${"9".repeat(400)}`);
    expect(small.body.error.details).toEqual([{ field: "bucket", message: "must be >= 60" }]);
    const late = await n.call("GET", "/events/?since=8640000000000001");
    expect(late.status).toBe(400);
    expect(late.body.error.details[0].field).toBe("since");
    // Dates V8 would guess at ("1.5" is a day in 2001) are not times.
    for (const value of ["1.5", "1,2", "-1", "2026-01-31T12:00:00+02"]) {
      expect((await n.call("GET", `/deliveries/?until=${encodeURIComponent(value)}`)).status, value).toBe(400);
    }
    for (const value of ["2026-01-31", "2026-01-31T12:00Z", "2026-01-31T12:00:00.123+02:00", "1767225600000"]) {
      expect((await n.call("GET", `/deliveries/?until=${encodeURIComponent(value)}`)).status, value).toBe(200);
    }
  });

  it("numbers in bodies: infinite, huge, fractional or negative are 400 naming the field, and change nothing", async () => {
    const sessions = async () => (await n.app.store.db.selectFrom("console_sessions").select("id").execute()).length;
    const before = await sessions();
    const secretBefore = (await n.app.store.db.selectFrom("webhooks").select("hash_secret").where("id", "=", hookId).executeTakeFirstOrThrow()).hash_secret;
    // (1e-400 is not among them: JSON reads it as 0, which overlap_seconds takes.)
    for (const value of ["1e400", "-1e400", "1.5", "-1", "1e20", "9".repeat(400)]) {
      const portal = await n.call("POST", "/portal-sessions/", { raw: `{"expires_in":${value}}` });
      expect(portal.status, `expires_in ${value.slice(0, 20)}`).toBe(400);
      expect(portal.body.error.details[0].field).toBe("expires_in");
      const rotate = await n.call("POST", `/webhooks/${hookId}/rotate-secret/`, { raw: `{"overlap_seconds":${value}}` });
      expect(rotate.status, `overlap_seconds ${value.slice(0, 20)}`).toBe(400);
      expect(rotate.body.error.details[0].field).toBe("overlap_seconds");
      const replay = await n.call("POST", "/deliveries/retry/", { body: { since: value } });
      expect(replay.status, `since ${value.slice(0, 20)}`).toBe(400);
    }
    expect(await sessions()).toBe(before);
    const secretAfter = (await n.app.store.db.selectFrom("webhooks").select("hash_secret").where("id", "=", hookId).executeTakeFirstOrThrow()).hash_secret;
    expect(secretAfter).toBe(secretBefore);
  });
});
