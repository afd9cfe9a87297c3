/** Deliveries: the log (filters, search, keyset pages, bulk replay) and one delivery's page. */
import { api, ApiError, problemText, state, type Page } from "./api.js";
import { badge, copyButton, empty, field, h, link, replace, shortId, table } from "./dom.js";
import { isoOf, replayForm } from "./replay.js";
import { counted, pager } from "./pager.js";
import type { PageContext } from "./router.js";
import { when } from "./time.js";
import type { Delivery, DeliveryDetail, EventJson, Webhook } from "./types.js";

/** A short, readable outcome: the status code, or the error class. */
export function outcome(d: { last_status_code: number | null; last_error: string | null }): string {
  return d.last_status_code !== null ? `HTTP ${d.last_status_code}` : (d.last_error ?? "—");
}

/**
 * When a pending delivery will really be tried, and why, in the API's words
 * (`waiting`, from domain/deliveryWait.ts: the one place that wording lives).
 */
export function nextAttempt(d: Delivery): HTMLElement | string {
  if (d.status !== "pending") return "—";
  return h(
    "span",
    { class: "waiting" },
    d.next_attempt_at ? when(d.next_attempt_at) : "not until the webhook is enabled",
    d.waiting ? h("small", {}, d.waiting) : null,
  );
}

export function deliveriesTable(rows: Delivery[], urls: Map<string, string>): HTMLElement {
  return table(
    ["Delivery", "Created", "Status", "Topic", "Webhook", "Attempts", "Last result", "Next attempt"],
    rows.map((d) => [
      link(`#/deliveries/${d.id}`, shortId(d.id), { "aria-label": `Delivery ${d.id}` }),
      when(d.created_at),
      badge(d.status),
      d.topic ?? "—",
      link(`#/webhooks/${d.webhook}`, urls.get(d.webhook) ?? shortId(d.webhook)),
      String(d.attempts),
      outcome(d),
      nextAttempt(d),
    ]),
    "Deliveries",
  );
}

const FILTER_LABELS = { status: "Status", topic: "Topic", webhook: "Webhook", since: "Since", until: "Until" };

/** Search by delivery id, event id or idempotency key: the first that exists. */
async function search(ctx: PageContext, text: string, out: HTMLElement): Promise<void> {
  const q = text.trim();
  if (!q) return;
  const tryGet = async <T>(path: string): Promise<T | null> => {
    try {
      return await api.get<T>(path);
    } catch {
      return null;
    }
  };
  if (await tryGet(`/deliveries/${encodeURIComponent(q)}/`)) return ctx.navigate(`#/deliveries/${encodeURIComponent(q)}`);
  if (await tryGet(`/events/${encodeURIComponent(q)}/`)) return ctx.navigate(`#/events/${encodeURIComponent(q)}`);
  const byKey = await tryGet<Page<EventJson>>(`/events/?idempotency_key=${encodeURIComponent(q)}`);
  if (byKey?.results[0]) return ctx.navigate(`#/events/${byKey.results[0].id}`);
  replace(out, h("p", { role: "alert" }, `No delivery, event or idempotency key ${JSON.stringify(q)} for this customer.`));
}

