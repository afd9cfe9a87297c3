/**
 * Tests that need something outside Node (PostgreSQL, a language runtime): on a
 * developer's machine a missing one skips those tests and says why; under CI (the `CI`
 * environment variable, as .ci/run sets it) it fails them, saying what to install, so a
 * green CI means they ran.
 */
import { spawnSync } from "node:child_process";
import pg from "pg";

export const IN_CI = Boolean(process.env.CI) && process.env.CI !== "false" && process.env.CI !== "0";

export interface Prerequisite {
  /** pass to it.skipIf / describe.skipIf */
  skip: boolean;
  /** call first in the test (or beforeAll): under CI, throws the reason it cannot run */
  require(): void;
}

/** `problem` is why `name` cannot be used here, or null when it can. */
export function prerequisite(name: string, problem: string | null): Prerequisite {
  if (problem === null) return { skip: false, require() {} };
  if (!IN_CI) {
    console.warn(`skipping what needs ${name}: ${problem}`);
    return { skip: true, require() {} };
  }
  return {
    skip: false,
    require() {
      throw new Error(`CI must run what needs ${name}, but ${problem}`);
    },
  };
}

/** Why `command` cannot run here, or null. */
export function commandProblem(command: string, hint: string): string | null {
  return spawnSync("which", [command], { stdio: "ignore" }).status === 0 ? null : `${command} is not installed (${hint})`;
}

/** Why the PostgreSQL at `url` cannot be used, or null. */
export async function postgresProblem(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query("select 1");
    return null;
  } catch (err) {
    return `PostgreSQL at ${url.replace(/:[^:@/]*@/, ":***@")} does not answer (${(err as Error).message}); start it, or point HOOKD_TEST_PG at one`;
  } finally {
    await client.end().catch(() => {});
  }
}
