/**
 * `hookd export | hookd import` between real stores: a SQLite file and a schema of its
 * own on the local PostgreSQL, both ways, through the built CLI in child processes.
 * After the move, keys authenticate through a real `hookd serve`, idempotency keys
 * still deduplicate, pending deliveries (one claimed at export time) reach a real
 * receiver with `hookd tick`, and history is listed. Bad files and non-empty targets
 * are refused and change nothing.
 */
import type { ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeAll, afterAll, describe, expect, it } from "vitest";
import { openApp } from "../../src/app.js";
import { silentLogger } from "../../src/logger.js";
import { createApiKey } from "../../src/store/apiKeys.js";
import { createCustomer } from "../../src/store/customers.js";
import { EXPORTED_TABLES } from "../../src/store/exportTables.js";
import { publish } from "../../src/publishing.js";
import { createWebhook } from "../../src/store/webhooks.js";
import { generateKeyLine } from "../../src/domain/secretBox.js";
import { tempDir } from "../helpers/app.js";
import { collect, hasScript, runCli, runOnTerminal, spawnCli, untilServing } from "../helpers/cli.js";
import { tempDatabase, type TempDatabase } from "../helpers/backends.js";
import { closedPort, startReceiver, type Receiver } from "../helpers/receiver.js";

/** Payloads whose bytes must arrive unchanged: multi-byte text, line separators, raw CR LF between tokens, escapes kept as written. */
const PAYLOADS = [
  '{"name":"Zoë Ørsted","city":"Zürich","emoji":"🚚📦✅","cjk":"東京","rtl":"שלום","combining":"e\u0301"}',
  '{\r\n  "line_separators": "\u2028\u2029",\r\n  "escaped": "\\u00e9\\u0000\\ud83d\\ude9a",  "spaced" :  true\n}\n',
  '[1, 2.50, -0, 1e3, "\\"quoted\\""]',
];

let dir: ReturnType<typeof tempDir>;
let receiver: Receiver;
let config: string;
let keyFile: string;
/** Whether the receiver answers /down with 500: before a move, it is down. */
let downFails = true;
const schemas: TempDatabase[] = [];

beforeAll(async () => {
  dir = tempDir("hookd-move-");
  receiver = await startReceiver((req, res) => res.writeHead(req.path === "/down" && downFails ? 500 : 200).end("ok"));
  // serve's own schedule must not tick while a test does (once a year, at a time no test runs).
  config = path.join(dir.dir, "config.json");
  writeFileSync(config, JSON.stringify({ dispatch: { schedule: "0 0 1 1 *" } }));
  keyFile = path.join(dir.dir, "move.key");
  writeFileSync(keyFile, `${generateKeyLine()}\n`, { mode: 0o600 });
});
afterAll(async () => {
  await receiver.close();
  dir.cleanup();
});
afterEach(async () => {
  for (const s of schemas.splice(0)) await s.drop();
});

async function pgUrl(): Promise<string> {
  const s = await tempDatabase("postgres");
  schemas.push(s);
  return s.url;
}

let files = 0;
const sqliteFile = () => path.join(dir.dir, `store-${++files}.sqlite`);
// One key file for every store of the test: the secrets move sealed, and open on either side.
const env = (db: string) => ({ HOOKD_DB: db, HOOKD_CONFIG: config, HOOKD_ENCRYPTION_KEY_FILE: keyFile });

interface Source {
  db: string;
  key: string;
  customerId: string;
  eventIds: string[];
}

/**
 * A store with history: two webhooks, three events (one with an idempotency key),
 * one tick (delivered to /ok, a failed attempt at /down), then time passing so the
 * failed one is due again, one more event, and one of its deliveries claimed by a
 * dispatcher that is gone (its lease far in the future).
 */
