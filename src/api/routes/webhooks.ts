/** /webhooks/…: the subscriptions, shaped as seed 002; plus a test send and each webhook's deliveries. */
import { randomUUID } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type { Agents } from "got";
import type { App } from "../../app.js";
import { attemptDelivery } from "../../dispatch/attempt.js";
import { deliverySettingsOf } from "../../dispatch/deliverySettings.js";
import { OAuthTokens } from "../../dispatch/oauthTokens.js";
import type { SettingsInput } from "../../domain/webhookSettings.js";
import { attemptRow } from "../../store/attempts.js";
import { attemptsOf, listDeliveries } from "../../store/deliveries.js";
import { deliveryView } from "../../store/deliveryViews.js";
import { attemptJson, deliveryJson, webhookJson } from "../../store/model.js";
import { rotateSecret, type RotateInput } from "../../store/rotation.js";
import { DELIVERY_STATUSES, type DeliveryStatus } from "../../store/schema.js";
import { createWebhook, deleteWebhook, getWebhook, listWebhooks, updateWebhook, WEBHOOK_SORTS, type WebhookSort } from "../../store/webhooks.js";
import { customerParam, ownerOf, principalOf, scopeOf } from "../auth.js";
import { pageParams, toPage, type PageQuery } from "../pagination.js";

interface WebhookBody extends SettingsInput {
  url?: string;
  group?: string;
  action?: string;
  hash_secret?: string | null;
  active?: boolean;
}

// Types here; values (URL policy, topic catalog, lengths, settings' bounds) in checkWebhookInput, which the CLI shares.
const webhookFields = {
  url: { type: "string" },
  group: { type: "string" },
  action: { type: "string" },
  hash_secret: { type: ["string", "null"] },
  active: { type: "boolean" },
  headers: { type: ["object", "null"] },
  auth: { type: ["object", "null"] },
  timeout_ms: { type: ["integer", "null"] },
  max_attempts: { type: ["integer", "null"] },
  retry_delays_seconds: { type: ["array", "null"] },
  rate_limit: { type: ["number", "null"] },
  filter: { type: ["object", "null"] },
  ordered: { type: ["boolean", "null"] },
  batch_size: { type: ["integer", "null"] },
  signing: { type: ["string", "null"] },
} as const;

const scopeQuery = { type: "object", additionalProperties: false, properties: customerParam } as const;

type ById = { Params: { id: string }; Querystring: { customer?: string } };

