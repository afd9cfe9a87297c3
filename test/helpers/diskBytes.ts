/** Everything of a test store that is on disk now, as bytes: what secrets at rest must never be found in. */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import type { TestApp } from "./app.js";
import { PG_BASE } from "./backends.js";
import { prerequisite } from "./prerequisites.js";

const pgDump = prerequisite(
  "pg_dump",
  spawnSync("pg_dump", ["--version"]).status === 0 ? null : "pg_dump is not installed (apt-get install postgresql-client)",
);

/** The SQLite file and its WAL, or `pg_dump` of the test's schema. */
export function diskBytes(app: TestApp): Buffer {
  if (app.backend === "sqlite") {
    const parts = [readFileSync(app.dbFile)];
    if (existsSync(`${app.dbFile}-wal`)) parts.push(readFileSync(`${app.dbFile}-wal`));
    return Buffer.concat(parts);
  }
  pgDump.require();
  return execFileSync("pg_dump", ["--schema", app.schema!, PG_BASE], { maxBuffer: 64 * 1024 * 1024 });
}
