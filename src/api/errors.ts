/**
 * Errors → HTTP, in one place. HookdError codes map to status codes; fastify's own
 * errors (media type, body size, schema validation) are reshaped into the same
 * `{"error": {code, message, details}}` body; anything else is a bug: logged with
 * context and answered with a generic 500, never a stack trace.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { SecretKeyError } from "../domain/secretBox.js";
import { HookdError, validationError, type ErrorCode } from "../errors.js";
import { SQLITE_FAULT } from "../store/outage.js";
import { classifyPostgresError } from "../store/postgresFaults.js";
import type { StoreHealth } from "../store/storeHealth.js";
import { redactUrl } from "./logging.js";
import { validationDetails } from "./validation.js";

const STATUS: Record<ErrorCode, number> = {
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  store_unavailable: 503,
  // The operator's key file lacks a stored secret's key: nothing can be signed until it is fixed.
  secret_key_missing: 503,
  secret_key_mismatch: 503,
  config_invalid: 500,
};

export function statusOf(err: HookdError): number {
  return STATUS[err.code];
}

/** The HookdError a caller should see for `err`, or null when it is not one we can explain. */
export function explain(err: unknown, bodyLimit: number): HookdError | null {
  if (err instanceof HookdError) return err;
  const e = err as Partial<FastifyError> & { code?: string };
  if (e.validation) return validationError(validationDetails(e.validation, e.validationContext ?? "body"));
  switch (e.code) {
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new HookdError("unsupported_media_type", "request bodies must be JSON: send Content-Type: application/json");
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new HookdError("payload_too_large", `the request body is larger than ${bodyLimit} bytes`);
    case "FST_ERR_BAD_URL":
      return validationError([{ field: "(path)", message: "is not a valid URL path (bad percent-encoding)" }]);
    case "FST_ERR_MAX_PARAM_LENGTH":
      // Longer than any id we hand out, so certainly not an existing resource.
      return new HookdError("not_found", "no such resource: the id is too long");
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return validationError([{ field: "(body)", message: "its length does not match Content-Length" }]);
    case "SQLITE_BUSY":
      return new HookdError("store_unavailable", "the database is busy; try again");
  }
  // The database is down, unreachable, read-only or refusing us: the client may retry
  // (503); which database and why is for the operator's log, not for tenants.
  if (classifyPostgresError(err) || (typeof e.code === "string" && SQLITE_FAULT.test(e.code))) {
    return new HookdError("store_unavailable", "the store is unavailable; try again later");
  }
  return null;
}

/** The client hung up before its request was complete: nothing is wrong on our side. */
function clientWentAway(err: unknown, request: FastifyRequest): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return request.raw.destroyed && (code === "ECONNRESET" || code === "ECONNABORTED" || code === "ERR_STREAM_PREMATURE_CLOSE");
}

/**
 * Answer `err` in the API's error shape. A store that is away is reported to `health`,
 * which logs the outage once; other store errors (a busy lock, a statement timeout)
 * are logged per request, as before.
 */
export function sendError(err: unknown, request: FastifyRequest, reply: FastifyReply, bodyLimit: number, health: StoreHealth | null = null): void {
  if (clientWentAway(err, request)) {
    request.log.info({ method: request.method, url: redactUrl(request.url) }, "client closed the connection before its request was complete");
    // Nobody will read it; answering still lets fastify finish the request.
    void reply.status(400).send(validationError([{ field: "(body)", message: "the request was cut off" }]).toJSON());
    return;
  }
  const known = explain(err, bodyLimit);
  if (known instanceof SecretKeyError) {
    // The operator reads which key file in the log; the tenant is told what, not where.
    request.log.error({ method: request.method, url: redactUrl(request.url), key_id: known.keyId }, known.message);
    void reply.status(statusOf(known)).send(new HookdError(known.code, known.summary).toJSON());
    return;
  }
  if (known) {
    if (known.code === "store_unavailable" && !health?.failed(err)) {
      request.log.warn({ err, method: request.method, url: redactUrl(request.url) }, "the store is unavailable");
    }
    if (known.code === "unauthorized") void reply.header("www-authenticate", 'Bearer realm="hookd"');
    void reply.status(statusOf(known)).send(known.toJSON());
    return;
  }
  request.log.error({ err, method: request.method, url: redactUrl(request.url) }, "unhandled error in the HTTP API");
  void reply.status(500).send({ error: { code: "internal", message: "internal server error", details: [] } });
}
