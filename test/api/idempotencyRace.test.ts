/**
 * The idempotency race through real processes: two `hookd serve --role api` on one
 * database, many concurrent POST /events/ with one Idempotency-Key. One event is
 * stored; every request with its payload gets it (202, same id), every other payload
 * a 409, and nothing is a 5xx.
 */
import { afterEach, describe, expect, it } from "vitest";
import { openApp } from "../../src/app.js";
import { silentLogger } from "../../src/logger.js";
import { createApiKey } from "../../src/store/apiKeys.js";
import { createCustomer } from "../../src/store/customers.js";
import { createWebhook } from "../../src/store/webhooks.js";
import { backends, tempDatabase, type TempDatabase } from "../helpers/backends.js";
import { apiProcesses } from "../helpers/serve.js";

let database: TempDatabase | undefined;
afterEach(async () => database?.drop());

const SAME = 40;
const DIFFERENT = 10;

describe.each(backends)("%s", (backend) => {
  it(`${SAME + DIFFERENT} concurrent publishes with one key through two API processes: one event, 202 or 409, never a 5xx`, async () => {
    database = await tempDatabase(backend);
    const env = { HOOKD_DB: database.url };
    const app = await openApp({ env: { HOOKD_ENV: "test", ...env }, logger: silentLogger });
    const customer = await createCustomer(app.store.db, "acme");
    const { key } = await createApiKey(app.store.db, customer.id);
    // Three subscribers, so each publish writes an event and three deliveries in its transaction.
    for (let i = 0; i < 3; i++) {
      await createWebhook(app.store.db, app.keyring, customer.id, { url: `http://127.0.0.1:9/h${i}`, group: "orders", action: "created" }, app.webhookRules);
    }

    const { urls, stop } = await apiProcesses(2, env);
    try {
      const body = (n: number) => JSON.stringify({ topic: "orders:created", payload: { order: n } });
      // Every fifth request carries another payload, interleaved, so either may win the race.
      const payloads = Array.from({ length: SAME + DIFFERENT }, (_, i) => (i % 5 === 2 ? 2 : 1));
      const requests = payloads.map((n, i) =>
        fetch(`${urls[i % 2]}/events/`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "idempotency-key": "order-1001" },
          body: body(n),
        }).then(async (res) => ({ n, status: res.status, body: (await res.json()) as { id?: string; error?: { code: string } } })),
      );
      const replies = await Promise.all(requests);

      const events = await app.store.db.selectFrom("events").selectAll().execute();
      expect(events).toHaveLength(1);
      const winner = events[0]!;
      const deliveries = await app.store.db.selectFrom("deliveries").select("id").execute();
      expect(deliveries).toHaveLength(3);
      const winning = JSON.parse(winner.payload).order as number;
      const counts = { accepted: 0, conflict: 0, serverError: 0, other: 0 };
      for (const r of replies) {
        if (r.status >= 500) counts.serverError++;
        else if (r.status === 202) counts.accepted++;
        else if (r.status === 409) counts.conflict++;
        else counts.other++;
      }
      const ids = new Set(replies.filter((r) => r.status === 202).map((r) => r.body.id));
      // Printed for the record (the README and issue notes quote it).
      console.log(`${backend}: idempotency race ${JSON.stringify({ ...counts, distinctIds: ids.size, winner: winning })}`);
      expect(counts.serverError).toBe(0);
      expect(counts.other).toBe(0);
      for (const r of replies) {
        if (r.n === winning) expect(r).toMatchObject({ status: 202, body: { id: winner.id } });
        else expect(r).toMatchObject({ status: 409, body: { error: { code: "conflict" } } });
      }
      expect([...ids]).toEqual([winner.id]);
    } finally {
      const results = await stop();
      await app.close();
      for (const r of results) expect(r.code).toBe(0);
    }
  });
});
