/**
 * How an attempt ended, and the error classes recorded for it. Pure: the sender
 * produces raw facts, these functions name them.
 */

export type ErrorClass =
  | "timeout"
  | "refused"
  | "reset"
  | "dns"
  | "tls"
  | "protocol"
  | "unreachable"
  | "redirect"
  | "http"
  | "blocked"
  | "aborted"
  | "network"
  /** no credentials to send: the OAuth2 token endpoint failed or refused (dispatch/oauthTokens.ts) */
  | "auth";

export interface AttemptOutcome {
  startedAt: number;
  durationMs: number;
  /** 2xx within the timeout */
  ok: boolean;
  statusCode: number | null;
  error: ErrorClass | null;
  errorMessage: string | null;
  /** first 1 KiB of the response body, as text */
  responseBody: string | null;
  /** the Retry-After header, when the receiver sent one */
  retryAfter: string | null;
}

/** Class of a non-2xx status: redirects are never followed and count as failures. */
export function classifyStatus(status: number): ErrorClass | null {
  if (status >= 200 && status < 300) return null;
  if (status >= 300 && status < 400) return "redirect";
  return "http";
}

/** Class of a transport error from its Node/got error code or name. */
export function classifyError(err: { code?: unknown; name?: unknown }): ErrorClass {
  const code = typeof err.code === "string" ? err.code : "";
  const name = typeof err.name === "string" ? err.name : "";
  if (name === "TimeoutError" || code === "ETIMEDOUT" || code === "ESOCKETTIMEDOUT") return "timeout";
  if (name === "AbortError" || code === "ABORT_ERR" || code === "ERR_ABORTED") return "aborted";
  if (code === "ECONNREFUSED") return "refused";
  if (code === "ECONNRESET" || code === "EPIPE" || code === "ECONNABORTED" || code === "ERR_STREAM_PREMATURE_CLOSE") return "reset";
  if (code === "ENOTFOUND" || code.startsWith("EAI_")) return "dns";
  if (code === "EHOSTUNREACH" || code === "ENETUNREACH" || code === "EHOSTDOWN") return "unreachable";
  if (code === "ERR_HOOKD_BLOCKED_ADDRESS") return "blocked";
  if (code.startsWith("HPE_")) return "protocol";
  if (
    code.startsWith("ERR_TLS") ||
    code.startsWith("ERR_SSL") ||
    code.startsWith("CERT_") ||
    code.includes("CERT") ||
    code === "EPROTO" ||
    code.startsWith("UNABLE_TO_") ||
    code === "SELF_SIGNED_CERT_IN_CHAIN"
  )
    return "tls";
  return "network";
}
