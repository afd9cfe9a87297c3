/**
 * Hostile input, in bulk: a few hundred malformed requests from a seeded generator
 * (the same ones on every run), against the API in production and in sandbox. None may
 * get a 5xx, none may change the store, and nothing may reach the log as an unhandled
 * error or show a credential.
 */
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../src/store/connect.js";
import { apiHarness, type ApiHarness } from "../helpers/api.js";
import { memoryLogger, type MemoryLog } from "../helpers/logs.js";
import { numericQueryParams } from "../helpers/numericParams.js";
import { httpText, rawRequest, type RawReply } from "../helpers/rawHttp.js";

const REQUESTS_PER_ENVIRONMENT = 300;
const SEED = 0x5eed13;

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function generator(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  return { next, int, pick };
}

type Random = ReturnType<typeof generator>;

interface Fixture {
  /** the URLs this environment refuses */
  badUrls: readonly string[];
  host: string;
  key: string;
  hookId: string;
  hookUrl: string;
  secretCanary: string;
}

interface Case {
  name: string;
  bytes: Buffer;
  /** the client hangs up without waiting (a body shorter than its Content-Length): no answer is fine */
  abandoned?: boolean;
}

const MISSING_ID = "0b7e9d3c-1111-4222-8333-944445555666";

const hostileStrings = [
  "",
  " ",
  "\u0000",
  "a\r\nX-Injected: 1",
  "\u001b[2J\u001b]0;owned\u0007",
  "\\ud800",
  "\\udfff\\ud800",
  "%00",
  "%ZZ",
  "../../etc/passwd",
  "' OR 1=1 --",
  "🚚".repeat(40),
  "x".repeat(3000),
  "\u202eevil",
  "null",
  "[]",
];

/** Refused in production only: sandbox allows http and private addresses. */
const productionOnlyBadUrls = [
  "https://[::ffff:0:7f00:1]/",
  "https://[::ffff:127.0.0.1]/",
  "https://[::1]/",
  "https://127.0.0.1/",
  "https://2130706433/",
  "https://0x7f.1/",
  "https://169.254.169.254/latest/meta-data/",
  "http://93.184.216.34/",
];

/** Refused everywhere. */
const badUrls = [
  "http://93.184.216.34/a\r\nb",
  "https://93.184.216.34/\u001b[31m",
  "https://93.184.216.34/\thook",
  "https://93.184.216.34/ hook",
  "https://93.184.216.34/\u0085",
  "https://93.184.216.34/\\ud800",
  "javascript:alert(1)",
  "file:///etc/passwd",
  "ftp://93.184.216.34/",
  "https://user:pw@93.184.216.34/",
  `https://93.184.216.34/${"a".repeat(2100)}`,
  "not a url",
  "https://",
];

const hostileQueries = [
  "page=1e20",
  "page=99999999999999999999",
  "page=-1",
  "page=0",
  "page=1.5",
  "page=NaN",
  "page=",
  "limit=0",
  "limit=501",
  "limit=1e3",
  "limit=-5",
  "sort=id;drop%20table%20webhooks",
  "sort=created_at&sort=url",
  "direction=sideways",
  "status=exploded",
  "customer=%27%20OR%201%3D1",
  "customer=",
  "api_key=hk_cus_LEAKED_IN_QUERY",
  "token=LEAKED_TOKEN",
  "unknown=1",
  "page=%ZZ",
  "page[]=1",
  "__proto__[x]=1",
];

/** A number no query parameter takes: infinite, past a double, not an integer, not decimal digits. */
function hostileQueryNumber(r: Random): string {
  switch (r.int(4)) {
    case 0:
      return r.pick(["1e400", "-1e400", "Infinity", "-Infinity", "NaN", "1e308", "1e-400", "0x10", "0b11", "1_000", "%201", "1%00", "-0.0"]);
    case 1:
      return `${r.pick(["", "-", "+"])}${"9".repeat(17 + r.int(400))}`;
    case 2:
      return `${r.int(1000)}.${1 + r.int(999)}`;
    default:
      return `${r.pick(["", "-"])}${1 + r.int(9)}e${r.int(500)}`;
  }
}

