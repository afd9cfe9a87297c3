/** /webhooks/…: the subscriptions, shaped as seed 002; plus a test send and each webhook's deliveries. */
import { randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
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
import type { DeliveryStatus } from "../../store/schema.js";
import { createWebhook, deleteWebhook, getWebhook, listWebhooks, updateWebhook, type WebhookSort } from "../../store/webhooks.js";
import { ownerOf, principalOf, scopeOf } from "../auth.js";
import { routeSchema } from "../schemas.js";
import { toPage, type PageQuery } from "../pagination.js";

interface WebhookBody extends SettingsInput {
  url?: string;
  group?: string;
  action?: string;
  hash_secret?: string | null;
  active?: boolean;
}

type ById = { Params: { id: string }; Querystring: { customer?: string } };

export function webhookRoutes(server: FastifyInstance, app: App, agents: Agents): void {
  const { db } = app.store;
  const { keyring } = app;
  const rules = app.webhookRules;
  // Test sends to OAuth2 receivers fetch their tokens like the dispatcher does, from a cache of their own.
  const tokens = new OAuthTokens();

  server.get<{ Querystring: PageQuery & { sort: WebhookSort; direction: "asc" | "desc"; customer?: string } }>(
    "/webhooks/",
    { schema: routeSchema("listWebhooks") },
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

  server.post<{ Body: WebhookBody & { customer?: string } }>("/webhooks/", { schema: routeSchema("createWebhook") }, async (request, reply) => {
    const { customer, ...input } = request.body;
    const customerId = ownerOf(principalOf(request), customer);
    const { row, secret } = await createWebhook(db, keyring, customerId, input, rules);
    // The only response that carries the secret: the caller just chose it.
    return reply.status(201).send(webhookJson(row, keyring, { secret }));
  });

  server.get<ById>("/webhooks/:id/", { schema: routeSchema("getWebhook") }, async (request) =>
    webhookJson(await getWebhook(db, request.params.id, scopeOf(principalOf(request), request.query.customer)), keyring),
  );

  // SPEC: PUT is the same partial update as PATCH (two routes, so each has its own operation id).
  const update = async (request: FastifyRequest<ById & { Body: WebhookBody }>) => {
    const scope = scopeOf(principalOf(request), request.query.customer);
    const current = await getWebhook(db, request.params.id, scope);
    return webhookJson(await updateWebhook(db, keyring, current.id, scope, request.body, rules), keyring);
  };
  server.patch<ById & { Body: WebhookBody }>("/webhooks/:id/", { schema: routeSchema("updateWebhook") }, update);
  server.put<ById & { Body: WebhookBody }>("/webhooks/:id/", { schema: routeSchema("replaceWebhook") }, update);

  server.delete<ById>("/webhooks/:id/", { schema: routeSchema("deleteWebhook") }, async (request, reply) => {
    await deleteWebhook(db, request.params.id, scopeOf(principalOf(request), request.query.customer));
    return reply.status(204).send();
  });

  server.post<ById & { Body: RotateInput | undefined }>("/webhooks/:id/rotate-secret/", { schema: routeSchema("rotateWebhookSecret") }, async (request) => {
    const scope = scopeOf(principalOf(request), request.query.customer);
    const overlap = app.config.security.secretRotationOverlapSeconds;
    const { row, secret } = await rotateSecret(db, keyring, request.params.id, scope, request.body ?? {}, overlap);
    // Like create, the one response that carries the (new) secret.
    return webhookJson(row, keyring, { secret });
  });

  server.post<ById>("/webhooks/:id/test/", { schema: routeSchema("testWebhook") }, async (request) => {
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
    { schema: routeSchema("listWebhookDeliveries") },
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
