/** How big each section is in each mode. `full` is the sizes; `quick` fits in 2 minutes; `tiny` only checks the harness. */
export type Size = "full" | "quick" | "tiny";

export function scaleFor(size: Size) {
  const pick = <T>(full: T, quick: T, tiny: T): T => (size === "full" ? full : size === "quick" ? quick : tiny);
  return {
    dispatch: { deliveries: pick(50_000, 10_000, 500), webhooks: 100, rounds: pick(3, 2, 1) },
  };
}
