/**
 * One page life in one tab (issue 22, items 3, 4 and 8): each navigation renders once
 * and one refresh timer runs, however many times someone signs out and in; signing out
 * or a lapsed session never shows the API's raw words; the small things: a favicon,
 * a missing id's own tab title, a portal link without its token, the search box's
 * placeholder, and customers who share a name.
 */
import type { Page } from "playwright-core";
import { beforeEach, describe, expect, it } from "vitest";
import { createCustomer } from "../../src/store/customers.js";
import type { ApiHarness } from "../helpers/api.js";
import { browserAvailable, consoleHarness, expectAccessible, signIn } from "../helpers/browser.js";

const run = browserAvailable();
const t = consoleHarness(run);
let h: ApiHarness;
let page: Page;
beforeEach(() => ({ h, page } = t));

const RAW_401 = "an API key is required";

/** The API requests the page makes (not the console's own files and sessions), as path and query. */
function apiRequests(p: Page): string[] {
  const seen: string[] = [];
  p.on("request", (r) => {
    const url = new URL(r.url());
    if (!url.pathname.startsWith("/ui/")) seen.push(url.pathname + url.search);
  });
  return seen;
}

async function nav(name: string) {
  await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name, exact: true }).click();
}

describe.skipIf(!run)("one page life", () => {
  it("renders each navigation once and runs one refresh timer, over three sign-in cycles in one tab", async () => {
    await page.clock.install();
    const requests = apiRequests(page);
    await page.goto(`${h.server.url}/ui/`);
    for (let cycle = 1; cycle <= 3; cycle++) {
      await page.getByLabel("API key").fill(h.key);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
      requests.length = 0;
      await nav("Webhooks");
      await page.getByText("No webhooks yet").waitFor();
      await page.evaluate("1"); // a round trip: requests sent before it have been reported
      expect({ cycle, requests: [...requests].sort() }).toEqual({ cycle, requests: ["/stats/", "/webhooks/?limit=500"] });

      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByRole("alert").filter({ hasText: "Signed out." }).waitFor();
      // Whatever was still loading is dropped: nothing replaces "Signed out." with the API's 401 text.
      await page.waitForTimeout(500);
      expect(await page.getByRole("alert").innerText()).toBe("Signed out.");
    }

    await page.getByLabel("API key").fill(h.key);
    await page.getByRole("button", { name: "Sign in" }).click();
    await nav("Webhooks");
    await page.getByText("No webhooks yet").waitFor();
    requests.length = 0;
    await page.clock.runFor(15_000);
    await page.getByText("No webhooks yet").waitFor();
    await page.evaluate("1");
    expect([...requests].sort()).toEqual(["/stats/", "/webhooks/?limit=500"]);
  });

  it("a session that ends while open leads to the sign-in page in plain words", async () => {
    await signIn(page, h.server.url, h.key);
    await h.app.store.db.deleteFrom("console_sessions").execute();
    await nav("Events");
    await page.getByRole("alert").filter({ hasText: "Your session has ended: sign in again." }).waitFor();
    expect(await page.locator("body").innerText()).not.toContain(RAW_401);
    expect(await page.title()).toBe("Sign in · hookd");
  });
});

describe.skipIf(!run)("small things", () => {
  it("a favicon on every load, never a 404", async () => {
    const missing: string[] = [];
    const icons: { status: number; type: string | undefined }[] = [];
    page.on("response", (r) => {
      if (r.status() === 404) missing.push(r.url());
      if (new URL(r.url()).pathname.includes("favicon")) icons.push({ status: r.status(), type: r.headers()["content-type"] });
    });
    await page.goto(`${h.server.url}/ui/`);
    await signIn(page, h.server.url, h.key);
    await page.goto(`${h.server.url}/ui/portal`);
    await page.getByRole("heading", { name: "This link cannot be used" }).waitFor();
    expect(missing).toEqual([]);
    expect(icons.length).toBeGreaterThan(0);
    expect(icons.every((i) => i.status === 200 && i.type === "image/svg+xml")).toBe(true);
  });

  it("a missing id sets its own tab title", async () => {
    await signIn(page, h.server.url, h.key);
    await nav("Webhooks");
    await page.getByText("No webhooks yet").waitFor();
    expect(await page.title()).toBe("Webhooks · hookd");
    const unknown = "0190f0f0-0000-7000-8000-000000000000";
    await page.goto(`${h.server.url}/ui/#/webhooks/${unknown}`);
    await page
      .getByRole("alert")
      .filter({ hasText: `webhook ${unknown} not found` })
      .waitFor();
    await page.getByRole("heading", { level: 1, name: "Not found" }).waitFor();
    expect(await page.title()).toBe("Not found · hookd");
    await expectAccessible(page);
  });

  it("a portal link without its token, or with a mangled one, says so in a plain sentence", async () => {
    for (const [hash, sentence] of [
      ["", "This link is incomplete"],
      ["#", "This link is incomplete"],
      [`#${"x".repeat(300)}`, "This link is not a portal link"],
    ]) {
      await page.goto(`${h.server.url}/ui/portal${hash}`);
      await page.getByRole("heading", { level: 1, name: "This link cannot be used" }).waitFor();
      const text = await page.locator("main").innerText();
      expect(text).toContain(sentence);
      expect(text).not.toMatch(/must NOT|characters|token:/);
      expect(await page.title()).toBe("This link cannot be used · hookd");
    }
    await expectAccessible(page);
  });

  it("the search placeholder fits its box at desktop and phone widths", async () => {
    await signIn(page, h.server.url, h.key);
    for (const width of [1100, 390]) {
      await page.setViewportSize({ width, height: 800 });
      await page.goto(`${h.server.url}/ui/#/deliveries`);
      const box = page.getByRole("searchbox", { name: /Find/ });
      await box.waitFor();
      // The placeholder's width in the box's own font, against the room inside the box.
      // A function, not a string: the console's CSP forbids eval, which string functions use.
      const fit = await box.evaluate((el: any) => {
        const doc = (globalThis as any).document;
        const style = (globalThis as any).getComputedStyle(el);
        const ctx = doc.createElement("canvas").getContext("2d");
        ctx.font = style.font;
        const room = el.clientWidth - Number.parseFloat(style.paddingLeft) - Number.parseFloat(style.paddingRight);
        return { text: ctx.measureText(el.placeholder).width as number, room: room as number };
      });
      expect(fit.text, `at ${width} px`).toBeLessThanOrEqual(fit.room);
    }
  });

  it("customers who share a name are told apart by when each was created", async () => {
    const twin = await createCustomer(h.app.store.db, "globex");
    await h.app.store.db
      .updateTable("customers")
      .set({ created_at: Date.UTC(2025, 2, 14, 9, 30) })
      .where("id", "=", twin.id)
      .execute();
    await signIn(page, h.server.url, h.adminKey);
    const options = await page.getByLabel("Customer").locator("option").allInnerTexts();
    expect(options).toHaveLength(3);
    expect(new Set(options).size).toBe(3);
    expect(options).toContain("acme");
    const globex = options.filter((o) => o.startsWith("globex"));
    expect(globex).toHaveLength(2);
    for (const o of globex) expect(o).toMatch(/^globex \(created [^)]+\)$/);
    expect(globex.some((o) => o.includes("2025"))).toBe(true);
  });
});
