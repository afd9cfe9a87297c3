/**
 * A tick holds each event's payload once however many of its deliveries it has, within
 * dispatch.maxHeldBytes, and every body still arrives byte for byte as published.
 */
import { afterEach, describe, expect, it } from "vitest";
import { HeldPayloads } from "../../src/dispatch/heldPayloads.js";
import { publish } from "../../src/publishing.js";
import { testApp } from "../helpers/app.js";
import { backends } from "../helpers/backends.js";
import { ok, startReceiver, type Receiver } from "../helpers/receiver.js";

describe("HeldPayloads", () => {
  it("keeps one copy per event until its last delivery is done, and counts its bytes", () => {
    const held = new HeldPayloads();
    for (const id of ["e1", "e1", "e1", "e2"]) held.hold(id);
    expect(held.missing(["e1", "e1", "e2"])).toEqual(["e1", "e2"]);
    held.put("e1", Buffer.alloc(100));
    held.put("e2", Buffer.alloc(50));
    held.put("e9", Buffer.alloc(10));
    expect(held.bytes).toBe(150);
    expect(held.missing(["e1", "e3"])).toEqual(["e3"]);
    held.release("e1");
    held.release("e1");
    expect(held.get("e1")).toHaveLength(100);
    held.release("e1");
    expect(held.get("e1")).toBeUndefined();
    expect(held.bytes).toBe(50);
  });

  it("keeps a payload in hand for a claim whose read is under way, when another delivery of its event finishes meanwhile", () => {
    const held = new HeldPayloads();
    held.hold("e1");
    held.put("e1", Buffer.from("{}"));
    // A second claim takes another delivery of e1 (and of e2, not here yet) and starts reading...
    held.hold("e1");
    held.hold("e2");
    expect(held.missing(["e1", "e2"])).toEqual(["e2"]);
    // ...while the first delivery of e1 finishes.
    held.release("e1");
    held.put("e2", Buffer.from("[]"));
    expect(held.get("e1")?.toString()).toBe("{}");
    expect(held.get("e2")?.toString()).toBe("[]");
  });
});

let app: Awaited<ReturnType<typeof testApp>> | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await receiver?.close();
  await app?.cleanup();
  app = receiver = undefined;
});

describe.each(backends)("large payloads to many webhooks (%s)", (backend) => {
  it("arrive byte for byte with a held-bytes bound smaller than what the tick delivers", async () => {
    receiver = await startReceiver(ok);
    app = await testApp({ dispatch: { maxHeldBytes: 1_048_576 }, limits: { maxPayloadBytes: 262_144 } }, backend);
    for (let i = 0; i < 10; i++) await app.hook(`${receiver.url}/h${i}`);
    const payloads = Array.from({ length: 12 }, (_, i) => JSON.stringify({ i, text: `Zoë ${i} `.repeat(20_000) }));
    for (const payload of payloads) await publish(app.store.db, { customerId: app.customerId, topic: "orders:created", payload }, app.publishRules);

    expect(await app.dispatcher.tick()).toMatchObject({ delivered: 120, deferred: 0 });
    expect(receiver.requests).toHaveLength(120);
    const sent = new Set(payloads);
    for (const r of receiver.requests) expect(sent.has(r.body.toString("utf8"))).toBe(true);
    const perEvent = new Map<string, number>();
    for (const r of receiver.requests) perEvent.set(r.body.toString("utf8"), (perEvent.get(r.body.toString("utf8")) ?? 0) + 1);
    expect([...perEvent.values()]).toEqual(Array(12).fill(10));
  });
});
