/**
 * SQLite plans without table statistics (hookd never runs ANALYZE), so the planner's
 * choice of index depends on the schema and the query, not on how many rows there
 * are: what it picks for a few rows here is what it picks with a million due. This
 * test runs the dispatcher's claim and housekeeping on a real file, captures every
 * statement they send, and checks none reads the deliveries table in full or sorts
 * it: with a big backlog either costs hundreds of milliseconds per claim.
 */
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { afterEach, expect, it } from "vitest";
import { publish } from "../../src/publishing.js";
import { recordAttempts } from "../../src/store/attempts.js";
import { claimDue, countDue } from "../../src/store/claims.js";
import { releaseClaims } from "../../src/store/leases.js";
import { claimProbes } from "../../src/store/probes.js";
import { expireWaiting } from "../../src/store/endpointHealth.js";
import { pruneBefore } from "../../src/store/retention.js";
import type { Database } from "../../src/store/schema.js";
import { deleteWebhook } from "../../src/store/webhooks.js";
import { testApp } from "../helpers/app.js";
import { addBacklog } from "../helpers/deliveries.js";

let app: Awaited<ReturnType<typeof testApp>> | undefined;
afterEach(async () => {
  await app?.cleanup();
  app = undefined;
});

it("claims, records and the tick's housekeeping walk indexes on SQLite, never the whole deliveries table", async () => {
  app = await testApp();
  const hooks = [await app.hook("https://a.example/h"), await app.hook("https://b.example/h")];
  for (let i = 0; i < 20; i++) await publish(app.store.db, { customerId: app.customerId, topic: "orders:created", payload: `{"n":${i}}` }, app.publishRules);
  await app.store.db.updateTable("webhooks").set({ failing_since: 1, consecutive_failures: 1 }).where("id", "=", hooks[1]!).execute();
  // A deep webhook in front, left out of the claim: the claim turns to each webhook's queue.
  const deep = await app.hook("https://deep.example/h", "shipments:created");
  await addBacklog(app.store.db, app.customerId, deep, 2_100, Date.now() - 3_600_000);

  const raw = new SQLite(app.dbFile);
  const sent: { sql: string; parameters: readonly unknown[] }[] = [];
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: raw }),
    log: (e) => {
      if (e.level === "query") sent.push({ sql: e.query.sql, parameters: e.query.parameters });
    },
  });
  try {
    const now = Date.now() + 1000;
    const basis = { owner: "plan", cutoff: now, now, leaseMs: 60_000 };
    const claim = await claimDue(db, { ...basis, limit: 500, exclude: [deep], room: (_id, elsewhere) => 8 - elsewhere });
    expect(claim.deliveries.length).toBe(8);
    const probes = await claimProbes(db, basis);
    expect(probes).toHaveLength(1);
    const [first, ...rest] = claim.deliveries;
    const attempt = { number: 1, started_at: now, duration_ms: 1, status_code: 200, error: null, error_message: null, response_body: "ok" };
    await recordAttempts(
      db,
      "plan",
      [{ attempt: { ...attempt, delivery_id: first!.id }, status: "delivered", nextAttemptAt: null, waitReason: null, lastError: null }],
      [
        { kind: "down", webhookId: hooks[0]!, backoffUntil: now + 60_000, error: "http_500", probe: false, reason: "5 failures in a row" },
        { kind: "up", webhookId: hooks[0]! },
      ],
      now,
    );
    await releaseClaims(
      db,
      "plan",
      [...rest, ...probes].map((d) => d.id),
    );
    await expireWaiting(db, now, 86_400_000);
    await countDue(db, now);
    await pruneBefore(db, now - 86_400_000);
    await deleteWebhook(db, hooks[1]!, app.customerId);

    const touching = sent.filter((s) => /\bdeliveries\b/.test(s.sql) && !/^(begin|commit|rollback|savepoint|release)/i.test(s.sql));
    expect(touching.length).toBeGreaterThan(5);
    for (const s of touching) {
      const plan = raw
        .prepare(`explain query plan ${s.sql}`)
        .all(...(s.parameters as unknown[]))
        .map((r) => (r as { detail: string }).detail);
      // SCAN of a co-routine is a walk over its bounded output (the claim's window), not the table.
      const bounded = new Set(plan.flatMap((line) => /^CO-ROUTINE (\w+)/.exec(line)?.[1] ?? []));
      const readsAll = plan.some((line) => {
        const scanned = /^SCAN (deliveries|d)\b/.exec(line)?.[1];
        return scanned !== undefined && !bounded.has(scanned) && !/USING (COVERING )?INDEX deliveries_leased\b/.test(line);
      });
      // Sorting rows picked by primary key (a claimed batch) is fine; sorting the backlog is not.
      const byId = plan.some((line) => /^SEARCH (deliveries|d) USING (COVERING )?INDEX sqlite_autoindex_deliveries_1 \(id=\?\)/.test(line));
      const sorts = !byId && plan.some((line) => line.includes("TEMP B-TREE"));
      expect(readsAll || sorts, `${s.sql}\n${plan.join("\n")}`).toBe(false);
    }
  } finally {
    await db.destroy();
  }
});
