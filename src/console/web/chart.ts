/** Attempts by outcome over time: stacked bars in inline SVG, with a text summary for screen readers. */
import { h, svg } from "./dom.js";
import type { Stats } from "./types.js";

const SERIES = [
  ["success", "Delivered (2xx)", "#1a7f37"],
  ["http_error", "Error status", "#b35900"],
  ["network_error", "No answer", "#b42318"],
] as const;

export function attemptsChart(stats: Stats): HTMLElement {
  const buckets = stats.attempts;
  const totals = SERIES.map(([key]) => buckets.reduce((n, b) => n + b[key], 0));
  const max = Math.max(1, ...buckets.map((b) => b.success + b.http_error + b.network_error));
  const width = 720;
  const height = 160;
  const barWidth = width / Math.max(1, buckets.length);
  const bars = buckets.map((b, i) => {
    let y = height;
    const parts = SERIES.map(([key, , colour]) => {
      const hgt = (b[key] / max) * (height - 10);
      y -= hgt;
      return svg("rect", { x: i * barWidth + 1, y, width: Math.max(1, barWidth - 2), height: hgt, fill: colour });
    });
    const label = `${new Date(b.start).toLocaleString()}: ${b.success} delivered, ${b.http_error} error status, ${b.network_error} no answer`;
    return svg("g", {}, svg("title", {}, label), ...parts);
  });
  const summary = SERIES.map(([, label], i) => `${totals[i]} ${label.toLowerCase()}`).join(", ");
  const chart = svg(
    "svg",
    { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `Attempts by outcome: ${summary}`, class: "chart", preserveAspectRatio: "none" },
    svg("line", { x1: 0, y1: height - 0.5, x2: width, y2: height - 0.5, stroke: "#8c959f" }),
    ...bars,
  );
  return h(
    "figure",
    {},
    chart,
    h(
      "figcaption",
      {},
      SERIES.map(([key, label], i) => h("span", { class: "legend" }, h("span", { class: `swatch ${key}` }), `${label}: ${totals[i]}`)),
    ),
  );
}
