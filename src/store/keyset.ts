/**
 * Keyset pagination over (created_at, id), newest first. A cursor names the row a
 * page starts after and which way it goes, so page 10,000 costs what page 1 costs:
 * an index seek, never an OFFSET walk. Cursors are opaque to clients.
 */
import { validationError } from "../errors.js";

export interface Cursor {
  /** created_at of the boundary row */
  t: number;
  /** id of the boundary row */
  id: string;
  /** "older": rows after the boundary in newest-first order; "newer": rows before it */
  dir: "older" | "newer";
}

export interface Keyed {
  created_at: number;
  id: string;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(`${c.dir === "older" ? "o" : "n"}:${c.t}:${c.id}`, "utf8").toString("base64url");
}

/** The cursor in a `cursor` parameter; a clear 400 when it was not one we handed out. Pure. */
export function decodeCursor(text: string): Cursor {
  const m = /^([on]):(\d{1,16}):(.{1,200})$/s.exec(Buffer.from(text, "base64url").toString("utf8"));
  if (!m) throw validationError([{ field: "cursor", message: "is not a cursor from a next or previous link" }]);
  return { dir: m[1] === "o" ? "older" : "newer", t: Number(m[2]), id: m[3]! };
}

/**
 * A page's rows in newest-first order and the cursors to its neighbours, from the
 * `limit + 1` rows fetched in the cursor's direction (the extra row says whether more exist). Pure.
 */
export function keysetPage<T extends Keyed>(fetched: T[], limit: number, cursor: Cursor | null): { rows: T[]; next: Cursor | null; previous: Cursor | null } {
  const more = fetched.length > limit;
  const taken = fetched.slice(0, limit);
  const rows = cursor?.dir === "newer" ? taken.reverse() : taken;
  const first = rows[0];
  const last = rows.at(-1);
  // Going older: more older rows exist if we fetched the extra one; newer ones exist if we came from them.
  const hasOlder = cursor?.dir === "newer" ? true : more;
  const hasNewer = cursor === null ? false : cursor.dir === "older" ? true : more;
  return {
    rows,
    next: hasOlder && last ? { t: last.created_at, id: last.id, dir: "older" } : null,
    previous: hasNewer && first ? { t: first.created_at, id: first.id, dir: "newer" } : null,
  };
}
