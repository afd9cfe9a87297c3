/**
 * hookd's spans as a backend receives them (an in-memory exporter on the real SDK),
 * both stores: publish through the API and the library, ticks to a real receiver,
 * attempts linked to their events' publish spans, and the W3C traceparent a receiver
 * gets with telemetry.propagateToReceivers (and does not get without it, or with
 * traces off).
 */
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type ContextManager } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openHookd, type Hookd } from "../../src/index.js";
import { silentLogger } from "../../src/logger.js";
import { publish } from "../../src/publishing.js";
import { createCustomer } from "../../src/store/customers.js";
import { createWebhook, updateWebhook } from "../../src/store/webhooks.js";
import { tracingWith } from "../../src/telemetry/sdk.js";
import { tracedPublish, type Tracing } from "../../src/telemetry/tracing.js";
import { apiHarness, type ApiHarness } from "../helpers/api.js";
import { testApp } from "../helpers/app.js";
import { backends, tempDatabase, type TempDatabase } from "../helpers/backends.js";
import { memoryLogger } from "../helpers/logs.js";
import { closedPort, startReceiver, type Receiver } from "../helpers/receiver.js";

type App = Awaited<ReturnType<typeof testApp>>;

let exporter: InMemorySpanExporter;
let tracing: Tracing;
let receiver: Receiver | undefined;
let harness: ApiHarness | undefined;
let app: App | undefined;
let hookd: Hookd | undefined;
let database: TempDatabase | undefined;

beforeEach(() => {
  exporter = new InMemorySpanExporter();
  tracing = tracingWith(exporter);
});
afterEach(async () => {
  await receiver?.close();
  await harness?.cleanup();
  await app?.cleanup();
  await hookd?.close();
  await database?.drop();
  await tracing.shutdown();
  receiver = harness = app = hookd = database = undefined;
});

const spans = (name: string) => exporter.getFinishedSpans().filter((s) => s.name === name);
const only = (name: string) => {
  const found = spans(name);
  expect(found).toHaveLength(1);
  return found[0]!;
};
/**
 * `fn` with the smallest context manager an application could register (OpenTelemetry's
 * Node SDK registers an AsyncLocalStorage one): the context given to `with` is active
 * while its function runs.
 */
async function withContextManager<T>(fn: () => Promise<T>): Promise<T> {
  let active = ROOT_CONTEXT;
  const manager: ContextManager = {
    active: () => active,
    with(ctx, run, thisArg, ...args) {
      const before = active;
      active = ctx;
      try {
        return run.call(thisArg, ...args);
      } finally {
        active = before;
      }
    },
    bind: (_ctx, target) => target,
    enable: () => manager,
    disable: () => manager,
  };
  context.setGlobalContextManager(manager);
  try {
    return await fn();
  } finally {
    context.disable();
  }
}
const traceparent = (s: ReadableSpan) => `00-${s.spanContext().traceId}-${s.spanContext().spanId}-01`;
const linkedTo = (s: ReadableSpan) => s.links.map((l) => l.context.spanId);

