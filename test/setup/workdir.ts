/**
 * Each test worker runs in a scratch folder of its own, not the checkout. hookd's
 * defaults are relative to the working directory: a PostgreSQL store's key file is
 * `data/hookd.key`, made on first use, and the default database is `data/hookd.sqlite`.
 * Tests on PostgreSQL (in-process and through the CLI, which inherits the folder) made
 * that key file in the user's own `data/`, the folder the quick start runs hookd from.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const PREFIX = "hookd-test-cwd-";

// Once per worker: with isolate: false, setup files run again before each test file.
if (!path.basename(process.cwd()).startsWith(PREFIX)) {
  const dir = mkdtempSync(path.join(tmpdir(), PREFIX));
  process.chdir(dir);
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
}