async function makeSource(db: string): Promise<Source> {
  const app = await openApp({ env: { HOOKD_ENV: "test", ...env(db) }, logger: silentLogger });
  try {
    const customer = await createCustomer(app.store.db, "Acme Ünïcode");
    const { key } = await createApiKey(app.store.db, customer.id);
    await createApiKey(app.store.db, null);
    for (const where of ["ok", "down"]) {
      await createWebhook(
        app.store.db,
        app.keyring,
        customer.id,
        { url: `${receiver.url}/${where}`, group: "orders", action: "created", hash_secret: "s3cret" },
        app.webhookRules,
      );
    }
    const eventIds: string[] = [];
    for (const [i, payload] of PAYLOADS.slice(0, 2).entries()) {
      const e = await publish(
        app.store.db,
        { customerId: customer.id, topic: "orders:created", payload, idempotencyKey: i === 0 ? "order-1001" : null },
        app.publishRules,
      );
      eventIds.push(e.id);
    }
    const summary = await app.dispatcher.tick();
    expect(summary).toMatchObject({ delivered: 2, rescheduled: 2 });
    const past = Date.now() - 1000;
    await app.store.db.updateTable("deliveries").set({ next_attempt_at: past }).where("status", "=", "pending").execute();
    await app.store.db.updateTable("webhooks").set({ backoff_until: past }).execute();
    const last = await publish(app.store.db, { customerId: customer.id, topic: "orders:created", payload: PAYLOADS[2]! }, app.publishRules);
    eventIds.push(last.id);
    await app.store.db
      .updateTable("deliveries")
      .set({ lease_owner: "a-dispatcher-that-is-gone", lease_expires_at: Date.now() + 3_600_000 })
      .where("event_id", "=", last.id)
      .execute();
    return { db, key, customerId: customer.id, eventIds };
  } finally {
    await app.close();
  }
}

interface Exit {
  code: number | null;
  stderr: string;
  stdout: string;
}

function exited(child: ChildProcess): Promise<Exit> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

/** `hookd export | hookd import` as a shell runs it; also returns the bytes that went through the pipe. */
async function move(from: string, to: string): Promise<{ data: Buffer; exported: Exit; imported: Exit }> {
  const exporter = spawnCli(["export"], env(from));
  const importer = spawnCli(["import"], env(to));
  exporter.stdin!.end();
  const chunks: Buffer[] = [];
  exporter.stdout!.on("data", (c: Buffer) => chunks.push(c));
  exporter.stdout!.pipe(importer.stdin!);
  let stderr = "";
  exporter.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exportedCode = new Promise<number | null>((resolve) => exporter.on("close", resolve));
  const [code, imported] = await Promise.all([exportedCode, exited(importer)]);
  return { data: Buffer.concat(chunks), exported: { code, stderr, stdout: "" }, imported };
}

