/** The store being away, as pure rules: which errors are outages, how health moves, the backoff. */
import { describe, expect, it } from "vitest";
import {
  afterFailure,
  afterProbe,
  backoffMs,
  HEALTHY,
  NoAnswerError,
  nextProbeInMs,
  outageOf,
  passesByItself,
  PROBE_CAP_MS,
  PROBE_FIRST_MS,
  RELAPSE_MS,
  type StoreHealthState,
} from "../../src/store/outage.js";

const coded = (code: string, message = "boom") => Object.assign(new Error(message), { code });

describe("outageOf", () => {
  it.each([
    [coded("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:5432"), "unreachable"],
    [new Error("Connection terminated unexpectedly"), "unreachable"],
    [new Error("timeout exceeded when trying to connect"), "unreachable"],
    [new Error("Client has encountered a connection error and is not queryable"), "unreachable"],
    [coded("57P01", "terminating connection due to administrator command"), "shutting_down"],
    [coded("57P03", "the database system is starting up"), "shutting_down"],
    [coded("53300"), "too_many_connections"],
    [coded("25006", "cannot execute INSERT in a read-only transaction"), "read_only"],
    [new NoAnswerError(2000), "not_answering"],
    [coded("28P01"), "credentials"],
    [coded("42501"), "rights"],
    [coded("SQLITE_BUSY"), "sqlite_busy"],
    [coded("SQLITE_READONLY_DBMOVED"), "sqlite_readonly"],
    [coded("SQLITE_IOERR_WRITE"), "sqlite_ioerr"],
    [coded("SQLITE_FULL"), "sqlite_full"],
    // The server answered: a statement past statement_timeout is not the store being away.
    [coded("57014", "canceling statement due to statement timeout"), null],
    // Bugs and bad input are not outages.
    [coded("23505"), null],
    [coded("SQLITE_CONSTRAINT_UNIQUE"), null],
    [new Error("something else"), null],
    [null, null],
  ] as const)("%s → %s", (err, kind) => {
    expect(outageOf(err)).toBe(kind);
  });

  it.each([
    ["unreachable", true],
    ["shutting_down", true],
    ["too_many_connections", true],
    ["not_answering", true],
    ["read_only", true],
    ["credentials", false],
    ["missing_database", false],
    ["rights", false],
    ["no_schema", false],
    ["sqlite_busy", false],
  ] as const)("%s passes by itself: %s", (kind, passes) => {
    expect(passesByItself(kind)).toBe(passes);
  });
});

describe("backoffMs", () => {
  it.each([
    [1, 100, 1000, 100],
    [2, 100, 1000, 200],
    [4, 100, 1000, 800],
    [5, 100, 1000, 1000],
    [60, 100, 1000, 1000],
    [10_000, 200, 5000, 5000],
  ])("try %i from %i ms capped at %i ms waits %i ms", (attempt, first, cap, ms) => {
    expect(backoffMs(attempt, first, cap)).toBe(ms);
  });
});

describe("store health", () => {
  const NOW = 100_000;
  const down = (at: number, failedProbes = 0, o: Partial<StoreHealthState> = {}): StoreHealthState => ({
    up: false,
    downSince: at,
    kind: "unreachable",
    failedProbes,
    backAt: null,
    relapse: false,
    ...o,
  });
  const upSince = (backAt: number): StoreHealthState => ({ ...HEALTHY, backAt });

  it.each([
    // state, event at NOW, next state, what is said
    ["up, a failure", HEALTHY, { failure: "unreachable" }, down(NOW), "down"],
    ["down, another failure", down(500), { failure: "shutting_down" }, down(500), null],
    ["up, a probe fails", HEALTHY, { probe: false }, HEALTHY, null],
    ["up, a probe works", HEALTHY, { probe: true }, HEALTHY, null],
    ["down, a probe fails", down(500, 2), { probe: false }, down(500, 3), null],
    ["down, a probe works", down(500, 2), { probe: true }, upSince(NOW), "back"],
    ["up a minute after an outage, a failure", upSince(NOW - RELAPSE_MS), { failure: "unreachable" }, down(NOW, 0, { backAt: NOW - RELAPSE_MS }), "down"],
    [
      "up just after an outage, a failure: a relapse",
      upSince(NOW - 5_000),
      { failure: "sqlite_full" },
      down(NOW, 0, { kind: "sqlite_full", backAt: NOW - 5_000, relapse: true }),
      null,
    ],
    ["in a relapse, a probe works", down(NOW - 1_000, 1, { backAt: NOW - 5_000, relapse: true }), { probe: true }, upSince(NOW - 5_000), null],
  ] as const)("%s", (_name, state, event, next, say) => {
    const step = "failure" in event ? afterFailure(state, event.failure, NOW) : afterProbe(state, event.probe, NOW);
    expect(step.state).toEqual(next);
    expect(step.say).toBe(say);
  });

  it("says how long the outage lasted when it ends", () => {
    const step = afterProbe(down(1_000, 4), true, 13_500);
    expect(step).toEqual({ state: upSince(13_500), say: "back", downMs: 12_500 });
  });

  it("probes soon after the first failure, then further apart, never more than the cap", () => {
    expect(nextProbeInMs(down(0, 0))).toBe(PROBE_FIRST_MS);
    expect(nextProbeInMs(down(0, 1))).toBe(PROBE_FIRST_MS * 2);
    expect(nextProbeInMs(down(0, 50))).toBe(PROBE_CAP_MS);
  });
});
