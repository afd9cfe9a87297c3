/**
 * A webhook's own request headers (`headers`): which names and values a webhook may
 * add to every request. Pure. Two kinds of refusal, as the SPEC's status codes say:
 * - malformed (400): not an object of strings, a name that is not an HTTP token, a
 *   value Node would refuse to send (CR, LF, NUL, other control characters), more
 *   than MAX_HEADERS or MAX_HEADER_BYTES, one name twice;
 * - reserved (422): well-formed, but a name that hookd sets itself, that frames the
 *   request (hop-by-hop), or that has its own field (`Authorization` is `auth`).
 */
import type { SettingProblem } from "./settingProblem.js";

export const MAX_HEADERS = 20;
/** Names and values together, in UTF-8 bytes. */
export const MAX_HEADER_BYTES = 8 * 1024;

/** RFC 9110 token characters. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** What Node's http refuses in a header value (it throws ERR_INVALID_CHAR): CR, LF and NUL among them. */
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const LINE_BREAK_OR_NUL = /[\r\n\u0000]/;

/** Names refused in any letter case: framing and hop-by-hop, those with their own field, and hookd's own. */
const RESERVED = new Set(
  [
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "content-type",
    "user-agent",
    "authorization",
    "traceparent",
    "tracestate",
    "x-signature",
    "x-webhook-id",
    "x-event-id",
    "x-event-ids",
    "x-delivery-id",
    "x-delivery-ids",
    "x-topic",
    "x-attempt-number",
    "x-timestamp",
    "x-batch-size",
  ].map((n) => n.toLowerCase()),
);
const RESERVED_PREFIXES = ["proxy-", "webhook-"];

/** Why hookd will not let a webhook set `name`, or null when it may. */
export function reservedHeaderProblem(name: string): string | null {
  const lower = name.toLowerCase();
  if (lower === "authorization") return "is set from the webhook's auth field: use auth (bearer or oauth2) instead";
  if (RESERVED.has(lower) || RESERVED_PREFIXES.some((p) => lower.startsWith(p))) {
    return "is reserved: hookd sets it itself, or it frames the request (hop-by-hop)";
  }
  return null;
}

const utf8 = new TextEncoder();

/** The clean headers (names as given), or the problems, each naming its header. */
export function checkHeaders(value: unknown): { headers: Record<string, string> } | { problems: SettingProblem[] } {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { problems: [{ field: "headers", message: "must be an object of header names to string values, or null" }] };
  }
  const entries = Object.entries(value as Record<string, unknown>);
  const problems: SettingProblem[] = [];
  if (entries.length > MAX_HEADERS) problems.push({ field: "headers", message: `must hold at most ${MAX_HEADERS} headers (got ${entries.length})` });
  let bytes = 0;
  const seen = new Set<string>();
  for (const [name, v] of entries) {
    const field = `headers.${name}`;
    bytes += utf8.encode(name).length + (typeof v === "string" ? utf8.encode(v).length : 0);
    if (!TOKEN.test(name)) {
      problems.push({ field, message: "is not a valid header name (letters, digits and !#$%&'*+-.^_`|~ only)" });
      continue;
    }
    if (seen.has(name.toLowerCase())) problems.push({ field, message: "is given twice (header names are case-insensitive)" });
    seen.add(name.toLowerCase());
    if (typeof v !== "string") problems.push({ field, message: "must be a string" });
    else if (LINE_BREAK_OR_NUL.test(v)) problems.push({ field, message: "must not contain CR, LF or NUL" });
    else if (BAD_VALUE.test(v)) problems.push({ field, message: "must hold only printable characters (no control characters, nothing past U+00FF)" });
    else {
      const reserved = reservedHeaderProblem(name);
      if (reserved) problems.push({ field, message: reserved, rule: true });
    }
  }
  if (bytes > MAX_HEADER_BYTES) problems.push({ field: "headers", message: `must be at most ${MAX_HEADER_BYTES} bytes of names and values (got ${bytes})` });
  if (problems.length > 0) return { problems };
  return { headers: Object.fromEntries(entries) as Record<string, string> };
}

/** The `webhooks.headers` column (JSON) as a record; none when null. */
export function headersOf(column: string | null): Record<string, string> {
  return column ? (JSON.parse(column) as Record<string, string>) : {};
}
