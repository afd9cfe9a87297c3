/**
 * Debian's Chromium driven by playwright-core, headless, with its own network chatter
 * switched off (only hookd and the test's receivers are reachable here). Under CI a
 * missing browser is a failure; elsewhere the browser tests are skipped, saying why.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "vitest";
import { apiHarness, type ApiHarness } from "./api.js";
import { tempDir } from "./app.js";
import { startReceiver, type Receiver } from "./receiver.js";

export const CHROMIUM = process.env.HOOKD_CHROMIUM ?? "/usr/bin/chromium";
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Whether the browser tests can run; throws under CI when they cannot. */
export function browserAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  const why = `${CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium) or set HOOKD_CHROMIUM`;
  if (process.env.CI) throw new Error(`the browser tests must run in CI: ${why}`);
  console.warn(`skipping the console's browser tests: ${why}`);
  return false;
}

export async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
}

/** A fresh browser context: no cookies from other tests. */
export async function newPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  return page;
}

const root = fileURLToPath(new URL("../../", import.meta.url));
/**
 * Screenshots go to test/ui/screenshots (the README shows them) when
 * HOOKD_SCREENSHOTS=1, else to a temp folder, so a test run leaves the tree clean.
 */
const shots = process.env.HOOKD_SCREENSHOTS === "1" ? path.join(root, "test", "ui", "screenshots") : tempDir("hookd-shots-").dir;

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(shots, { recursive: true });
  const file = path.join(shots, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

const axeSource = readFileSync(path.join(root, "node_modules", "axe-core", "axe.min.js"), "utf8");

/**
 * axe-core's serious and critical findings on the page as it is now. Evaluated over
 * the DevTools protocol, which the console's Content-Security-Policy does not cover.
 */
export async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(`${axeSource};0`);
  // A string, evaluated in the page: the test's own TypeScript has no DOM types.
  const violations = (await page.evaluate(`axe.run(document).then((r) => r.violations.map((v) => ({
    id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(" ")),
  })))`)) as { id: string; impact: string; targets: string[] }[];
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id} (${v.impact}): ${v.targets.join(", ")}`);
}

export async function expectAccessible(page: Page): Promise<void> {
  expect(await seriousViolations(page)).toEqual([]);
}

export interface ConsoleHarness {
  browser: Browser;
  /** a hookd server with two customers and an admin key (helpers/api) */
  h: ApiHarness;
  /** a receiver answering 200 unless told otherwise */
  receiver: Receiver;
  /** a page in a fresh browser context */
  page: Page;
}

/**
 * One browser per file; per test a fresh hookd, receiver and browser context. The
 * returned object's fields are set before each test (when `run`).
 */
export function consoleHarness(run: boolean, overrides: Record<string, unknown> = {}): ConsoleHarness {
  const t = {} as ConsoleHarness;
  beforeAll(async () => {
    if (run) t.browser = await launch();
  }, 60_000);
  afterAll(async () => {
    await t.browser?.close();
  });
  beforeEach(async () => {
    if (!run) return;
    t.h = await apiHarness(overrides);
    t.receiver = await startReceiver();
    t.page = await newPage(t.browser);
  });
  afterEach(async () => {
    if (!run) return;
    await t.page.context().close();
    await t.receiver.close();
    await t.h.cleanup();
  });
  return t;
}

/** A phone's width: every console page must fit it. */
export const PHONE_WIDTH = 390;

/** The page fits a phone: no sideways page scroll, and every link of the main navigation wholly on screen. */
export async function expectFitsPhone(p: Page, what: string): Promise<void> {
  const width = (await p.evaluate("document.scrollingElement.scrollWidth")) as number;
  expect(width, `${what}: the page is ${width} px wide`).toBeLessThanOrEqual(PHONE_WIDTH);
  for (const link of await p.getByRole("navigation", { name: "Console" }).getByRole("link").all()) {
    const box = (await link.boundingBox())!;
    expect(box.x, `${what}: ${await link.innerText()}`).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width, `${what}: ${await link.innerText()}`).toBeLessThanOrEqual(PHONE_WIDTH);
  }
}

/** Sign in on the console's own form and wait for the overview. */
export async function signIn(page: Page, baseUrl: string, key: string): Promise<void> {
  await page.goto(`${baseUrl}/ui/`);
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
}
