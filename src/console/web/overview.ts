/** Overview: the backlog, what is due, attempts over time, and the failing webhooks. */
import { api } from "./api.js";
import { attemptsChart } from "./chart.js";
import { badge, empty, h, link, replace, table } from "./dom.js";
import type { PageContext } from "./router.js";
import { when } from "./time.js";
import type { Stats } from "./types.js";

const RANGES = { "24h": { label: "Last 24 hours", bars: 24, bucket: 3600 }, "7d": { label: "Last 7 days", bars: 28, bucket: 6 * 3600 } };

/**
 * Where the chart starts: `bars` buckets back from the start of the current one, on
 * local clock boundaries (the hour; 00:00, 06:00, … for 6-hour bars), so the axis'
 * labels fall on round times. The last bar is the one under way.
 */
export function chartSince(now: number, bucketSeconds: number, bars: number): number {
  const d = new Date(now);
  d.setMinutes(0, 0, 0);
  const hours = bucketSeconds / 3600;
  if (hours > 1) d.setHours(Math.floor(d.getHours() / hours) * hours);
  return d.getTime() - (bars - 1) * bucketSeconds * 1000;
}

export async function overviewPage(ctx: PageContext): Promise<() => Promise<void>> {
  const range = ctx.query.get("range") === "7d" ? "7d" : "24h";
  const data = h("div", {});
  replace(
    ctx.main,
    ctx.heading("Overview"),
    h(
      "div",
      { role: "group", "aria-label": "Chart range", class: "toolbar" },
      (Object.keys(RANGES) as (keyof typeof RANGES)[]).map((r) =>
        h("a", { href: `#/?range=${r}`, class: "button secondary", "aria-current": r === range ? "true" : null }, RANGES[r].label),
      ),
    ),
    data,
  );
  const load = async () => {
    const { bars, bucket } = RANGES[range];
    const since = new Date(chartSince(Date.now(), bucket, bars)).toISOString();
    const stats = await api.get<Stats>(`/stats/?since=${encodeURIComponent(since)}&bucket=${bucket}`);
    replace(data, ...render(stats, RANGES[range].label));
  };
  await load();
  return load;
}

function render(s: Stats, rangeLabel: string) {
  const statuses = ["pending", "delivered", "failed", "cancelled"] as const;
  const failing = s.failing_webhooks;
  return [
    h(
      "section",
      { "aria-labelledby": "backlog-h" },
      h("h2", { id: "backlog-h" }, "Deliveries by status"),
      h(
        "ul",
        { class: "cards" },
        statuses.map((st) => h("li", {}, h("a", { href: `#/deliveries?status=${st}` }, h("strong", {}, String(s.backlog[st])), ` ${st}`))),
        h("li", {}, h("strong", {}, String(s.due_now)), " due now"),
        h("li", {}, "Next tick ", h("strong", {}, when(s.next_tick_at)), h("small", {}, ` schedule ${s.schedule}`)),
      ),
    ),
    h("section", { "aria-labelledby": "chart-h" }, h("h2", { id: "chart-h" }, `Attempts by outcome — ${rangeLabel}`), attemptsChart(s)),
    h(
      "section",
      { "aria-labelledby": "failing-h" },
      h("h2", { id: "failing-h" }, `Failing webhooks (${failing.count})`),
      failing.results.length === 0
        ? empty("No webhook is failing: every receiver answered its last delivery.")
        : table(
            ["Webhook", "Topic", "Failures in a row", "Last error", "Next try", "State"],
            failing.results.map((w) => [
              link(`#/webhooks/${w.id}`, w.url),
              w.topic,
              String(w.consecutive_failures),
              w.last_error ?? "—",
              w.next_attempt_at ? h("span", {}, when(w.next_attempt_at), ", sent by the tick ", when(w.next_tick_at)) : "not scheduled",
              w.disabled_reason
                ? badge(`disabled: ${w.disabled_reason}`, "failed")
                : w.active
                  ? badge(`breaker ${w.breaker ?? "open"}${w.breaker_reason ? `: ${w.breaker_reason}` : ""}`, "pending")
                  : badge("disabled", "cancelled"),
            ]),
            "Failing webhooks",
          ),
    ),
  ];
}
