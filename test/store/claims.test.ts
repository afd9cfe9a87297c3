/**
 * Claims behind a deep backlog: the rows a claim may not take (a webhook that filled
 * its room, one left out, one failing) sit at the front of the due order, and must
 * neither hide the deliveries behind them nor cost the tick extra claims.
 */
import { afterEach, describe, expect, it } from "vitest";
import { publish } from "../../src/publishing.js";
import { claimDue, type ClaimRequest } from "../../src/store/claims.js";
import { testApp } from "../helpers/app.js";
import { backends } from "../helpers/backends.js";
import { addBacklog } from "../helpers/deliveries.js";

type T = Awaited<ReturnType<typeof testApp>>;
let app: T;
afterEach(async () => app?.cleanup());

const CAP = 8;
/** More than a claim reads of the due order before it turns to each webhook's own queue. */
const DEEP = 2_500;

describe.each(backends)("%s", (backend) => {
  let big: string;
  let basis: Omit<ClaimRequest, "limit">;

  async function setUp() {
    app = await testApp({}, backend);
    big = await app.hook("https://big.example/h", "shipments:created");
    await app.hook("https://a.example/h");
    await app.hook("https://b.example/h");
    const now = Date.now();
    await addBacklog(app.store.db, app.customerId, big, DEEP, now - 3_600_000);
    for (let i = 0; i < 3; i++)
      await publish(app.store.db, { customerId: app.customerId, topic: "orders:created", payload: `{"n":${i}}` }, app.publishRules, now - 1_000);
    basis = { owner: "me", cutoff: now, now, leaseMs: 60_000, room: (_id, elsewhere) => CAP - elsewhere };
  }

  /** How many of the deep webhook's deliveries and of the others' a claim took. */
  const byWebhook = (rows: { webhook_id: string }[]) => {
    const bigs = rows.filter((r) => r.webhook_id === big).length;
    return { ...(bigs ? { big: bigs } : {}), ...(rows.length > bigs ? { small: rows.length - bigs } : {}) };
  };

  it("one claim takes a deep webhook's room and every delivery due behind it, and knows nothing is left", async () => {
    await setUp();
    const claim = await claimDue(app.store.db, { ...basis, limit: 500 });
    expect(byWebhook(claim.deliveries)).toEqual({ big: CAP, small: 6 });
    // its oldest first
    const oldest = claim.deliveries.filter((d) => d.webhook_id === big).map((d) => d.created_at);
    expect(Math.max(...oldest)).toBeLessThan(Date.now() - 3_600_000 + CAP);
    expect(claim.full).toEqual([big]);
    expect(claim.exhausted).toBe(true);
  });

  it("a webhook left out of the claim, or failing, does not hide the deliveries behind its backlog", async () => {
    await setUp();
    const left = await claimDue(app.store.db, { ...basis, limit: 500, exclude: [big] });
    expect(byWebhook(left.deliveries)).toEqual({ small: 6 });
    expect(left.exhausted).toBe(true);

    await setUp();
    await app.store.db.updateTable("webhooks").set({ failing_since: 1, consecutive_failures: 1 }).where("id", "=", big).execute();
    const failing = await claimDue(app.store.db, { ...basis, limit: 500 });
    expect(byWebhook(failing.deliveries)).toEqual({ small: 6 });
    expect(failing.exhausted).toBe(true);
  });

  it("a batch smaller than what is due takes the oldest and says more is left", async () => {
    await setUp();
    const claim = await claimDue(app.store.db, { ...basis, limit: 5, exclude: [big] });
    expect(claim.deliveries).toHaveLength(5);
    expect(claim.exhausted).toBe(false);
    const rest = await claimDue(app.store.db, { ...basis, limit: 5, exclude: [big] });
    expect(rest.deliveries).toHaveLength(1);
    expect(rest.exhausted).toBe(true);
  });
});