/** Every row of the file, keyed by table and primary key, leases as import leaves them. */
function rowsOf(data: Buffer): Map<string, unknown> {
  const rows = new Map<string, unknown>();
  for (const line of data.toString("utf8").split("\n").slice(1, -2)) {
    const { table, row } = JSON.parse(line);
    if (table === "deliveries") Object.assign(row, { lease_owner: null, lease_expires_at: null });
    rows.set(`${table}:${row.id ?? `${row.delivery_id}#${row.number}`}`, row);
  }
  return rows;
}

async function rowCounts(db: string): Promise<Record<string, number>> {
  const app = await openApp({ env: { HOOKD_ENV: "test", ...env(db) }, logger: silentLogger, schema: "use" });
  try {
    const counts: Record<string, number> = {};
    for (const t of EXPORTED_TABLES) {
      const r = await app.store.db
        .selectFrom(t as "customers")
        .select((eb) => eb.fn.countAll().as("n"))
        .executeTakeFirstOrThrow();
      counts[t] = Number(r.n);
    }
    return counts;
  } finally {
    await app.close();
  }
}

const empty = Object.fromEntries(EXPORTED_TABLES.map((t) => [t, 0]));

/** What a user checks after a move: the key works on a real server, the idempotency key holds, a tick delivers what was pending, history is there. */
async function checkMoved(db: string, source: Source): Promise<void> {
  const port = await closedPort();
  const server = spawnCli(["serve"], { ...env(db), HOOKD_PORT: String(port) });
  const serverDone = collect(server);
  try {
    const url = `http://127.0.0.1:${port}`;
    expect((await untilServing(url)).status).toBe(200);
    const auth = { authorization: `Bearer ${source.key}`, "content-type": "application/json" };
    const hooks = await fetch(`${url}/webhooks/`, { headers: auth });
    expect(hooks.status).toBe(200);
    expect(((await hooks.json()) as { count: number }).count).toBe(2);
    expect((await fetch(`${url}/webhooks/`, { headers: { authorization: "Bearer hk_cus_wrong" } })).status).toBe(401);
    // The same key and payload: the first event again, nothing new to deliver.
    const again = await fetch(`${url}/events/`, {
      method: "POST",
      headers: { ...auth, "idempotency-key": "order-1001" },
      body: JSON.stringify({ topic: "orders:created", payload: JSON.parse(PAYLOADS[0]!) }),
    });
    expect(again.status).toBe(202);
    expect(((await again.json()) as { id: string }).id).toBe(source.eventIds[0]);
    const conflict = await fetch(`${url}/events/`, {
      method: "POST",
      headers: { ...auth, "idempotency-key": "order-1001" },
      body: JSON.stringify({ topic: "orders:created", payload: { other: true } }),
    });
    expect(conflict.status).toBe(409);
  } finally {
    server.kill("SIGTERM");
    expect((await serverDone).code).toBe(0);
  }

  receiver.requests.length = 0;
  downFails = false;
  const tick = await runCli(["--json", "tick"], env(db)).finally(() => (downFails = true));
  expect(tick.code, tick.stderr).toBe(0);
  // The two retries to /down, and the event claimed at export time to both webhooks.
  expect(JSON.parse(tick.stdout)).toMatchObject({ delivered: 4, failed: 0, rescheduled: 0 });
  const got = receiver.requests.map((r) => ({ path: r.path, event: r.headers["x-event-id"], attempt: r.headers["x-attempt-number"], body: r.body }));
  expect(
    got
      .filter((r) => r.event === source.eventIds[2])
      .map((r) => r.path)
      .sort(),
  ).toEqual(["/down", "/ok"]);
  for (const r of got) {
    const sent = PAYLOADS[source.eventIds.indexOf(String(r.event))]!;
    expect(r.body.equals(Buffer.from(sent, "utf8"))).toBe(true);
  }
  const retried = got.filter((r) => r.path === "/down" && r.event !== source.eventIds[2]);
  expect(retried).toHaveLength(2);
  expect(retried.map((r) => r.attempt)).toEqual(["2", "2"]);

  const listed = await runCli(["--json", "deliveries", "list", "--status", "delivered"], env(db));
  expect(listed.code, listed.stderr).toBe(0);
  const deliveries = JSON.parse(listed.stdout).results as { history: { number: number; status_code: number | null; error: string | null }[] }[];
  expect(deliveries).toHaveLength(6);
  const histories = deliveries.map((d) => d.history.map((a) => a.status_code ?? a.error)).sort();
  // Two /down deliveries: failed before the move, delivered after it.
  expect(histories.filter((h) => h.length === 2)).toEqual([
    [500, 200],
    [500, 200],
  ]);
}

describe("hookd export | hookd import", () => {
  it("moves a SQLite store to PostgreSQL and back, row for row, and both keep working", async () => {
    const source = await makeSource(sqliteFile());
    const pg = await pgUrl();

    const there = await move(source.db, pg);
    expect(there.exported.code, there.exported.stderr).toBe(0);
    expect(there.imported.code, there.imported.stderr).toBe(0);
    expect(there.imported.stdout).toMatch(/^imported 1 customers, 2 api_keys, 2 webhooks, 3 events, 6 deliveries, 4 attempts, 0 event_types into postgres:/);
    expect(there.exported.stderr).toMatch(/^exported 1 customers, .* to stdout\n$/);

    const back = sqliteFile();
    const returned = await move(pg, back);
    expect(returned.exported.code, returned.exported.stderr).toBe(0);
    expect(returned.imported.code, returned.imported.stderr).toBe(0);
    // PostgreSQL gave back exactly what SQLite gave it (payload text included), leases cleared.
    expect(rowsOf(returned.data)).toEqual(rowsOf(there.data));
    expect(JSON.parse(returned.data.toString().split("\n")[0]!)).toMatchObject({ dialect: "postgres", migration: expect.stringMatching(/^\d{3}_/) });

    await checkMoved(pg, source);
    await checkMoved(back, source);
  });

  it("refuses a target that is not empty, exit 1, and changes nothing", async () => {
    const source = await makeSource(sqliteFile());
    for (const target of [await pgUrl(), sqliteFile()]) {
      const app = await openApp({ env: { HOOKD_ENV: "test", ...env(target) }, logger: silentLogger });
      await createCustomer(app.store.db, "already here");
      await app.close();
      const before = await move(target, sqliteFile());

      const { imported } = await move(source.db, target);
      expect(imported.code).toBe(1);
      expect(imported.stderr).toMatch(/^hookd: the database .* is not empty \(1 customers\): import loads only into an empty store; nothing was changed\n$/);
      expect(await rowCounts(target)).toEqual({ ...empty, customers: 1 });
      expect(rowsOf((await move(target, sqliteFile())).data)).toEqual(rowsOf(before.data));
    }
  });

  it("refuses a truncated or corrupt file with the line it failed on, and imports nothing", async () => {
    const source = await makeSource(sqliteFile());
    const file = path.join(dir.dir, "good.ndjson");
    const exported = await runCli(["--json", "export", file], env(source.db));
    expect(exported.code, exported.stderr).toBe(0);
    expect(JSON.parse(exported.stdout)).toMatchObject({ file, counts: { deliveries: 6 } });
    const lines = readFileSync(file, "utf8").split("\n");
    expect(lines.at(-1)).toBe("");
    const total = lines.length - 1; // header + 18 rows + trailer
    expect(total).toBe(20);
    const firstDelivery = lines.findIndex((l) => l.startsWith('{"table":"deliveries"')) + 1;
    const withLine = (n: number, text: string) => lines.map((l, i) => (i === n - 1 ? text : l)).join("\n");

    const cases: [string, string, number, RegExp][] = [
      [
        "no closing line",
        lines.slice(0, total - 1).join("\n") + "\n",
        2,
        new RegExp(`^hookd: line ${total - 1}: the file ends here without its closing line: it was cut short; nothing was imported\n$`),
      ],
      ["cut inside a line", lines.join("\n").slice(0, -40), 2, new RegExp(`^hookd: line ${total}: not valid JSON`)],
      ["a corrupt row", withLine(firstDelivery + 1, '{"table":"deliveries","row":{"id":'), 2, new RegExp(`^hookd: line ${firstDelivery + 1}: not valid JSON`)],
      [
        "an unknown column",
        withLine(firstDelivery, lines[firstDelivery - 1]!.replace('"status":', '"bogus":1,"status":')),
        2,
        new RegExp(`^hookd: line ${firstDelivery}: deliveries has no column bogus`),
      ],
      [
        "a row lost",
        lines.filter((_, i) => i !== 2).join("\n"),
        2,
        new RegExp(`^hookd: line ${total - 1}: the file says 2 api_keys rows \\(header: 2\\) but holds 1`),
      ],
      [
        "a repeated id",
        withLine(firstDelivery + 1, lines[firstDelivery - 1]!),
        2,
        new RegExp(`^hookd: lines ${firstDelivery}-\\d+ \\(deliveries\\): the database refused them`),
      ],
      [
        "a newer schema",
        withLine(1, lines[0]!.replace(/"migration":"[^"]+"/, '"migration":"999_from_the_future"')),
        1,
        /newer hookd schema \(999_from_the_future\)/,
      ],
      ["not an export", "hello\n", 2, /^hookd: line 1: not valid JSON/],
    ];
    for (const target of [await pgUrl(), sqliteFile()]) {
      for (const [what, text, code, message] of cases) {
        const bad = path.join(dir.dir, "bad.ndjson");
        writeFileSync(bad, text);
        const fromFile = await runCli(["import", bad], env(target));
        expect(fromFile.code, `${what}: ${fromFile.stderr}`).toBe(code);
        expect(fromFile.stderr, what).toMatch(message);
        if (what === "no closing line" || what === "a corrupt row") {
          const fromStdin = await runCli(["import"], env(target), { stdin: text });
          expect(fromStdin.code, what).toBe(code);
          expect(fromStdin.stderr, what).toMatch(message);
        }
        expect(await rowCounts(target), what).toEqual(empty);
      }
      // And the good file still loads into the same, untouched target.
      const good = await runCli(["import", file], env(target));
      expect(good.code, good.stderr).toBe(0);
    }
  }, 180_000);
});

describe("hookd export on a terminal", () => {
  it.skipIf(!hasScript)("draws a progress bar, and refuses to pour the export onto the screen", async () => {
    const source = await makeSource(sqliteFile());
    const file = path.join(dir.dir, "tty.ndjson");
    const drawn = await runOnTerminal(["export", file], env(source.db));
    expect(drawn.code).toBe(0);
    expect(drawn.stdout).toMatch(/exporting \[.*\] \d+\/18 rows/);
    expect(readFileSync(file, "utf8")).toMatch(/^\{"format":"hookd-export"/);

    const screen = await runOnTerminal(["export"], env(source.db));
    expect(screen.code).toBe(2);
    expect(screen.stdout).toContain("stdout is a terminal: give a FILE or redirect it");
    expect(screen.stdout).not.toContain('"format"');
  });
});
