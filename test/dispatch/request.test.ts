import { afterEach, describe, expect, it } from "vitest";
import { createAgents, deliveryHeaders, destroyAgents, post, setOptionsOnly, type DeliveryRequest } from "../../src/dispatch/request.js";
import { startReceiver, type Receiver } from "../helpers/receiver.js";
import { until } from "../helpers/until.js";
import { sign, standardSignatureHeader } from "../../src/domain/signature.js";
import { generateSigningKey, signEd25519 } from "../../src/domain/signing.js";

const now = 1_700_000_000_500;
const ts = 1_700_000_000;
const base: DeliveryRequest = {
  url: "http://127.0.0.1:9/hook",
  body: Buffer.from('{"order":1}'),
  secret: "C",
  webhookId: "wh_1",
  eventId: "evt_1",
  deliveryId: "dl_1",
  topic: "orders:created",
  attemptNumber: 2,
};
const previous = JSON.stringify([
  { secret: "B", expires_at: now + 1000 },
  { secret: "A", expires_at: now - 1 },
]);
const signed = (secrets: string[]) => standardSignatureHeader(secrets, "evt_1", ts, base.body);

describe("deliveryHeaders", () => {
  it.each([
    ["a secret: X-Signature and the three standard headers", base, sign("C", base.body), signed(["C"])],
    [
      "in an overlap: X-Signature with the oldest valid secret, one entry per valid secret, newest first",
      { ...base, previousSecrets: previous },
      sign("B", base.body),
      signed(["C", "B"]),
    ],
    [
      "an overlap that has ended: the current secret alone",
      { ...base, previousSecrets: JSON.stringify([{ secret: "B", expires_at: now }]) },
      sign("C", base.body),
      signed(["C"]),
    ],
  ])("%s", (_name, req, xSignature, standard) => {
    const headers = deliveryHeaders(req, now);
    expect(headers).toMatchObject({
      "x-event-id": "evt_1",
      "x-timestamp": String(ts),
      "x-attempt-number": "2",
      "x-signature": xSignature,
      "webhook-id": "evt_1",
      "webhook-timestamp": String(ts),
      "webhook-signature": standard,
    });
  });

  it("no secret: no signature headers of either kind", () => {
    const headers = deliveryHeaders({ ...base, secret: null, previousSecrets: previous }, now);
    expect(Object.keys(headers).filter((h) => h.includes("signature") || h.startsWith("webhook-"))).toEqual([]);
    expect(headers["x-event-id"]).toBe("evt_1");
  });
});

describe("deliveryHeaders with a webhook's settings", () => {
  const key = generateSigningKey();
  const older = generateSigningKey();

  it("adds the webhook's own headers and Authorization; hookd's own headers are its own", () => {
    const headers = deliveryHeaders({ ...base, headers: { "X-Tenant": "acme", "X-Api-Version": "2" }, authorization: "Bearer tok" }, now);
    expect(headers).toMatchObject({ "X-Tenant": "acme", "X-Api-Version": "2", authorization: "Bearer tok", "x-event-id": "evt_1" });
  });

  it.each([
    ["ed25519 alone: one v1a entry", { secret: null, signingKey: key }, () => signEd25519(key, "evt_1", ts, base.body), false],
    [
      "ed25519 and a hash_secret: v1a first, then v1, and X-Signature",
      { signingKey: key },
      () => `${signEd25519(key, "evt_1", ts, base.body)} ${signed(["C"])}`,
      true,
    ],
    [
      "ed25519 in a rotation's overlap: one v1a per valid key, newest first",
      { secret: null, signingKey: key, previousSigningKeys: JSON.stringify([{ secret: older, expires_at: now + 1 }]) },
      () => `${signEd25519(key, "evt_1", ts, base.body)} ${signEd25519(older, "evt_1", ts, base.body)}`,
      false,
    ],
    [
      "an expired previous key no longer signs",
      { secret: null, signingKey: key, previousSigningKeys: JSON.stringify([{ secret: older, expires_at: now }]) },
      () => signEd25519(key, "evt_1", ts, base.body),
      false,
    ],
  ])("%s", (_name, signing, expected, xSignature) => {
    const headers = deliveryHeaders({ ...base, ...signing }, now);
    expect(headers["webhook-signature"]).toBe(expected());
    expect(headers["webhook-id"]).toBe("evt_1");
    expect("x-signature" in headers).toBe(xSignature);
  });
});

describe("setOptionsOnly", () => {
  it("drops the unset request options and keeps every set one, falsy ones too", () => {
    const agent = {};
    const options = { agent, method: "POST", timeout: undefined, rejectUnauthorized: false, family: 0, localAddress: null, ca: undefined };
    expect(setOptionsOnly(options)).toEqual({ agent, method: "POST", rejectUnauthorized: false, family: 0, localAddress: null });
    expect(Object.keys(setOptionsOnly(options))).toEqual(["agent", "method", "rejectUnauthorized", "family", "localAddress"]);
    expect(setOptionsOnly(options).agent).toBe(agent);
  });
});

describe("post with a signal many requests share (a tick's)", () => {
  let receiver: Receiver | null = null;
  const agents = createAgents();
  afterEach(async () => {
    destroyAgents(agents);
    await receiver?.close();
    receiver = null;
  });

  it("cuts off the requests in flight when it aborts, not those that already ended, and later ones at once", async () => {
    const hanging: import("node:http").ServerResponse[] = [];
    receiver = await startReceiver((req, res) => {
      if (req.path === "/fast") res.writeHead(200).end("ok");
      else hanging.push(res);
    });
    const controller = new AbortController();
    const send = (path: string) =>
      post(`${receiver!.url}${path}`, Buffer.from("{}"), () => ({ "content-type": "application/json" }), {
        timeoutMs: 30_000,
        agents,
        signal: controller.signal,
      });
    const done = await Promise.all([send("/fast"), send("/fast")]);
    const inFlight = [send("/hang"), send("/hang"), send("/hang")];
    await until("the receiver holds the three requests", () => hanging.length === 3, 10_000, 5);
    controller.abort();
    const cut = await Promise.all(inFlight);
    const after = await send("/fast");

    expect(done.map((o) => [o.ok, o.statusCode])).toEqual([
      [true, 200],
      [true, 200],
    ]);
    expect(cut.map((o) => [o.ok, o.error])).toEqual([
      [false, "aborted"],
      [false, "aborted"],
      [false, "aborted"],
    ]);
    expect([after.ok, after.error]).toEqual([false, "aborted"]);
    expect(receiver.requests.filter((r) => r.path === "/fast")).toHaveLength(2);
  });
});
