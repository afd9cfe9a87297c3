/**
 * /deliveries/…: the delivery log (keyset pages, filters), one delivery with what was
 * sent, and replays: one failed delivery, or every failed one matching a filter.
 */
import type { FastifyInstance } from "fastify";
import type { App } from "../../app.js";
import { deliveryHeaders } from "../../dispatch/request.js";
import { notFound } from "../../errors.js";
import type { Db } from "../../store/connect.js";
import { attemptsOf, countFailedMatching, getDelivery, retryDelivery, retryMatching } from "../../store/deliveries.js";
import { decodeCursor } from "../../store/keyset.js";
import { deliveryView } from "../../store/deliveryViews.js";
import { deliveryLog } from "../../store/logs.js";
import { deliveryJson } from "../../store/model.js";
import type { DeliveryStatus } from "../../store/schema.js";
import { principalOf, scopeOf } from "../auth.js";
import { routeSchema } from "../schemas.js";
import { toKeysetPage, type KeysetQuery } from "../pagination.js";
import { timeRange } from "../timeRange.js";

interface LogQuery extends KeysetQuery {
  status?: DeliveryStatus;
  webhook?: string;
  topic?: string;
  event?: string;
  since?: string;
  until?: string;
  customer?: string;
}

interface ReplayBody {
  webhook?: string;
  topic?: string;
  since?: string;
  until?: string;
  customer?: string;
  /** count what would be replayed, change nothing */
  dry_run?: boolean;
}

/** Topics of the given webhooks (deleted ones too: history keeps pointing at them). */
async function topicsOf(db: Db, webhookIds: string[]): Promise<Map<string, string>> {
  if (webhookIds.length === 0) return new Map();
  const rows = await db
    .selectFrom("webhooks")
    .select(["id", "topic"])
    .where("id", "in", [...new Set(webhookIds)])
    .execute();
  return new Map(rows.map((r) => [r.id, r.topic]));
}

/**
 * A filter naming another customer's webhook is a 404, as the webhook itself would be,
 * rather than an empty page. Deleted webhooks still count: their history is listed.
 */
async function mustOwnWebhook(db: Db, webhookId: string | undefined, customerId: string | null): Promise<void> {
  if (webhookId === undefined) return;
  let q = db.selectFrom("webhooks").select("id").where("id", "=", webhookId);
  if (customerId) q = q.where("customer_id", "=", customerId);
  if (!(await q.executeTakeFirst())) throw notFound("webhook", webhookId);
}

/** Redacted stand-ins: a signature is per attempt and per secret, and secrets are never shown again. */
const SIGNATURE_NOTE = "(HMAC-SHA256 with the webhook's secret at the time)";

export function deliveryRoutes(server: FastifyInstance, app: App): void {
  const { db } = app.store;
  const { maxAttempts } = app.config.retry;

  server.get<{ Querystring: LogQuery }>("/deliveries/", { schema: routeSchema("listDeliveries") }, async (request) => {
    const { query } = request;
    const customerId = scopeOf(principalOf(request), query.customer);
    await mustOwnWebhook(db, query.webhook, customerId);
    const filter = { customerId, status: query.status, webhookId: query.webhook, topic: query.topic, eventId: query.event, ...timeRange(query) };
    const page = await deliveryLog(db, filter, query.limit, query.cursor ? decodeCursor(query.cursor) : null);
    const view = await deliveryView(db, page.rows, maxAttempts);
    const topics = await topicsOf(
      db,
      page.rows.map((r) => r.webhook_id),
    );
    return toKeysetPage(
      request,
      page,
      page.rows.map((r) => ({ ...deliveryJson(r, view), topic: topics.get(r.webhook_id) ?? null })),
    );
  });

  server.get<{ Params: { id: string }; Querystring: { customer?: string } }>("/deliveries/:id/", { schema: routeSchema("getDelivery") }, async (request) => {
    const row = await getDelivery(db, request.params.id, scopeOf(principalOf(request), request.query.customer));
    const history = (await attemptsOf(db, [row.id])).get(row.id) ?? [];
    const hook = await db.selectFrom("webhooks").selectAll().where("id", "=", row.webhook_id).executeTakeFirst();
    const event = await db.selectFrom("events").selectAll().where("id", "=", row.event_id).executeTakeFirst();
    if (!hook || !event) throw notFound("delivery", row.id);
    const last = history.at(-1);
    const body = Buffer.from(event.payload);
    const headers = deliveryHeaders(
      { url: hook.url, body, secret: null, webhookId: hook.id, eventId: event.id, deliveryId: row.id, topic: hook.topic, attemptNumber: last?.number ?? 1 },
      last?.started_at ?? Date.now(),
    );
    if (hook.hash_secret) headers["x-signature"] = SIGNATURE_NOTE;
    return {
      ...deliveryJson(row, await deliveryView(db, [row], maxAttempts), history),
      topic: hook.topic,
      url: hook.url,
      // The exact text as published and as sent: a string, so nothing is reformatted on the way.
      payload: event.payload,
      request_headers: last || row.status === "pending" ? headers : null,
    };
  });

  server.post<{ Body: ReplayBody | undefined }>("/deliveries/retry/", { schema: routeSchema("retryDeliveries") }, async (request) => {
    const body = request.body ?? {};
    const customerId = scopeOf(principalOf(request), body.customer);
    await mustOwnWebhook(db, body.webhook, customerId);
    const filter = { customerId, webhookId: body.webhook, topic: body.topic, ...timeRange(body) };
    if (body.dry_run) return { count: await countFailedMatching(db, filter), dry_run: true };
    return { count: await retryMatching(db, filter) };
  });

  server.post<{ Params: { id: string }; Querystring: { customer?: string } }>(
    "/deliveries/:id/retry/",
    { schema: routeSchema("retryDelivery") },
    async (request) => {
      const row = await retryDelivery(db, request.params.id, scopeOf(principalOf(request), request.query.customer));
      const attempts = await attemptsOf(db, [row.id]);
      return deliveryJson(row, await deliveryView(db, [row], maxAttempts), attempts.get(row.id) ?? []);
    },
  );
}
