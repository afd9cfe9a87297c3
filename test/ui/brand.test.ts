/**
 * The operator's brand (config console.brand, issue 22 item 9) on the console and the
 * customer portal: name, logo and accent colour, under the console's strict CSP.
 */
import type { Page } from "playwright-core";
import { beforeEach, describe, expect, it } from "vitest";
import { apiHarness, type ApiHarness } from "../helpers/api.js";
import { browserAvailable, consoleHarness, expectAccessible, screenshot } from "../helpers/browser.js";

const LOGO = `data:image/svg+xml;base64,${Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40"><circle cx="20" cy="20" r="18" fill="#7a1fa2"/><path d="M12 26 20 12l8 14z" fill="#fff"/></svg>',
).toString("base64")}`;
const BRAND = { name: "Acme Webhooks", logoUrl: LOGO, accentColor: "#7a1fa2" };

const run = browserAvailable();
const t = consoleHarness(run, { console: { brand: BRAND } });
let h: ApiHarness;
let page: Page;
beforeEach(() => ({ h, page } = t));

describe.skipIf(!run)("the operator's brand", () => {
  it("names, marks and colours the sign-in page, the console and the customer portal", async () => {
    await page.goto(`${h.server.url}/ui/`);
    await page.getByRole("heading", { level: 1, name: "Sign in to Acme Webhooks" }).waitFor();
    expect(await page.title()).toBe("Sign in · Acme Webhooks");
    const logo = page.locator("header img");
    expect(await logo.getAttribute("src")).toBe(LOGO);
    // Loaded: a data: URL needs nothing beyond the CSP's img-src 'self' data:.
    await page.waitForFunction((img: any) => img.complete && img.naturalWidth > 0, await logo.elementHandle());
    const button = page.getByRole("button", { name: "Sign in" });
    expect(await button.evaluate((el: any) => (globalThis as any).getComputedStyle(el).backgroundColor)).toBe("rgb(122, 31, 162)");
    await expectAccessible(page);

    const link = await h.call("POST", "/portal-sessions/", { key: h.adminKey, body: { customer: h.app.customerId } });
    await page.goto(new URL(link.body.url, h.server.url).href);
    await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
    expect(await page.title()).toBe("Overview · Acme Webhooks");
    expect(await page.locator("header").innerText()).toContain("Acme Webhooks");
    const current = page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Overview" });
    expect(await current.evaluate((el: any) => (globalThis as any).getComputedStyle(el).color)).toBe("rgb(122, 31, 162)");
    await expectAccessible(page);
    await screenshot(page, "portal-brand");
  });
});

describe("the brand in the page and the CSP", () => {
  it("an https logo's origin, and only it, is added to img-src; the name is escaped into the page", async () => {
    const name = `Acme "<Hooks>" & Co`;
    const api = await apiHarness({ console: { brand: { name, logoUrl: "https://cdn.example.com/brand/logo.svg", accentColor: "#000" } } });
    try {
      const res = await fetch(`${api.server.url}/ui/`);
      const csp = res.headers.get("content-security-policy")!;
      expect(csp).toContain("img-src 'self' data: https://cdn.example.com;");
      expect(csp).toContain("default-src 'self';");
      const html = await res.text();
      expect(html).toContain("<title>Acme &quot;&lt;Hooks&gt;&quot; &amp; Co</title>");
      expect(html).not.toContain("<Hooks>");
      const meta = /<meta name="hookd-brand" content="([^"]*)"/.exec(html)![1]!;
      const decoded = meta.replaceAll("&quot;", '"').replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&#39;", "'").replaceAll("&amp;", "&");
      expect(JSON.parse(decoded)).toEqual({ name, logoUrl: "https://cdn.example.com/brand/logo.svg", accentColor: "#000" });
    } finally {
      await api.cleanup();
    }
    // Without a logo, or with a data: one, img-src stays as it was.
    const plain = await apiHarness();
    try {
      const csp = (await fetch(`${plain.server.url}/ui/`)).headers.get("content-security-policy");
      expect(csp).toBe("default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
    } finally {
      await plain.cleanup();
    }
  });
});
