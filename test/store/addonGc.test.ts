/**
 * The SQLite addon survives garbage collections on this Node (CI runs the suite on Node
 * 20, 22 and 24 with better-sqlite3 compiled from its released sources for each): in a
 * child process, 30 worker threads each drop statements around their first fetches, so
 * that collections start inside WebAssembly. better-sqlite3 12 on Node 24.19 to 24.21
 * aborted there (SIGABRT, "(env) != nullptr"), which is why package.json's engines
 * start Node 24 at 24.22.0 and the store refuses those versions.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { collect } from "../helpers/cli.js";

const script = fileURLToPath(new URL("../helpers/addonGcStress.cjs", import.meta.url));

it("finalises statements in collections started inside WebAssembly without aborting", async () => {
  const run = await collect(spawn(process.execPath, [script, "30"], { stdio: ["ignore", "pipe", "pipe"] }));
  expect(run.stderr).not.toContain("Assertion failed");
  expect(run).toMatchObject({ code: 0, signal: null });
  expect(run.stdout).toMatch(/^30 workers prepared and dropped 1905 statements around their first fetches on Node v\d+\.\d+\.\d+: no abort\n$/);
});
