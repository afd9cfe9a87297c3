/**
 * A webhook's delivery settings in the console (issue 22, item 9; SPEC "Per-webhook
 * delivery settings"): every field the API takes can be set on create and seen and
 * changed on the webhook's page, by a customer key, an admin and a portal session.
 * Secrets are write-only (the page says one is set, never shows it, and an empty field
 * keeps it); a refused value gets the API's words by its field and changes nothing;
 * the form fits a phone and passes axe.
 */
import type { Page } from "playwright-core";
import { beforeEach, describe, expect, it } from "vitest";
import { SETTING_FIELDS } from "../../src/domain/webhookSettings.js";
import type { ApiHarness } from "../helpers/api.js";
import { browserAvailable, consoleHarness, expectAccessible, expectFitsPhone, PHONE_WIDTH, screenshot, signIn } from "../helpers/browser.js";
import type { Receiver } from "../helpers/receiver.js";
import { startTokenEndpoint } from "../helpers/tokenEndpoint.js";

const run = browserAvailable();
const t = consoleHarness(run);
let h: ApiHarness;
let receiver: Receiver;
let page: Page;
beforeEach(() => ({ h, receiver, page } = t));

const TOKEN = "bearer-token-never-shown-7f3a";
const CLIENT_SECRET = "client-secret-never-shown-91c2";

const label = (text: string) => page.getByLabel(text);
/** The error line under a field (what the field is described by), or "" without one. */
const errorText = async (text: string) => {
  const id = await label(text).getAttribute("aria-describedby");
  return id ? (await page.locator(`#${id}`).innerText()).trim() : "";
};
/** The error line under a field, once the form has answered. */
const errorBy = (text: string) => expect.poll(() => errorText(text));
const read = async (id: string, key?: string) => (await h.call("GET", `/webhooks/${id}/`, key === undefined ? {} : { key })).body;
const save = () => page.getByRole("button", { name: "Save changes" }).click();
const saved = () => page.getByText("Saved.").waitFor();

const SETTINGS = [...SETTING_FIELDS, "public_key"] as const;
const settingsOf = (hook: Record<string, unknown>) => Object.fromEntries(SETTINGS.map((k) => [k, hook[k]]));

/** The page's HTML, and what a person sees, both without `secret`. */
async function expectNowhere(secret: string) {
  expect(await page.content()).not.toContain(secret);
  expect(await page.locator("body").innerText()).not.toContain(secret);
}

