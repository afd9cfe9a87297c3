/** How big each section is in each mode. `full` is the sizes; `quick` fits in 2 minutes; `tiny` only checks the harness. */
export type Size = "full" | "quick" | "tiny";

export function scaleFor(size: Size) {
  const pick = <T>(full: T, quick: T, tiny: T): T => (size === "full" ? full : size === "quick" ? quick : tiny);
  return {
    dispatch: { deliveries: pick(50_000, 5_000, 500), webhooks: 100, rounds: pick(4, 2, 1), slowPeerRounds: 1 },
    ingest: { single: pick(1_000, 300, 50), batched: pick(10_000, 3_000, 200), batch: 100, rounds: pick(3, 2, 1), httpSeconds: pick(10, 3, 1) },
    backlog: {
      due: pick(1_000_000, 50_000, 2_000),
      history: pick(1_000_000, 50_000, 2_000),
      tickSeconds: pick(20, 5, 2),
      claimReps: pick(15, 9, 3),
      deepDue: pick(500_000, 100_000, 2_000),
      shallowDue: pick(15_000, 5_000, 500),
      oneDeepDue: pick(300_000, 50_000, 2_000),
      rateRounds: pick(3, 2, 1),
    },
    isolation: { healthy: pick(10_000, 2_000, 1_000), dead: pick(10_000, 2_000, 1_000), rounds: pick(3, 3, 1), capSeconds: pick(30, 10, 5) },
    latency: { rate: 100, seconds: pick(15, 5, 2) },
    move: { deliveries: pick(1_000_000, 50_000, 2_000) },
    consoleLog: { deliveries: pick(1_000_000, 50_000, 2_000), reps: pick(20, 10, 3) },
    scaleOut: { fast: pick(20_000, 5_000, 500), slow: pick(6_000, 2_000, 400), slowWebhooks: 200, drain: pick(20_000, 20_000, 2_000) },
    https: {
      concurrencies: pick([64, 256, 1024], [64, 256, 1024], [64]),
      deliveriesPer: pick(50, 15, 3),
      maxDeliveries: pick(20_000, 5_000, 200),
      webhooks: 256,
      latencyMs: 100,
    },
    fairShare: { burstEvents: pick(2_000, 500, 20), slowB: pick(1_000, 1_000, 200), rounds: pick(3, 1, 1), capSeconds: pick(30, 15, 10) },
    flaky: { deliveries: pick(5_000, 2_000, 200), rounds: pick(2, 1, 1), capSeconds: pick(60, 30, 15) },
    memory: { bigEvents: pick(100, 100, 5), smallEvents: pick(1_000, 250, 10), rounds: pick(2, 1, 1) },
  };
}
