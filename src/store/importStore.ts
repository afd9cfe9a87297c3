/**
 * Loading an export into an empty store for `hookd import`: all of it in one write
 * transaction, so a refused line anywhere leaves the target exactly as it was; rows
 * inserted in multi-row batches, each table after the tables it references.
 */
import { sql, type Kysely } from "kysely";
import { HookdError } from "../errors.js";
import { dialectOf, writeTransaction, type Db } from "./connect.js";
import { CLEARED_ON_IMPORT, EXPORTED_TABLES } from "./exportTables.js";
import {
  badLine,
  checkCounts,
  checkMigration,
  fromPortable,
  parseHeader,
  parseLine,
  type ColumnKind,
  type Counts,
  type ExportHeader,
  type Row,
} from "./exportFormat.js";
import { appliedMigration, describeTable } from "./introspect.js";
import { isSealed, SecretKeyError, type Keyring } from "../domain/secretBox.js";
import { SEALED_COLUMNS } from "./sealedColumns.js";

export interface ImportOptions {
  /** where the data goes, for messages */
  location: string;
  /** must open every sealed secret of the file; seals the ones an older export carries in clear */
  keyring: Keyring;
  /** bound parameters per INSERT; both dialects allow more (SQLite 32,766, PostgreSQL 65,535) */
  maxParameters?: number;
  /** rows per INSERT at most */
  maxRows?: number;
  onProgress?(done: number, total: number): void;
}

/** Reads `lines` (without newlines) to the end and loads them. Returns the rows loaded per table. */
export async function importStore(db: Db, lines: AsyncIterable<string>, options: ImportOptions): Promise<Counts> {
  const input = lines[Symbol.asyncIterator]();
  const first = await input.next();
  const header = parseHeader(first.done ? undefined : first.value);
  checkMigration(header.migration, await appliedMigration(db));
  const unknown = header.tables.filter((t) => !EXPORTED_TABLES.includes(t));
  if (unknown.length > 0) throw badLine(1, `the export holds tables this hookd does not know: ${unknown.join(", ")}`);
  const counts = await writeTransaction(db, async (trx) => {
    await refuseNonEmpty(trx, options.location);
    const loader = new Loader(trx, header, options);
    for (let line = 2; ; line++) {
      const next = await input.next();
      if (next.done) throw badLine(line - 1, "the file ends here without its closing line: it was cut short");
      const parsed = parseLine(next.value, line);
      if (parsed.kind === "trailer") {
        loader.checkKeys();
        await loader.finish();
        checkCounts(header.counts, parsed.counts, loader.counts, line);
        const after = await input.next();
        if (!after.done) throw badLine(line + 1, "there is more after the closing line");
        return loader.counts;
      }
      await loader.add(parsed.table, parsed.row, line);
    }
  });
  // Fresh statistics, so the first ticks on a just-filled PostgreSQL plan with real row counts.
  if (dialectOf(db) === "postgres") for (const table of header.tables) await sql`analyze ${sql.table(table)}`.execute(db);
  return counts;
}

/** Import only ever fills an empty store: merging two stores' ids and keys is not its job. */
async function refuseNonEmpty(db: Kysely<any>, location: string): Promise<void> {
  const held: string[] = [];
  for (const table of EXPORTED_TABLES) {
    const row = await db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll().as("n"))
      .executeTakeFirstOrThrow();
    if (Number(row.n) > 0) held.push(`${Number(row.n)} ${table}`);
  }
  if (held.length > 0) {
    throw new HookdError("conflict", `the database ${location} is not empty (${held.join(", ")}): import loads only into an empty store; nothing was changed`);
  }
}

/** Collects rows of one table and inserts them in batches, checking each line against the target's columns. */
class Loader {
  readonly counts: Counts;
  private table: string | null = null;
  private readonly entered = new Set<string>();
  private kinds = new Map<string, ColumnKind>();
  /** PostgreSQL: each column's declared type, for the array casts of the batch insert */
  private types = new Map<string, string>();
  private batch: Row[] = [];
  private batchFirstLine = 0;
  private batchLimit = 0;
  private pending: Promise<void> | null = null;
  private done = 0;
  private readonly total: number;
  /** key ids of sealed secrets the keyring cannot open, with their first line */
  private readonly unopened = new Map<string, { code: string; line: number }>();

  constructor(
    private readonly db: Kysely<any>,
    private readonly header: ExportHeader,
    private readonly options: ImportOptions,
  ) {
    this.total = Object.values(header.counts).reduce((a, b) => a + b, 0);
    this.counts = Object.fromEntries(header.tables.map((t) => [t, 0]));
  }

  async add(table: string, row: Row, line: number): Promise<void> {
    if (table !== this.table) await this.enter(table, line);
    const out: Row = {};
    for (const [column, value] of Object.entries(row)) {
      const kind = this.kinds.get(column);
      if (!kind) throw badLine(line, `${table} has no column ${column} in this database`);
      out[column] = fromPortable(value, kind);
    }
    for (const column of CLEARED_ON_IMPORT[table] ?? []) if (column in out) out[column] = null;
    this.secrets(table, out, line);
    if (this.batch.length === 0) this.batchFirstLine = line;
    this.batch.push(out);
    this.counts[table]! += 1;
    if (this.batch.length >= this.batchLimit) await this.flush();
  }