describe.each(backends)("traces (%s)", (backend) => {
  it("API publish → tick → claim → attempt: the spans and their attributes, the attempt linked to the publish span, its traceparent sent to the receiver", async () => {
    receiver = await startReceiver();
    harness = await apiHarness({ telemetry: { propagateToReceivers: true } }, backend, undefined, { tracing });
    const hook = await harness.call("POST", "/webhooks/", { body: { url: `${receiver.url}/in`, group: "orders", action: "created", hash_secret: "s3cret" } });
    expect(hook.status).toBe(201);
    // The publishing application's own span: hookd.publish continues its trace.
    const caller = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7" };
    const published = await harness.call("POST", "/events/", {
      body: { topic: "orders:created", payload: { id: 1 } },
      headers: { traceparent: `00-${caller.traceId}-${caller.spanId}-01` },
    });
    expect(published.status).toBe(202);

    const publishSpan = only("hookd.publish");
    expect(publishSpan.kind).toBe(SpanKind.PRODUCER);
    expect(publishSpan.spanContext().traceId).toBe(caller.traceId);
    expect(publishSpan.parentSpanContext?.spanId).toBe(caller.spanId);
    expect(publishSpan.attributes).toMatchObject({
      "hookd.customer.id": harness.app.customerId,
      "hookd.event.topic": "orders:created",
      "hookd.event.id": published.body.id,
      "hookd.event.deliveries": 1,
      "hookd.event.duplicate": false,
    });
    expect(publishSpan.resource.attributes["service.name"]).toBe("hookd");
    // Stored with the event, for a dispatcher (any process, any time later) to link to.
    const event = await harness.app.store.db.selectFrom("events").select("trace_context").where("id", "=", published.body.id).executeTakeFirstOrThrow();
    expect(event.trace_context).toBe(traceparent(publishSpan));

    expect((await harness.app.dispatcher.tick()).delivered).toBe(1);
    const tickSpan = only("hookd.tick");
    expect(tickSpan.parentSpanContext).toBeUndefined();
    expect(tickSpan.attributes).toMatchObject({ "hookd.tick.claimed": 1, "hookd.tick.delivered": 1, "hookd.tick.failed": 0, "hookd.tick.interrupted": false });
    const claims = spans("hookd.claim");
    expect(claims.map((c) => c.attributes["hookd.claim.kind"])).toContain("due");
    expect(claims.reduce((n, c) => n + Number(c.attributes["hookd.claim.deliveries"]), 0)).toBe(1);
    for (const c of claims) expect(c.parentSpanContext?.spanId).toBe(tickSpan.spanContext().spanId);

    const [request] = receiver.requests;
    const attempt = only("hookd.attempt");
    expect(attempt.kind).toBe(SpanKind.CLIENT);
    expect(attempt.parentSpanContext?.spanId).toBe(tickSpan.spanContext().spanId);
    expect(attempt.attributes).toEqual({
      "hookd.webhook.id": hook.body.id,
      "hookd.event.topic": "orders:created",
      "hookd.delivery.id": request!.headers["x-delivery-id"],
      "hookd.event.id": published.body.id,
      "hookd.attempt.number": 1,
      "hookd.attempt.verdict": "delivered",
      "http.request.method": "POST",
      "http.response.status_code": 200,
      "server.address": "127.0.0.1",
      "server.port": receiver.port,
    });
    expect(attempt.status.code).toBe(SpanStatusCode.UNSET);
    expect(attempt.links).toEqual([
      {
        context: expect.objectContaining({ traceId: caller.traceId, spanId: publishSpan.spanContext().spanId }),
        attributes: { "hookd.event.id": published.body.id },
      },
    ]);
    // propagateToReceivers: the receiver can continue the attempt's trace.
    expect(request!.headers.traceparent).toBe(traceparent(attempt));
  });

  it("library publish: publish errors and duplicates on the span; failed attempts have error status and their error class; no traceparent without propagateToReceivers", async () => {
    receiver = await startReceiver((_req, res) => res.writeHead(500).end("down"));
    database = await tempDatabase(backend);
    hookd = await openHookd({ env: { HOOKD_ENV: "test", HOOKD_DB: database.url }, logger: silentLogger, tracing });
    const { db } = hookd.app.store;
    const customer = await createCustomer(db, "acme");
    const rules = hookd.app.webhookRules;
    const failing = await createWebhook(
      db,
      hookd.app.keyring,
      customer.id,
      { url: `${receiver.url}/fail`, group: "orders", action: "created", hash_secret: "s" },
      rules,
    );
    const refused = await createWebhook(
      db,
      hookd.app.keyring,
      customer.id,
      { url: `http://127.0.0.1:${await closedPort()}/`, group: "orders", action: "created" },
      rules,
    );

    // Published inside the application's own span (its context manager holds it): hookd.publish is its child.
    const appSpan = { traceId: "5b8efff798038103d269b633813fc60c", spanId: "eee19b7ec3c1b174", traceFlags: 1 };
    const h = hookd;
    const event = await withContextManager(() =>
      context.with(trace.setSpan(ROOT_CONTEXT, trace.wrapSpanContext(appSpan)), () =>
        h.publish({ customerId: customer.id, topic: "orders:created", payload: '{"n":1}', idempotencyKey: "k1" }),
      ),
    );
    const again = await hookd.publish({ customerId: customer.id, topic: "orders:created", payload: '{"n":1}', idempotencyKey: "k1" });
    expect(again.id).toBe(event.id);
    await expect(hookd.publish({ customerId: customer.id, topic: "orders:nope", payload: "{}" })).rejects.toThrow(/topic/);
    const [first, duplicate, refusedPublish] = spans("hookd.publish");
    expect(first!.attributes).toMatchObject({ "hookd.event.id": event.id, "hookd.event.deliveries": 2, "hookd.event.duplicate": false });
    expect(first!.spanContext().traceId).toBe(appSpan.traceId);
    expect(first!.parentSpanContext?.spanId).toBe(appSpan.spanId);
    expect(duplicate!.parentSpanContext).toBeUndefined();
    expect(duplicate!.attributes).toMatchObject({ "hookd.event.id": event.id, "hookd.event.duplicate": true });
    expect(refusedPublish!.status.code).toBe(SpanStatusCode.ERROR);
    expect(refusedPublish!.attributes["error.type"]).toBe("validation_failed");
    // The event keeps its first publisher's context.
    const row = await db.selectFrom("events").select("trace_context").where("id", "=", event.id).executeTakeFirstOrThrow();
    expect(row.trace_context).toBe(traceparent(first!));

    expect(await hookd.tick()).toMatchObject({ rescheduled: 2 });
    const attempts = spans("hookd.attempt");
    expect(attempts).toHaveLength(2);
    const byHook = new Map(attempts.map((a) => [a.attributes["hookd.webhook.id"], a]));
    const http500 = byHook.get(failing.row.id)!;
    expect(http500.status).toEqual({ code: SpanStatusCode.ERROR, message: "HTTP 500" });
    expect(http500.attributes).toMatchObject({
      "http.response.status_code": 500,
      "error.type": "http",
      "hookd.attempt.verdict": "rescheduled",
      "hookd.attempt.number": 1,
    });
    const noAnswer = byHook.get(refused.row.id)!;
    expect(noAnswer.status.code).toBe(SpanStatusCode.ERROR);
    expect(noAnswer.attributes["error.type"]).toBe("refused");
    expect(noAnswer.attributes["http.response.status_code"]).toBeUndefined();
    for (const a of attempts) expect(linkedTo(a)).toEqual([first!.spanContext().spanId]);
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]!.headers.traceparent).toBeUndefined();
  });

  it("a batched request is one attempt span, linked to the publish span of each event in it", async () => {
    receiver = await startReceiver();
    app = await testApp({ telemetry: { propagateToReceivers: true } }, backend, silentLogger, { tracing });
    const hook = await app.hook(`${receiver.url}/batch`);
    await updateWebhook(app.store.db, app.keyring, hook, null, { batch_size: 3 }, app.webhookRules);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const input = { customerId: app.customerId, topic: "orders:created", payload: `{"i":${i}}` };
      const a = app;
      ids.push((await tracedPublish(a.tracing, input, (context) => publish(a.store.db, input, a.publishRules, Date.now(), context))).id);
    }
    expect((await app.dispatcher.tick()).delivered).toBe(3);
    expect(receiver.requests).toHaveLength(1);
    const attempt = only("hookd.attempt");
    expect(attempt.attributes).toMatchObject({
      "hookd.webhook.id": hook,
      "hookd.batch.size": 3,
      "hookd.event.ids": ids,
      "hookd.delivery.ids": String(receiver.requests[0]!.headers["x-delivery-ids"]).split(","),
      "hookd.attempt.number": 1,
    });
    expect(attempt.attributes["hookd.delivery.id"]).toBeUndefined();
    expect(linkedTo(attempt)).toEqual(spans("hookd.publish").map((p) => p.spanContext().spanId));
    expect(receiver.requests[0]!.headers.traceparent).toBe(traceparent(attempt));
  });
});

