/**
 * Publishing an event: the rules, in one place for the API, the CLI and the library.
 * A valid topic, a UTF-8 JSON payload within the size limit, an idempotency key of
 * 1–255 characters; a repeated key returns the first event when topic and payload are
 * the same, and is a conflict when they are not. The store only persists (outbox.ts).
 */
import { HookdError, validationError, type ErrorDetail } from "./errors.js";
import type { Db } from "./store/connect.js";
import { insertEvent, type CleanEvent } from "./store/outbox.js";
import { LONE_SURROGATE } from "./domain/webhookInput.js";
import type { EventTable } from "./store/schema.js";
import { topicProblem } from "./domain/topics.js";
import { stringEnd } from "./domain/jsonText.js";

export interface PublishInput {
  customerId: string;
  topic: string;
  /** JSON text (stored byte for byte) or a Buffer holding UTF-8 JSON text */
  payload: string | Buffer;
  idempotencyKey?: string | null;
}

export interface PublishRules {
  topics: readonly string[];
  maxPayloadBytes: number;
}

export interface PublishResult {
  id: string;
  topic: string;
  /** deliveries created for this event (for a repeated idempotency key: those of the first) */
  deliveries: number;
  /** true when the idempotency key was already used and the first event is returned */
  duplicate: boolean;
  /** the stored event */
  event: EventTable;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The deepest nesting a payload may have. Deeper JSON parses, but it does not come back
 * out: JSON.stringify overflows the stack at a few thousand levels, and receivers'
 * parsers give up sooner (Ruby's JSON stops at 100 by default, the strictest of the
 * README's five receivers).
 */
export const MAX_PAYLOAD_DEPTH = 100;

/**
 * How deeply `text` (valid JSON) nests arrays and objects. Pure; no recursion, so any
 * depth is safe to measure. Strings are jumped over with indexOf, not read character by
 * character: they are most of a typical payload, and this runs on every publish.
 */
export function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const end = stringEnd(text, i);
      if (end === -1) return deepest; // not JSON after all; the caller's JSON.parse says so
      i = end - 1; // on the closing quote; the loop steps past it
    } else if (c === 0x5b || c === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/** Validate and normalise the input; the payload must be UTF-8 JSON text within the size limit. Pure. */
export function checkPublishInput(input: PublishInput, rules: PublishRules): CleanEvent {
  const details: ErrorDetail[] = [];
  const problem = typeof input.topic === "string" ? topicProblem(rules.topics, input.topic) : "is required";
  if (problem) details.push({ field: "topic", message: problem });

  const bytes = typeof input.payload === "string" ? Buffer.byteLength(input.payload, "utf8") : input.payload.length;
  if (bytes > rules.maxPayloadBytes) {
    throw new HookdError("payload_too_large", `payload is ${bytes} bytes; the limit is ${rules.maxPayloadBytes}`, [
      { field: "payload", message: `is ${bytes} bytes; the limit is ${rules.maxPayloadBytes}` },
    ]);
  }
  let text: string | null = null;
  let parsed: unknown;
  try {
    text = typeof input.payload === "string" ? input.payload : utf8.decode(input.payload);
  } catch {
    details.push({ field: "payload", message: "must be UTF-8 text" });
  }
  if (text !== null) {
    try {
      parsed = JSON.parse(text);
      if (nestingDepth(text) > MAX_PAYLOAD_DEPTH) details.push({ field: "payload", message: `must not nest deeper than ${MAX_PAYLOAD_DEPTH} levels` });
    } catch (err) {
      details.push({ field: "payload", message: `must be valid JSON: ${(err as Error).message}` });
    }
  }
  const key = input.idempotencyKey ?? null;
  if (key !== null && (typeof key !== "string" || key.length === 0 || key.length > 255)) {
    details.push({ field: "idempotency_key", message: "must be 1 to 255 characters" });
  } else if (key !== null && LONE_SURROGATE.test(key)) {
    details.push({ field: "idempotency_key", message: "must be valid Unicode (it holds a lone surrogate)" });
  } else if (key?.includes("\u0000")) {
    // PostgreSQL's text cannot hold it; refused on both stores, so a key works on either.
    details.push({ field: "idempotency_key", message: "must not contain the NUL character (U+0000)" });
  }
  if (details.length > 0) throw validationError(details);
  return { customerId: input.customerId, topic: input.topic, payload: text!, key, parsed };
}

/** The first event stands for a repeated key only if it is the same event. Pure. */
export function checkRepeat(first: EventTable, clean: CleanEvent): void {
  if (first.topic === clean.topic && first.payload === clean.payload) return;
  throw new HookdError("conflict", `idempotency key ${JSON.stringify(clean.key)} was already used for a different event (${first.id})`, [
    { field: "idempotency_key", message: "was already used with another topic or payload" },
  ]);
}

/**
 * Store an event and fan it out, atomically with respect to its idempotency key: any
 * number of concurrent calls with one key, from any number of processes, store one
 * event and all get it. Pass a Kysely transaction to publish inside your own
 * transaction (transactional outbox). `traceContext`: the publish span's traceparent,
 * stored with the event (telemetry/tracing.ts tracedPublish).
 */
export async function publish(db: Db, input: PublishInput, rules: PublishRules, now = Date.now(), traceContext: string | null = null): Promise<PublishResult> {
  const clean = checkPublishInput(input, rules);
  if (traceContext) clean.traceContext = traceContext;
  const stored = await insertEvent(db, clean, now);
  if (stored.duplicate) checkRepeat(stored.event, clean);
  return { id: stored.event.id, topic: stored.event.topic, deliveries: stored.deliveries, duplicate: stored.duplicate, event: stored.event };
}
