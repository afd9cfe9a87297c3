import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Test files start real servers and child processes; two cores, so keep it modest.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
