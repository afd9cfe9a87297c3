import { describe, expect, it } from "vitest";
import { deliveryHeaders, type DeliveryRequest } from "../../src/dispatch/request.js";
import { sign, standardSignatureHeader } from "../../src/domain/signature.js";

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