describe("traces off (no OTEL_* variable)", () => {
  let global: InMemorySpanExporter;
  beforeEach(() => {
    // Were hookd to use the process's global tracer, spans would land here.
    global = new InMemorySpanExporter();
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(global)] }));
  });
  afterEach(() => trace.disable());

  it("records no span, stores no trace context and sends no traceparent, even with propagateToReceivers; it says so once", async () => {
    receiver = await startReceiver();
    const log = memoryLogger("warn");
    harness = await apiHarness({ telemetry: { propagateToReceivers: true } }, "sqlite", log.logger);
    expect(harness.app.tracing).toBeNull();
    await harness.call("POST", "/webhooks/", { body: { url: `${receiver.url}/in`, group: "orders", action: "created" } });
    const published = await harness.call("POST", "/events/", {
      body: { topic: "orders:created", payload: {} },
      headers: { traceparent: `00-${"1".repeat(32)}-${"2".repeat(16)}-01` },
    });
    expect(published.status).toBe(202);
    expect((await harness.app.dispatcher.tick()).delivered).toBe(1);
    await harness.app.dispatcher.tick();

    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]!.headers.traceparent).toBeUndefined();
    expect(receiver.requests[0]!.headers.tracestate).toBeUndefined();
    const event = await harness.app.store.db.selectFrom("events").select("trace_context").executeTakeFirstOrThrow();
    expect(event.trace_context).toBeNull();
    expect(global.getFinishedSpans()).toEqual([]);
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(log.entries().filter((e) => String(e.msg).includes("propagateToReceivers"))).toHaveLength(1);
  });
});
