/**
 * A batched POST (`batch_size` > 1), the request side only (pure): given the claimed
 * deliveries of one webhook, in publish order, the body and the headers. The tick
 * decides which deliveries go together; this says what the receiver gets.
 *
 * The receiver contract (README "Batched POST"):
 * - body: `[` + each event's payload bytes, exactly as published, joined by `,` + `]`;
 * - `X-Batch-Size: n`, `X-Event-Ids` and `X-Delivery-Ids` (comma-separated, body
 *   order) instead of `X-Event-Id` and `X-Delivery-Id`;
 * - `X-Signature` and `webhook-signature` sign that whole body;
 * - `webhook-id` is the batch's id: derived from its members' delivery ids, so a retry
 *   of the same members carries the same id and a receiver deduplicates it as one.
 */
import { createHash } from "node:crypto";
import type { AttemptOutcome } from "./outcome.js";
import { post, type SendOptions } from "./request.js";
import { requestHeaders, type RequestCommon, type RequestIdentity } from "./signedHeaders.js";

export interface BatchMember {
  deliveryId: string;
  eventId: string;
  /** the event's payload: the bytes exactly as published */
  payload: Buffer;
  /** attempts made so far */
  attempts: number;
}

/** The common parts; `attemptNumber` is the batch's own (its members' attempts so far, plus one). */
export type BatchCommon = Omit<RequestCommon, "attemptNumber">;

export interface BatchRequest {
  url: string;
  body: Buffer;
  /** the batch's id (`webhook-id`) */
  id: string;
  /** the headers for a request sent at `nowMs` */
  headersAt(nowMs: number): Record<string, string>;
}

/**
 * The batch's id: a UUID (version 8, RFC 9562's custom layout) made of the SHA-256 of
 * its delivery ids in body order. The same members give the same id on every retry;
 * any other set gives another.
 */
export function batchId(deliveryIds: readonly string[]): string {
  const bytes = createHash("sha256").update(deliveryIds.join(",")).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** `[` + payloads joined by `,` + `]`, byte for byte. */
export function batchBody(members: readonly Pick<BatchMember, "payload">[]): Buffer {
  const parts: Buffer[] = [OPEN];
  for (const [i, m] of members.entries()) {
    if (i > 0) parts.push(COMMA);
    parts.push(m.payload);
  }
  parts.push(CLOSE);
  return Buffer.concat(parts);
}

const OPEN = Buffer.from("[");
const COMMA = Buffer.from(",");
const CLOSE = Buffer.from("]");

/** The request for `members` (at least one, all of one webhook, in publish order). */
export function batchRequest(members: readonly BatchMember[], common: BatchCommon): BatchRequest {
  if (members.length === 0) throw new Error("a batch needs at least one delivery");
  const deliveryIds = members.map((m) => m.deliveryId);
  const id = batchId(deliveryIds);
  const body = batchBody(members);
  const identity: RequestIdentity = {
    ids: {
      "x-batch-size": String(members.length),
      "x-event-ids": members.map((m) => m.eventId).join(","),
      "x-delivery-ids": deliveryIds.join(","),
    },
    standardId: id,
  };
  // A batch is retried as a unit, so its members have made the same attempts; the most is the safe count.
  const attemptNumber = Math.max(...members.map((m) => m.attempts)) + 1;
  return { url: common.url, body, id, headersAt: (now) => requestHeaders({ ...common, attemptNumber }, identity, body, now) };
}

/** POST a batch; never throws. One outcome for every member: a batch succeeds or fails as a unit. */
export function sendBatch(batch: BatchRequest, options: SendOptions): Promise<AttemptOutcome> {
  return post(batch.url, batch.body, batch.headersAt, options);
}
