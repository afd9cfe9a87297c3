/**
 * The CLI as one file: esbuild bundles src/cli/main.ts and the pure-JavaScript
 * packages it imports into dist/cli/main.js (in place of tsc's output), so starting
 * `hookd` reads one file instead of resolving and compiling about 1,400 modules
 * (Kysely's ESM build alone is 990). A command starts in about two thirds of the time.
 * Native and optional packages stay outside, loaded from node_modules as before:
 * better-sqlite3 (an addon), pg (loaded only for a postgres:// URL) and OpenTelemetry
 * (loaded only when tracing is on). The library (dist/index.js) stays as tsc made it.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** Packages the bundle leaves to node_modules. */
export const CLI_EXTERNAL = ["better-sqlite3", "pg", "pg-native", "@opentelemetry/*"];

export async function buildCli(): Promise<void> {
  await build({
    entryPoints: [path.join(root, "src", "cli", "main.ts")],
    outfile: path.join(root, "dist", "cli", "main.js"),
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    sourcemap: true,
    minify: true,
    external: CLI_EXTERNAL,
    logLevel: "warning",
    // Bundled CommonJS packages call require; an ES module has none of its own.
    banner: { js: 'import { createRequire as __hookdRequire } from "node:module"; const require = __hookdRequire(import.meta.url);' },
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  await buildCli();
  process.stdout.write("cli: dist/cli/main.js, one file\n");
}
