/**
 * The HTTP API (SPEC "HTTP API"): fastify with pino as its logger, JSON-schema
 * validation, JSON bodies only, trailing slashes optional, one error shape. A dispatcher
 * node (`serve --role dispatch`) serves the same server with only GET /healthz and
 * GET /metrics, for its load balancer and Prometheus; every other path is a 404.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { App } from "../app.js";
import { createAgents, destroyAgents } from "../dispatch/request.js";
import { consoleRoutes } from "../console/routes.js";
import { HookdError, validationError } from "../errors.js";
import { requireKey } from "./auth.js";
import { acceptJsonBodies } from "./body.js";
import { sendError } from "./errors.js";
import { requestForLog } from "./logging.js";
import { createMetrics } from "./metrics.js";
import { storeAnswerBoundMs } from "./storeAnswer.js";
import { usePublicUrl } from "./pagination.js";
import { deliveryRoutes } from "./routes/deliveries.js";
import { eventRoutes } from "./routes/events.js";
import { eventTypeRoutes } from "./routes/eventTypes.js";
import { healthRoutes } from "./routes/health.js";
import { documentRoutes, openApiDocument } from "./openapi.js";
import { portalRoutes } from "./routes/portal.js";
import { statsRoutes } from "./routes/stats.js";
import { webhookRoutes } from "./routes/webhooks.js";
import { validatorCompiler } from "./validation.js";

/** Room for an event's envelope (topic, key, customer) around a payload of the maximum size. */
const ENVELOPE_BYTES = 64 * 1024;

export interface ApiServer {
  /** e.g. http://127.0.0.1:8080 */
  readonly url: string;
  /** Stop accepting, let in-flight requests finish. Safe to call twice. */
  close(): Promise<void>;
}

/** Which routes a server answers: the whole API, or a dispatcher's health check and metrics only. */
export type ServerRoutes = "api" | "health";

// Percent-encoded: Node's HTTP parser already refuses a raw NUL in the request line.
const NUL_IN_URL = /%00/i;

/** The configured server, not yet listening. */
export function buildServer(app: App, routes: ServerRoutes = "api"): FastifyInstance {
  const bodyLimit = app.config.limits.maxPayloadBytes + ENVELOPE_BYTES;
  // Widened: fastify types its instance by logger, and routes are written against the base logger.
  const limits = app.config.server;
  const server = Fastify({
    // Our `req` serializer replaces fastify's, so no credential in a query string reaches the log.
    loggerInstance: app.logger.child({}, { serializers: { req: requestForLog } }) as FastifyBaseLogger,
    // One access line per request, at debug (the hook below) instead of fastify's two at
    // info: at the default level a request writes no line and costs no serialising.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    // Slow clients: a stalled body is cut after bodyTimeoutMs of silence, any request after
    // requestTimeoutMs, headers after headersTimeoutMs (checked every second, not Node's 30 s).
    connectionTimeout: limits.bodyTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    http: { headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.requestTimeoutMs, connectionsCheckingInterval: 1000 },
    routerOptions: { ignoreTrailingSlash: true },
    // Errors the router raises before any route (bad percent-encoding, over-long ids) get our shape too.
    frameworkErrors: (err, request, reply) => sendError(err, request, reply, bodyLimit, app.health),
  });
  if (app.logger.isLevelEnabled("debug")) {
    server.addHook("onResponse", async (request, reply) => {
      request.log.debug({ req: request, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, "request completed");
    });
  }
  usePublicUrl(server, app.config.server.publicUrl);
  // PostgreSQL's text cannot hold NUL, so a %00 in a path or query reached it as a 500. No
  // id, key, topic or cursor holds one: refused on both stores, before any route.
  server.addHook("onRequest", async (request) => {
    if (NUL_IN_URL.test(request.url)) throw validationError([{ field: "url", message: "must not contain the NUL character (%00)" }]);
  });
  server.setValidatorCompiler(validatorCompiler);
  // Response schemas (schemas.ts) document the answers for /openapi.json; they do not
  // filter them: JSON.stringify, as without a schema, so no field is silently dropped.
  server.setSerializerCompiler(() => (data) => JSON.stringify(data));
  acceptJsonBodies(server);
  server.setErrorHandler((err, request, reply) => sendError(err, request, reply, bodyLimit, app.health));
  server.setNotFoundHandler((request, reply) =>
    sendError(new HookdError("not_found", `no such route: ${request.method} ${request.url.split("?")[0]}`), request, reply, bodyLimit),
  );

  // On a dispatcher node too: its /metrics counts the attempts and ticks it runs.
  const metrics = createMetrics(app.store.db, app.logger, app.health, storeAnswerBoundMs(app.config.db));
  const unobserve = app.dispatcher.observe(metrics.observer);
  server.addHook("onClose", async () => unobserve());
  if (routes === "api") openApiDocument(server);
  // In a plugin, so the document (registered before) sees these routes too.
  void server.register(async (open) => healthRoutes(open, app, metrics));
  if (routes === "health") return server;

  // Test sends dial like the dispatcher does: non-public addresses refused unless allowed.
  const agents = createAgents(app.agentRules);
  server.addHook("onClose", async () => destroyAgents(agents));
  consoleRoutes(server, app);
  void server.register(async (open) => documentRoutes(open));
  void server.register(async (api) => {
    api.decorateRequest("principal", null);
    api.addHook("onRequest", requireKey(app.store.db));
    webhookRoutes(api, app, agents);
    eventRoutes(api, app, metrics.committed);
    eventTypeRoutes(api, app);
    deliveryRoutes(api, app);
    statsRoutes(api, app);
    portalRoutes(api, app);
  });
  return server;
}

export async function startServer(app: App, routes: ServerRoutes = "api"): Promise<ApiServer> {
  const server = buildServer(app, routes);
  // Beyond this many open connections, new ones are closed at once instead of queueing work.
  server.server.maxConnections = app.config.server.maxConnections;
  await server.listen({ host: app.config.server.host, port: app.config.server.port });
  const address = server.server.address();
  const port = typeof address === "object" && address ? address.port : app.config.server.port;
  const host = app.config.server.host.includes(":") ? `[${app.config.server.host}]` : app.config.server.host;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${host}:${port}`,
    close: () => (closing ??= server.close()),
  };
}
