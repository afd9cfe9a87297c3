/**
 * The export file, as pure functions: `hookd export` writes NDJSON, one JSON value a
 * line: a header, one line per row tagged with its table, and a trailer with the row
 * counts. A file cut short has no trailer, so truncation is always detected; every
 * problem is reported with the line it was found on.
 */
import { HookdError } from "../errors.js";

export const EXPORT_FORMAT = "hookd-export";
/** Bumped when the file's shape changes (not when the schema does: `migration` says that). */
export const EXPORT_FORMAT_VERSION = 1;

export type Counts = Record<string, number>;
export type Row = Record<string, unknown>;

export interface ExportHeader {
  format: typeof EXPORT_FORMAT;
  version: number;
  /** the hookd version that wrote the file */
  hookd: string;
  /** the last schema migration applied to the exported database */
  migration: string;
  /** where it came from: sqlite or postgres */
  dialect: string;
  exported_at: string;
  /** the tables in the order their rows follow (foreign-key order) */
  tables: string[];
  /** rows per table, counted in the same snapshot the rows are read from */
  counts: Counts;
}

export interface RowLine {
  table: string;
  row: Row;
}

export interface Trailer {
  end: true;
  counts: Counts;
}

export type Line = ({ kind: "row" } & RowLine) | ({ kind: "trailer" } & Trailer);

export function headerLine(header: ExportHeader): string {
  return JSON.stringify(header);
}

export function rowLine(table: string, row: Row): string {
  return JSON.stringify({ table, row });
}

export function trailerLine(counts: Counts): string {
  return JSON.stringify({ end: true, counts } satisfies Trailer);
}

/** A refused file: nothing is imported, and the message says where and why. */
export function badLine(line: number, message: string): HookdError {
  return new HookdError("validation_failed", `line ${line}: ${message}; nothing was imported`);
}

function parseJson(text: string, line: number): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw badLine(line, "not valid JSON (the file is corrupt or was cut short)");
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function isCounts(v: unknown): v is Counts {
  return isObject(v) && Object.values(v).every((n) => Number.isSafeInteger(n) && (n as number) >= 0);
}

/** Line 1. Refuses anything that is not a hookd export this version can read. */
export function parseHeader(text: string | undefined): ExportHeader {
  if (text === undefined) throw new HookdError("validation_failed", "the input is empty: expected a hookd export; nothing was imported");
  const value = parseJson(text, 1);
  if (!isObject(value) || value.format !== EXPORT_FORMAT) throw badLine(1, `not a hookd export (no "format": "${EXPORT_FORMAT}" header)`);
  if (typeof value.version !== "number" || !Number.isInteger(value.version)) throw badLine(1, "the header has no format version");
  if (value.version > EXPORT_FORMAT_VERSION) {
    throw new HookdError(
      "conflict",
      `the export is in format version ${value.version}, newer than this hookd reads (${EXPORT_FORMAT_VERSION}): import it with a newer hookd; nothing was imported`,
    );
  }
  const tables = value.tables;
  if (typeof value.migration !== "string" || !Array.isArray(tables) || !tables.every((t) => typeof t === "string") || !isCounts(value.counts)) {
    throw badLine(1, "the header lacks migration, tables or counts");
  }
  return value as unknown as ExportHeader;
}

/**
 * Refuses an export whose schema differs from the target's: rows are written back
 * column by column, so both sides must have the same columns.
 */
export function checkMigration(exported: string, target: string | null): void {
  if (exported === target) return;
  if (target === null || exported > target) {
    throw new HookdError(
      "conflict",
      `the export is from a newer hookd schema (${exported}) than this hookd's (${target ?? "none"}): import it with a hookd at least as new as the one that exported it; nothing was imported`,
    );
  }
  throw new HookdError(
    "conflict",
    `the export is from an older hookd schema (${exported}) than this hookd's (${target}): run \`hookd migrate\` on the source database with this hookd, then export again; nothing was imported`,
  );
}

/** Line 2 onwards: a row of a table, or the trailer. */
export function parseLine(text: string, line: number): Line {
  const value = parseJson(text, line);
  if (!isObject(value)) throw badLine(line, "expected a JSON object");
  if (value.end === true) {
    if (!isCounts(value.counts)) throw badLine(line, "the closing line has no valid counts");
    return { kind: "trailer", end: true, counts: value.counts };
  }
  if (typeof value.table !== "string" || !isObject(value.row)) throw badLine(line, 'expected {"table": …, "row": {…}}');
  for (const [column, v] of Object.entries(value.row)) {
    if (v !== null && typeof v === "object") throw badLine(line, `${value.table}.${column} is not a plain value`);
  }
  return { kind: "row", table: value.table, row: value.row };
}

/** The trailer must agree with the header and with the rows actually read. */
export function checkCounts(header: Counts, trailer: Counts, seen: Counts, line: number): void {
  const tables = new Set([...Object.keys(header), ...Object.keys(trailer), ...Object.keys(seen)]);
  for (const t of tables) {
    const [h, e, s] = [header[t] ?? 0, trailer[t] ?? 0, seen[t] ?? 0];
    if (h !== e || e !== s) throw badLine(line, `the file says ${e} ${t} rows (header: ${h}) but holds ${s}: rows are missing or repeated`);
  }
}

export type ColumnKind = "integer" | "boolean" | "other";

/**
 * A value as the file carries it: integers as JSON numbers, whatever the driver
 * returned (PostgreSQL's bigint may come back as a string), so both dialects write
 * the same file for the same data.
 */
export function toPortable(value: unknown, kind: ColumnKind): unknown {
  if (typeof value === "bigint") return Number(value);
  if (kind === "integer" && typeof value === "string" && /^-?\d+$/.test(value)) return Number(value);
  return value;
}

/**
 * A value as the target column takes it: booleans are integers 1/0 in hookd's schema
 * on both dialects, but a boolean column on one side must still load into the other.
 */
export function fromPortable(value: unknown, kind: ColumnKind): unknown {
  if (kind === "integer" && typeof value === "boolean") return value ? 1 : 0;
  if (kind === "boolean" && typeof value === "number") return value !== 0;
  return value;
}

export function columnKind(declaredType: string): ColumnKind {
  const t = declaredType.toLowerCase();
  if (t.includes("bool")) return "boolean";
  if (t.includes("int")) return "integer";
  return "other";
}

/**
 * The lines of an export read as text: split on "\n" only (a CRLF copy loses its "\r").
 * Not node:readline: from Node 24 it also ends a line at U+2028 and U+2029, which a JSON
 * string holds unescaped, so a payload containing one would be cut in two.
 */
export async function* ndjsonLines(chunks: AsyncIterable<string>): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of chunks) {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop() ?? "";
    for (const line of parts) yield line.endsWith("\r") ? line.slice(0, -1) : line;
  }
  if (rest !== "") yield rest;
}
