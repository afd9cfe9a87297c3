import { describe, expect, it } from "vitest";
import { checkHeaders, MAX_HEADER_BYTES, MAX_HEADERS } from "../../src/domain/headers.js";

describe("a webhook's own headers", () => {
  it("keeps valid names as given, values as they are", () => {
    expect(checkHeaders({ "X-Tenant": "acme", "x-api-version": "2024-01-01", "Idempotency-Prefix": "a b\tc" })).toEqual({
      headers: { "X-Tenant": "acme", "x-api-version": "2024-01-01", "Idempotency-Prefix": "a b\tc" },
    });
  });

  it.each([
    "Connection",
    "keep-alive",
    "Proxy-Authorization",
    "proxy-connection",
    "TE",
    "Trailer",
    "transfer-encoding",
    "Upgrade",
    "HOST",
    "Content-Length",
    "content-type",
    "User-Agent",
    "traceparent",
    "TraceState",
    "X-Signature",
    "x-webhook-id",
    "X-EVENT-ID",
    "X-Event-Ids",
    "X-Delivery-Id",
    "x-delivery-ids",
    "X-Topic",
    "X-Attempt-Number",
    "x-timestamp",
    "X-Batch-Size",
    "webhook-id",
    "Webhook-Signature",
    "WEBHOOK-anything",
  ])("refuses %s as reserved (a rule: 422), naming the header", (name) => {
    const result = checkHeaders({ [name]: "x" });
    expect(result).toEqual({ problems: [{ field: `headers.${name}`, message: expect.stringContaining("reserved"), rule: true }] });
  });

  it("points Authorization at the auth field", () => {
    expect(checkHeaders({ authorization: "Bearer x" })).toEqual({
      problems: [{ field: "headers.authorization", message: expect.stringContaining("use auth"), rule: true }],
    });
  });

  it.each([
    ["a name with a space", { "X Tenant": "a" }, "headers.X Tenant", "is not a valid header name"],
    ["a name with a colon", { "X-A:": "a" }, "headers.X-A:", "is not a valid header name"],
    ["an empty name", { "": "a" }, "headers.", "is not a valid header name"],
    ["a non-ASCII name", { "X-Größe": "a" }, "headers.X-Größe", "is not a valid header name"],
    ["a value with CR LF", { "X-A": "a\r\nX-Injected: 1" }, "headers.X-A", "must not contain CR, LF or NUL"],
    ["a value with LF", { "X-A": "a\nb" }, "headers.X-A", "must not contain CR, LF or NUL"],
    ["a value with NUL", { "X-A": "a\u0000b" }, "headers.X-A", "must not contain CR, LF or NUL"],
    ["a value with ESC", { "X-A": "\u001b[2J" }, "headers.X-A", "must hold only printable characters"],
    ["a value past U+00FF", { "X-A": "🚚" }, "headers.X-A", "must hold only printable characters"],
    ["a number value", { "X-A": 5 }, "headers.X-A", "must be a string"],
    ["a name given twice in two cases", { "X-A": "1", "x-a": "2" }, "headers.x-a", "is given twice"],
  ])("refuses %s as malformed (400)", (_name, value, field, message) => {
    const result = checkHeaders(value);
    expect(result).toEqual({ problems: [expect.objectContaining({ field, message: expect.stringContaining(message) })] });
    expect((result as { problems: { rule?: boolean }[] }).problems[0]!.rule).toBeUndefined();
  });

  it.each([
    ["an array", [["X-A", "1"]]],
    ["a string", "X-A: 1"],
  ])("refuses %s", (_name, value) => {
    expect(checkHeaders(value)).toEqual({ problems: [{ field: "headers", message: expect.stringContaining("must be an object") }] });
  });

  it(`refuses more than ${MAX_HEADERS} headers and more than ${MAX_HEADER_BYTES} bytes`, () => {
    const many = Object.fromEntries(Array.from({ length: MAX_HEADERS + 1 }, (_, i) => [`X-H${i}`, "v"]));
    expect(checkHeaders(many)).toEqual({ problems: [{ field: "headers", message: `must hold at most ${MAX_HEADERS} headers (got ${MAX_HEADERS + 1})` }] });
    const exactly = Object.fromEntries(Array.from({ length: MAX_HEADERS }, (_, i) => [`X-H${i}`, "v"]));
    expect(checkHeaders(exactly)).toHaveProperty("headers");
    const big = { "X-A": "a".repeat(5000), "X-B": "b".repeat(4000) };
    expect(checkHeaders(big)).toEqual({ problems: [{ field: "headers", message: expect.stringContaining(`at most ${MAX_HEADER_BYTES} bytes`) }] });
  });
});