export async function deliveriesPage(ctx: PageContext): Promise<() => Promise<void>> {
  const q = ctx.query;
  const hooks = await api.get<Page<Webhook>>("/webhooks/?limit=500");
  const urls = new Map(hooks.results.map((w) => [w.id, w.url]));
  const select = (name: string, label: string, options: [string, string][]) =>
    field(
      label,
      h(
        "select",
        { name },
        h("option", { value: "" }, "Any"),
        options.map(([v, t]) => h("option", { value: v, selected: q.get(name) === v }, t)),
      ),
    );
  const localOf = (iso: string | null) => (iso ? new Date(Date.parse(iso) - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 16) : "");
  const filters = h(
    "form",
    { class: "inline", "aria-label": "Filter deliveries" },
    select(
      "status",
      "Status",
      ["pending", "delivered", "failed", "cancelled"].map((s) => [s, s]),
    ),
    select(
      "topic",
      "Topic",
      (state.session?.topics ?? []).map((t) => [t, t]),
    ),
    select(
      "webhook",
      "Webhook",
      hooks.results.map((w) => [w.id, w.url]),
    ),
    field("Since", h("input", { type: "datetime-local", name: "since", value: localOf(q.get("since")) })),
    field("Until", h("input", { type: "datetime-local", name: "until", value: localOf(q.get("until")) })),
    h("button", { type: "submit" }, "Apply filters"),
  );
  filters.addEventListener("submit", (e) => {
    e.preventDefault();
    const params = new URLSearchParams();
    for (const [k, v] of new FormData(filters)) {
      const value = k === "since" || k === "until" ? isoOf(String(v)) : String(v);
      if (value) params.set(k, value);
    }
    void ctx.navigate(`#/deliveries?${params}`);
  });
  const searchOut = h("div", {});
  const box = h("input", { type: "search", name: "q", placeholder: "delivery id, event id or idempotency key" });
  const searchForm = h(
    "form",
    { class: "inline search", role: "search" },
    field("Find a delivery or event", box),
    h("button", { type: "submit", class: "secondary" }, "Search"),
  );
  searchForm.addEventListener("submit", (e) => {
    e.preventDefault();
    void search(ctx, box.value, searchOut);
  });
  const data = h("div", {});
  const replayFilter = { webhook: q.get("webhook") ?? undefined, topic: q.get("topic") ?? undefined };
  replace(
    ctx.main,
    ctx.heading("Deliveries"),
    searchForm,
    searchOut,
    filters,
    data,
    h(
      "section",
      { "aria-labelledby": "replay-h" },
      h("h2", { id: "replay-h" }, "Replay failed deliveries"),
      h("p", {}, "Puts the failed deliveries matching the webhook and topic filters back in line, due now."),
      replayForm(ctx, replayFilter),
    ),
  );
  const load = async () => {
    const params = new URLSearchParams(q);
    params.set("limit", "50");
    let page: Page<Delivery>;
    try {
      page = await api.get<Page<Delivery>>(`/deliveries/?${params}`);
    } catch (err) {
      // Filters the API refuses (a range that ends before it starts): say why beside the form, keep it.
      if (!(err instanceof ApiError) || err.status !== 400) throw err;
      replace(data, h("p", { role: "alert" }, problemText(err, FILTER_LABELS, ["since", "until"])));
      return;
    }
    replace(
      data,
      counted(page, "deliveries"),
      page.results.length
        ? deliveriesTable(page.results, urls)
        : empty(
            q.toString()
              ? "No delivery matches these filters. Widen the time range or clear a filter."
              : "No deliveries yet. Create a webhook, then publish an event on its topic (POST /events/).",
            link("#/webhooks/new", "Create a webhook"),
          ),
      pager("deliveries", q, page),
    );
  };
  await load();
  return load;
}

function pretty(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

export async function deliveryPage(ctx: PageContext): Promise<() => Promise<void>> {
  const id = ctx.params[0]!;
  const body = h("div", {});
  replace(ctx.main, ctx.heading(`Delivery ${id}`), body);
  const load = async () => {
    const d = await api.get<DeliveryDetail>(`/deliveries/${id}/`);
    const out = h("div", { "aria-live": "polite" });
    const retry = h("button", { type: "button" }, "Retry now");
    retry.addEventListener("click", async () => {
      try {
        await api.post(`/deliveries/${id}/retry/`);
        await load();
        ctx.announce("The delivery is back in line, due now; the next tick sends it.");
      } catch (err) {
        replace(out, h("p", { role: "alert" }, problemText(err)));
      }
    });
    const payload = pretty(d.payload);
    const attempts = d.history ?? [];
    replace(
      body,
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "Status"),
        h("dd", {}, badge(d.status)),
        h("dt", {}, "Topic"),
        h("dd", {}, d.topic ?? "—"),
        h("dt", {}, "Webhook"),
        h("dd", {}, link(`#/webhooks/${d.webhook}`, d.url)),
        h("dt", {}, "Event"),
        h("dd", {}, link(`#/events/${d.event}`, d.event)),
        h("dt", {}, "Attempts"),
        h("dd", {}, String(d.attempts)),
        h("dt", {}, "Next attempt"),
        h("dd", {}, nextAttempt(d)),
        h("dt", {}, "Created"),
        h("dd", {}, when(d.created_at)),
      ),
      d.status === "failed" ? h("p", {}, retry) : null,
      out,
      h(
        "section",
        { "aria-labelledby": "payload-h" },
        h("h2", { id: "payload-h" }, "Payload"),
        h("pre", { tabindex: 0, "aria-label": "Payload" }, payload),
        copyButton("Copy payload", () => d.payload),
      ),
      h(
        "section",
        { "aria-labelledby": "headers-h" },
        h("h2", { id: "headers-h" }, "Headers sent"),
        d.request_headers
          ? table(
              ["Header", "Value"],
              Object.entries(d.request_headers).map(([k, v]) => [k, v]),
              "Headers sent",
            )
          : empty("Not sent yet."),
      ),
      h(
        "section",
        { "aria-labelledby": "attempts-h" },
        h("h2", { id: "attempts-h" }, "Attempts"),
        attempts.length
          ? table(
              ["#", "Started", "Duration", "Result", "Detail", "Response"],
              attempts.map((a) => [
                String(a.number),
                when(a.started_at),
                `${a.duration_ms} ms`,
                a.status_code !== null ? `HTTP ${a.status_code}` : (a.error ?? "—"),
                a.error_message ?? "",
                a.response_body ? h("pre", { class: "excerpt", tabindex: 0, "aria-label": `Response to attempt ${a.number}` }, a.response_body) : "",
              ]),
              "Attempts",
            )
          : empty(d.status === "pending" ? "No attempt yet: see “Next attempt” above for when and why." : "No attempts."),
      ),
    );
  };
  await load();
  return load;
}
