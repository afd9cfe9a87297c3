import { describe, expect, it } from "vitest";
import { classifyError, classifyStatus } from "../../src/dispatch/outcome.js";

describe("classifyStatus", () => {
  it.each([
    [200, null],
    [204, null],
    [299, null],
    [301, "redirect"],
    [302, "redirect"],
    [307, "redirect"],
    [404, "http"],
    [429, "http"],
    [500, "http"],
    [503, "http"],
  ])("%i → %s", (status, expected) => expect(classifyStatus(status)).toBe(expected));
});

describe("classifyError", () => {
  it.each([
    [{ name: "TimeoutError", code: "ETIMEDOUT" }, "timeout"],
    [{ code: "ECONNREFUSED" }, "refused"],
    [{ code: "ECONNRESET" }, "reset"],
    [{ code: "EPIPE" }, "reset"],
    [{ code: "ENOTFOUND" }, "dns"],
    [{ code: "EAI_AGAIN" }, "dns"],
    [{ code: "EHOSTUNREACH" }, "unreachable"],
    [{ code: "HPE_INVALID_CONSTANT" }, "protocol"],
    [{ code: "DEPTH_ZERO_SELF_SIGNED_CERT" }, "tls"],
    [{ code: "ERR_TLS_CERT_ALTNAME_INVALID" }, "tls"],
    [{ code: "ERR_HOOKD_BLOCKED_ADDRESS" }, "blocked"],
    [{ name: "AbortError" }, "aborted"],
    [{ code: "EWHATEVER" }, "network"],
  ])("%j → %s", (err, expected) => expect(classifyError(err)).toBe(expected));
});