  /**
   * Sealed secrets arrive as stored: each must open with the target's key file (so
   * the moved store can sign), and one still in clear (an export from before secrets
   * were sealed) is sealed on the way in.
   */
  private secrets(table: string, row: Row, line: number): void {
    for (const where of SEALED_COLUMNS) {
      const value = where.table === table ? row[where.column] : null;
      if (typeof value !== "string") continue;
      if (!isSealed(value)) {
        row[where.column] = this.options.keyring.seal(value);
        continue;
      }
      try {
        this.options.keyring.open(value);
      } catch (err) {
        if (!(err instanceof SecretKeyError)) throw err;
        if (!this.unopened.has(err.keyId)) this.unopened.set(err.keyId, { code: err.code, line });
      }
    }
  }

  /** Refuses the whole import, naming every key id the file uses that the key file cannot open. */
  checkKeys(): void {
    if (this.unopened.size === 0) return;
    const ids = [...this.unopened].map(
      ([id, u]) => `"${id}" (${u.code === "secret_key_missing" ? "not in the key file" : "other key material"}, first on line ${u.line})`,
    );
    const held = this.options.keyring.ids.map((id) => `"${id}"`).join(", ") || "none";
    throw new HookdError(
      "secret_key_missing",
      `the export's secrets are sealed under key ${ids.join(", ")}, which the key file cannot open (it holds ${held}): ` +
        "import with the key file of the store it came from (security.encryptionKeyFile / HOOKD_ENCRYPTION_KEY_FILE); nothing was imported",
    );
  }

  /** Rows come table by table, in the header's order, which is foreign-key order. */
  private async enter(table: string, line: number): Promise<void> {
    const order = this.header.tables;
    const at = order.indexOf(table);
    if (at < 0) throw badLine(line, `table ${table} is not in the header`);
    if (this.table !== null && at < order.indexOf(this.table)) throw badLine(line, `${table} rows after ${this.table} rows: out of order`);
    if (this.entered.has(table)) throw badLine(line, `${table} rows are split in two places`);
    // Settled before the next statement, so a refused batch is reported as itself.
    await this.finish();
    // Refused as soon as the table holding them is read, not after the millionth delivery.
    this.checkKeys();
    this.table = table;
    this.entered.add(table);
    const shape = await describeTable(this.db, table);
    this.kinds = new Map(shape.columns.map((c) => [c.name, c.kind]));
    this.types = new Map(shape.columns.map((c) => [c.name, c.type]));
    const columns = Math.max(1, shape.columns.length);
    this.batchLimit = Math.max(1, Math.min(this.options.maxRows ?? 1000, Math.floor((this.options.maxParameters ?? 30_000) / columns)));
  }

  /** Queues what is collected for insertion; the insert before it must have gone through. */
  async flush(): Promise<void> {
    if (this.batch.length === 0) return;
    const [table, rows, first] = [this.table!, this.batch, this.batchFirstLine];
    this.batch = [];
    await this.settle();
    const running = this.insert(table, rows, first);
    running.catch(() => {}); // awaited by settle(); until then a failure must not count as unhandled
    this.pending = running;
  }

  /** Everything collected is in the database (or its refusal thrown). */
  async finish(): Promise<void> {
    await this.flush();
    await this.settle();
  }

  /**
   * One insert is left running while the next batch is read and parsed, so on
   * PostgreSQL reading the file and writing the rows overlap instead of taking turns.
   */
  private async settle(): Promise<void> {
    const running = this.pending;
    this.pending = null;
    await running;
  }

  private async insert(table: string, rows: Row[], first: number): Promise<void> {
    try {
      if (dialectOf(this.db) === "postgres") await this.insertColumns(table, rows);
      else await this.db.insertInto(table).values(rows).execute();
    } catch (err) {
      if (!isRefusedData(err)) throw err;
      const last = first + rows.length - 1;
      throw new HookdError(
        "validation_failed",
        `lines ${first}-${last} (${table}): the database refused them: ${(err as Error).message}; nothing was imported`,
      );
    }
    this.done += rows.length;
    this.options.onProgress?.(this.done, this.total);
  }

  /**
   * PostgreSQL: one array per column, unnested into rows. A third faster than a
   * VALUES list of the same rows, whose every value is a parameter to parse and plan.
   * Every row of a table carries the same columns (the export reads them with select *).
   */
  private async insertColumns(table: string, rows: Row[]): Promise<void> {
    const columns = Object.keys(rows[0]!);
    const arrays = columns.map((c) => sql`${rows.map((r) => r[c] ?? null)}::${sql.raw(this.types.get(c)!)}[]`);
    await sql`insert into ${sql.table(table)} (${sql.join(columns.map((c) => sql.ref(c)))}) select * from unnest(${sql.join(arrays)})`.execute(this.db);
  }
}

/** A row the database refuses for what it holds (a duplicate key, a missing parent, a bad value), not for being unavailable. */
function isRefusedData(err: unknown): boolean {
  const code = String((err as { code?: unknown } | null)?.code ?? "");
  // SQLite constraint errors; PostgreSQL classes 22 (data exception) and 23 (integrity constraint violation).
  return code.startsWith("SQLITE_CONSTRAINT") || code === "SQLITE_MISMATCH" || /^2[23]/.test(code);
}
