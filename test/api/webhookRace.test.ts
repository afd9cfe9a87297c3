/**
 * Webhook writes racing through two `hookd serve --role api` processes on one database:
 * the duplicate check (same customer, URL and topic among live webhooks) and
 * limits.maxWebhooksPerCustomer hold however the requests interleave, and every loser
 * gets the 409 a lone request would, never a 5xx.
 *
 * On PostgreSQL the race is made certain, not left to timing: the test holds a SHARE lock
 * on the webhooks table, which lets every request read and check but stops it at its
 * insert or update, and lets go only once all of them are waiting (directly on the lock,
 * or on a request that is). Without migration 008's unique index and the customer lock,
 * every one of them then succeeds. SQLite lets one writer in at a time (BEGIN IMMEDIATE),
 * so there the same requests simply take turns.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import type pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { openApp, type App } from "../../src/app.js";
import { silentLogger } from "../../src/logger.js";
import { createApiKey } from "../../src/store/apiKeys.js";
import { createCustomer } from "../../src/store/customers.js";
import { createWebhook } from "../../src/store/webhooks.js";
import { asAdmin, backends, tempDatabase, type TempDatabase } from "../helpers/backends.js";
import { apiProcesses } from "../helpers/serve.js";

let database: TempDatabase | undefined;
afterEach(async () => database?.drop());

const REQUESTS = 20;

interface Reply {
  status: number;
  body: { id?: string; url?: string; error?: { code: string; message: string; details: { field: string; message: string }[] } };
}

interface Race {
  app: App;
  customerId: string;
  /** send every request at once, half to each process; on PostgreSQL all of them meet at the write */
  send(requests: { method: string; path: string; body: object }[]): Promise<Reply[]>;
}

/** How many sessions wait on `pid`'s locks, directly or behind a session that does (a row lock's queue). */
const WAITING = `
  with recursive waiting as (select pid, pg_blocking_pids(pid) as behind from pg_stat_activity where wait_event_type = 'Lock'),
  queue(pid) as (select $1::int union select w.pid from waiting w join queue q on q.pid = any(w.behind))
  select count(*)::int - 1 as n from queue`;