export function webhookRoutes(server: FastifyInstance, app: App, agents: Agents): void {
  const { db } = app.store;
  const { keyring } = app;
  const rules = app.webhookRules;
  // Test sends to OAuth2 receivers fetch their tokens like the dispatcher does, from a cache of their own.
  const tokens = new OAuthTokens();

  server.get<{ Querystring: PageQuery & { sort: WebhookSort; direction: "asc" | "desc"; customer?: string } }>(
    "/webhooks/",
    {
      schema: {
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            ...pageParams,
            sort: { type: "string", enum: WEBHOOK_SORTS, default: "created_at" },
            direction: { type: "string", enum: ["asc", "desc"], default: "desc" },
            ...customerParam,
          },
        },
      },
    },
    async (request) => {
      const { query } = request;
      const { count, rows } = await listWebhooks(db, scopeOf(principalOf(request), query.customer), query);
      return toPage(
        request,
        query,
        count,
        rows.map((r) => webhookJson(r, keyring)),
      );
    },
  );

  server.post<{ Body: WebhookBody & { customer?: string } }>(
    "/webhooks/",
    {
      schema: {
        body: {
          type: "object",
          additionalProperties: false,
          required: ["url", "group", "action"],
          properties: { ...webhookFields, ...customerParam },
        },
      },
    },
    async (request, reply) => {
      const { customer, ...input } = request.body;
      const customerId = ownerOf(principalOf(request), customer);
      const { row, secret } = await createWebhook(db, keyring, customerId, input, rules);
      // The only response that carries the secret: the caller just chose it.
      return reply.status(201).send(webhookJson(row, keyring, { secret }));
    },
  );

  server.get<ById>("/webhooks/:id/", { schema: { querystring: scopeQuery } }, async (request) =>
    webhookJson(await getWebhook(db, request.params.id, scopeOf(principalOf(request), request.query.customer)), keyring),
  );

  // SPEC: PUT is the same partial update as PATCH.
  server.route<ById & { Body: WebhookBody }>({
    method: ["PATCH", "PUT"],
    url: "/webhooks/:id/",
    schema: { querystring: scopeQuery, body: { type: "object", additionalProperties: false, properties: webhookFields } },
    handler: async (request) => {
      const scope = scopeOf(principalOf(request), request.query.customer);
      const current = await getWebhook(db, request.params.id, scope);
      return webhookJson(await updateWebhook(db, keyring, current.id, scope, request.body, rules), keyring);
    },
  });

  server.delete<ById>("/webhooks/:id/", { schema: { querystring: scopeQuery } }, async (request, reply) => {
    await deleteWebhook(db, request.params.id, scopeOf(principalOf(request), request.query.customer));
    return reply.status(204).send();
  });

  server.post<ById & { Body: RotateInput | undefined }>(
    "/webhooks/:id/rotate-secret/",
    {
      schema: {
        querystring: scopeQuery,
        body: {
          type: ["object", "null"],
          additionalProperties: false,
          properties: { hash_secret: { type: "string" }, overlap_seconds: { type: "integer" } },
        },
      },
    },
    async (request) => {
      const scope = scopeOf(principalOf(request), request.query.customer);
      const overlap = app.config.security.secretRotationOverlapSeconds;
      const { row, secret } = await rotateSecret(db, keyring, request.params.id, scope, request.body ?? {}, overlap);
      // Like create, the one response that carries the (new) secret.
      return webhookJson(row, keyring, { secret });
    },
  );

  server.post<ById>("/webhooks/:id/test/", { schema: { querystring: scopeQuery } }, async (request) => {
    const hook = await getWebhook(db, request.params.id, scopeOf(principalOf(request), request.query.customer));
    const body = Buffer.from(JSON.stringify({ test: true, webhook: hook.id, topic: hook.topic, sent_at: new Date().toISOString() }));
    const deliveryId = randomUUID();
    const { config } = app;
    // Secrets that cannot be opened refuse the test (503): never an unsigned request.
    const settings = deliverySettingsOf(hook, {
      timeoutMs: config.dispatch.timeoutMs,
      policy: config.retry,
      maxAttempts: config.limits.maxAttempts,
      maxBatchSize: config.dispatch.maxBatchSize,
      keyring,
    });
    const target = { webhookId: hook.id, eventId: randomUUID(), deliveryId, topic: hook.topic, body, attempts: 0 };
    const ctx = { agents, tokens, deadline: Date.now() + 3 * settings.timeoutMs, now: Date.now };
    const outcome = await attemptDelivery(target, settings, ctx);
    return { ok: outcome.ok, ...attemptJson(attemptRow(deliveryId, 1, outcome)) };
  });

  server.get<ById & { Querystring: PageQuery & { status?: DeliveryStatus } }>(
    "/webhooks/:id/deliveries/",
    {
      schema: {
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { ...pageParams, status: { type: "string", enum: DELIVERY_STATUSES }, ...customerParam },
        },
      },
    },
    async (request) => {
      const { query } = request;
      const scope = scopeOf(principalOf(request), query.customer);
      const hook = await getWebhook(db, request.params.id, scope);
      const { count, rows } = await listDeliveries(db, { webhookId: hook.id, customerId: scope, status: query.status }, query);
      const view = await deliveryView(db, rows, app.config.retry.maxAttempts);
      const attempts = await attemptsOf(
        db,
        rows.map((r) => r.id),
      );
      return toPage(
        request,
        query,
        count,
        rows.map((r) => deliveryJson(r, view, attempts.get(r.id) ?? [])),
      );
    },
  );
}
