/** Events: the list (filters, keyset pages) and one event with its deliveries. */
import { api, state, type Page } from "./api.js";
import { copyButton, empty, field, h, link, replace, shortId, table } from "./dom.js";
import { deliveriesTable } from "./deliveries.js";
import { counted, pager } from "./pager.js";
import type { PageContext } from "./router.js";
import { when } from "./time.js";
import type { EventJson, Webhook } from "./types.js";

export async function eventsPage(ctx: PageContext): Promise<() => Promise<void>> {
  const q = ctx.query;
  const filters = h(
    "form",
    { class: "inline", "aria-label": "Filter events" },
    field(
      "Topic",
      h(
        "select",
        { name: "topic" },
        h("option", { value: "" }, "Any"),
        (state.session?.topics ?? []).map((t) => h("option", { value: t, selected: q.get("topic") === t }, t)),
      ),
    ),
    field("Idempotency key", h("input", { type: "search", name: "idempotency_key", value: q.get("idempotency_key") ?? "" })),
    h("button", { type: "submit" }, "Apply filters"),
  );
  filters.addEventListener("submit", (e) => {
    e.preventDefault();
    const params = new URLSearchParams();
    for (const [k, v] of new FormData(filters)) if (v) params.set(k, String(v));
    void ctx.navigate(`#/events?${params}`);
  });
  const data = h("div", {});
  replace(ctx.main, ctx.heading("Events"), filters, data);
  const load = async () => {
    const params = new URLSearchParams(q);
    params.set("limit", "50");
    const page = await api.get<Page<EventJson>>(`/events/?${params}`);
    replace(
      data,
      counted(page, "events"),
      page.results.length
        ? table(
            ["Event", "Created", "Topic", "Idempotency key"],
            page.results.map((e) => [
              link(`#/events/${e.id}`, shortId(e.id), { "aria-label": `Event ${e.id}` }),
              when(e.created_at),
              e.topic,
              e.idempotency_key ?? "—",
            ]),
            "Events",
          )
        : empty(q.toString() ? "No event matches these filters." : "No events yet. Publish one with POST /events/ or hookd publish."),
      pager("events", q, page),
    );
  };
  await load();
  return load;
}

export async function eventPage(ctx: PageContext): Promise<() => Promise<void>> {
  const id = ctx.params[0]!;
  const body = h("div", {});
  replace(ctx.main, ctx.heading(`Event ${id}`), body);
  const load = async () => {
    const [e, hooks] = await Promise.all([api.get<EventJson>(`/events/${id}/`), api.get<Page<Webhook>>("/webhooks/?limit=500")]);
    const payload = JSON.stringify(e.payload, null, 2);
    const deliveries = (e.deliveries ?? []).map((d) => ({ ...d, topic: e.topic }));
    replace(
      body,
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "Topic"),
        h("dd", {}, e.topic),
        h("dt", {}, "Idempotency key"),
        h("dd", {}, e.idempotency_key ?? "—"),
        h("dt", {}, "Published"),
        h("dd", {}, when(e.created_at)),
      ),
      h(
        "section",
        { "aria-labelledby": "payload-h" },
        h("h2", { id: "payload-h" }, "Payload"),
        h("pre", { tabindex: 0, "aria-label": "Payload" }, payload),
        copyButton("Copy payload", () => payload),
      ),
      h(
        "section",
        { "aria-labelledby": "deliveries-h" },
        h("h2", { id: "deliveries-h" }, "Deliveries"),
        deliveries.length
          ? deliveriesTable(deliveries, new Map(hooks.results.map((w) => [w.id, w.url])))
          : empty("No webhook was subscribed to this topic when the event was published."),
      ),
    );
  };
  await load();
  return load;
}
