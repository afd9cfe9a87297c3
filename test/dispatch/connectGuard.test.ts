import { afterEach, describe, expect, it } from "vitest";
import { hostProblem } from "../../src/domain/urlPolicy.js";
import { createAgents, destroyAgents, send } from "../../src/dispatch/request.js";
import { publish } from "../../src/publishing.js";
import { createWebhook } from "../../src/store/webhooks.js";
import { testApp } from "../helpers/app.js";
import { startReceiver, type Receiver } from "../helpers/receiver.js";

let receiver: Receiver | undefined;
let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await receiver?.close();
  await cleanup?.();
  receiver = undefined;
  cleanup = undefined;
});

const request = (url: string) => ({
  url,
  body: Buffer.from("{}"),
  secret: null,
  webhookId: "w",
  eventId: "e",
  deliveryId: "d",
  topic: "orders:created",
  attemptNumber: 1,
});

describe("hostProblem (webhook save time)", () => {
  it("refuses a name that resolves to loopback, naming the address", async () => {
    expect(await hostProblem("localhost")).toMatch(/localhost resolves to a non-public address \((127\.0\.0\.1|::1)\)/);
  });

  it("refuses a name that does not resolve", async () => {
    expect(await hostProblem("hookd-test.invalid")).toMatch(/hookd-test\.invalid does not resolve/);
  });
});

describe("agents (connect time)", () => {
  for (const host of ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"]) {
    it(`refuse to dial ${host} when private addresses are not allowed, and dial it when they are`, async () => {
      receiver = await startReceiver();
      const url = `http://${host}:${receiver.port}/hook`;
      const guarded = createAgents({ allowPrivateAddresses: false });
      const open = createAgents({ allowPrivateAddresses: true });
      try {
        const refused = await send(request(url), { timeoutMs: 2000, agents: guarded });
        expect(refused.error).toBe("blocked");
        expect(refused.errorMessage).toMatch(/non-public address/);
        expect(receiver.requests).toHaveLength(0);
        const sent = await send(request(url), { timeoutMs: 2000, agents: open });
        expect(sent.statusCode).toBe(200);
        expect(receiver.requests).toHaveLength(1);
      } finally {
        destroyAgents(guarded);
        destroyAgents(open);
      }
    });
  }

  it("a webhook whose address is not public never reaches it in production, even if it got into the store", async () => {
    receiver = await startReceiver();
    const app = await testApp({ security: { allowHttp: true, allowPrivateAddresses: false } });
    cleanup = app.cleanup;
    // Saved under sandbox rules, as if the name had resolved to a public address then (DNS rebinding).
    const sandbox = { ...app.webhookRules, url: { allowHttp: true, allowPrivateAddresses: true } };
    await createWebhook(app.store.db, app.keyring, app.customerId, { url: `http://localhost:${receiver.port}/`, group: "orders", action: "created" }, sandbox);
    await publish(app.store.db, { customerId: app.customerId, topic: "orders:created", payload: "{}" }, app.publishRules);
    const summary = await app.dispatcher.tick();
    expect(summary.rescheduled).toBe(1);
    const attempt = await app.store.db.selectFrom("attempts").selectAll().executeTakeFirstOrThrow();
    expect(attempt.error).toBe("blocked");
    expect(receiver.requests).toHaveLength(0);
  });
});
