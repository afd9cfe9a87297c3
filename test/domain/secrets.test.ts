import { describe, expect, it } from "vitest";
import type { HookdError } from "../../src/errors.js";
import { livePrevious, previousExpiresAt, rotate, validSecrets } from "../../src/domain/secrets.js";
import { generateSecret } from "../../src/store/rotation.js";
import { secretProblem, standardKey } from "../../src/domain/signature.js";

const H = 3_600_000;
const col = (...entries: [string, number][]) => JSON.stringify(entries.map(([secret, expires_at]) => ({ secret, expires_at })));
const thrown = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err as HookdError;
  }
  throw new Error("no error");
};

describe("rotate", () => {
  it.each([
    ["first rotation: the old secret stays valid for the overlap", { current: "A", previous: null, overlapMs: 24 * H, now: 0 }, [["A", 24 * H]]],
    ["overlap 0 retires the old secret at once", { current: "A", previous: null, overlapMs: 0, now: 0 }, []],
    ["no secret before: nothing to keep", { current: null, previous: null, overlapMs: 24 * H, now: 0 }, []],
    [
      "during an overlap: the older secret keeps its own (sooner) expiry",
      { current: "B", previous: col(["A", 24 * H]), overlapMs: 24 * H, now: 2 * H },
      [
        ["B", 26 * H],
        ["A", 24 * H],
      ],
    ],
    [
      "during an overlap with a shorter overlap: no secret outlives the new one",
      { current: "B", previous: col(["A", 24 * H]), overlapMs: H, now: 2 * H },
      [
        ["B", 3 * H],
        ["A", 3 * H],
      ],
    ],
    ["during an overlap with overlap 0: every previous secret goes", { current: "B", previous: col(["A", 24 * H]), overlapMs: 0, now: 2 * H }, []],
    ["after the overlap: expired secrets are dropped", { current: "B", previous: col(["A", 24 * H]), overlapMs: 24 * H, now: 25 * H }, [["B", 49 * H]]],
  ])("%s", (_name, input, expected) => {
    const previous = rotate({ ...input, next: "N" });
    expect(previous.map((p) => [p.secret, p.expires_at])).toEqual(expected);
  });

  it("allows three valid secrets, and refuses a fourth without changing anything", () => {
    const previous = col(["B", 26 * H], ["A", 24 * H]);
    const err = thrown(() => rotate({ current: "C", previous, next: "D", overlapMs: 24 * H, now: 3 * H }));
    expect(err.code).toBe("conflict");
    expect(err.message).toContain("at most 3 secrets");
    expect(err.message).toContain(new Date(24 * H).toISOString());
    expect(err.message).toContain("an overlap of 0");
    expect(err.message).not.toMatch(/\b[ABC]\b/);
    // Once A has expired there is room again; overlap 0 always works.
    expect(rotate({ current: "C", previous, next: "D", overlapMs: 24 * H, now: 24 * H }).map((p) => p.secret)).toEqual(["C", "B"]);
    expect(rotate({ current: "C", previous, next: "D", overlapMs: 0, now: 3 * H })).toEqual([]);
  });

  it("refuses a new secret equal to one still valid", () => {
    for (const next of ["B", "A"]) {
      const err = thrown(() => rotate({ current: "B", previous: col(["A", 24 * H]), next, overlapMs: H, now: 0 }));
      expect(err.details).toEqual([{ field: "hash_secret", message: "must differ from the webhook's valid secrets" }]);
    }
  });
});

describe("valid secrets", () => {
  const previous = col(["B", 10 * H], ["A", 5 * H]);
  it.each([
    [0, ["C", "B", "A"], 10 * H],
    [5 * H - 1, ["C", "B", "A"], 10 * H],
    [5 * H, ["C", "B"], 10 * H],
    [10 * H, ["C"], null],
  ])("at %i ms: %j, previous expire at %s", (now, secrets, expiresAt) => {
    expect(validSecrets("C", previous, now)).toEqual(secrets);
    expect(previousExpiresAt(previous, now)).toBe(expiresAt);
  });

  it("none without a current secret; an empty column is no previous secret", () => {
    expect(validSecrets(null, previous, 0)).toEqual([]);
    expect(livePrevious(null, 0)).toEqual([]);
  });
});

describe("generateSecret", () => {
  it("is whsec_ + 32 random bytes in base64, usable as is", () => {
    const a = generateSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(standardKey(a)).toHaveLength(32);
    expect(secretProblem(a)).toBeNull();
    expect(generateSecret()).not.toBe(a);
  });
});
