/**
 * The CLI as a bundle: esbuild bundles src/cli/main.ts and the pure-JavaScript
 * packages it imports into dist/cli/main.js and a few chunks (in place of tsc's
 * output), so starting `hookd` reads a few files instead of resolving and compiling
 * about 1,400 modules (Kysely's ESM build alone is 990). What only `serve` loads (the
 * API server: fastify, its schemas, OpenAPI, metrics; the scheduler) is a chunk of its
 * own, so the other commands neither read nor compile its 700 KB: a command starts in
 * 0.38 s instead of 0.51 s as one file, and 0.62 s unbundled.
 * Native and optional packages stay outside, loaded from node_modules as before:
 * better-sqlite3 (an addon), pg (loaded only for a postgres:// URL) and OpenTelemetry
 * (loaded only when tracing is on). The library (dist/index.js) stays as tsc made it.
 */
import { rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** Packages the bundle leaves to node_modules. */
export const CLI_EXTERNAL = ["better-sqlite3", "pg", "pg-native", "@opentelemetry/*"];

export async function buildCli(): Promise<void> {
  // Chunk names carry a content hash: without this, every build would leave the last one's beside it.
  rmSync(path.join(root, "dist", "cli", "chunks"), { recursive: true, force: true });
  await build({
    entryPoints: { main: path.join(root, "src", "cli", "main.ts") },
    outdir: path.join(root, "dist", "cli"),
    // What only some commands load (the API server for serve) goes to chunks of its own,
    // read only when such a command runs.
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
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
  process.stdout.write("cli: dist/cli/main.js and its chunks\n");
}
