/**
 * List pages as seed 002 shapes them: `{count, next, previous, results}`, with
 * `next`/`previous` as full URLs (the request's own, with another `page`) or null.
 */
import type { FastifyRequest } from "fastify";
import { encodeCursor, type Cursor } from "../store/keyset.js";
import type { Page } from "../store/model.js";

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;

/** Query-string schema properties shared by every list route. */
export const pageParams = {
  limit: { type: "integer", minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT },
  page: { type: "integer", minimum: 1, default: 1 },
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

/** `url` with its `page` parameter set to `page`. Pure. */
export function withPage(url: URL, page: number): string {
  const copy = new URL(url);
  copy.searchParams.set("page", String(page));
  return copy.toString();
}

export function toPage<T>(request: FastifyRequest, query: PageQuery, count: number, results: T[]): Page<T> {
  const url = new URL(request.url, `${request.protocol}://${request.host}`);
  const { next, previous } = neighbours(query.page, query.limit, count);
  return {
    count,
    next: next === null ? null : withPage(url, next),
    previous: previous === null ? null : withPage(url, previous),
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

/** A keyset page in the list shape, `next`/`previous` being the request's own URL with another cursor. */
export function toKeysetPage<T>(
  request: FastifyRequest,
  page: { count: number; countExact: boolean; next: Cursor | null; previous: Cursor | null },
  results: T[],
): Page<T> & { count_exact: boolean } {
  const url = new URL(request.url, `${request.protocol}://${request.host}`);
  const link = (c: Cursor | null) => {
    if (c === null) return null;
    const copy = new URL(url);
    copy.searchParams.set("cursor", encodeCursor(c));
    return copy.toString();
  };
  return { count: page.count, count_exact: page.countExact, next: link(page.next), previous: link(page.previous), results };
}
