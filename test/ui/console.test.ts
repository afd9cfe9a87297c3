/**
 * The console in a real browser against a real hookd server: sign in, create a
 * webhook, publish, tick, read the delivery and its attempt; a failing receiver on
 * the overview and its delivery retried from the console; accessibility checks and a
 * screenshot of each page.
 */
import type { Page } from "playwright-core";
import { beforeEach, describe, expect, it } from "vitest";
import type { ApiHarness } from "../helpers/api.js";
import { browserAvailable, consoleHarness, expectAccessible, screenshot, signIn as signInAs } from "../helpers/browser.js";
import type { Receiver } from "../helpers/receiver.js";

const run = browserAvailable();
// One failure opens a webhook's circuit breaker here, so one failing delivery shows it failing.
const t = consoleHarness(run, { retry: { maxAttempts: 1 }, dispatch: { breaker: { consecutiveFailures: 1, failureRate: 0.5, window: 20 } } });
let h: ApiHarness;
let receiver: Receiver;
let page: Page;
beforeEach(() => ({ h, receiver, page } = t));

/** A page of the console's main navigation. */
async function nav(name: string) {
  await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name, exact: true }).click();
}

async function signIn(key: string) {
  await signInAs(page, h.server.url, key);
}

describe.skipIf(!run)("the console", () => {
  it("signs in with a key, creates a webhook, and shows a published event's delivery and its attempt", async () => {
    await page.goto(`${h.server.url}/ui/`);
    await expectAccessible(page);
    await screenshot(page, "sign-in");
    await signIn(h.key);
    // An empty store says what to do next.
    await nav("Webhooks");
    await page.getByText("No webhooks yet").waitFor();

    await page.getByRole("link", { name: "New webhook" }).click();
    await page.getByLabel("Receiver URL").fill(`${receiver.url}/hooks`);
    await page.getByLabel("Topic").selectOption("orders:created");
    await page.getByLabel("Signing secret").fill("console-secret");
    await expectAccessible(page);
    await screenshot(page, "webhook-new");
    await page.getByRole("button", { name: "Create webhook" }).click();
    await page.getByRole("heading", { level: 1, name: `${receiver.url}/hooks` }).waitFor();
    expect(await page.locator("code.secret").textContent()).toBe("console-secret");
    await page.getByRole("button", { name: "Copy secret" }).waitFor();

    const hooks = await h.call("GET", "/webhooks/");
    expect(hooks.body.results).toEqual([expect.objectContaining({ url: `${receiver.url}/hooks`, topic: "orders:created" })]);

    const published = await h.call("POST", "/events/", {
      body: { topic: "orders:created", payload: { order: 42, note: "from the test" }, idempotency_key: "order-42" },
    });
    await h.app.dispatcher.tick();
    expect(receiver.requests).toHaveLength(1);

    await nav("Deliveries");
    const row = page.getByRole("row").filter({ hasText: "orders:created" });
    await row.getByText("delivered").waitFor();
    await expectAccessible(page);
    await screenshot(page, "deliveries");
    await row.getByRole("link", { name: /^Delivery / }).click();
    await page.getByRole("heading", { name: "Attempts" }).waitFor();
    const attempts = page.getByRole("table", { name: "Attempts" });
    await attempts.getByText("HTTP 200").waitFor();
    expect(await page.getByRole("region", { name: "Payload" }).or(page.locator("pre").first()).first().textContent()).toContain('"order": 42');
    expect(await page.getByRole("table", { name: "Headers sent" }).textContent()).toContain(published.body.id);
    await expectAccessible(page);
    await screenshot(page, "delivery");

    // Search finds an event by its idempotency key, and a delivery by its id.
    const deliveryId = page.url().split("/").pop()!;
    await nav("Deliveries");
    await page.getByLabel("Find").fill("order-42");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByRole("heading", { level: 1, name: `Event ${published.body.id}` }).waitFor();
    await nav("Deliveries");
    await page.getByLabel("Find").fill(deliveryId);
    await page.getByLabel("Find").press("Enter");
    await page.getByRole("heading", { level: 1, name: `Delivery ${deliveryId}` }).waitFor();
    await nav("Deliveries");
    await page.getByLabel("Find").fill("no-such-thing");
    await page.getByLabel("Find").press("Enter");
    await page.getByRole("alert").filter({ hasText: "No delivery, event or idempotency key" }).waitFor();
    await page.goto(`${h.server.url}/ui/#/deliveries/${deliveryId}`);

    await page.getByRole("link", { name: published.body.id }).click();
    await page.getByRole("heading", { level: 1, name: `Event ${published.body.id}` }).waitFor();
    await page.getByRole("table", { name: "Deliveries" }).getByText("delivered").waitFor();
    await screenshot(page, "event");
    await nav("Events");
    await page.getByRole("link", { name: `Event ${published.body.id}` }).waitFor();
    await expectAccessible(page);
    await screenshot(page, "events");
  });

  it("shows a failing receiver on the overview and retries its delivery from the console", async () => {
    receiver.respond((_req, res) => res.writeHead(503).end("maintenance"));
    const hook = await h.call("POST", "/webhooks/", { body: { url: `${receiver.url}/down`, group: "orders", action: "created", hash_secret: "s" } });
    await h.call("POST", "/events/", { body: { topic: "orders:created", payload: { n: 1 } } });
    await h.app.dispatcher.tick();

    await signIn(h.key);
    const failing = page.getByRole("table", { name: "Failing webhooks" });
    await failing.getByRole("link", { name: `${receiver.url}/down` }).waitFor();
    expect(await failing.textContent()).toMatch(/503/);
    await page.getByRole("link", { name: /1 failed/ }).waitFor();
    await expectAccessible(page);
    await screenshot(page, "overview");
    await page.getByRole("link", { name: "Last 7 days" }).click();
    await page.getByRole("heading", { name: "Attempts by outcome — Last 7 days" }).waitFor();
    expect(await page.getByRole("group", { name: /Attempts by outcome/ }).getAttribute("aria-label")).toContain("1 error status");

    await nav("Webhooks");
    await page.getByRole("link", { name: `${receiver.url}/down` }).click();
    await page.getByText("Failures in a row").waitFor();
    await page.getByText(/^open until .+: 1 failure in a row$/).waitFor();
    await expectAccessible(page);
    await screenshot(page, "webhook");

    await page.goto(`${h.server.url}/ui/#/deliveries?status=failed`);
    await page
      .getByRole("row")
      .filter({ hasText: "HTTP 503" })
      .getByRole("link", { name: /^Delivery / })
      .click();
    await page.getByRole("button", { name: "Retry now" }).click();
    await page.getByText("pending", { exact: true }).waitFor();
    receiver.respond((_req, res) => res.writeHead(200).end("ok"));
    await h.app.dispatcher.tick();
    const list = await h.call("GET", `/deliveries/?webhook=${hook.body.id}`);
    expect(list.body.results[0].status).toBe("delivered");
    await page.reload();
    await page.getByText("delivered", { exact: true }).waitFor();
    await page.getByRole("table", { name: "Attempts" }).getByText("HTTP 200").waitFor();
  });

  it("bulk-replays a webhook's failed deliveries, showing the count before confirming", async () => {
    receiver.respond((_req, res) => res.writeHead(500).end());
    const hook = await h.call("POST", "/webhooks/", { body: { url: `${receiver.url}/bulk`, group: "orders", action: "created", hash_secret: "s" } });
    for (let i = 0; i < 3; i++) await h.call("POST", "/events/", { body: { topic: "orders:created", payload: { i } } });
    await h.app.dispatcher.tick();
    await signIn(h.key);
    await page.goto(`${h.server.url}/ui/#/webhooks/${hook.body.id}`);
    await page.getByRole("button", { name: "Count failed deliveries" }).click();
    const confirm = page.getByRole("button", { name: "Replay 3 failed deliveries" });
    await confirm.waitFor();
    expect((await h.call("GET", "/deliveries/?status=failed")).body.count).toBe(3);
    await confirm.click();
    await page.getByText("3 deliveries are back in line").waitFor();
    expect((await h.call("GET", "/deliveries/?status=pending")).body.count).toBe(3);
  });

  it("is usable by keyboard alone: sign in, open Webhooks, create one", async () => {
    await page.goto(`${h.server.url}/ui/`);
    // The key field has focus on arrival; each new page's heading takes it after loading.
    // A function, not a string: the console's CSP forbids eval, which string predicates use.
    const focused = (what: { tag: string; name?: string }) =>
      page.waitForFunction((w) => {
        const el = (globalThis as unknown as { document: { activeElement: { tagName: string; getAttribute(n: string): string | null } | null } }).document
          .activeElement;
        return el?.tagName === w.tag && (w.name === undefined || el.getAttribute("name") === w.name);
      }, what);
    await focused({ tag: "INPUT", name: "key" });
    await page.keyboard.type(h.key);
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
    await focused({ tag: "H1" });
    const focusOn = async (name: string) => {
      for (let i = 0; i < 40; i++) {
        await page.keyboard.press("Tab");
        if ((await page.evaluate("document.activeElement?.textContent?.trim()")) === name) return;
      }
      throw new Error(`Tab never reached ${name}`);
    };
    await focusOn("Webhooks");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "Webhooks" }).waitFor();
    await focused({ tag: "H1" });
    await focusOn("New webhook");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: "New webhook" }).waitFor();
    await focused({ tag: "H1" });
    await page.keyboard.press("Tab"); // from the heading to the URL field
    await page.keyboard.type(`${receiver.url}/kb`);
    await page.keyboard.press("Tab");
    await page.keyboard.press("ArrowDown"); // the next topic in the catalog
    await page.keyboard.press("Tab"); // the signing secret (generated): Enter submits
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: `${receiver.url}/kb` }).waitFor();
    const hooks = await h.call("GET", "/webhooks/");
    expect(hooks.body.results).toEqual([expect.objectContaining({ url: `${receiver.url}/kb`, topic: "customers:updated" })]);
  });

  it("an admin key opens every customer, one at a time, with a switcher", async () => {
    await h.call("POST", "/webhooks/", { body: { url: `${receiver.url}/acme`, group: "orders", action: "created" } });
    await h.call("POST", "/webhooks/", { key: h.other.key, body: { url: `${receiver.url}/globex`, group: "orders", action: "created" } });
    await signIn(h.adminKey);
    const customer = page.getByLabel("Customer");
    await customer.selectOption(h.other.customerId);
    await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
    await nav("Webhooks");
    await page.getByRole("link", { name: `${receiver.url}/globex` }).waitFor();
    expect(await page.locator("main").innerText()).not.toContain(`${receiver.url}/acme`);

    // A webhook the admin creates belongs to the customer picked.
    await page.getByRole("link", { name: "New webhook" }).click();
    await page.getByLabel("Receiver URL").fill(`${receiver.url}/globex-2`);
    await page.getByRole("button", { name: "Create webhook" }).click();
    await page.getByRole("heading", { level: 1, name: `${receiver.url}/globex-2` }).waitFor();
    const theirs = await h.call("GET", "/webhooks/", { key: h.other.key });
    expect(theirs.body.results.map((w: { url: string }) => w.url).sort()).toEqual([`${receiver.url}/globex`, `${receiver.url}/globex-2`]);
  });
});
