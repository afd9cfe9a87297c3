/**
 * GET /openapi.json: served without a key, a valid OpenAPI 3.1 document (checked by a
 * real validator, so CI catches a broken one), with every route of the API, its
 * parameters, bodies, answers and the error shape, and the Bearer key scheme.
 */
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildServer } from "../../src/api/server.js";
import { apiHarness, type ApiHarness } from "../helpers/api.js";

type Operation = {
  operationId: string;
  security?: unknown[];
  parameters?: { in: string; name: string; required?: boolean }[];
  requestBody?: unknown;
  responses: Record<string, { content?: Record<string, { schema: { properties?: Record<string, unknown> } }> }>;
};

let h: ApiHarness;
let doc: { openapi: string; paths: Record<string, Record<string, Operation>>; components: { securitySchemes: Record<string, unknown> }; security: unknown[] };
beforeAll(async () => {
  h = await apiHarness();
  const res = await h.call("GET", "/openapi.json", { key: null });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  doc = res.body;
});
afterAll(() => h.cleanup());

const operations = () => Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })));

describe("/openapi.json", () => {
  it("is valid OpenAPI 3.1", async () => {
    expect(doc.openapi).toBe("3.1.0");
    const result = await new Validator().validate(doc as unknown as Parameters<Validator["validate"]>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("lists every route of the API, and not the console's pages", () => {
    const routes = operations()
      .map(({ path, method }) => `${method.toUpperCase()} ${path}`)
      .sort();
    expect(routes).toEqual(
      [
        "GET /webhooks/",
        "POST /webhooks/",
        "GET /webhooks/{id}/",
        "PATCH /webhooks/{id}/",
        "PUT /webhooks/{id}/",
        "DELETE /webhooks/{id}/",
        "POST /webhooks/{id}/rotate-secret/",
        "POST /webhooks/{id}/test/",
        "GET /webhooks/{id}/deliveries/",
        "POST /events/",
        "GET /events/",
        "GET /events/{id}/",
        "GET /event-types/",
        "GET /event-types/{topic}/",
        "PUT /event-types/{topic}/",
        "DELETE /event-types/{topic}/",
        "GET /deliveries/",
        "GET /deliveries/{id}/",
        "POST /deliveries/retry/",
        "POST /deliveries/{id}/retry/",
        "GET /stats/",
        "POST /portal-sessions/",
        "GET /healthz",
        "GET /metrics",
        "GET /openapi.json",
      ].sort(),
    );
    const ids = operations().map(({ op }) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("says every route but /healthz, /metrics and /openapi.json needs a Bearer key", () => {
    expect(doc.components.securitySchemes).toEqual({ apiKey: expect.objectContaining({ type: "http", scheme: "bearer" }) });
    expect(doc.security).toEqual([{ apiKey: [] }]);
    const open = operations()
      .filter(({ op }) => op.security !== undefined)
      .map(({ path, op }) => [path, op.security]);
    expect(open).toEqual([
      ["/healthz", []],
      ["/metrics", []],
      ["/openapi.json", []],
    ]);
  });

  it("documents path and query parameters, bodies, and the error shape on every API route", () => {
    for (const { path, method, op } of operations()) {
      for (const name of path.match(/\{(\w+)\}/g) ?? []) {
        expect(op.parameters, `${method} ${path}`).toContainEqual(expect.objectContaining({ in: "path", name: name.slice(1, -1), required: true }));
      }
      if (path.startsWith("/healthz") || path === "/metrics" || path === "/openapi.json") continue;
      const error = op.responses["4XX"] ?? op.responses["4xx"];
      expect(error?.content?.["application/json"]?.schema.properties, `${method} ${path} documents its errors`).toHaveProperty("error");
    }
    const list = doc.paths["/webhooks/"]!.get!;
    expect(list.parameters?.map((p) => `${p.in}:${p.name}`).sort()).toEqual(["query:customer", "query:direction", "query:limit", "query:page", "query:sort"]);
    expect(doc.paths["/webhooks/"]!.post!.requestBody).toMatchObject({
      content: { "application/json": { schema: { required: ["url", "group", "action"], properties: { url: { type: "string" }, ordered: {} } } } },
    });
    expect(doc.paths["/events/"]!.post!.parameters).toContainEqual(expect.objectContaining({ in: "header", name: "idempotency-key" }));
    expect(Object.keys(doc.paths["/events/"]!.post!.responses)).toContain("202");
    // Sent without a body, these act as on {}.
    expect(doc.paths["/webhooks/{id}/rotate-secret/"]!.post!.requestBody).toMatchObject({ required: false });
    expect(doc.paths["/deliveries/retry/"]!.post!.requestBody).toMatchObject({ required: false });
    expect(Object.keys(doc.paths["/webhooks/{id}/"]!.delete!.responses)).toContain("204");
  });

  it("is not served by a dispatcher node, which answers only /healthz and /metrics", async () => {
    const server = buildServer(h.app, "health");
    try {
      expect((await server.inject({ method: "GET", url: "/openapi.json" })).statusCode).toBe(404);
      expect((await server.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
    } finally {
      await server.close();
    }
  });
});
