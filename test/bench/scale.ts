/** How big each section is in each mode. `full` is the sizes; `quick` fits in 2 minutes; `tiny` only checks the harness. */
export type Size = "full" | "quick" | "tiny";

export function scaleFor(size: Size) {
  const pick = <T>(full: T, quick: T, tiny: T): T => (size === "full" ? full : size === "quick" ? quick : tiny);
  return {
    dispatch: { deliveries: pick(50_000, 10_000, 500), webhooks: 100, rounds: pick(3, 2, 1) },
    ingest: { single: pick(2_000, 500, 50), batched: pick(20_000, 5_000, 200), batch: 100, rounds: pick(3, 2, 1) },
    backlog: { due: pick(1_000_000, 100_000, 2_000), history: pick(1_000_000, 100_000, 2_000), tickSeconds: pick(30, 8, 2), claimReps: pick(15, 9, 3) },
    isolation: { healthy: 10_000, dead: 10_000, rounds: pick(2, 1, 1), capSeconds: pick(60, 20, 5) },
    latency: { rate: 100, seconds: pick(20, 8, 2) },
  };
}
