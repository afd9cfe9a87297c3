/**
 * Who is asking, and for which customer. A customer key acts only for its own
 * customer; an admin key acts for any, naming it with a `customer` field or query
 * parameter. Keys are looked up by hash and compared in constant time (store/apiKeys).
 */
import type { FastifyRequest } from "fastify";
import { HookdError, validationError } from "../errors.js";
import { authenticate, type ApiKeyPrincipal } from "../store/apiKeys.js";
import type { Db } from "../store/connect.js";
import { consolePrincipal } from "./consoleAuth.js";

declare module "fastify" {
  interface FastifyRequest {
    principal: ApiKeyPrincipal | null;
  }
}

/** The key in an `Authorization: Bearer <key>` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? "");
  return m ? m[1]! : null;
}

/** An onRequest hook: 401 unless the request carries a valid key (or a console session cookie). */
export function requireKey(db: Db) {
  return async (request: FastifyRequest): Promise<void> => {
    const token = bearerToken(request.headers.authorization);
    if (token === null) request.principal = await consolePrincipal(db, request);
    if (request.principal) return;
    if (token === null) throw new HookdError("unauthorized", "an API key is required: send Authorization: Bearer <key>");
    const principal = await authenticate(db, token);
    if (!principal) throw new HookdError("unauthorized", "the API key is not valid");
    request.principal = principal;
  };
}

export function principalOf(request: FastifyRequest): ApiKeyPrincipal {
  // requireKey runs before every route that calls this.
  return request.principal!;
}

/**
 * The customer a read acts within: a customer key's own, the one an admin key
 * names, or null (an admin key naming none: every customer).
 */
export function scopeOf(principal: ApiKeyPrincipal, named: string | undefined): string | null {
  if (principal.customerId === null) return named ?? null;
  if (named !== undefined && named !== principal.customerId) {
    throw validationError([{ field: "customer", message: "a customer key acts only for its own customer; leave customer out" }]);
  }
  return principal.customerId;
}

/** The customer a new resource belongs to: like scopeOf, but an admin key must name one. */
export function ownerOf(principal: ApiKeyPrincipal, named: string | undefined): string {
  const scope = scopeOf(principal, named);
  if (scope === null) throw validationError([{ field: "customer", message: "is required with an admin key: name the customer to act for" }]);
  return scope;
}

/**
 * A portal session is the customer managing its own webhooks, for as long as the link's
 * session lasts: it may not mint what would outlive that (a portal link, an API key) or
 * publish events as the operator's application does. 403, nothing made.
 */
export function refusePortal(principal: ApiKeyPrincipal, what: string): void {
  if (principal.portal) throw new HookdError("forbidden", `a portal session may not ${what}: ask the operator's application`);
}

/** The `customer` query parameter by which an admin key names a customer (schema properties). */
export const customerParam = { customer: { type: "string", minLength: 1 } } as const;
