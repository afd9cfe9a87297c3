/**
 * Each test worker runs in a scratch folder of its own, not the checkout. hookd's
 * defaults are relative to the working directory: a PostgreSQL store's key file is
 * `data/hookd.key`, made on first use, and the default database is `data/hookd.sqlite`.
 * Tests on PostgreSQL (in-process and through the CLI, which inherits the folder) made
 * that key file in the user's own `data/`, the folder the quick start runs hookd from.
 * The folders are inside the run's scratch root (scratchRoot.ts), which the run removes.
 */
import { mkdtempSync } from "node:fs";
import path from "node:path";
import { SCRATCH_ROOT_ENV } from "./scratchRoot.js";

const root = process.env[SCRATCH_ROOT_ENV];
if (!root) throw new Error(`${SCRATCH_ROOT_ENV} is not set: test/setup/scratchRoot.ts is vitest's globalSetup`);

// Once per worker: with isolate: false, setup files run again before each test file.
if (path.dirname(process.cwd()) !== root) process.chdir(mkdtempSync(path.join(root, "worker-")));
