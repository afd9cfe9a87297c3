/**
 * Bad input anywhere in the console gets the API's message in plain words, under the
 * form's own labels, and changes nothing (issue 22): webhook create and edit, a retry
 * that no longer applies, a replay and a filter whose range ends before it starts, and
 * sign-in with something that is not a key.
 */
import type { Page } from "playwright-core";
import { beforeEach, describe, expect, it } from "vitest";
import type { ApiHarness } from "../helpers/api.js";
import { browserAvailable, consoleHarness, expectAccessible, signIn } from "../helpers/browser.js";
import type { Receiver } from "../helpers/receiver.js";

const run = browserAvailable();
const t = consoleHarness(run, { retry: { maxAttempts: 1 } });
let h: ApiHarness;
let receiver: Receiver;
let page: Page;
beforeEach(() => ({ h, receiver, page } = t));

const alert = (text: string) => page.getByRole("alert").filter({ hasText: text });
const webhooks = async () => (await h.call("GET", "/webhooks/")).body.results;

describe.skipIf(!run)("bad input in the console", () => {
  it("creating and editing a webhook: each bad field named by its label, nothing made or changed", async () => {
    await signIn(page, h.server.url, h.key);
    await page.goto(`${h.server.url}/ui/#/webhooks/new`);
    const url = page.getByLabel("Receiver URL");
    await url.fill("ftp://example.com/hooks");
    await page.getByRole("button", { name: "Create webhook" }).click();
    await alert("Receiver URL: must use https (or http where allowed)").waitFor();
    await expectAccessible(page);

    await url.fill(`${receiver.url}/hooks`);
    await page.getByLabel("Signing secret").fill("s".repeat(600));
    await page.getByRole("button", { name: "Create webhook" }).click();
    await alert("Signing secret: must be a string of at most 512 characters, or null").waitFor();
    expect(await webhooks()).toEqual([]);

    // The same URL and topic twice: the API's conflict, as it words it.
    await h.call("POST", "/webhooks/", { body: { url: `${receiver.url}/hooks`, group: "orders", action: "created" } });
    await page.getByLabel("Signing secret").fill("fine");
    await page.getByLabel("Topic").selectOption("orders:created");
    await page.getByRole("button", { name: "Create webhook" }).click();
    await page
      .getByRole("alert")
      .filter({ hasText: /already/ })
      .waitFor();
    const [only] = await webhooks();
    expect((await webhooks()).length).toBe(1);

    await page.goto(`${h.server.url}/ui/#/webhooks/${only.id}`);
    await page.getByRole("heading", { name: "Edit" }).waitFor();
    await page.getByLabel("Receiver URL").fill("https://user:secret@example.com/hooks");
    await page.getByRole("button", { name: "Save changes" }).click();
    await alert("Receiver URL: must not carry credentials").waitFor();
    const [after] = await webhooks();
    expect(after).toMatchObject({ url: `${receiver.url}/hooks`, updated_at: only.updated_at });
  });

  it("a retry that no longer applies, a replay and a filter whose range ends before it starts", async () => {
    receiver.respond((_req, res) => res.writeHead(500).end());
    const hook = (await h.call("POST", "/webhooks/", { body: { url: `${receiver.url}/down`, group: "orders", action: "created" } })).body;
    await h.call("POST", "/events/", { body: { topic: "orders:created", payload: {} } });
    await h.app.dispatcher.tick();
    const [failed] = (await h.call("GET", "/deliveries/?status=failed")).body.results;

    await signIn(page, h.server.url, h.key);
    await page.goto(`${h.server.url}/ui/#/deliveries/${failed.id}`);
    const retry = page.getByRole("button", { name: "Retry now" });
    await retry.waitFor();
    // Someone else put it back in line meanwhile: this retry no longer applies.
    await h.call("POST", `/deliveries/${failed.id}/retry/`);
    const before = (await h.call("GET", `/deliveries/${failed.id}/`)).body;
    await retry.click();
    await alert("only failed deliveries can be retried").waitFor();
    expect((await h.call("GET", `/deliveries/${failed.id}/`)).body).toMatchObject({ status: "pending", updated_at: before.updated_at });

    await h.app.dispatcher.tick(); // fails again: one failed delivery to replay
    await page.goto(`${h.server.url}/ui/#/webhooks/${hook.id}`);
    await page.getByLabel("Failed since").fill("2026-03-02T10:00");
    await page.getByLabel("Failed until").fill("2026-03-01T10:00");
    await page.getByRole("button", { name: "Count failed deliveries" }).click();
    await alert("Failed until: must be later than “Failed since”").waitFor();
    expect((await h.call("GET", "/deliveries/?status=failed")).body.count).toBe(1);

    await page.goto(`${h.server.url}/ui/#/deliveries`);
    await page.getByLabel("Since", { exact: true }).fill("2026-03-02T10:00");
    await page.getByLabel("Until", { exact: true }).fill("2026-03-01T10:00");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await alert("Until: must be later than “Since”").waitFor();
    // The filters stay, to be put right.
    await page.getByRole("heading", { level: 1, name: "Deliveries" }).waitFor();
    expect(await page.getByLabel("Since", { exact: true }).inputValue()).toBe("2026-03-02T10:00");
    await expectAccessible(page);
  });

  it("signing in with something that is not a key says so", async () => {
    await page.goto(`${h.server.url}/ui/`);
    await page.getByLabel("API key").fill("hk_cus_nope");
    await page.getByRole("button", { name: "Sign in" }).click();
    await alert("that API key is not valid").waitFor();
    await page.getByLabel("API key").fill("x".repeat(300));
    await page.getByRole("button", { name: "Sign in" }).click();
    await alert("That is not an API key: hookd's keys start with hk_.").waitFor();
    expect(await page.locator("body").innerText()).not.toMatch(/must NOT|body\/key/);
  });
});
