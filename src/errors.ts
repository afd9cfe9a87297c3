/**
 * Typed errors. Every error a user can cause carries a string `code`; the CLI and
 * the HTTP API map codes to exit codes and status codes in one place each.
 */
export type ErrorCode =
  | "config_invalid"
  | "validation_failed"
  | "not_found"
  | "unauthorized"
  | "forbidden"
  | "conflict"
  | "payload_too_large"
  | "unsupported_media_type"
  | "unprocessable"
  | "store_unavailable"
  /** a stored secret's key id is not in the key file */
  | "secret_key_missing"
  /** a stored secret does not open with the key file's key of that id (other key material, or altered) */
  | "secret_key_mismatch";

export interface ErrorDetail {
  field: string;
  message: string;
  path?: undefined;
}

/** A place in a document the caller sent (a JSON Pointer into an event's payload), for schema failures. */
export interface PathDetail {
  path: string;
  message: string;
  field?: undefined;
}

export type Detail = ErrorDetail | PathDetail;

export class HookdError extends Error {
  readonly code: ErrorCode;
  readonly details: readonly Detail[];

  constructor(code: ErrorCode, message: string, details: readonly Detail[] = []) {
    super(message);
    this.name = "HookdError";
    this.code = code;
    this.details = details;
  }

  toJSON(): { error: { code: ErrorCode; message: string; details: readonly Detail[] } } {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

export function validationError(details: ErrorDetail[]): HookdError {
  const message = details.map((d) => `${d.field}: ${d.message}`).join("; ");
  return new HookdError("validation_failed", message, details);
}

/** Well-formed input that a rule refuses (422): a reserved header name, a payload its event type's schema rejects. */
export function unprocessable(message: string, details: readonly Detail[]): HookdError {
  return new HookdError("unprocessable", message, details);
}

/** Where a detail points: its field, or its path in the payload. */
export function detailPlace(d: Detail): string {
  if (d.field !== undefined) return d.field;
  return d.path === "" ? "(payload)" : `payload ${d.path}`;
}

export function notFound(what: string, id: string): HookdError {
  return new HookdError("not_found", `${what} ${id} not found`);
}
