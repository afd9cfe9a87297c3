/**
 * Portal links in a real browser: a link for customer A opens A's console only, even
 * at B's URLs; a used or expired link is refused; a form on another site cannot
 * write with the console's cookie.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Page } from "playwright-core";
import { beforeEach, describe, expect, it } from "vitest";
import type { ApiHarness } from "../helpers/api.js";
import { browserAvailable, consoleHarness, expectAccessible, newPage, screenshot } from "../helpers/browser.js";
import type { Receiver } from "../helpers/receiver.js";

const run = browserAvailable();
const t = consoleHarness(run);
let h: ApiHarness;
let receiver: Receiver;
let page: Page;
beforeEach(() => ({ h, receiver, page } = t));

async function portalLink(customer: string, expiresIn = 300): Promise<string> {
  const res = await h.call("POST", "/portal-sessions/", { key: h.adminKey, body: { customer, expires_in: expiresIn } });
  expect(res.status).toBe(201);
  return new URL(res.body.url, h.server.url).href;
}

/** B's webhook, event and delivered delivery, made through the API with B's key. */
async function customerBsThings() {
  const key = h.other.key;
  const hook = await h.call("POST", "/webhooks/", {
    key,
    body: { url: `${receiver.url}/globex-secret-endpoint`, group: "orders", action: "created", hash_secret: "b" },
  });
  const event = await h.call("POST", "/events/", { key, body: { topic: "orders:created", payload: { customer: "globex-private" } } });
  await h.app.dispatcher.tick();
  const deliveries = await h.call("GET", `/deliveries/?event=${event.body.id}`, { key });
  return { hook: hook.body.id as string, event: event.body.id as string, delivery: deliveries.body.results[0].id as string };
}

describe.skipIf(!run)("portal links", () => {
  it("open customer A's console only: B's data stays out, even at B's URLs", async () => {
    const b = await customerBsThings();
    await h.call("POST", "/webhooks/", { body: { url: `${receiver.url}/acme`, group: "orders", action: "created", hash_secret: "a" } });
    await h.call("POST", "/events/", { body: { topic: "orders:created", payload: { customer: "acme" } } });
    await h.app.dispatcher.tick();

    await page.goto(await portalLink(h.app.customerId));
    await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
    // The token left the address bar at once; no customer switcher in a portal.
    expect(page.url()).toBe(`${h.server.url}/ui/#/`);
    expect(await page.getByLabel("Customer").count()).toBe(0);
    await page.getByText("acme").first().waitFor();
    await expectAccessible(page);
    await screenshot(page, "portal");

    for (const [hash, message] of [
      [`#/webhooks/${b.hook}`, `webhook ${b.hook} not found`],
      [`#/deliveries/${b.delivery}`, `delivery ${b.delivery} not found`],
      [`#/events/${b.event}`, `event ${b.event} not found`],
      [`#/deliveries?webhook=${b.hook}`, `webhook ${b.hook} not found`],
    ]) {
      await page.goto(`${h.server.url}/ui/${hash}`);
      await page.getByRole("alert").filter({ hasText: message }).waitFor();
      const text = await page.locator("body").innerText();
      expect(text).not.toContain("globex");
    }
    await page.goto(`${h.server.url}/ui/#/deliveries`);
    await page.getByText("1 deliveries").waitFor();
    await page.goto(`${h.server.url}/ui/#/events`);
    await page.getByText("1 events").waitFor();
    expect(await page.locator("body").innerText()).not.toContain(b.event.slice(b.event.lastIndexOf("-") + 1));

    // Even the API, asked directly with the portal's cookie and B named, refuses.
    const named = await page.evaluate(`fetch("/webhooks/?customer=${h.other.customerId}").then((r) => r.status)`);
    expect(named).toBe(400);
  });

  it("a link opens once; a used or expired link is refused", async () => {
    const url = await portalLink(h.app.customerId);
    await page.goto(url);
    await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();

    const second = await newPage(t.browser);
    await second.goto(url);
    await second.getByRole("heading", { name: "This link cannot be used" }).waitFor();
    await second.getByRole("alert").filter({ hasText: "expired or was already used" }).waitFor();
    await second.context().close();

    const expired = await portalLink(h.app.customerId, 1);
    await h.app.store.db
      .updateTable("console_sessions")
      .set({ expires_at: Date.now() - 1000 })
      .where("kind", "=", "link")
      .execute();
    const third = await newPage(t.browser);
    await third.goto(expired);
    await third.getByRole("heading", { name: "This link cannot be used" }).waitFor();
    await screenshot(third, "portal-expired");
    expect(await third.getByRole("heading", { name: "Overview" }).count()).toBe(0);
    await third.context().close();
  });

  it("a form on another site cannot write with the console's cookie", async () => {
    await page.goto(await portalLink(h.app.customerId));
    await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();

    // Another origin (another port: same site, so even a SameSite cookie goes along).
    const evil = http.createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(`<!doctype html><form method="post" action="${h.server.url}/webhooks/" enctype="text/plain">
        <input name='{"url":"${receiver.url}/evil","group":"orders","action":"created","x":"' value='"}'>
        </form><script>document.forms[0].submit()</script>`);
    });
    await new Promise<void>((resolve) => evil.listen(0, "127.0.0.1", resolve));
    try {
      const response = page.waitForResponse((r) => r.url() === `${h.server.url}/webhooks/` && r.request().method() === "POST");
      await page.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
      expect((await response).status()).toBe(403);
    } finally {
      evil.close();
    }
    expect((await h.call("GET", "/webhooks/")).body.count).toBe(0);
  });
});
