/** Overview: the backlog, what is due, attempts over time, and the failing webhooks. */
import { api } from "./api.js";
import { attemptsChart } from "./chart.js";
import { badge, empty, h, link, replace, table, when } from "./dom.js";
import type { PageContext } from "./router.js";
import type { Stats } from "./types.js";

const RANGES = { "24h": { label: "Last 24 hours", ms: 86_400_000, bucket: 3600 }, "7d": { label: "Last 7 days", ms: 7 * 86_400_000, bucket: 6 * 3600 } };

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
    const { ms, bucket } = RANGES[range];
    const since = new Date(Date.now() - ms).toISOString();
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
              w.next_attempt_at ? `${when(w.next_attempt_at)} (tick ${when(w.next_tick_at)})` : "not scheduled",
              w.disabled_reason
                ? badge(`disabled: ${w.disabled_reason}`, "failed")
                : w.active
                  ? badge("backing off", "pending")
                  : badge("disabled", "cancelled"),
            ]),
            "Failing webhooks",
          ),
    ),
  ];
}