describe.skipIf(!run)("delivery settings in the console", () => {
  it("creates a webhook with headers, bearer auth, timeout, retries, filter and ordering; reads each back; edits one; the token never shows", async () => {
    await signIn(page, h.server.url, h.key);
    await page.goto(`${h.server.url}/ui/#/webhooks/new`);
    await label("Receiver URL").fill(`${receiver.url}/settings`);
    await label("Topic").selectOption("orders:created");
    await page.getByText("Delivery settings").click();
    await label("Custom headers").fill("X-Tenant: acme\nX-Region:  eu-west ");
    await label("Timeout (ms)").fill("5000");
    await label("Authentication").selectOption("bearer");
    await label("Bearer token").fill(TOKEN);
    await label("Max attempts").fill("5");
    await label("Retry delays (seconds)").fill("60, 300 3600");
    await label("Rate limit (per second)").fill("2.5");
    await label("Ordered").check();
    await label("Batch size").fill("3");
    await label("Payload filter (JSON)").fill('{"status": "paid", "total": {"$gte": 100}}');
    await label("Signature scheme").selectOption("ed25519");
    await expectAccessible(page);
    await page.getByRole("button", { name: "Create webhook" }).click();
    await page.getByRole("heading", { level: 1, name: `${receiver.url}/settings` }).waitFor();

    const [made] = (await h.call("GET", "/webhooks/")).body.results;
    const hook = await read(made.id);
    expect(hook).toMatchObject({
      headers: { "X-Tenant": "acme", "X-Region": "eu-west" },
      auth: { type: "bearer" },
      timeout_ms: 5000,
      max_attempts: 5,
      retry_delays_seconds: [60, 300, 3600],
      rate_limit: 2.5,
      filter: { status: "paid", total: { $gte: 100 } },
      ordered: true,
      batch_size: 3,
      signing: "ed25519",
    });
    expect(hook.public_key).toMatch(/^whpk_/);

    // The page shows each value back, says a token is set, and never shows it.
    expect(await label("Custom headers").inputValue()).toBe("X-Tenant: acme\nX-Region: eu-west");
    expect(await label("Timeout (ms)").inputValue()).toBe("5000");
    expect(await label("Authentication").inputValue()).toBe("bearer");
    expect(await label("Bearer token").inputValue()).toBe("");
    await page.getByText("A token is set; hookd never shows it.").waitFor();
    expect(await label("Retry delays (seconds)").inputValue()).toBe("60, 300, 3600");
    expect(await label("Rate limit (per second)").inputValue()).toBe("2.5");
    expect(await label("Ordered").isChecked()).toBe(true);
    expect(await label("Batch size").inputValue()).toBe("3");
    expect(JSON.parse(await label("Payload filter (JSON)").inputValue())).toEqual({ status: "paid", total: { $gte: 100 } });
    expect(await label("Signature scheme").inputValue()).toBe("ed25519");
    await page.getByText(hook.public_key).waitFor();
    await expectNowhere(TOKEN);
    await expectAccessible(page);
    // The whole form in one picture for the README.
    await page.setViewportSize({ width: 1100, height: 2300 });
    await screenshot(page, "webhook-settings");
    await page.setViewportSize({ width: 1100, height: 760 });

    // Edit one setting: only it changes, and the empty token field keeps the token.
    await label("Timeout (ms)").fill("8000");
    await save();
    await saved();
    const edited = await read(made.id);
    expect(edited).toEqual({ ...hook, timeout_ms: 8000, updated_at: edited.updated_at });
    await expectNowhere(TOKEN);

    // The receiver gets the headers and the token it was given.
    await h.call("POST", "/events/", { body: { topic: "orders:created", payload: { status: "paid", total: 120 } } });
    await h.call("POST", "/events/", { body: { topic: "orders:created", payload: { status: "open", total: 500 } } });
    await h.app.dispatcher.tick();
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]!.headers).toMatchObject({ authorization: `Bearer ${TOKEN}`, "x-tenant": "acme", "x-region": "eu-west" });

    // Back to the defaults: empty fields are null, auth none.
    for (const name of ["Custom headers", "Timeout (ms)", "Max attempts", "Retry delays (seconds)", "Rate limit (per second)", "Payload filter (JSON)"]) {
      await label(name).fill("");
    }
    await label("Authentication").selectOption("none");
    await label("Ordered").uncheck();
    await label("Batch size").fill("1");
    await label("Signature scheme").selectOption("hmac");
    await save();
    await saved();
    // …the same settings as a webhook that never set any.
    const plain = (await h.call("POST", "/webhooks/", { body: { url: `${receiver.url}/plain`, group: "orders", action: "created" } })).body;
    expect(settingsOf(await read(made.id))).toEqual(settingsOf(plain));
  });

  it("an admin sets OAuth2 client credentials: the client secret is write-only, kept when left empty, needed again for new OAuth2 fields", async () => {
    const tokens = await startTokenEndpoint({ clientId: "hookd-client", clientSecret: CLIENT_SECRET });
    try {
      const hook = (await h.call("POST", "/webhooks/", { body: { url: `${receiver.url}/oauth`, group: "orders", action: "created" } })).body;
      await signIn(page, h.server.url, h.adminKey);
      await page.getByLabel("Customer").selectOption(h.app.customerId);
      await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
      await page.goto(`${h.server.url}/ui/#/webhooks/${hook.id}`);
      await label("Authentication").selectOption("oauth2");
      await label("Token URL").fill(tokens.url);
      await label("Client ID").fill("hookd-client");
      await label("Client secret").fill(CLIENT_SECRET);
      await label("Scope").fill("webhooks:write");
      await save();
      await saved();
      expect((await read(hook.id)).auth).toEqual({ type: "oauth2", token_url: tokens.url, client_id: "hookd-client", scope: "webhooks:write" });
      await page.getByText("A client secret is set; hookd never shows it.").waitFor();
      expect(await label("Token URL").inputValue()).toBe(tokens.url);
      expect(await label("Client secret").inputValue()).toBe("");
      await expectNowhere(CLIENT_SECRET);

      // Another setting saved with the secret left empty: the credentials stay and work.
      await label("Max attempts").fill("3");
      await save();
      await saved();
      expect(await read(hook.id)).toMatchObject({ max_attempts: 3, auth: { type: "oauth2", client_id: "hookd-client" } });
      await h.call("POST", "/events/", { body: { topic: "orders:created", payload: { n: 1 } } });
      await h.app.dispatcher.tick();
      expect(tokens.credentials()).toEqual([{ id: "hookd-client", secret: CLIENT_SECRET }]);
      expect(receiver.requests[0]!.headers.authorization).toBe("Bearer tok_1");

      // A new scope without the secret: the API asks for it, by its field, and nothing changes.
      const before = await read(hook.id);
      await label("Scope").fill("webhooks:read");
      await save();
      await errorBy("Client secret").toMatch(/^is required/);
      expect(await read(hook.id)).toEqual(before);
      await expectNowhere(CLIENT_SECRET);
    } finally {
      await tokens.close();
    }
  });

  it("a refused value gets the API's words by its field, nothing changes; the form fits a phone and passes axe", async () => {
    const made = await h.call("POST", "/webhooks/", { body: { url: `${receiver.url}/bad`, group: "orders", action: "created", headers: { "X-Ok": "1" } } });
    const hook = await read(made.body.id);
    await page.setViewportSize({ width: PHONE_WIDTH, height: 844 });
    await signIn(page, h.server.url, h.key);
    await page.goto(`${h.server.url}/ui/#/webhooks/${hook.id}`);
    await label("Custom headers").waitFor();
    await expectFitsPhone(page, "a webhook's settings");

    // A hop-by-hop header: 422 naming the header.
    await label("Custom headers").fill("X-Ok: 1\nConnection: close");
    await save();
    await page.getByRole("alert").filter({ hasText: "Custom headers (Connection): is reserved" }).waitFor();
    await errorBy("Custom headers").toBe("Connection: is reserved: hookd sets it itself, or it frames the request (hop-by-hop)");
    expect(await read(hook.id)).toEqual(hook);
    await expectAccessible(page);
    await expectFitsPhone(page, "a refused header");

    // A timeout of 99 s: over dispatch.timeoutMs.
    await label("Custom headers").fill("X-Ok: 1");
    await label("Timeout (ms)").fill("99000");
    await save();
    await page.getByRole("alert").filter({ hasText: "Timeout (ms): must be an integer from 1000 to 10000" }).waitFor();
    await errorBy("Timeout (ms)").toBe("must be an integer from 1000 to 10000 (dispatch.timeoutMs), or null");
    // The header's error is gone once the header is right.
    expect(await label("Custom headers").getAttribute("aria-invalid")).toBeNull();
    expect(await read(hook.id)).toEqual(hook);

    // Several at once, each by its own field: a filter's place, a retry delay, a bearer token with a space.
    await label("Timeout (ms)").fill("");
    await label("Payload filter (JSON)").fill('{"total": {"$gt": [1]}}');
    await label("Retry delays (seconds)").fill("60, 0");
    await label("Authentication").selectOption("bearer");
    await label("Bearer token").fill("has space");
    await save();
    await page.getByRole("alert").filter({ hasText: "Payload filter (JSON)" }).waitFor();
    await errorBy("Payload filter (JSON)").toMatch(/^\["total"\]\.\$gt: must be a number or a string/);
    await errorBy("Retry delays (seconds)").toBe("item 2: must be an integer from 1 to 86400");
    await errorBy("Bearer token").toMatch(/^is required: 1 to 4096 visible ASCII characters/);
    expect(await read(hook.id)).toEqual(hook);
    await expectAccessible(page);
    await expectFitsPhone(page, "several refused settings");
    await screenshot(page, "phone-webhook-settings-refused");

    // Text the form cannot read never reaches the API, and says where it went wrong.
    await label("Payload filter (JSON)").fill("{status: paid}");
    await label("Custom headers").fill("X-Ok: 1\nX-Ok: 2");
    await save();
    await errorBy("Payload filter (JSON)").toMatch(/^is not valid JSON/);
    await errorBy("Custom headers").toBe("X-Ok: is given twice");
    expect(await read(hook.id)).toEqual(hook);

    // On create too: nothing is made.
    await page.goto(`${h.server.url}/ui/#/webhooks/new`);
    await label("Receiver URL").fill(`${receiver.url}/bad-2`);
    await page.getByText("Delivery settings").click();
    await label("Custom headers").fill("Transfer-Encoding: chunked");
    await page.getByRole("button", { name: "Create webhook" }).click();
    await errorBy("Custom headers").toMatch(/^Transfer-Encoding: is reserved/);
    expect((await h.call("GET", "/webhooks/")).body.count).toBe(1);
    await expectFitsPhone(page, "the new webhook form");
    await expectAccessible(page);
  });

  it("a portal session edits its own webhook's settings", async () => {
    const hook = (await h.call("POST", "/webhooks/", { body: { url: `${receiver.url}/portal`, group: "orders", action: "created" } })).body;
    const link = (await h.call("POST", "/portal-sessions/", { key: h.adminKey, body: { customer: h.app.customerId } })).body.url;
    await page.goto(new URL(link, h.server.url).href);
    await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
    await page.goto(`${h.server.url}/ui/#/webhooks/${hook.id}`);
    await label("Custom headers").fill("X-Portal: yes");
    await label("Authentication").selectOption("bearer");
    await label("Bearer token").fill(TOKEN);
    await label("Retry delays (seconds)").fill("30");
    await label("Ordered").check();
    await save();
    await saved();
    expect(await read(hook.id)).toMatchObject({ headers: { "X-Portal": "yes" }, auth: { type: "bearer" }, retry_delays_seconds: [30], ordered: true });
    await expectNowhere(TOKEN);
    await expectAccessible(page);
  });
});
