/**
 * Every page fits a 390 px wide phone (issue 22, item 6): no sideways page scroll
 * (tables scroll inside their own box), the navigation all on screen, and axe passes.
 */
import type { Page } from "playwright-core";
import { beforeEach, describe, expect, it } from "vitest";
import type { ApiHarness } from "../helpers/api.js";
import { browserAvailable, consoleHarness, expectAccessible, expectFitsPhone, newPage, PHONE_WIDTH as WIDTH, screenshot, signIn } from "../helpers/browser.js";
import type { Receiver } from "../helpers/receiver.js";

const run = browserAvailable();
const t = consoleHarness(run, { retry: { maxAttempts: 2 } });
let h: ApiHarness;
let receiver: Receiver;
let page: Page;
beforeEach(() => ({ h, receiver, page } = t));

describe.skipIf(!run)("on a 390 px phone", () => {
  it("every page fits the screen: tables scroll inside their box, the navigation is whole", async () => {
    // Long things that used to push the page wide: a long URL, error text, ids.
    const url = `${receiver.url}/a-rather-long-path/that-keeps-going/and-going/webhooks/receiver/endpoint`;
    receiver.respond((_req, res) => res.writeHead(500).end("the receiver is down for maintenance until further notice"));
    const hook = (await h.call("POST", "/webhooks/", { body: { url, group: "orders", action: "created", hash_secret: "s" } })).body;
    const event = (await h.call("POST", "/events/", { body: { topic: "orders:created", payload: { order: 1, note: "x".repeat(200) } } })).body;
    await h.app.dispatcher.tick();
    const delivery = (await h.call("GET", "/deliveries/")).body.results[0];

    await page.setViewportSize({ width: WIDTH, height: 844 });
    await page.goto(`${h.server.url}/ui/`);
    await page.getByLabel("API key").waitFor();
    const signInWidth = (await page.evaluate("document.scrollingElement.scrollWidth")) as number;
    expect(signInWidth).toBeLessThanOrEqual(WIDTH);
    await signIn(page, h.server.url, h.key);

    const pages: [string, string | RegExp][] = [
      ["#/", "Overview"],
      ["#/?range=7d", "Overview"],
      ["#/webhooks", "Webhooks"],
      [`#/webhooks/${hook.id}`, url],
      ["#/webhooks/new", "New webhook"],
      ["#/deliveries", "Deliveries"],
      [`#/deliveries/${delivery.id}`, `Delivery ${delivery.id}`],
      ["#/events", "Events"],
      [`#/events/${event.id}`, `Event ${event.id}`],
      ["#/no-such-page", "Not found"],
    ];
    for (const [hash, heading] of pages) {
      await page.goto(`${h.server.url}/ui/${hash}`);
      await page.getByRole("heading", { level: 1, name: heading }).waitFor();
      await page.locator('[aria-busy="true"]').waitFor({ state: "detached" });
      await expectFitsPhone(page, hash);
      await expectAccessible(page);
      if (hash === "#/") await screenshot(page, "phone-overview");
    }
    // A table wider than the phone scrolls inside its own box.
    await page.goto(`${h.server.url}/ui/#/deliveries`);
    const box = page.getByRole("region", { name: "Deliveries", exact: true });
    await box.waitFor();
    const scroll = (await box.evaluate((el: any) => ({ inner: el.scrollWidth as number, outer: el.clientWidth as number }))) as {
      inner: number;
      outer: number;
    };
    expect(scroll.inner).toBeGreaterThan(scroll.outer);
    await screenshot(page, "phone-deliveries");

    // And before signing in: a refused portal link.
    const other = await newPage(t.browser);
    await other.setViewportSize({ width: WIDTH, height: 844 });
    await other.goto(`${h.server.url}/ui/portal#used-or-made-up`);
    await other.getByRole("heading", { name: "This link cannot be used" }).waitFor();
    expect((await other.evaluate("document.scrollingElement.scrollWidth")) as number).toBeLessThanOrEqual(WIDTH);
    await other.context().close();
  });
});
