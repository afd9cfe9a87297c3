/**
 * `npm run build:binary`: one executable file, dist/hookd, that runs `hookd` with no
 * Node.js or node_modules beside it (Node's single executable applications).
 *
 * 1. esbuild bundles src/cli/binary.ts and every dependency into one CommonJS file
 *    (the only kind of main script a Node 20 SEA runs);
 * 2. `node --experimental-sea-config` turns it, the better-sqlite3 addon, the
 *    shipped config files and the console's files into a blob (as SEA assets);
 * 3. postject injects the blob into a copy of the running `node` executable.
 *
 * The binary is for the platform and Node version that build it.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { CONSOLE_FILES, consoleAsset } from "../console/assets.js";
import { ADDON_ASSET, CONFIG_FILES, configAsset } from "../embedded.js";
import { buildConsole } from "./console.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const work = path.join(root, "dist", "sea");
const output = path.join(root, "dist", "hookd");
const require = createRequire(import.meta.url);

/** The fuse postject flips so that node runs the injected blob; fixed by Node.js. */
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

function addonPath(): string {
  const file = path.join(path.dirname(require.resolve("better-sqlite3/package.json")), "build", "Release", ADDON_ASSET);
  if (!existsSync(file)) throw new Error(`${file} is missing: run npm ci first (better-sqlite3 builds it)`);
  return file;
}

async function bundle(file: string): Promise<void> {
  await build({
    entryPoints: [path.join(root, "src", "cli", "binary.ts")],
    outfile: file,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    logLevel: "warning",
    // CommonJS has no import.meta; the only use (config/load.ts) is a folder the
    // binary replaces with its embedded copies, so any file URL will do.
    define: { "import.meta.url": "__hookdModuleUrl" },
    banner: { js: 'const __hookdModuleUrl = require("node:url").pathToFileURL(process.execPath).href;' },
  });
}

function seaConfig(main: string, blob: string): object {
  const assets: Record<string, string> = { [ADDON_ASSET]: addonPath() };
  for (const name of CONFIG_FILES) {
    const file = path.join(root, "config", name);
    if (existsSync(file)) assets[configAsset(name)] = file;
  }
  // The console's page, script and stylesheet, as npm run build made them.
  for (const name of CONSOLE_FILES) assets[consoleAsset(name)] = path.join(root, "dist", "ui", name);
  return { main, output: blob, disableExperimentalSEAWarning: true, assets };
}

async function main(): Promise<void> {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const script = path.join(work, "hookd.cjs");
  const blob = path.join(work, "hookd.blob");
  const configFile = path.join(work, "sea-config.json");

  await buildConsole();
  await bundle(script);
  writeFileSync(configFile, JSON.stringify(seaConfig(script, blob), null, 2));
  execFileSync(process.execPath, ["--experimental-sea-config", configFile], { stdio: "inherit" });

  rmSync(output, { force: true });
  copyFileSync(process.execPath, output);
  chmodSync(output, 0o755);
  const postject = path.join(path.dirname(require.resolve("postject/package.json")), "dist", "cli.js");
  execFileSync(process.execPath, [postject, output, "NODE_SEA_BLOB", blob, "--sentinel-fuse", SEA_FUSE], { stdio: "inherit" });
  process.stdout.write(`built ${path.relative(process.cwd(), output)}\n`);
}

await main();