/** A JSON number no body field takes: infinite once parsed, past every maximum, negative or fractional. */
function hostileJsonNumber(r: Random): string {
  return r.pick(["1e400", "-1e400", "1e308", "-1", `${r.int(100)}.5`, "9".repeat(17 + r.int(400)), `-${"9".repeat(17 + r.int(400))}`]);
}

function deepJson(depth: number): string {
  return `${"[".repeat(depth)}${"]".repeat(depth)}`;
}

/** A JSON text with a raw (unescaped-by-JSON.stringify) fragment spliced in, so "\\ud800" stays an escape. */
const jsonString = (s: string) => (s.includes("\\u") ? `"${s}"` : JSON.stringify(s));

/** Delivery settings no environment accepts (each alone makes a request invalid). */
const badSettings = [
  '"headers": {"Host": "evil.example"}',
  '"headers": {"x-signature": "forged"}',
  '"headers": {"X-A": "a\r\nX-Injected: 1"}',
  '"headers": {"X A": "1"}',
  '"headers": {"X-A": "\u0000"}',
  '"headers": ["X-A: 1"]',
  `"headers": {${Array.from({ length: 21 }, (_, i) => `"X-H${i}": "v"`).join(", ")}}`,
  '"timeout_ms": 1e20',
  '"timeout_ms": -1',
  '"max_attempts": 0',
  '"max_attempts": 1.5',
  '"retry_delays_seconds": [0]',
  '"retry_delays_seconds": "60,300"',
  '"rate_limit": "fast"',
  '"rate_limit": 0',
  '"filter": {"$where": "1"}',
  '"filter": {"a": {"$gt": {}}}',
  `"filter": ${'{"$not": '.repeat(12)}{"a": 1}${"}".repeat(12)}`,
  `"filter": {"a": "${"x".repeat(5000)}"}`,
  '"filter": "status=paid"',
  '"ordered": "yes"',
  '"batch_size": 1e9',
  '"signing": "rsa"',
  '"auth": {"type": "basic", "user": "u"}',
  '"auth": {"type": "bearer", "token": "a b"}',
  '"auth": {"type": "oauth2", "token_url": "javascript:alert(1)", "client_id": "a", "client_secret": "fuzz-client-secret-canary"}',
];

function webhookBody(r: Random, f: Fixture): string {
  const fields: string[] = [];
  const bad = r.int(6);
  fields.push(`"url": ${bad === 0 || bad > 3 ? jsonString(r.pick(f.badUrls)) : bad === 1 ? String(r.int(9)) : JSON.stringify(f.hookUrl)}`);
  fields.push(`"group": ${bad === 2 ? jsonString(r.pick(hostileStrings)) : '"orders"'}`);
  fields.push(`"action": ${bad === 3 ? '"exploded"' : '"created"'}`);
  if (r.int(2) === 0) fields.push(`"hash_secret": ${jsonString(r.pick(["\\ud800", "\\udc00x", `${f.secretCanary}\\ud83d`, "x".repeat(600)]))}`);
  if (r.int(4) === 0) fields.push(`"active": ${r.pick(['"yes"', "1", "null"])}`);
  if (r.int(5) === 0) fields.push(`"surprise": 1`);
  if (r.int(2) === 0) fields.push(r.pick(badSettings));
  // bad === 1..3 with the existing URL: a duplicate or an invalid field, refused either way.
  return `{${fields.join(", ")}}`;
}

