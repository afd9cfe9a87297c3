/**
 * /healthz and /metrics: for load balancers and Prometheus, so they need no API key.
 * Both answer within a bound (storeAnswer.ts) however the store is doing.
 */
import type { FastifyInstance } from "fastify";
import type { App } from "../../app.js";
import { HookdError } from "../../errors.js";
import { explainStoreError } from "../../store/connect.js";
import { probeStore } from "../../store/probe.js";
import type { Metrics } from "../metrics.js";
import { healthSchemas } from "../schemas.js";
import { storeAnswerBoundMs, within } from "../storeAnswer.js";

export function healthRoutes(server: FastifyInstance, app: App, metrics: Metrics): void {
  const bound = storeAnswerBoundMs(app.config.db);

  /**
   * 200 while the store can be read and written. During an outage (app.health, which
   * every store error reaches) this asks the store's own recovery probe instead, so a
   * check never waits on a lock and a success here ends the outage at once.
   */
  server.get("/healthz", { schema: healthSchemas.health }, async (request, reply) => {
    const unavailable = () => reply.status(503).send(new HookdError("store_unavailable", "the store cannot be read and written").toJSON());
    if (!app.health.up) return (await within(app.health.check(), bound).catch(() => false)) ? { status: "ok" } : unavailable();
    try {
      await within(probeStore(app.store.db), bound);
      return { status: "ok" };
    } catch (err) {
      // An outage is logged once, by app.health; anything else (a bug) here.
      if (!app.health.failed(err)) {
        const why = explainStoreError(err, app.store.location)?.message ?? (err as Error).message;
        request.log.warn({ why }, "health check: the store cannot be read and written");
      }
      return unavailable();
    }
  });

  server.get("/metrics", { schema: healthSchemas.metrics }, async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
}
