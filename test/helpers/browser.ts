/**
 * Debian's Chromium driven by playwright-core, headless, with its own network chatter
 * switched off (only hookd and the test's receivers are reachable here). Under CI a
 * missing browser is a failure; elsewhere the browser tests are skipped, saying why.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { expect } from "vitest";
import { tempDir } from "./app.js";

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
