/**
 * The batched POST's request side: body, headers and the batch id, from a table; and a
 * real batch sent to a real receiver that checks it with the `standardwebhooks`
 * package (v1), with node:crypto (v1a) and with the seed-003 X-Signature recipe.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Agents } from "got";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import { batchBody, batchId, batchRequest, sendBatch, type BatchMember } from "../../src/dispatch/batchRequest.js";
import { createAgents, destroyAgents } from "../../src/dispatch/request.js";
import { sign, standardSignatureHeader } from "../../src/domain/signature.js";
import { generateSigningKey, publicKeyOf, signEd25519 } from "../../src/domain/signing.js";
import { verifyStandard } from "../../src/verify.js";
import { startReceiver, type Receiver } from "../helpers/receiver.js";

const members: BatchMember[] = [
  { deliveryId: "d1", eventId: "e1", payload: Buffer.from('{"id":1, "name":"Zoë"}'), attempts: 2 },
  { deliveryId: "d2", eventId: "e2", payload: Buffer.from("[1,2,3]"), attempts: 2 },
  { deliveryId: "d3", eventId: "e3", payload: Buffer.from('"just a string"'), attempts: 2 },
];
const common = { url: "http://127.0.0.1:9/batch", webhookId: "wh_1", topic: "orders:created", secret: "s3cret" };
const now = 1_700_000_000_900;
const ts = Math.floor(now / 1000);

describe("batch request", () => {
  it("joins the payloads' exact bytes into one JSON array, in the order given", () => {
    expect(batchBody(members).toString("utf8")).toBe('[{"id":1, "name":"Zoë"},[1,2,3],"just a string"]');
    expect(JSON.parse(batchBody(members).toString("utf8"))).toEqual([{ id: 1, name: "Zoë" }, [1, 2, 3], "just a string"]);
    expect(batchBody([members[0]!]).toString("utf8")).toBe('[{"id":1, "name":"Zoë"}]');
  });

  it("gives a batch an id that stays the same for the same members and changes with them", () => {
    const id = batchId(["d1", "d2", "d3"]);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(batchId(["d1", "d2", "d3"])).toBe(id);
    expect(batchId(["d1", "d2"])).not.toBe(id);
    expect(batchId(["d2", "d1", "d3"])).not.toBe(id);
  });

  it.each([
    [
      "hmac: X-Signature and v1 over the whole body",
      {},
      (id: string, body: Buffer) => ({ "x-signature": sign("s3cret", body), "webhook-signature": standardSignatureHeader(["s3cret"], id, ts, body) }),
    ],
    [
      "the webhook's own headers and Authorization ride along",
      { headers: { "X-Tenant": "acme" }, authorization: "Bearer tok" },
      () => ({ "X-Tenant": "acme", authorization: "Bearer tok" }),
    ],
  ])("%s", (_name, extra, expected) => {
    const batch = batchRequest(members, { ...common, ...extra });
    const headers = batch.headersAt(now);
    expect(headers).toMatchObject({
      "x-batch-size": "3",
      "x-event-ids": "e1,e2,e3",
      "x-delivery-ids": "d1,d2,d3",
      "x-attempt-number": "3",
      "x-webhook-id": "wh_1",
      "x-topic": "orders:created",
      "webhook-id": batch.id,
      "webhook-timestamp": String(ts),
      ...expected(batch.id, batch.body),
    });
    // The single-delivery ids are replaced, not sent beside the batch's.
    expect(headers).not.toHaveProperty("x-event-id");
    expect(headers).not.toHaveProperty("x-delivery-id");
  });

  it("ed25519: v1a over the whole body, then v1 while the webhook keeps a hash_secret", () => {
    const key = generateSigningKey();
    const batch = batchRequest(members, { ...common, signingKey: key });
    const headers = batch.headersAt(now);
    expect(headers["webhook-signature"]).toBe(`${signEd25519(key, batch.id, ts, batch.body)} ${standardSignatureHeader(["s3cret"], batch.id, ts, batch.body)}`);
    const keyOnly = batchRequest(members, { ...common, secret: null, signingKey: key }).headersAt(now);
    expect(keyOnly["webhook-signature"]).toBe(signEd25519(key, batch.id, ts, batch.body));
    expect(keyOnly).not.toHaveProperty("x-signature");
  });

  it("refuses an empty batch", () => {
    expect(() => batchRequest([], common)).toThrow("at least one");
  });
});

describe("a batch at a real receiver", () => {
  let receiver: Receiver | undefined;
  let agents: Agents | undefined;
  afterEach(async () => {
    await receiver?.close();
    if (agents) destroyAgents(agents);
  });

  it("verifies with the standardwebhooks package, with node:crypto for v1a, and with seed 003's X-Signature recipe", async () => {
    const secret = `whsec_${Buffer.from("a batch test key of 32 bytes....").toString("base64")}`;
    const key = generateSigningKey();
    const verdicts: Record<string, unknown>[] = [];
    receiver = await startReceiver((req, res) => {
      const parsed = new StandardWebhook(secret).verify(req.body.toString("utf8"), req.headers as Record<string, string>);
      const hex = createHmac("sha256", secret).update(req.body).digest("hex");
      verdicts.push({
        standardwebhooks: parsed,
        v1a: verifyStandard(req.body, req.headers, publicKeyOf(key)),
        xSignature: timingSafeEqual(Buffer.from(hex), Buffer.from(String(req.headers["x-signature"]))),
        ids: [req.headers["x-batch-size"], req.headers["x-event-ids"], req.headers["x-delivery-ids"], req.headers["webhook-id"]],
      });
      res.writeHead(200).end("ok");
    });
    agents = createAgents();
    const batch = batchRequest(members, { ...common, url: `${receiver.url}/batch`, secret, signingKey: key });
    const outcome = await sendBatch(batch, { timeoutMs: 5000, agents });
    expect(outcome).toMatchObject({ ok: true, statusCode: 200 });
    expect(receiver.requests[0]!.body.equals(batch.body)).toBe(true);
    expect(verdicts).toEqual([
      {
        standardwebhooks: [{ id: 1, name: "Zoë" }, [1, 2, 3], "just a string"],
        v1a: true,
        xSignature: true,
        ids: ["3", "e1,e2,e3", "d1,d2,d3", batch.id],
      },
    ]);
  });
});
