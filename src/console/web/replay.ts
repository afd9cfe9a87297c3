/** Bulk replay of failed deliveries: count first (dry run), then confirm. */
import { api, problemText } from "./api.js";
import { field, h, replace } from "./dom.js";
import type { PageContext } from "./router.js";

const LABELS = { since: "Failed since", until: "Failed until" };

/** A datetime-local value as an ISO time, or undefined. */
export function isoOf(local: string): string | undefined {
  return local ? new Date(local).toISOString() : undefined;
}

export function replayForm(ctx: PageContext, fixed: { webhook?: string; topic?: string }): HTMLElement {
  const since = h("input", { type: "datetime-local", name: "since" });
  const until = h("input", { type: "datetime-local", name: "until" });
  const out = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "inline" },
    field("Failed since", since),
    field("Failed until", until),
    h("button", { type: "submit", class: "secondary" }, "Count failed deliveries"),
  );
  const filter = () => ({ ...fixed, since: isoOf(since.value), until: isoOf(until.value) });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const body = filter();
      const { count } = await api.post<{ count: number }>("/deliveries/retry/", { ...body, dry_run: true });
      if (count === 0) {
        replace(out, h("p", {}, "No failed deliveries match: nothing to replay."));
        return;
      }
      const confirm = h("button", { type: "button", class: "danger" }, `Replay ${count} failed deliveries`);
      confirm.addEventListener("click", async () => {
        try {
          const done = await api.post<{ count: number }>("/deliveries/retry/", body);
          replace(out, h("p", { role: "status" }, `${done.count} deliveries are back in line; the next tick sends them.`));
          ctx.announce(`${done.count} deliveries replayed.`);
        } catch (err) {
          replace(out, h("p", { role: "alert" }, problemText(err, LABELS, ["since", "until"])));
        }
      });
      replace(out, h("p", {}, `${count} failed deliveries match. `, confirm));
      confirm.focus();
    } catch (err) {
      replace(out, h("p", { role: "alert" }, problemText(err, LABELS, ["since", "until"])));
    }
  });
  return h("div", {}, form, out);
}
