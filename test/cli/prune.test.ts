import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { backends, migratedDatabase, type TempDatabase } from "../helpers/backends.js";
import { runCli } from "../helpers/cli.js";

let dir: { dir: string };
let database: TempDatabase;
let env: Record<string, string>;
afterEach(async () => database.drop());

describe.each(backends)("%s", (backend) => {
  describe("hookd prune", () => {
    beforeEach(async () => {
      database = await migratedDatabase(backend);
      dir = { dir: database.dir };
      env = { HOOKD_DB: database.url };
    });

    it("prints what it deleted and the cutoff it used", async () => {
      const r = await runCli(["--json", "prune"], env);
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out).toEqual({ days: 30, cutoff: expect.any(String), deliveries: 0, attempts: 0, events: 0 });
      expect(Date.now() - Date.parse(out.cutoff)).toBeGreaterThanOrEqual(30 * 86_400_000);
      const human = await runCli(["prune", "--days", "7"], env);
      expect(human.stdout).toMatch(/^pruned 0 deliveries, 0 attempts and 0 events from before \S+ \(7 days kept\)\n$/);
    });

    // Usage and config errors stop before the database is used: one backend is enough.
    // Usage and file-level behaviour: the same on every backend, so once.
    if (backend === "sqlite")
      it("rejects a bad --days as a usage error", async () => {
        const r = await runCli(["prune", "--days", "0"], env);
        expect(r.code).toBe(2);
        expect(r.stderr).toContain("--days must be a whole number from 1 to 36500");
      });

    // Usage and file-level behaviour: the same on every backend, so once.
    if (backend === "sqlite")
      it("rejects a bad retention.days naming the key and the file", async () => {
        const file = path.join(dir.dir, "bad.json");
        writeFileSync(file, JSON.stringify({ retention: { days: 0 } }));
        const r = await runCli(["prune"], { ...env, HOOKD_CONFIG: file });
        expect(r.code).toBe(2);
        expect(r.stderr).toContain(`"retention.days" in ${file} must be >= 1 (got 0)`);
      });
  });
});
