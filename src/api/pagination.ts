/**
 * List pages as seed 002 shapes them: `{count, next, previous, results}`, with
 * `next`/`previous` as the request's own path and query with another `page`, or null.
 * They are never built from the request's Host header, which the client chooses (a
 * cache in front would hand a forged host to everyone): on `server.publicUrl` when it is
 * configured, otherwise relative to the API's root (`/webhooks/?page=2`).
 */
import type { FastifyRequest, FastifyInstance } from "fastify";
import { encodeCursor, type Cursor } from "../store/keyset.js";
import { DEFAULT_LIMIT, MAX_LIMIT, MAX_PAGE, type Page } from "../store/model.js";

export { DEFAULT_LIMIT, MAX_LIMIT, MAX_PAGE };

/** Query-string schema properties shared by every list route. */
export const pageParams = {
  limit: { type: "integer", minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT },
  page: { type: "integer", minimum: 1, maximum: MAX_PAGE, default: 1 },
} as const;

export interface PageQuery {
  limit: number;
  page: number;
}

/** Which pages exist next to `page`. Pure. Past the end, `previous` points at the last page. */
export function neighbours(page: number, limit: number, count: number): { next: number | null; previous: number | null } {
  const last = Math.max(1, Math.ceil(count / limit));
  return { next: page < last ? page + 1 : null, previous: page > 1 ? Math.min(page - 1, last) : null };
}

/**
 * The request's own list (path and query as requested) with `param` set to `value`:
 * on `publicUrl` when given, else relative to the root. Pure.
 */
export function listLink(requestUrl: string, param: string, value: string, publicUrl?: string | null): string {
  const at = requestUrl.indexOf("?");
  const query = new URLSearchParams(at === -1 ? "" : requestUrl.slice(at + 1));
  query.set(param, value);
  // One leading slash: "//host/…" would be read as another host.
  const path = `/${(at === -1 ? requestUrl : requestUrl.slice(0, at)).replace(/^\/+/, "")}?${query}`;
  return onPublicUrl(path, publicUrl);
}

/** The link to `page` of the list at `requestUrl`. Pure. */
export function withPage(requestUrl: string, page: number, publicUrl?: string | null): string {
  return listLink(requestUrl, "page", String(page), publicUrl);
}

/**
 * An absolute path (`/ui/portal`, `/webhooks/?page=2`) as hookd answers it: on
 * `server.publicUrl` when set, else left relative. Never built from the request's
 * Host or X-Forwarded-* headers, which the client chooses. Pure.
 */
export function onPublicUrl(path: string, publicUrl?: string | null): string {
  return publicUrl ? `${publicUrl.replace(/\/+$/, "")}${path}` : path;
}

declare module "fastify" {
  interface FastifyInstance {
    /** server.publicUrl, the base of list links; null: links are relative */
    publicUrl: string | null;
  }
}

/** Build this server's list links on `publicUrl` (server.publicUrl) instead of relative ones. Before any route. */
export function usePublicUrl(server: FastifyInstance, publicUrl: string | undefined | null): void {
  server.decorate("publicUrl", publicUrl ?? null);
}

export function toPage<T>(request: FastifyRequest, query: PageQuery, count: number, results: T[]): Page<T> {
  const publicUrl = request.server.publicUrl;
  const { next, previous } = neighbours(query.page, query.limit, count);
  return {
    count,
    next: next === null ? null : withPage(request.url, next, publicUrl),
    previous: previous === null ? null : withPage(request.url, previous, publicUrl),
    results,
  };
}

/** Query-string schema properties of the keyset lists (GET /deliveries/, GET /events/). */
export const keysetParams = {
  limit: { type: "integer", minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT },
  cursor: { type: "string", minLength: 1, maxLength: 400 },
} as const;

export interface KeysetQuery {
  limit: number;
  cursor?: string;
}

/** A keyset page in the list shape, `next`/`previous` being the request's own list with another cursor (relative, or on server.publicUrl). */
export function toKeysetPage<T>(
  request: FastifyRequest,
  page: { count: number; countExact: boolean; next: Cursor | null; previous: Cursor | null },
  results: T[],
): Page<T> & { count_exact: boolean } {
  const publicUrl = request.server.publicUrl;
  const link = (c: Cursor | null) => (c === null ? null : listLink(request.url, "cursor", encodeCursor(c), publicUrl));
  return { count: page.count, count_exact: page.countExact, next: link(page.next), previous: link(page.previous), results };
}
