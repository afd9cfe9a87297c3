/**
 * Ids for rows written at ingest rate (events, deliveries): UUID version 7 (RFC 9562),
 * the creation time in milliseconds followed by 74 random bits.
 *
 * Why not random (version 4) ids: events and deliveries are keyed by id, and a delivery
 * is also indexed by its event's id, so a random id lands each insert on a random leaf
 * page of three indexes. A group commit of a few dozen events then writes a few dozen
 * scattered pages to the WAL and later to the database, and that I/O runs while the
 * event loop waits for the commit. Ids that grow with time share the rightmost leaves
 * instead. They stay unique and unguessable enough for an id that is always checked
 * against its customer; the time they show is the row's created_at, already public.
 */
import { randomUUID } from "node:crypto";

/** A version 7 UUID for `now` (ms since the epoch). Pure given `random`, a version 4 UUID that supplies the random bits. */
export function timeOrderedId(now: number, random: string = randomUUID()): string {
  const time = Math.max(0, Math.floor(now)).toString(16).padStart(12, "0").slice(-12);
  // random is xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx: keep from the third group on (its
  // variant bits are already RFC 9562's), put the time in front and the version 7 in place of the 4.
  return `${time.slice(0, 8)}-${time.slice(8)}-7${random.slice(15)}`;
}

/** The last id's time and its sequence within that millisecond (this process). */
let last = { time: -1, seq: 0 };

/**
 * A version 7 UUID that sorts after every one this process made before (RFC 9562's
 * method 3: a counter in the 12 `rand_a` bits within one millisecond, the rest random):
 * events published one after another in the same millisecond keep their publish order
 * by id, which strict per-webhook ordering (`ordered`) relies on.
 */
export function nextTimeOrderedId(now: number, random: string = randomUUID()): string {
  const time = Math.max(0, Math.floor(now));
  if (time > last.time) last = { time, seq: Math.floor(Math.random() * 1024) };
  else if (++last.seq > 0xfff) last = { time: last.time + 1, seq: 0 };
  const id = timeOrderedId(last.time, random);
  return `${id.slice(0, 15)}${last.seq.toString(16).padStart(3, "0")}${id.slice(18)}`;
}
