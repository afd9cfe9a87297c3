import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Test files start real servers and child processes; two cores, so keep it modest.
    maxWorkers: 2,
    minWorkers: 1,
    // Each worker imports hookd once for all its files, not once per file: collecting took
    // 112 s of a 617 s run with isolation and 14 s of 474 s without. No test mocks modules
    // or changes process.env, and each test opens its own database, so files share nothing
    // but the loaded code.
    isolate: false,
    // Workers run in scratch folders, so hookd's defaults (data/…) never land in the checkout;
    // the global setup makes their parent and removes it when the run ends.
    globalSetup: ["test/setup/scratchRoot.ts"],
    setupFiles: ["test/setup/workdir.ts"],
  },
});
