/**
 * PostgreSQL on a bad day, through real processes: a wrong port, an unknown user, a
 * missing or dropped database, revoked rights. The CLI exits 1 saying it is the
 * database, naming it (without the password) and what to check; the API answers 503
 * store_unavailable; /healthz is 503 unless the store can be read and written.
 * (SQLite's bad days: test/store/stress.test.ts and the health test.)
 */
import { afterEach, describe, expect, it } from "vitest";
import { openApp } from "../../src/app.js";
import { silentLogger } from "../../src/logger.js";
import { createApiKey } from "../../src/store/apiKeys.js";
import { createCustomer } from "../../src/store/customers.js";
import { asAdmin, dropSchema, PG_BASE, randomName, schemaUrl, tempDatabase, type TempDatabase } from "../helpers/backends.js";
import { collect, runCli, spawnCli, untilServing } from "../helpers/cli.js";
import { closedPort } from "../helpers/receiver.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A URL like PG_BASE with another user, port or database. */
function variant(change: { user?: string; password?: string; port?: number; database?: string }, base = PG_BASE): string {
  const url = new URL(base);
  if (change.user !== undefined) url.username = change.user;
  if (change.password !== undefined) url.password = change.password;
  if (change.port !== undefined) url.port = String(change.port);
  if (change.database !== undefined) url.pathname = `/${change.database}`;
  return url.toString();
}

/** hookd's tables on `url` (made by its owner, as `hookd migrate` does) and a customer key. */
async function apiNode(url: string) {
  const app = await openApp({ env: { HOOKD_ENV: "test", HOOKD_DB: url }, logger: silentLogger });
  const customer = await createCustomer(app.store.db, "acme");
  const { key } = await createApiKey(app.store.db, customer.id);
  await app.close();
  return { key };
}

/** `hookd serve --role api` on `url`, stopped after the test. */
async function startNode(url: string) {
  const port = await closedPort();
  const child = spawnCli(["serve", "--role", "api"], { HOOKD_DB: url, HOOKD_PORT: String(port) });
  const done = collect(child);
  const base = `http://127.0.0.1:${port}`;
  cleanups.push(async () => {
    child.kill("SIGTERM");
    await done;
  });
  await untilServing(base);
  return base;
}

const call = async (url: string, key: string | null, method = "GET", body?: unknown) => {
  const headers: Record<string, string> = {};
  if (key) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as { error?: { code: string } } };
};
const publish = (base: string, key: string) => call(`${base}/events/`, key, "POST", { topic: "orders:created", payload: {} });

function expectClean(r: { code: number | null; stderr: string }) {
  expect(r.code).toBe(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe("PostgreSQL faults", () => {
  it("a wrong port, an unknown user or a missing database: exit 1 naming the database and what to check", async () => {
    const port = await closedPort();
    const refused = await runCli(["status"], { HOOKD_DB: variant({ port }) });
    expectClean(refused);
    expect(refused.stderr).toContain(`hookd: cannot reach the PostgreSQL database ${variant({ port })}`);
    expect(refused.stderr).toContain("check that PostgreSQL is running and that the host and port in HOOKD_DB / db.url are right");
    const serve = await runCli(["serve"], { HOOKD_DB: variant({ port }) });
    expectClean(serve);
    expect(serve.stderr).toContain("cannot reach the PostgreSQL database");

    const user = randomName("nobody");
    const stranger = await runCli(["webhooks", "list"], { HOOKD_DB: variant({ user, password: "s3cret-pw" }) });
    expectClean(stranger);
    expect(stranger.stderr).toContain(`PostgreSQL refused to let user ${user} into ${variant({ user })}`);
    expect(stranger.stderr).toContain("check the user and password");
    expect(stranger.stderr).not.toContain("s3cret-pw");

    const database = randomName("hookd_missing");
    const missing = await runCli(["publish", "--customer", "c", "--topic", "orders:created", "--data", "{}"], { HOOKD_DB: variant({ database }) });
    expectClean(missing);
    expect(missing.stderr).toContain(`the PostgreSQL database ${database} does not exist at ${variant({ database })}`);
  });

  it("a database dropped under a running API node: 503 store_unavailable, /healthz 503, and the CLI names it", async () => {
    const name = randomName("hookd_drop");
    await asAdmin((c) => c.query(`create database ${name}`));
    cleanups.push(() => asAdmin((c) => c.query(`drop database if exists ${name} with (force)`)));
    const url = variant({ database: name });
    const node = await apiNode(url);
    const base = await startNode(url);
    expect((await call(`${base}/healthz`, null)).status).toBe(200);
    expect((await publish(base, node.key)).status).toBe(202);

    await asAdmin((c) => c.query(`drop database ${name} with (force)`));
    expect(await call(`${base}/healthz`, null)).toMatchObject({ status: 503, body: { error: { code: "store_unavailable" } } });
    expect(await call(`${base}/webhooks/`, node.key)).toMatchObject({ status: 503, body: { error: { code: "store_unavailable" } } });
    expect(await publish(base, node.key)).toMatchObject({ status: 503, body: { error: { code: "store_unavailable" } } });
    const status = await runCli(["status"], { HOOKD_DB: url });
    expectClean(status);
    expect(status.stderr).toContain(`the PostgreSQL database ${name} does not exist`);
  });

  it("revoked rights: writes refused is /healthz 503; reads refused is 503 and `status` names the missing rights, not a migration lock", async () => {
    const db: TempDatabase = await tempDatabase("postgres");
    cleanups.push(() => db.drop());
    // hookd's tables, made by the owner; the nodes log in as a role with row rights only.
    const owner = await apiNode(db.url);
    const role = randomName("hookd_role");
    await asAdmin(async (c) => {
      await c.query(`create role ${role} login`);
      await c.query(`grant usage on schema ${db.schema} to ${role}`);
      await c.query(`grant select, insert, update, delete on all tables in schema ${db.schema} to ${role}`);
    });
    cleanups.push(() => asAdmin((c) => dropSchema(c, db.schema!, `drop role if exists ${role}`)));
    const url = schemaUrl(db.schema!, variant({ user: role }));

    // Row rights are enough: no command needs to migrate an up-to-date schema.
    expect((await runCli(["status"], { HOOKD_DB: url })).code).toBe(0);
    const base = await startNode(url);
    expect((await call(`${base}/healthz`, null)).status).toBe(200);
    expect((await publish(base, owner.key)).status).toBe(202);

    await asAdmin((c) => c.query(`revoke insert, update, delete on all tables in schema ${db.schema} from ${role}`));
    expect(await call(`${base}/healthz`, null)).toMatchObject({ status: 503, body: { error: { code: "store_unavailable" } } });
    expect((await call(`${base}/webhooks/`, owner.key)).status).toBe(200);
    expect(await publish(base, owner.key)).toMatchObject({ status: 503, body: { error: { code: "store_unavailable" } } });

    await asAdmin((c) => c.query(`revoke select on all tables in schema ${db.schema} from ${role}`));
    expect(await call(`${base}/webhooks/`, owner.key)).toMatchObject({ status: 503, body: { error: { code: "store_unavailable" } } });
    const status = await runCli(["status"], { HOOKD_DB: url });
    expectClean(status);
    expect(status.stderr).toContain(`user ${role} lacks rights on the PostgreSQL database`);
    expect(status.stderr).not.toMatch(/lock/i);
    const count = await asAdmin(async (c) => (await c.query(`select count(*)::int as n from ${db.schema}.events`)).rows[0].n);
    expect(count).toBe(1);
  });
});
