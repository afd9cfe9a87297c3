/**
 * `npm run build:binary`: one executable file, dist/hookd, that runs `hookd` with no
 * Node.js or node_modules beside it (Node's single executable applications).
 *
 * 1. esbuild bundles src/cli/binary.ts and every dependency into one CommonJS file
 *    (the kind of main script a SEA runs);
 * 2. the pinned Node 24 LTS (src/build/nodeRuntime.ts) turns it, the better-sqlite3
 *    addon compiled for that Node, the shipped config files and the console's files
 *    into a blob with `--experimental-sea-config` (the addon and files as SEA assets);
 * 3. postject injects the blob into a copy of that Node's executable.
 *
 * Whatever Node runs the build (20, 22 or 24), the binary embeds Node 24 for Linux x64.
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
import { nodeRuntime, sqliteAddon } from "./nodeRuntime.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const work = path.join(root, "dist", "sea");
const output = path.join(root, "dist", "hookd");
const cache = path.join(root, "node_modules", ".cache", "hookd-binary");
const require = createRequire(import.meta.url);

/** The fuse postject flips so that node runs the injected blob; fixed by Node.js. */
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";

async function bundle(file: string): Promise<void> {
  await build({
    entryPoints: [path.join(root, "src", "cli", "binary.ts")],
    outfile: file,
    bundle: true,
    platform: "node",
    target: "node24",
    format: "cjs",
    logLevel: "warning",
    // CommonJS has no import.meta; the only use (config/load.ts) is a folder the
    // binary replaces with its embedded copies, so any file URL will do.
    define: { "import.meta.url": "__hookdModuleUrl" },
    banner: { js: 'const __hookdModuleUrl = require("node:url").pathToFileURL(process.execPath).href;' },
  });
}

function seaConfig(main: string, blob: string, addon: string): object {
  const assets: Record<string, string> = { [ADDON_ASSET]: addon };
  for (const name of CONFIG_FILES) {
    const file = path.join(root, "config", name);
    if (existsSync(file)) assets[configAsset(name)] = file;
  }
  // The console's page, script and stylesheet, as npm run build made them.
  for (const name of CONSOLE_FILES) assets[consoleAsset(name)] = path.join(root, "dist", "ui", name);
  // Node 24's V8 lets the young generation grow to 128 MB on a machine with this much
  // memory (Node 20 and 22: 32 MB). Held to Node 20's size, this binary's tick over
  // 150,000 due peaked at 228-234 MB of RSS instead of 307-321, for about 5% more CPU a
  // delivery (README, "Peak RSS under 150 MB"). Only a start-up flag can set it.
  return { main, output: blob, disableExperimentalSEAWarning: true, assets, execArgv: ["--max-semi-space-size=16"] };
}

async function main(): Promise<void> {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const script = path.join(work, "hookd.cjs");
  const blob = path.join(work, "hookd.blob");
  const configFile = path.join(work, "sea-config.json");

  await buildConsole();
  const runtime = nodeRuntime(cache);
  const addon = sqliteAddon(runtime, cache);
  await bundle(script);
  writeFileSync(configFile, JSON.stringify(seaConfig(script, blob, addon), null, 2));
  // The blob's format belongs to the Node that will run it: made by the embedded Node itself.
  execFileSync(runtime.node, ["--experimental-sea-config", configFile], { stdio: "inherit" });

  rmSync(output, { force: true });
  copyFileSync(runtime.node, output);
  chmodSync(output, 0o755);
  const postject = path.join(path.dirname(require.resolve("postject/package.json")), "dist", "cli.js");
  execFileSync(process.execPath, [postject, output, "NODE_SEA_BLOB", blob, "--sentinel-fuse", SEA_FUSE], { stdio: "inherit" });
  process.stdout.write(`built ${path.relative(process.cwd(), output)}\n`);
}

await main();
