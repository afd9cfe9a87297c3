/**
 * Production URL rules through the API. No test here sends anything to a public
 * address: the accepted public webhook is only stored, never ticked or tested.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWebhook } from "../../src/store/webhooks.js";
import { apiHarness, type ApiHarness } from "../helpers/api.js";
import { startReceiver, type Receiver } from "../helpers/receiver.js";

let h: ApiHarness;
beforeAll(async () => {
  h = await apiHarness({ security: { allowHttp: false, allowPrivateAddresses: false } });
});
afterAll(async () => {
  await h.cleanup();
});

const PUBLIC = "https://93.184.216.34/hook";

const refused: [string, RegExp][] = [
  ["http://93.184.216.34/hook", /must use https/],
  ["https://127.0.0.1/", /non-public address \(127\.0\.0\.1\)/],
  ["https://localhost/", /local host name/],
  ["https://intranet/", /local host name/],
  ["https://10.1.2.3/", /non-public address/],
  ["https://172.16.0.1/", /non-public address/],
  ["https://192.168.1.1/", /non-public address/],
  ["https://100.64.0.1/", /non-public address/],
  ["https://169.254.169.254/latest/meta-data/", /non-public address \(169\.254\.169\.254\)/],
  ["https://0.0.0.0/", /non-public address/],
  ["https://[::1]/", /non-public address/],
  ["https://[fd00::1]/", /non-public address/],
  ["https://[fe80::1]/", /non-public address/],
  ["https://[::ffff:127.0.0.1]/", /non-public address/],
  ["https://[::ffff:a9fe:a9fe]/", /non-public address/],
  ["https://[::ffff:0:7f00:1]/", /non-public address/], // IPv4-translated 127.0.0.1
  ["https://[::ffff:0:5db8:d822]/", /non-public address/], // IPv4-translated, even of a public address
  ["https://93.184.216.34/a\r\nb", /must not contain whitespace, control characters/],
  ["https://93.184.216.34/\u001b[2J", /must not contain whitespace, control characters/],
  ["https://93.184.216.34/\thook", /must not contain whitespace, control characters/],
  ["https://93.184.216.34/ hook", /must not contain whitespace, control characters/],
  [" https://93.184.216.34/hook", /must not contain whitespace, control characters/],
  ["https://93.184.216.34/\ud800", /lone surrogates/],
  ["https://2130706433/", /non-public address \(127\.0\.0\.1\)/],
  ["https://0x7f.1/", /non-public address \(127\.0\.0\.1\)/],
  ["https://0177.0.0.1/", /non-public address \(127\.0\.0\.1\)/],
  ["https://127.1/", /non-public address \(127\.0\.0\.1\)/],
  ["https://hookd-test.invalid/", /does not resolve/],
  ["https://user:pass@93.184.216.34/", /credentials/],
];

const webhookCount = async () => (await h.app.store.db.selectFrom("webhooks").selectAll().execute()).length;

describe("production URL policy", () => {
  for (const [i, [url, reason]] of refused.entries()) {
    it(`refuses ${JSON.stringify(url)} at create and at update`, async () => {
      const before = await webhookCount();
      const created = await h.call("POST", "/webhooks/", { body: { url, group: "orders", action: "created" } });
      expect(created.status).toBe(400);
      expect(created.body.error.details).toEqual([{ field: "url", message: expect.stringMatching(reason) }]);
      expect(await webhookCount()).toBe(before);

      const ok = await h.call("POST", "/webhooks/", { body: { url: `${PUBLIC}/${i}`, group: "orders", action: "created" } });
      expect(ok.status).toBe(201);
      const updated = await h.call("PATCH", `/webhooks/${ok.body.id}/`, { body: { url } });
      expect(updated.status).toBe(400);
      expect(updated.body.error.details).toEqual([{ field: "url", message: expect.stringMatching(reason) }]);
      expect((await h.call("GET", `/webhooks/${ok.body.id}/`)).body.url).toBe(`${PUBLIC}/${i}`);
    });
  }

  it("names the other bad fields beside an unresolvable host", async () => {
    const res = await h.call("POST", "/webhooks/", { body: { url: "https://hookd-test.invalid/", group: "orders", action: "exploded" } });
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: { field: string }) => d.field)).toEqual(["url", "action"]);
  });

  it("a test send to a webhook that points at a private address (saved before the rules changed) is blocked at connect time", async () => {
    const receiver: Receiver = await startReceiver();
    try {
      // Saved under sandbox rules, as if the config changed (or DNS rebinding) since.
      const sandbox = { ...h.app.webhookRules, url: { allowHttp: true, allowPrivateAddresses: true } };
      const {
        row: { id },
      } = await createWebhook(
        h.app.store.db,
        h.app.keyring,
        h.app.customerId,
        { url: `http://localhost:${receiver.port}/`, group: "orders", action: "created" },
        sandbox,
      );
      const res = await h.call("POST", `/webhooks/${id}/test/`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ ok: false, status_code: null, error: "blocked" });
      expect(receiver.requests).toHaveLength(0);
    } finally {
      await receiver.close();
    }
  });
});
