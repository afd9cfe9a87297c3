/**
 * Rotating a webhook's secret from the console (POST /webhooks/:id/rotate-secret/,
 * SPEC): the new secret is shown once with a copy button and the overlap's end, and
 * the next delivery is signed with it (webhook-signature) while X-Signature keeps the
 * old secret until the overlap ends (README, "Rotating a secret").
 */
import type { Page } from "playwright-core";
import { beforeEach, describe, expect, it } from "vitest";
import { verifySignature, verifyStandard } from "../../src/verify.js";
import type { ApiHarness } from "../helpers/api.js";
import { browserAvailable, consoleHarness, expectAccessible, signIn } from "../helpers/browser.js";
import type { Receiver } from "../helpers/receiver.js";

const run = browserAvailable();
const t = consoleHarness(run);
let h: ApiHarness;
let receiver: Receiver;
let page: Page;
beforeEach(() => ({ h, receiver, page } = t));

describe.skipIf(!run)("rotating a secret in the console", () => {
  it("shows the new secret once, with a copy button, and the next delivery is signed with it", async () => {
    const hook = await h.call("POST", "/webhooks/", { body: { url: `${receiver.url}/rotate`, group: "orders", action: "created", hash_secret: "old-secret" } });
    await signIn(page, h.server.url, h.key);
    await page.goto(`${h.server.url}/ui/#/webhooks/${hook.body.id}`);
    await page.getByRole("button", { name: "Rotate secret" }).click();
    const alert = page.locator('[role="alert"]:not(:empty)');
    await page.locator("code.secret").or(alert).first().waitFor();
    expect((await alert.allInnerTexts()).join(" ")).toBe("");

    const secret = (await page.locator("code.secret").textContent())!;
    expect(secret).toMatch(/^whsec_/);
    await page.getByRole("button", { name: "Copy secret" }).waitFor();
    await page.getByText("The previous one stays valid until").waitFor();
    await expectAccessible(page);

    // Shown once: the webhook's page, loaded again, does not have it.
    await page.reload();
    await page.getByRole("button", { name: "Rotate secret" }).waitFor();
    expect(await page.locator("body").innerText()).not.toContain(secret);

    await h.call("POST", "/events/", { body: { topic: "orders:created", payload: { after: "rotation" } } });
    await h.app.dispatcher.tick();
    const [request] = receiver.requests;
    expect(verifyStandard(request!.body, request!.headers, [secret])).toBe(true);
    expect(verifySignature("old-secret", request!.body, request!.headers["x-signature"] as string)).toBe(true);
  });
});
