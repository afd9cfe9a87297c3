/**
 * The breaker's shared memory on the webhook row, both stores: what folding record
 * batches' outcomes leaves there (the streak, the last `window` outcomes, the last
 * failure in words), whom it reports open, and the breaker it opens.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { BreakerRules } from "../../src/domain/breaker.js";
import { writeTransaction } from "../../src/store/connect.js";
import { rememberOutcomes, type Outcomes } from "../../src/store/endpointHealth.js";
import { testApp } from "../helpers/app.js";
import { backends } from "../helpers/backends.js";

type T = Awaited<ReturnType<typeof testApp>>;
let app: T | undefined;
afterEach(async () => {
  await app?.cleanup();
  app = undefined;
});

const rules: BreakerRules = { consecutiveFailures: 5, failureRate: 0.5, window: 8 };

describe.each(backends)("breaker memory (%s)", (backend) => {
  it("keeps the streak and the last outcomes per webhook, reports a breaker opened elsewhere, and opens one on its rules", async () => {
    app = await testApp({}, backend);
    // In id order, the order folds run in: a's breaker opens first, and b and c are folded after it.
    const [a, b, c] = [await app.hook("http://127.0.0.1:9/1"), await app.hook("http://127.0.0.1:9/2"), await app.hook("http://127.0.0.1:9/3")].sort() as [
      string,
      string,
      string,
    ];
    const db = app.store.db;
    const until = Date.now() + 60_000;
    const fold = (batch: Record<string, [bits: string, error: string | null]>) =>
      writeTransaction(db, (trx) =>
        rememberOutcomes(
          trx,
          Object.entries(batch).map(([webhookId, [bits, error]]): Outcomes => ({ webhookId, bits, backoffUntil: until, error })),
          rules,
          Date.now(),
        ),
      );
    const memory = async (id: string) =>
      db
        .selectFrom("webhooks")
        .select(["failure_streak", "recent_outcomes", "last_failure", "failing_since", "breaker_reason", "backoff_until"])
        .where("id", "=", id)
        .executeTakeFirstOrThrow();

    expect(await fold({ [a]: ["0010", "HTTP 500"], [b]: ["000", null], [c]: ["", null] })).toEqual([]);
    expect(await memory(a)).toMatchObject({ failure_streak: 0, recent_outcomes: "0010", last_failure: "HTTP 500", failing_since: null });
    expect(await memory(b)).toMatchObject({ failure_streak: 0, recent_outcomes: "000", last_failure: null });
    expect(await memory(c)).toMatchObject({ failure_streak: 0, recent_outcomes: "" });

    // Only failures: the streak grows; successes only: the failure in words stays; the window keeps the last 8.
    expect(await fold({ [a]: ["11", "timeout"], [b]: ["000000", "ignored"] })).toEqual([]);
    expect(await memory(a)).toMatchObject({ failure_streak: 2, recent_outcomes: "001011", last_failure: "timeout" });
    expect(await memory(b)).toMatchObject({ failure_streak: 0, recent_outcomes: "00000000", last_failure: null });

    // Another dispatcher opened b's breaker: a fold here learns it.
    await db.updateTable("webhooks").set({ failing_since: 1, breaker_reason: "every request of a round timed out" }).where("id", "=", b).execute();
    // Two more failures for a: 5 of its last 8 failed (a streak of 4, below 5), so it opens; b and c, after it, are still folded.
    expect(await fold({ [c]: ["01", "HTTP 502"], [a]: ["11", "HTTP 503"], [b]: ["0", null] })).toEqual([
      { webhookId: a, reason: "63% of the last 8 attempts failed" },
      { webhookId: b, reason: "every request of a round timed out" },
    ]);
    expect(await memory(a)).toMatchObject({
      failure_streak: 4,
      recent_outcomes: "00101111",
      last_failure: "HTTP 503",
      breaker_reason: "63% of the last 8 attempts failed",
      backoff_until: until,
    });
    expect((await memory(a)).failing_since).not.toBeNull();
    expect(await memory(c)).toMatchObject({ failure_streak: 1, recent_outcomes: "01", last_failure: "HTTP 502", failing_since: null });
  });
});
