/** Which Node versions may open a SQLite store (better-sqlite3 aborts on Node 24.19 to 24.21). */
import { describe, expect, it } from "vitest";
import { sqliteRuntimeProblem } from "../../src/store/sqliteRuntime.js";

describe("sqliteRuntimeProblem", () => {
  it.each([
    ["20.19.0", false],
    ["22.12.0", false],
    ["22.23.5", false],
    ["24.18.1", false],
    ["v24.19.0", true],
    ["24.20.0", true],
    ["24.21.0", true],
    ["24.21.9", true],
    ["24.22.0", false],
    ["24.22.3", false],
    ["26.1.0", false],
  ])("Node %s refused: %s", (version, refused) => {
    const problem = sqliteRuntimeProblem(version);
    expect(problem !== null).toBe(refused);
    if (problem) expect(problem).toMatch(/^Node\.js v?24\.\d+\.\d+ can abort .* use Node\.js 24\.22\.0 or later, 22 or 20, or the single binary$/);
  });

  it("lets the Node running this suite open SQLite (CI runs it on each supported Node)", () => {
    expect(sqliteRuntimeProblem(process.versions.node)).toBeNull();
  });
});
