/**
 * Times and waits as a person reads them (issue 22, items 5, 7 and 9): the overview
 * chart has axes, time labels and each bar's time and counts on hover and keyboard
 * focus; times are relative with the time zone named; a delivery held back by its
 * endpoint's backoff says when it will really be tried, and why, in words.
 */
import type { Page } from "playwright-core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ApiHarness } from "../helpers/api.js";
import { browserAvailable, consoleHarness, expectAccessible, screenshot, signIn } from "../helpers/browser.js";
import type { Receiver } from "../helpers/receiver.js";

const run = browserAvailable();
// One request at a time to a webhook, so its first failure holds back the rest of the tick.
// A breaker that opens on one failure: the first failure holds the webhook's other deliveries back.
const t = consoleHarness(run, {
  dispatch: { perWebhookConcurrency: 1, breaker: { consecutiveFailures: 1, failureRate: 0.5, window: 20 } },
  retry: { delaysSeconds: [600] },
});
let h: ApiHarness;
let receiver: Receiver;
let page: Page;
beforeEach(async () => {
  ({ h, receiver } = t);
  // Tokyo: a zone that is not the machine's, so a time that names no zone, or the wrong one, shows.
  const context = await t.browser.newContext({ viewport: { width: 1100, height: 760 }, timezoneId: "Asia/Tokyo", locale: "en-US" });
  page = await context.newPage();
  page.setDefaultTimeout(10_000);
});
afterEach(async () => page?.context().close());

async function failingWebhook(events: number): Promise<string> {
  receiver.respond((_req, res) => res.writeHead(500).end("down"));
  const hook = (await h.call("POST", "/webhooks/", { body: { url: `${receiver.url}/down`, group: "orders", action: "created" } })).body;
  for (let i = 0; i < events; i++) await h.call("POST", "/events/", { body: { topic: "orders:created", payload: { i } } });
  await h.app.dispatcher.tick();
  return hook.id;
}

const BAR = /GMT\+9: \d+ delivered \(2xx\), \d+ error status, \d+ no answer$/;

describe.skipIf(!run)("times and waits", () => {
  it("the chart has axes, time labels, and each bar's time and counts on hover and keyboard focus", async () => {
    await failingWebhook(1);
    await signIn(page, h.server.url, h.key);
    const chart = page.getByRole("group", { name: /^Attempts by outcome: 0 delivered \(2xx\), 1 error status, 0 no answer\./ });
    const bars = chart.getByRole("img");
    // The overview renders after its stats arrive: wait for the chart before counting its bars.
    await bars.first().waitFor();
    expect(await bars.count()).toBe(24);
    for (const label of await bars.evaluateAll((els: any[]) => els.map((e) => e.getAttribute("aria-label") as string))) expect(label).toMatch(BAR);
    const last = bars.last();
    expect(await last.getAttribute("aria-label")).toMatch(/: 0 delivered \(2xx\), 1 error status, 0 no answer$/);
    expect(await page.locator(".y-axis").innerText()).toMatch(/^2\s+1\s+0$/);
    const ticks = (await page.locator(".x-axis span").allInnerTexts()).filter(Boolean);
    expect(ticks.length).toBeGreaterThanOrEqual(2);
    for (const tick of ticks) expect(tick).toMatch(/^\d\d:00 (AM|PM)$/);
    await page.getByText("Times in Asia/Tokyo").waitFor();

    // Hover: the bar's time and counts.
    const tip = page.locator(".tip");
    await last.hover();
    await tip.waitFor();
    expect(await tip.innerText()).toBe(await last.getAttribute("aria-label"));

    // Keyboard: one tab stop, arrow keys between bars, the same text shown.
    await page.mouse.move(0, 0);
    for (let i = 0; i < 10 && !(await last.evaluate((el: any) => el === el.ownerDocument.activeElement)); i++) await page.keyboard.press("Tab");
    expect(await last.evaluate((el: any) => el === el.ownerDocument.activeElement)).toBe(true);
    await page.keyboard.press("ArrowLeft");
    const previous = bars.nth(22);
    expect(await previous.evaluate((el: any) => el === el.ownerDocument.activeElement)).toBe(true);
    expect(await tip.innerText()).toBe(await previous.getAttribute("aria-label"));
    await page.keyboard.press("Home");
    expect(await tip.innerText()).toBe(await bars.first().getAttribute("aria-label"));
    await expectAccessible(page);

    await page.getByRole("link", { name: "Last 7 days" }).click();
    await page.getByRole("heading", { name: "Attempts by outcome — Last 7 days" }).waitFor();
    expect(
      await page
        .getByRole("group", { name: /^Attempts by outcome/ })
        .getByRole("img")
        .count(),
    ).toBe(28);
    for (const tick of (await page.locator(".x-axis span").allInnerTexts()).filter(Boolean)) expect(tick).toMatch(/^[A-Z][a-z]{2} \d+$/);
    await expectAccessible(page);
  });

  it("a delivery held back by its endpoint's backoff: when it will really be tried, and why, in words; times name their zone", async () => {
    const hook = await failingWebhook(3);
    await signIn(page, h.server.url, h.key);
    await page.goto(`${h.server.url}/ui/#/deliveries?webhook=${hook}`);
    const table = page.getByRole("table", { name: "Deliveries" });
    await table.waitFor();
    const held = table.getByRole("row").filter({ hasText: "held: the endpoint is backing off" });
    expect(await held.count()).toBe(2);
    const row = await held.first().innerText();
    expect(row).toMatch(/in 10 minutes \(\d\d:\d\d (AM|PM) GMT\+9\)/);
    expect(row).toContain(
      "first attempt, held: the endpoint is backing off after 1 failure in a row; a probe tests it then, and this delivery follows once one succeeds",
    );
    // Created: relative, with the zone named.
    expect(row).toMatch(/just now \(\d\d:\d\d (AM|PM) GMT\+9\)/);
    const text = await page.locator("main").innerText();
    expect(text).not.toContain("endpoint_backoff");
    expect(text).not.toContain("backoff (attempt");
    await expectAccessible(page);
    await screenshot(page, "deliveries-waiting");

    await held
      .first()
      .getByRole("link", { name: /^Delivery / })
      .click();
    await page.getByRole("heading", { name: "Attempts" }).waitFor();
    const facts = await page.locator("dl.facts").innerText();
    expect(facts).toMatch(/Next attempt\s+in 10 minutes \(\d\d:\d\d (AM|PM) GMT\+9\)/);
    expect(facts).toContain("a probe tests it then, and this delivery follows once one succeeds");
  });
});
