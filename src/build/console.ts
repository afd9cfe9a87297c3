/**
 * The console's files into dist/ui: esbuild bundles src/console/web (plain TypeScript
 * and DOM, no framework) into one minified script; the page, the icon and the
 * stylesheet are copied (the stylesheet minified). Prints each file's gzipped size: the budget is
 * 300 KB in all.
 */
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { CONSOLE_FILES } from "../console/assets.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const web = path.join(root, "src", "console", "web");
const out = path.join(root, "dist", "ui");

export async function buildConsole(): Promise<number> {
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: [path.join(web, "main.ts")],
    outfile: path.join(out, "app.js"),
    bundle: true,
    minify: true,
    format: "iife",
    target: "es2020",
    platform: "browser",
    logLevel: "warning",
  });
  await build({ entryPoints: [path.join(web, "app.css")], outfile: path.join(out, "app.css"), minify: true, logLevel: "warning" });
  for (const name of ["index.html", "favicon.svg"]) copyFileSync(path.join(web, name), path.join(out, name));
  let total = 0;
  for (const name of CONSOLE_FILES) total += gzipSync(readFileSync(path.join(out, name))).length;
  return total;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const gz = await buildConsole();
  process.stdout.write(`console: dist/ui, ${(gz / 1024).toFixed(1)} KB gzipped\n`);
}