function eventBody(r: Random): string {
  switch (r.int(7)) {
    case 0:
      return `{"topic": "orders:created", "payload": ${deepJson(101 + r.int(6000))}}`;
    case 1:
      return `{"topic": ${jsonString(r.pick(hostileStrings))}, "payload": {}}`;
    case 2:
      return `{"topic": "orders:created"}`;
    case 3:
      return `{"topic": "orders:created", "payload": {}, "idempotency_key": ${jsonString(r.pick(["\\ud800", "", "k".repeat(300)]))}}`;
    case 4:
      return r.pick(['{"topic": "orders:created", "payload": ', "{", "[1,2", '{"topic":"orders:created","payload":{}}}', "\u0000", "nul"]);
    case 5:
      return `{"topic": "orders:created", "payload": {}, "customer": ${jsonString(r.pick(hostileStrings))}}`;
    default:
      return `{"topic": "orders:created", "payload": {}, "extra": ${jsonString(r.pick(hostileStrings))}}`;
  }
}

/** One malformed request. Every case that could write is broken in at least one way. */
function nextCase(r: Random, f: Fixture): Case {
  const auth: [string, string] = ["Authorization", `Bearer ${f.key}`];
  const host: [string, string] = ["Host", f.host];
  const json: [string, string] = ["Content-Type", "application/json"];
  const withBody = (method: string, target: string, body: string, extra: [string, string][] = [], name = `${method} ${target}`): Case => {
    const bytes = Buffer.from(body, "utf8");
    return { name, bytes: httpText(method, target, [host, auth, json, ["Content-Length", String(bytes.length)], ["Connection", "close"], ...extra], bytes) };
  };
  const get = (target: string, headers: [string, string][] = [host, auth], version = "HTTP/1.1"): Case => ({
    name: `GET ${target} ${version} ${headers.map(([k, v]) => `${k}=${v.slice(0, 20)}`).join(",")}`,
    bytes: httpText("GET", target, [...headers, ["Connection", "close"]], "", version),
  });

  // 0–15 are the cases below; 16 is the oversized default.
  switch (r.int(17)) {
    case 0:
      return get(`${r.pick(["/webhooks/", `/webhooks/${f.hookId}/deliveries/`, "/webhooks"])}?${r.pick(hostileQueries)}&${r.pick(hostileQueries)}`);
    case 1:
      return get(
        r.pick(["/webhooks/", "/events/x/", `/webhooks/${f.hookId}/`, "/healthz"]),
        r.pick([[["Host", ""], auth], [["Host", "[::1"], auth], [["Host", "a b"], auth], [auth], [host, host, auth], [["Host", "\u00ff"], auth]]),
      );
    case 2:
      return get(r.pick(["/webhooks/?page=2", "/webhooks/", "/events/abc/"]), [auth], "HTTP/1.0");
    case 3:
      return withBody("POST", "/webhooks/", webhookBody(r, f));
    case 4:
      return withBody("PATCH", `/webhooks/${f.hookId}/`, `{"url": ${jsonString(r.pick(f.badUrls))}}`);
    case 5:
      return withBody("POST", "/events/", eventBody(r));
    case 6: {
      const body = `{"topic": "orders:created", "payload": {"n": ${r.int(1000)}}}`;
      const twice: [string, string][] = [
        ["Idempotency-Key", `k-${r.int(1000)}`],
        ["Idempotency-Key", `j-${r.int(1000)}`],
      ];
      return withBody("POST", "/events/", body, twice, "POST /events/ with two Idempotency-Key headers");
    }
    case 7: {
      const charset = r.pick(["latin1", "iso-8859-1", "utf-16", "utf-16le", "windows-1252", '"shift_jis"']);
      const body = Buffer.from(`{"topic": "orders:created", "payload": {"name": "Ren\u00e9e"}}`, "latin1");
      const headers: [string, string][] = [
        host,
        auth,
        ["Content-Type", `application/json; charset=${charset}`],
        ["Content-Length", String(body.length)],
        ["Connection", "close"],
      ];
      return { name: `POST /events/ charset=${charset}`, bytes: httpText("POST", "/events/", headers, body) };
    }
    case 8: {
      // Valid bodies without a valid key: 401 before anything is read.
      const badAuth = r.pick([[], [["Authorization", "Bearer nope"]], [["Authorization", "Basic dXNlcjpw"]], [["Authorization", `Bearer ${f.key}x`]]] as [
        string,
        string,
      ][][]);
      const body = Buffer.from(
        r.pick([`{"url": "https://93.184.216.34/x${r.int(1e6)}", "group": "orders", "action": "created"}`, '{"topic": "orders:created", "payload": {}}']),
      );
      const target = body.includes("topic") ? "/events/" : "/webhooks/";
      return {
        name: `POST ${target} unauthorised`,
        bytes: httpText("POST", target, [host, ...badAuth, json, ["Content-Length", String(body.length)], ["Connection", "close"]], body),
      };
    }
    case 9:
      return withBody(
        r.pick(["DELETE", "PATCH", "PUT", "POST"]),
        r.pick([
          `/webhooks/${MISSING_ID}/`,
          `/deliveries/${MISSING_ID}/retry/`,
          `/webhooks/${"9".repeat(600)}/`,
          "/webhooks/%E0%A4%A/",
          `/deliveries/${f.hookId}/retry/`,
        ]),
        r.pick(["", "{}", '{"active": false}']),
      );
    case 10: {
      // Content types that are not JSON, or lie about the body.
      const type = r.pick([
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonx",
        "application/json; charset=",
        "*/*",
      ]);
      const body = Buffer.from('{"topic": "orders:created", "payload": {}}');
      const headers: [string, string][] = [host, auth, ["Content-Type", type], ["Content-Length", String(body.length)], ["Connection", "close"]];
      return { name: `POST /events/ as ${type}`, bytes: httpText("POST", "/events/", headers, body) };
    }
    case 11: {
      // A body cut short: the client hangs up while the server waits for the rest.
      const body = '{"topic": "orders:created", "payload": {"cut":';
      const headers: [string, string][] = [host, auth, json, ["Content-Length", String(body.length + 100 + r.int(1000))]];
      return { name: "POST /events/ cut short", bytes: httpText("POST", "/events/", headers, body), abandoned: true };
    }
    case 14:
      // Settings alone, each refused: nothing of the webhook may change.
      return withBody(r.pick(["PATCH", "PUT"]), `/webhooks/${f.hookId}/`, `{${r.pick(badSettings)}}`);
    case 15:
      // The event-type catalog: a customer key may not write it, and no bad schema is stored.
      return withBody(
        r.pick(["PUT", "DELETE"]),
        `/event-types/${r.pick(["orders:created", "orders:exploded", "%ZZ", "a".repeat(300)])}/`,
        r.pick(['{"schema": {"type": "whole"}}', '{"schema": {}}', "{}", '{"schema": 5}']),
      );
    case 12: {
      // Not HTTP at all, or HTTP with a broken request line.
      const garbage = r.pick([
        "\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00fc\u0003\u0003", // a TLS ClientHello
        "GET / HTTP/9.9\r\n\r\n",
        "GET\r\n\r\n",
        "GET /webhooks/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
        `GET /webhooks/ HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
        "POST /events/ HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        "GET /webhooks/\u0000 HTTP/1.1\r\nHost: x\r\n\r\n",
      ]);
      return { name: `garbage ${JSON.stringify(garbage.slice(0, 30))}`, bytes: Buffer.from(garbage, "latin1") };
    }
    case 13: {
      if (r.int(3) > 0) {
        const [path, param] = r.pick(numericQueryParams(f.hookId));
        return get(`${path}?${param}=${hostileQueryNumber(r)}`);
      }
      const [target, field] = r.pick([
        ["/portal-sessions/", "expires_in"],
        [`/webhooks/${f.hookId}/rotate-secret/`, "overlap_seconds"],
      ] as const);
      return withBody("POST", target, `{"${field}": ${hostileJsonNumber(r)}}`);
    }
    default: {
      // Oversized: past limits.maxPayloadBytes plus the envelope.
      const body = `{"topic": "orders:created", "payload": "${"x".repeat(400_000 + r.int(100_000))}"}`;
      return withBody("POST", "/events/", body, [], "POST /events/ oversized");
    }
  }
}

/** Everything the store holds, every table (whatever migrations add), rows in a stable order. */
async function snapshot(db: Db): Promise<Record<string, string[]>> {
  const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table' order by name`.execute(db);
  const out: Record<string, string[]> = {};
  for (const { name } of tables.rows) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(db);
    out[name] = rows.rows.map((row) => JSON.stringify(row)).sort();
  }
  return out;
}

const environments = {
  production: { security: { allowHttp: false, allowPrivateAddresses: false } },
  sandbox: { security: { allowHttp: true, allowPrivateAddresses: true } },
} as const;

for (const [env, overrides] of Object.entries(environments)) {
  describe(`fuzz: ${REQUESTS_PER_ENVIRONMENT} malformed requests in ${env}`, () => {
    let h: ApiHarness;
    let log: MemoryLog;
    let fixture: Fixture;

    beforeAll(async () => {
      log = memoryLogger("info");
      // Short body timeout: the cut-short requests end quickly, one way or the other.
      h = await apiHarness({ ...overrides, server: { bodyTimeoutMs: 1000 } }, "sqlite", log.logger);
      const hookUrl = "https://93.184.216.34/fuzz";
      const created = await h.call("POST", "/webhooks/", { body: { url: hookUrl, group: "orders", action: "created", hash_secret: "fuzz-secret-canary" } });
      expect(created.status).toBe(201);
      fixture = {
        badUrls: env === "production" ? [...productionOnlyBadUrls, ...badUrls] : badUrls,
        host: new URL(h.server.url).host,
        key: h.key,
        hookId: created.body.id,
        hookUrl,
        secretCanary: "fuzz-secret-canary",
      };
    });
    afterAll(async () => {
      await h.cleanup();
    });

    it("answers every one with a 4xx or a correct answer, never a 5xx, and changes nothing", async () => {
      const r = generator(SEED);
      const before = await snapshot(h.app.store.db);
      const statuses = new Map<string, number>();
      const serverErrors: string[] = [];
      for (let i = 0; i < REQUESTS_PER_ENVIRONMENT; i++) {
        const c = nextCase(r, fixture);
        const reply: RawReply = await rawRequest(h.server.url, c.bytes);
        const key = reply.status === null ? "no answer" : String(reply.status);
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
        if (reply.status !== null && reply.status >= 500) serverErrors.push(`${c.name}: ${reply.text.slice(0, 300)}`);
        // Only a client that hung up, or bytes that are not HTTP, may go unanswered.
        if (reply.status === null && !c.abandoned && !c.name.startsWith("garbage")) serverErrors.push(`${c.name}: no answer`);
      }
      expect(serverErrors).toEqual([]);
      expect(await snapshot(h.app.store.db)).toEqual(before);
      // The server is still there and still right.
      expect((await h.call("GET", `/webhooks/${fixture.hookId}/`)).body.url).toBe(fixture.hookUrl);
      // For the record (the issue's closing note): which answers the run got.
      console.log(`fuzz ${env}: ${REQUESTS_PER_ENVIRONMENT} requests, answers ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
      expect(statuses.get("200") ?? 0).toBeGreaterThan(0); // read-only requests still succeed

      const errors = log.entries().filter((e) => e.level >= 50);
      expect(errors.map((e) => e.msg)).toEqual([]);
      expect(log.text()).not.toContain("hk_cus_LEAKED_IN_QUERY");
      expect(log.text()).not.toContain("LEAKED_TOKEN");
      expect(log.text()).not.toContain(fixture.key);
      expect(log.text()).not.toContain(fixture.secretCanary);
      expect(log.text()).not.toContain("fuzz-client-secret-canary");
    });
  });
}
