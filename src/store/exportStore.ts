/**
 * Reading the whole store for `hookd export`: one consistent snapshot, each table
 * walked in primary-key order a page at a time (keyset pagination), so memory stays
 * flat however many rows there are and the file is the same for the same data.
 */
import { sql, type Kysely } from "kysely";
import { HookdError } from "../errors.js";
import { VERSION } from "../version.js";
import { dialectOf } from "./connect.js";
import { EXPORTED_TABLES } from "./exportTables.js";
import {
  EXPORT_FORMAT,
  EXPORT_FORMAT_VERSION,
  headerLine,
  rowLine,
  toPortable,
  trailerLine,
  type Counts,
  type ExportHeader,
  type Row,
} from "./exportFormat.js";
import { appliedMigration, describeTable, listTables } from "./introspect.js";
import type { Db } from "./connect.js";

export interface ExportOptions {
  /** rows per page read */
  pageSize?: number;
  /** called with each line, without its newline; awaited, so a slow reader slows the export (backpressure) */
  write(line: string): void | Promise<void>;
  /** rows written so far, of `total` */
  onProgress?(done: number, total: number): void;
  now?: Date;
}

/**
 * Run `fn` inside one read snapshot. SQLite: a read transaction (WAL keeps its view
 * while writers go on); PostgreSQL: REPEATABLE READ READ ONLY, whose snapshot is
 * taken at the first statement and kept to the end.
 */
async function readSnapshot<T>(db: Db, fn: (trx: Kysely<any>) => Promise<T>): Promise<T> {
  if (dialectOf(db) === "postgres") {
    return db.transaction().setIsolationLevel("repeatable read").setAccessMode("read only").execute(fn);
  }
  return db.connection().execute(async (conn) => {
    await sql`begin`.execute(conn);
    try {
      return await fn(conn);
    } finally {
      await sql`commit`.execute(conn);
    }
  });
}

/** Writes the header, every row of every exported table, and the trailer. Returns the counts. */
export async function exportStore(db: Db, options: ExportOptions): Promise<Counts> {
  const pageSize = options.pageSize ?? 1000;
  return readSnapshot(db, async (trx) => {
    const migration = await appliedMigration(trx);
    if (migration === null) throw new HookdError("store_unavailable", "the database has no hookd schema: there is nothing to export");
    const present = new Set(await listTables(trx));
    const absent = EXPORTED_TABLES.filter((t) => !present.has(t));
    if (absent.length > 0) {
      throw new HookdError(
        "store_unavailable",
        `the database's schema (${migration}) is older than this hookd's, it has no ${absent.join(", ")}: run \`hookd migrate\` first`,
      );
    }
    const counts: Counts = {};
    for (const table of EXPORTED_TABLES) {
      const row = await trx
        .selectFrom(table)
        .select((eb) => eb.fn.countAll().as("n"))
        .executeTakeFirstOrThrow();
      counts[table] = Number(row.n);
    }
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const header: ExportHeader = {
      format: EXPORT_FORMAT,
      version: EXPORT_FORMAT_VERSION,
      hookd: VERSION,
      migration,
      dialect: dialectOf(db),
      exported_at: (options.now ?? new Date()).toISOString(),
      tables: [...EXPORTED_TABLES],
      counts,
    };
    await options.write(headerLine(header));
    let done = 0;
    options.onProgress?.(done, total);
    for (const table of EXPORTED_TABLES) {
      for await (const page of pages(trx, table, pageSize)) {
        for (const row of page) await options.write(rowLine(table, row));
        done += page.length;
        options.onProgress?.(done, total);
      }
    }
    await options.write(trailerLine(counts));
    return counts;
  });
}

/** A table's rows, a page at a time, in primary-key order: each page starts after the last key seen. */
async function* pages(db: Kysely<any>, table: string, pageSize: number): AsyncGenerator<Row[]> {
  const shape = await describeTable(db, table);
  const key = shape.primaryKey;
  if (key.length === 0) throw new Error(`table ${table} has no primary key, which export pages by`);
  const kinds = new Map(shape.columns.map((c) => [c.name, c.kind]));
  let after: unknown[] | null = null;
  for (;;) {
    let query = db.selectFrom(table).selectAll().limit(pageSize);
    for (const k of key) query = query.orderBy(k);
    if (after) {
      const last = after;
      query = query.where(({ eb, refTuple, tuple }) =>
        key.length === 1 ? eb(key[0]!, ">", last[0]) : eb((refTuple as any)(...key), ">", (tuple as any)(...last)),
      );
    }
    const rows = (await query.execute()) as Row[];
    if (rows.length === 0) return;
    const last = rows[rows.length - 1]!;
    after = key.map((k) => last[k]);
    yield rows.map((row) => {
      const out: Row = {};
      for (const [column, value] of Object.entries(row)) out[column] = toPortable(value, kinds.get(column) ?? "other");
      return out;
    });
    if (rows.length < pageSize) return;
  }
}
