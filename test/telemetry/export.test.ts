/**
 * Traces leave real processes: `hookd publish`, `hookd tick` and `hookd serve` with the
 * OTEL_* variables set send real OTLP/HTTP POSTs to a collector on 127.0.0.1, flushed
 * when the process stops; a variable hookd cannot honour stops it with exit 2.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createWebhook } from "../../src/store/webhooks.js";
import { collect, runCli, spawnCli, untilServing } from "../helpers/cli.js";
import { tempDir, testApp } from "../helpers/app.js";
import { serveSetup } from "../helpers/serve.js";
import { startReceiver, type Received, type Receiver } from "../helpers/receiver.js";

/** What an OTLP/JSON export says: each span's name, ids, links and the resource's service.name. */
interface ExportedSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  links?: { traceId: string; spanId: string }[];
  service: string;
}

function spansOf(exports: readonly Received[]): ExportedSpan[] {
  const out: ExportedSpan[] = [];
  for (const e of exports) {
    const body = JSON.parse(e.body.toString()) as {
      resourceSpans: {
        resource: { attributes: { key: string; value: { stringValue?: string } }[] };
        scopeSpans: { spans: Omit<ExportedSpan, "service">[] }[];
      }[];
    };
    for (const rs of body.resourceSpans) {
      const service = rs.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue ?? "";
      for (const ss of rs.scopeSpans) for (const s of ss.spans) out.push({ ...s, service });
    }
  }
  return out;
}

let collector: Receiver;
let app: Awaited<ReturnType<typeof testApp>> | undefined;
const cleanups: (() => void)[] = [];
beforeAll(async () => {
  // A collector's OTLP/HTTP receiver: 200 with an empty body is a full success in both encodings.
  collector = await startReceiver((_req, res) => res.writeHead(200).end());
});
afterAll(async () => collector.close());
afterEach(async () => {
  await app?.cleanup();
  app = undefined;
  for (const c of cleanups.splice(0)) c();
  collector.requests.length = 0;
});

/** The batch processor would wait a minute: what arrives was flushed as the process stopped. */
const otel = (extra: Record<string, string> = {}) => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: `${collector.url}/`,
  OTEL_BSP_SCHEDULE_DELAY: "60000",
  OTEL_SERVICE_NAME: "hookd-test",
  ...extra,
});

describe("OTLP export from hookd processes", () => {
  it(
    "hookd publish and hookd tick export their spans (http/json, then the default http/protobuf); the attempt links to the publish span",
    { timeout: 60_000 },
    async () => {
      const receiver = await startReceiver();
      try {
        app = await testApp();
        await createWebhook(app.store.db, app.keyring, app.customerId, { url: `${receiver.url}/in`, group: "orders", action: "created" }, app.webhookRules);
        await app.close();
        const env = { HOOKD_DB: app.dbFile };

        const published = await runCli(["--json", "publish", "--customer", app.customerId, "--topic", "orders:created", "--data", '{"n":1}'], {
          ...env,
          ...otel({ OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }),
        });
        expect(published.code, published.stderr).toBe(0);
        const fromPublish = collector.requests.splice(0);
        expect(fromPublish.map((r) => [r.method, r.path, r.headers["content-type"]])).toEqual([["POST", "/v1/traces", "application/json"]]);
        const [publishSpan] = spansOf(fromPublish);
        expect(publishSpan).toMatchObject({ name: "hookd.publish", service: "hookd-test" });

        const ticked = await runCli(["--json", "tick"], { ...env, ...otel({ OTEL_EXPORTER_OTLP_PROTOCOL: "" }) });
        expect(ticked.code, ticked.stderr).toBe(0);
        expect(JSON.parse(ticked.stdout)).toMatchObject({ delivered: 1 });
        expect(collector.requests.length).toBeGreaterThan(0);
        for (const r of collector.requests) expect([r.method, r.path, r.headers["content-type"]]).toEqual(["POST", "/v1/traces", "application/x-protobuf"]);
        const body = Buffer.concat(collector.requests.map((r) => r.body));
        // Protobuf keeps strings as their bytes: the span names, the service, and the link's raw ids.
        for (const text of ["hookd.tick", "hookd.claim", "hookd.attempt", "hookd-test"]) expect(body.includes(text), text).toBe(true);
        expect(body.includes(Buffer.from(publishSpan!.spanId, "hex"))).toBe(true);
        expect(receiver.requests).toHaveLength(1);
      } finally {
        await receiver.close();
      }
    },
  );

  it("hookd serve flushes its spans when it stops: a publish through its API, in the caller's trace", { timeout: 60_000 }, async () => {
    const folder = tempDir();
    cleanups.push(folder.cleanup);
    const setup = await serveSetup(folder.dir);
    const server = spawnCli(["serve", "--role", "api"], { ...setup.env, ...otel({ OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }) });
    const exit = collect(server);
    try {
      await untilServing(setup.url);
      const caller = "0af7651916cd43dd8448eb211c80319c";
      const res = await fetch(`${setup.url}/events/`, {
        method: "POST",
        headers: { authorization: `Bearer ${setup.key}`, "content-type": "application/json", traceparent: `00-${caller}-b7ad6b7169203331-01` },
        body: JSON.stringify({ topic: "orders:created", payload: { n: 1 } }),
      });
      expect(res.status).toBe(202);
      expect(collector.requests).toEqual([]);
    } finally {
      server.kill("SIGTERM");
    }
    const stopped = await exit;
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(spansOf(collector.requests)).toEqual([
      expect.objectContaining({ name: "hookd.publish", traceId: "0af7651916cd43dd8448eb211c80319c", parentSpanId: "b7ad6b7169203331", service: "hookd-test" }),
    ]);
  });

  it.each([
    ["OTEL_TRACES_EXPORTER", { OTEL_TRACES_EXPORTER: "jaeger" }],
    ["OTEL_EXPORTER_OTLP_PROTOCOL", { OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }],
  ])("a bad %s stops hookd tick with exit 2, naming the variable", async (variable, bad) => {
    app = await testApp();
    await app.close();
    const r = await runCli(["tick"], { HOOKD_DB: app.dbFile, ...otel(bad) });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^hookd: invalid configuration\\n  ${variable} must be `));
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe("");
    expect(collector.requests).toEqual([]);
  });
});
