/** /events/…: publishing (durable before the 202) and reading an event back with its deliveries. */
import type { FastifyInstance } from "fastify";
import type { App } from "../../app.js";
import { notFound, validationError } from "../../errors.js";
import type { Db } from "../../store/connect.js";
import { attemptsOf, listDeliveries, type DeliveryFilter } from "../../store/deliveries.js";
import { groupCommit } from "../../store/groupCommit.js";
import { deliveryView } from "../../store/deliveryViews.js";
import { deliveryJson, eventJson } from "../../store/model.js";
import { publish } from "../../publishing.js";
import { tracedPublish } from "../../telemetry/tracing.js";
import { getEvent } from "../../store/outbox.js";
import type { DeliveryTable } from "../../store/schema.js";
import { ownerOf, principalOf, refusePortal, scopeOf } from "../auth.js";
import { routeSchema } from "../schemas.js";
import { rawBodyOf, rawMember } from "../body.js";
import { decodeCursor } from "../../store/keyset.js";
import { eventLog } from "../../store/logs.js";
import { MAX_LIMIT, toKeysetPage, type KeysetQuery } from "../pagination.js";
import { timeRange } from "../timeRange.js";

interface EventBody {
  topic: string;
  payload: unknown;
  idempotency_key?: string;
  customer?: string;
}

/** The idempotency key from the header or the body field; both may be given only if they agree. Pure. */
export function idempotencyKeyOf(header: string | undefined, field: string | undefined): string | null {
  if (header !== undefined && field !== undefined && header !== field) {
    throw validationError([{ field: "idempotency_key", message: "differs from the Idempotency-Key header; give one, or the same in both" }]);
  }
  return header ?? field ?? null;
}

/**
 * The one value of header `name`, from the raw header list: Node joins repeats with
 * ", ", which would turn two keys into a third that neither client meant. Pure.
 */
export function singleHeader(rawHeaders: readonly string[], name: string): string | undefined {
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === name) values.push(rawHeaders[i + 1]!);
  if (values.length > 1) throw validationError([{ field: name, message: `must be sent once (got ${values.length} ${name} headers)` }]);
  return values[0];
}

/** Every delivery matching `filter`, a page at a time (an event has one per subscribed webhook). */
async function everyDelivery(db: Db, filter: DeliveryFilter): Promise<DeliveryTable[]> {
  const all: DeliveryTable[] = [];
  for (let page = 1; ; page++) {
    const { count, rows } = await listDeliveries(db, filter, { limit: MAX_LIMIT, page });
    all.push(...rows);
    if (rows.length === 0 || all.length >= count) return all;
  }
}

/** `committed(n)`: an ingest commit held n events (metrics). */
export function eventRoutes(server: FastifyInstance, app: App, committed?: (n: number) => void): void {
  const { db } = app.store;
  // Concurrent POST /events/ share one transaction and one fsync (SQLite); each 202 still waits for its commit.
  const ingest = groupCommit(db, committed);

  server.post<{ Body: EventBody }>("/events/", { schema: routeSchema("publishEvent") }, async (request, reply) => {
    const { body } = request;
    const principal = principalOf(request);
    refusePortal(principal, "publish events");
    const customerId = ownerOf(principal, body.customer);
    const key = idempotencyKeyOf(singleHeader(request.raw.rawHeaders, "idempotency-key"), body.idempotency_key);
    // The payload's own text from the request, so it is stored and delivered byte for byte.
    const payload = rawMember(rawBodyOf(request) ?? "", "payload") ?? JSON.stringify(body.payload);
    const input = { customerId, topic: body.topic, payload, idempotencyKey: key };
    // A repeated key with another topic or payload is a 409 (publishing.ts, as for the CLI
    // and the library); thrown before anything is written, it fails this request alone (groupCommit.ts).
    // Traced (when on) as a child of the caller's span, if its request carries a traceparent.
    const result = await tracedPublish(
      app.tracing,
      input,
      (traceContext) => ingest.run((trx) => publish(trx, input, app.publishRules, Date.now(), traceContext)),
      request.headers,
    );
    // The batch holding this event has committed (SQLite: synchronous=FULL), so it is on disk before this 202.
    return reply.status(202).send({ id: result.id, topic: result.topic, deliveries: result.deliveries });
  });

  server.get<{ Querystring: KeysetQuery & { topic?: string; idempotency_key?: string; since?: string; until?: string; customer?: string } }>(
    "/events/",
    { schema: routeSchema("listEvents") },
    async (request) => {
      const { query } = request;
      const filter = {
        customerId: scopeOf(principalOf(request), query.customer),
        topic: query.topic,
        idempotencyKey: query.idempotency_key,
        ...timeRange(query),
      };
      const page = await eventLog(db, filter, query.limit, query.cursor ? decodeCursor(query.cursor) : null);
      return toKeysetPage(
        request,
        page,
        page.rows.map((r) => eventJson(r)),
      );
    },
  );

  server.get<{ Params: { id: string }; Querystring: { customer?: string } }>("/events/:id/", { schema: routeSchema("getEvent") }, async (request) => {
    const scope = scopeOf(principalOf(request), request.query.customer);
    const event = await getEvent(db, request.params.id, scope);
    if (!event) throw notFound("event", request.params.id);
    const deliveries = await everyDelivery(db, { eventId: event.id, customerId: scope });
    const attempts = await attemptsOf(
      db,
      deliveries.map((d) => d.id),
    );
    const view = await deliveryView(db, deliveries, app.config.retry.maxAttempts);
    return eventJson(
      event,
      deliveries.map((d) => deliveryJson(d, view, attempts.get(d.id) ?? [])),
    );
  });
}
