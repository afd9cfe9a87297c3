/**
 * Attempts by outcome over time: stacked bars in plain HTML (so text stays readable at
 * any width), with a count axis, time labels, and each bar's time and counts shown on
 * hover and on keyboard focus. The bars are one tab stop (arrow keys move between
 * them), and each has an accessible name with its time range and its counts.
 */
import { h } from "./dom.js";
import { zoneName } from "./time.js";
import type { Stats } from "./types.js";

const SERIES = [
  ["success", "delivered (2xx)"],
  ["http_error", "error status"],
  ["network_error", "no answer"],
] as const;

type Bucket = Stats["attempts"][number];

/** The axis' top: twice a round step (1, 2, 5 × 10^k) at or above half of `n`, so the middle line is round too. */
export function axisMax(n: number): number {
  const half = Math.max(n, 1) / 2;
  const power = 10 ** Math.floor(Math.log10(half));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= half)!;
  return Math.max(1, Math.ceil(step)) * 2;
}

const format = (ms: number, options: Intl.DateTimeFormatOptions) => new Intl.DateTimeFormat(undefined, options).format(new Date(ms));

/** "Tue, May 3, 02:00 PM – 03:00 PM UTC: 3 delivered (2xx), 1 error status, 0 no answer" */
function barLabel(b: Bucket, bucketMs: number): string {
  const start = Date.parse(b.start);
  const from = format(start, { weekday: "short", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
  const to = format(start + bucketMs, { hour: "2-digit", minute: "2-digit", timeZoneName: "short" });
  const counts = SERIES.map(([key, label]) => `${b[key]} ${label}`).join(", ");
  return `${from} – ${to}: ${counts}`;
}

/** The x axis' text for a bucket, or "" between labels: every 6 hours for hourly bars, each day's start for longer ones. */
function tickLabel(b: Bucket, bucketMs: number): string {
  const d = new Date(b.start);
  if (bucketMs < 6 * 3_600_000) return d.getHours() % 6 === 0 && d.getMinutes() === 0 ? format(d.getTime(), { hour: "2-digit", minute: "2-digit" }) : "";
  return d.getHours() < bucketMs / 3_600_000 && d.getMinutes() === 0 ? format(d.getTime(), { month: "short", day: "numeric" }) : "";
}

export function attemptsChart(stats: Stats): HTMLElement {
  const buckets = stats.attempts;
  const bucketMs = stats.bucket * 1000;
  const totals = SERIES.map(([key]) => buckets.reduce((n, b) => n + b[key], 0));
  const top = axisMax(Math.max(0, ...buckets.map((b) => b.success + b.http_error + b.network_error)));
  const tip = h("p", { class: "tip", "aria-hidden": "true", hidden: true });
  const bars = buckets.map((b, i) => {
    const bar = h("div", { class: "bar", role: "img", "aria-label": barLabel(b, bucketMs), tabindex: i === buckets.length - 1 ? 0 : -1 });
    for (const [key] of SERIES) {
      if (b[key] === 0) continue;
      const segment = h("span", { class: `segment ${key}` });
      // The CSSOM, not a style attribute: the page's CSP allows no inline styles.
      segment.style.height = `${(b[key] / top) * 100}%`;
      bar.append(segment);
    }
    return bar;
  });
  const plot = h(
    "div",
    {
      class: "bars",
      role: "group",
      "aria-label": `Attempts by outcome: ${SERIES.map(([, label], i) => `${totals[i]} ${label}`).join(", ")}. One bar per ${stats.bucket >= 3600 ? `${stats.bucket / 3600} h` : `${stats.bucket / 60} min`}; the arrow keys move between bars.`,
    },
    bars,
  );
  const show = (bar: HTMLElement | null) => {
    if (!bar) {
      tip.hidden = true;
      return;
    }
    tip.textContent = bar.getAttribute("aria-label");
    tip.hidden = false;
    // Centred over the bar, kept inside the chart so it never widens the page.
    const room = (tip.parentElement?.clientWidth ?? 0) - tip.offsetWidth;
    tip.style.left = `${Math.min(Math.max(0, bar.offsetLeft + bar.offsetWidth / 2 - tip.offsetWidth / 2), Math.max(0, room))}px`;
  };
  const focused = () => (bars.includes(document.activeElement as HTMLDivElement) ? (document.activeElement as HTMLElement) : null);
  plot.addEventListener("mouseover", (e) => show((e.target as HTMLElement).closest<HTMLElement>(".bar")));
  plot.addEventListener("mouseleave", () => show(focused()));
  plot.addEventListener("focusin", (e) => show(e.target as HTMLElement));
  plot.addEventListener("focusout", () => setTimeout(() => show(focused())));
  plot.addEventListener("keydown", (e) => {
    const at = bars.indexOf(e.target as HTMLDivElement);
    const to = { ArrowLeft: at - 1, ArrowRight: at + 1, Home: 0, End: bars.length - 1 }[e.key];
    const next = to === undefined ? undefined : bars[Math.min(Math.max(to, 0), bars.length - 1)];
    if (at < 0 || !next) return;
    e.preventDefault();
    bars[at]!.tabIndex = -1;
    next.tabIndex = 0;
    next.focus();
  });
  return h(
    "figure",
    { class: "chart" },
    h(
      "div",
      { class: "plot" },
      h(
        "div",
        { class: "y-axis", "aria-hidden": "true" },
        [top, top / 2, 0].map((n) => h("span", {}, n.toLocaleString())),
      ),
      plot,
      h(
        "div",
        { class: "x-axis", "aria-hidden": "true" },
        // None in the last few slots: a label there would run off the chart's right edge.
        buckets.map((b, i) => h("span", {}, i < buckets.length - 4 ? tickLabel(b, bucketMs) : "")),
      ),
      tip,
    ),
    h(
      "figcaption",
      {},
      SERIES.map(([key, label], i) => h("span", { class: "legend" }, h("span", { class: `swatch ${key}` }), `${label}: ${totals[i]}`)),
      h("span", { class: "legend" }, `Times in ${zoneName()}; hover over or focus a bar for its counts.`),
    ),
  );
}
