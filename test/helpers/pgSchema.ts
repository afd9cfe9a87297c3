/**
 * A PostgreSQL schema of its own for one test on the local server (HOOKD_TEST_PG, by
 * default postgres://postgres@127.0.0.1:5432/test): a random name, a hookd URL that
 * selects it through search_path, and a drop when done.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";

export const PG_BASE = process.env.HOOKD_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";

export interface PgSchema {
  name: string;
  /** HOOKD_DB for this schema */
  url: string;
  drop(): Promise<void>;
}

export async function pgSchema(prefix = "hookd_test"): Promise<PgSchema> {
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: PG_BASE });
  await admin.connect();
  try {
    await admin.query(`create schema ${name}`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: `${PG_BASE}?options=${encodeURIComponent(`-c search_path=${name}`)}`,
    async drop() {
      const c = new pg.Client({ connectionString: PG_BASE });
      await c.connect();
      try {
        await c.query(`drop schema if exists ${name} cascade`);
      } finally {
        await c.end();
      }
    },
  };
}