async function heldAtTheWrite<T>(client: pg.Client, count: number, requests: () => Promise<T>): Promise<T> {
  await client.query("begin");
  await client.query("lock table webhooks in share mode");
  const pending = requests();
  const { pid } = (await client.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0]!;
  try {
    // pg_stat_activity is read once per transaction unless its snapshot is cleared.
    const waiting = async () => {
      await client.query("select pg_stat_clear_snapshot()");
      return (await client.query<{ n: number }>(WAITING, [pid])).rows[0]!.n;
    };
    for (let waited = 0; (await waiting()) < count; waited++) {
      if (waited > 600) throw new Error(`not all ${count} requests reached the write`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await client.query("commit");
  }
  return pending;
}

/** Two API processes on one database, a customer with its key, and `race` run while they serve. */
async function withTwoApis(backend: (typeof backends)[number], limit: number, race: (ctx: Race) => Promise<void>) {
  database = await tempDatabase(backend);
  const config = path.join(database.dir, "config.json");
  // Room in each process's pool for all of its requests to wait at once.
  writeFileSync(config, JSON.stringify({ limits: { maxWebhooksPerCustomer: limit }, db: { poolSize: REQUESTS } }));
  const env = { HOOKD_DB: database.url, HOOKD_CONFIG: config };
  const app = await openApp({ env: { HOOKD_ENV: "test", ...env }, logger: silentLogger });
  const customer = await createCustomer(app.store.db, "acme");
  const { key } = await createApiKey(app.store.db, customer.id);
  const { urls, stop } = await apiProcesses(2, env);
  try {
    const fire = (requests: { method: string; path: string; body: object }[]) =>
      Promise.all(
        requests.map(({ method, path, body }, i) =>
          fetch(`${urls[i % 2]}${path}`, {
            method,
            headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
            body: JSON.stringify(body),
          }).then(async (res) => ({ status: res.status, body: (await res.json()) as Reply["body"] })),
        ),
      );
    const send: Race["send"] = (requests) =>
      backend === "postgres" ? asAdmin((client) => heldAtTheWrite(client, requests.length, () => fire(requests)), database!.url) : fire(requests);
    await race({ app, customerId: customer.id, send });
  } finally {
    const results = await stop();
    await app.close();
    for (const r of results) expect(r.code).toBe(0);
  }
}

const statuses = (replies: Reply[]) => replies.map((r) => r.status).sort();
const live = (app: App, customerId: string) =>
  app.store.db.selectFrom("webhooks").select(["id", "url"]).where("customer_id", "=", customerId).where("deleted_at", "is", null).execute();
const hook = (url: string) => ({ url, group: "orders", action: "created" });

describe.each(backends)("%s", (backend) => {
  it(`${REQUESTS} concurrent creates of one webhook: one 201, the rest 409 naming it`, async () => {
    await withTwoApis(backend, 50, async ({ app, customerId, send }) => {
      const replies = await send(Array.from({ length: REQUESTS }, () => ({ method: "POST", path: "/webhooks/", body: hook("http://127.0.0.1:9/race") })));
      console.log(`${backend}: duplicate race ${JSON.stringify(statuses(replies))}`);
      expect(statuses(replies)).toEqual([201, ...Array(REQUESTS - 1).fill(409)]);
      const winner = replies.find((r) => r.status === 201)!.body.id!;
      for (const r of replies.filter((r) => r.status === 409)) {
        expect(r.body.error).toEqual({
          code: "conflict",
          message: `webhook ${winner} already sends orders:created to this URL`,
          details: [{ field: "url", message: `webhook ${winner} already has this URL and topic` }],
        });
      }
      expect((await live(app, customerId)).map((w) => w.id)).toEqual([winner]);
    });
  });

  it(`${REQUESTS} concurrent creates of different webhooks 3 below limits.maxWebhooksPerCustomer: three 201s`, async () => {
    const limit = 10;
    await withTwoApis(backend, limit, async ({ app, customerId, send }) => {
      for (let i = 0; i < limit - 3; i++) await createWebhook(app.store.db, app.keyring, customerId, hook(`http://127.0.0.1:9/before${i}`), app.webhookRules);
      const replies = await send(
        Array.from({ length: REQUESTS }, (_, i) => ({ method: "POST", path: "/webhooks/", body: hook(`http://127.0.0.1:9/race${i}`) })),
      );
      console.log(`${backend}: limit race ${JSON.stringify(statuses(replies))}`);
      expect(statuses(replies)).toEqual([201, 201, 201, ...Array(REQUESTS - 3).fill(409)]);
      for (const r of replies.filter((r) => r.status === 409)) {
        expect(r.body.error!.details).toEqual([{ field: "customer", message: `has reached the limit of ${limit} webhooks` }]);
      }
      expect(await live(app, customerId)).toHaveLength(limit);
    });
  });

  it(`${REQUESTS} webhooks changed to one URL at once: one 200, the rest 409 naming it (the unique index's answer)`, async () => {
    await withTwoApis(backend, 50, async ({ app, customerId, send }) => {
      const ids: string[] = [];
      for (let i = 0; i < REQUESTS; i++)
        ids.push((await createWebhook(app.store.db, app.keyring, customerId, hook(`http://127.0.0.1:9/own${i}`), app.webhookRules)).row.id);
      const replies = await send(ids.map((id) => ({ method: "PATCH", path: `/webhooks/${id}/`, body: { url: "http://127.0.0.1:9/same" } })));
      console.log(`${backend}: update race ${JSON.stringify(statuses(replies))}`);
      expect(statuses(replies)).toEqual([200, ...Array(REQUESTS - 1).fill(409)]);
      const winner = replies.find((r) => r.status === 200)!.body.id!;
      for (const r of replies.filter((r) => r.status === 409)) {
        expect(r.body.error!.details).toEqual([{ field: "url", message: `webhook ${winner} already has this URL and topic` }]);
      }
      expect((await live(app, customerId)).filter((w) => w.url === "http://127.0.0.1:9/same").map((w) => w.id)).toEqual([winner]);
    });
  });
});
