import { describe, expect, it } from "vitest";
import { checkEventType, checkPayloadSchema, validatorOf } from "../../src/domain/eventTypes.js";
import type { HookdError } from "../../src/errors.js";

const order = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  required: ["id", "total"],
  properties: {
    id: { type: "integer" },
    total: { type: "number", minimum: 0 },
    email: { type: "string", format: "email" },
    items: { type: "array", items: { type: "object", required: ["sku"], properties: { sku: { type: "string" } } } },
    "a/b": { type: "string" },
  },
  additionalProperties: false,
};

function refusal(payload: unknown): HookdError {
  try {
    checkPayloadSchema("orders:created", JSON.stringify(order), payload);
  } catch (err) {
    return err as HookdError;
  }
  throw new Error("the payload was accepted");
}

describe("event type schemas", () => {
  it("accepts a payload that matches", () => {
    expect(() => checkPayloadSchema("orders:created", JSON.stringify(order), { id: 1, total: 9.99, items: [{ sku: "A" }] })).not.toThrow();
  });

  it.each([
    ["a wrong type", { id: "1", total: 1 }, [{ path: "/id", message: "must be integer" }]],
    ["a missing property, named by its own path", { id: 1 }, [{ path: "/total", message: "is required" }]],
    ["a property the schema does not allow", { id: 1, total: 1, extra: true }, [{ path: "/extra", message: "is not allowed by the schema" }]],
    ["deep in an array", { id: 1, total: 1, items: [{ sku: "A" }, { sku: 5 }] }, [{ path: "/items/1/sku", message: "must be string" }]],
    ["a format", { id: 1, total: 1, email: "not-an-email" }, [{ path: "/email", message: 'must match format "email"' }]],
    ["a key with a slash, escaped as JSON Pointer says", { id: 1, total: 1, "a/b": 5 }, [{ path: "/a~1b", message: "must be string" }]],
    ["the payload as a whole", [1, 2], [{ path: "", message: "must be object" }]],
  ])("refuses %s with a 422 naming the JSON Pointer", (_name, payload, details) => {
    const err = refusal(payload);
    expect(err.code).toBe("unprocessable");
    expect(err.details).toEqual(details);
    expect(err.message).toContain("orders:created");
  });

  it("names every failing path", () => {
    expect(refusal({ id: "x", total: -1 }).details).toEqual([
      { path: "/id", message: "must be integer" },
      { path: "/total", message: "must be >= 0" },
    ]);
  });

  it("compiles a schema once and keeps it", () => {
    const text = JSON.stringify({ type: "object", title: `kept ${Date.now()}` });
    expect(validatorOf(text)).toBe(validatorOf(text));
  });

  it.each([
    ["not a schema", 5, "schema", "is required"],
    ["a bad type keyword", { type: "whole-number" }, "schema", "does not compile"],
    ["another draft", { $schema: "http://json-schema.org/draft-07/schema#", type: "object" }, "schema", "does not compile"],
    ["a remote reference", { $ref: "https://example.com/schema.json" }, "schema", "does not compile"],
  ])("refuses %s with a 400 naming why", (_name, schema, field, message) => {
    const checked = checkEventType({ schema });
    expect(checked).toEqual({ problems: [{ field, message: expect.stringContaining(message) }] });
  });

  it("accepts boolean schemas and keywords ajv does not know", () => {
    expect(checkEventType({ schema: true })).toEqual({ schema: "true", description: null });
    expect(checkEventType({ schema: { type: "object", example: { a: 1 } }, description: "orders" })).toMatchObject({ description: "orders" });
    expect(checkEventType({ schema: {}, description: 5 })).toEqual({ problems: [{ field: "description", message: expect.stringContaining("a string") }] });
  });
});
