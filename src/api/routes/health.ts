/** /healthz and /metrics: for load balancers and Prometheus, so they need no API key. */
import type { FastifyInstance } from "fastify";
import type { App } from "../../app.js";
import { HookdError } from "../../errors.js";
import { explainStoreError } from "../../store/connect.js";
import { probeStore } from "../../store/probe.js";
import type { Metrics } from "../metrics.js";

export function healthRoutes(server: FastifyInstance, app: App, metrics: Metrics): void {
  server.get("/healthz", async (request, reply) => {
    try {
      await probeStore(app.store.db);
      return { status: "ok" };
    } catch (err) {
      const why = explainStoreError(err, app.store.location)?.message ?? (err as Error).message;
      request.log.warn({ why }, "health check: the store cannot be read and written");
      return reply.status(503).send(new HookdError("store_unavailable", "the store cannot be read and written").toJSON());
    }
  });

  server.get("/metrics", async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
}
