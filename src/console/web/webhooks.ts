/** Webhooks: the list with each one's health, create and edit, and one webhook's page with its actions. */
import { ApiError, api, problemText, state, type Page } from "./api.js";
import { badge, copyButton, empty, h, link, replace, table } from "./dom.js";
import { deliveriesTable } from "./deliveries.js";
import { FieldErrors } from "./fieldErrors.js";
import { replayForm } from "./replay.js";
import type { PageContext } from "./router.js";
import { settingsForm } from "./settingsForm.js";
import { clockTime, when } from "./time.js";
import type { Delivery, Stats, TestAttempt, Webhook, WebhookStats } from "./types.js";

/** The API's field names as the webhook forms label them. */
const LABELS = { url: "Receiver URL", group: "Topic", action: "Topic", hash_secret: "Signing secret", active: "Enabled" };

const pct = (r: number | null) => (r === null ? "—" : `${Math.round(r * 1000) / 10}%`);
const ms = (n: number | null) => (n === null ? "—" : `${n} ms`);

function health(w: WebhookStats | undefined, active: boolean): HTMLElement {
  if (w?.disabled_reason) return badge(`disabled by hookd: ${w.disabled_reason}`, "failed");
  if (!active) return badge("disabled", "cancelled");
  if (w?.backoff_until) return badge(`backing off until ${clockTime(Date.parse(w.backoff_until))}`, "pending");
  if (w?.failing_since) return badge("failing", "failed");
  return badge("enabled", "delivered");
}

export async function webhooksPage(ctx: PageContext): Promise<() => Promise<void>> {
  const data = h("div", {});
  replace(ctx.main, ctx.heading("Webhooks"), h("p", {}, link("#/webhooks/new", "New webhook", { class: "button" })), data);
  const load = async () => {
    const [list, stats] = await Promise.all([api.get<Page<Webhook>>("/webhooks/?limit=500"), api.get<Stats>("/stats/")]);
    const byId = new Map(stats.webhooks.map((w) => [w.id, w]));
    replace(
      data,
      list.results.length === 0
        ? empty("No webhooks yet. Create one to have hookd deliver this customer's events to a URL.", link("#/webhooks/new", "Create a webhook"))
        : table(
            ["URL", "Topic", "State", "Success (24 h)", "p50", "p95", "Failures in a row"],
            list.results.map((w) => {
              const s = byId.get(w.id);
              return [
                link(`#/webhooks/${w.id}`, w.url),
                w.topic,
                health(s, w.active),
                pct(s?.success_rate ?? null),
                ms(s?.p50_ms ?? null),
                ms(s?.p95_ms ?? null),
                String(s?.consecutive_failures ?? 0),
              ];
            }),
            "Webhooks",
          ),
    );
  };
  await load();
  return load;
}

/** whsec_ + 32 random bytes in base64, as the API generates on rotation. */
function newSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `whsec_${btoa(String.fromCharCode(...bytes))}`;
}

/** A secret shown once, with a copy button and what to do with it. */
function secretOnce(secret: string, note: Node | string): HTMLElement {
  return h(
    "div",
    { class: "notice", role: "status" },
    h("p", {}, note),
    h(
      "p",
      {},
      h("code", { class: "secret" }, secret),
      " ",
      copyButton("Copy secret", () => secret),
    ),
    h("p", {}, h("small", {}, "This is the only time the secret is shown. Put it in the receiver's configuration now.")),
  );
}

/** The webhook's own fields, each with its error line; the API's group and action are the topic. */
function webhookFields(errors: FieldErrors, url: HTMLInputElement, topic: HTMLSelectElement, topicHint?: string) {
  const fields = [errors.field("url", "Receiver URL", url), errors.field("group", "Topic", topic, topicHint)];
  errors.also("action", "group");
  return fields;
}

/** A refused save: each problem by its field, and all of them in the form's alert, under the form's labels. */
function refused(err: unknown, errors: FieldErrors, alert: HTMLElement): void {
  const labels = err instanceof ApiError ? errors.show(err.details) : {};
  if (!(err instanceof ApiError)) errors.clear();
  replace(alert, problemText(err, { ...LABELS, ...labels }));
}

function topicSelect(current?: string): HTMLSelectElement {
  return h(
    "select",
    { name: "topic", required: true },
    (state.session?.topics ?? []).map((t) => h("option", { value: t, selected: t === current }, t)),
  );
}

export async function webhookFormPage(ctx: PageContext): Promise<void> {
  const url = h("input", { name: "url", type: "url", required: true, placeholder: "https://example.com/webhooks" });
  const topic = topicSelect();
  const secret = h("input", { name: "secret", type: "text", autocomplete: "off", value: newSecret() });
  const error = h("div", { role: "alert" });
  const errors = new FieldErrors();
  const settings = settingsForm(errors, null, false);
  const form = h(
    "form",
    { class: "stack" },
    webhookFields(errors, url, topic, "One topic per webhook: create one webhook per topic."),
    errors.field("hash_secret", "Signing secret", secret, "Generated for you; leave empty to send unsigned requests."),
    settings.element,
    error,
    h("button", { type: "submit" }, "Create webhook"),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const [group, action] = topic.value.split(":");
    try {
      const body = { url: url.value, group, action, hash_secret: secret.value || null, ...settings.body() };
      const made = await api.create<Webhook>("/webhooks/", body);
      await ctx.navigate(`#/webhooks/${made.id}`);
      if (made.hash_secret) ctx.main.querySelector("h1")!.after(secretOnce(made.hash_secret, "Webhook created. Its signing secret:"));
    } catch (err) {
      refused(err, errors, error);
    }
  });
  replace(ctx.main, ctx.heading("New webhook"), form);
}

export async function webhookPage(ctx: PageContext): Promise<() => Promise<void>> {
  const id = ctx.params[0]!;
  const [hook, stats] = await Promise.all([api.get<Webhook>(`/webhooks/${id}/`), api.get<Stats>("/stats/")]);
  const s = stats.webhooks.find((w) => w.id === id);
  const out = h("div", { "aria-live": "polite" });
  const recent = h("div", {});

  const act = (label: string, run: () => Promise<void>, cls = "secondary") => {
    const b = h("button", { type: "button", class: cls }, label);
    b.addEventListener("click", async () => {
      b.disabled = true;
      try {
        await run();
      } catch (err) {
        replace(out, h("p", { role: "alert" }, problemText(err, LABELS)));
      } finally {
        b.disabled = false;
      }
    });
    return b;
  };

  const toggle = act(hook.active ? "Disable" : "Enable", async () => {
    await api.patch(`/webhooks/${id}/`, { active: !hook.active });
    await ctx.navigate(`#/webhooks/${id}`, true);
  });
  const test = act("Send a test", async () => {
    replace(out, h("p", {}, "Sending…"));
    const a = await api.post<TestAttempt>(`/webhooks/${id}/test/`);
    replace(
      out,
      h(
        "div",
        { class: "notice" },
        h("p", {}, a.ok ? badge("test delivered", "delivered") : badge("test failed", "failed"), ` ${a.status_code ?? a.error ?? ""} in ${a.duration_ms} ms`),
        a.error_message ? h("p", {}, a.error_message) : null,
        a.response_body ? h("pre", {}, a.response_body) : null,
      ),
    );
  });
  const rotate = act("Rotate secret", async () => {
    const rotated = await api.post<Webhook>(`/webhooks/${id}/rotate-secret/`, {});
    replace(
      out,
      secretOnce(
        rotated.hash_secret ?? "",
        h(
          "span",
          {},
          "New secret in use. The previous one stays valid until ",
          when(rotated.previous_secret_expires_at ?? null),
          ", so receivers can switch without a failed delivery.",
        ),
      ),
    );
  });
  const confirmBox = h("div", {});
  const del = act(
    "Delete",
    async () => {
      const yes = h("button", { type: "button", class: "danger" }, "Yes, delete this webhook");
      const no = h("button", { type: "button", class: "secondary" }, "Cancel");
      yes.addEventListener("click", async () => {
        try {
          await api.del(`/webhooks/${id}/`);
          await ctx.navigate("#/webhooks");
          ctx.announce("Webhook deleted; its pending deliveries were cancelled.");
        } catch (err) {
          replace(confirmBox, h("p", { role: "alert" }, problemText(err)));
        }
      });
      no.addEventListener("click", () => {
        replace(confirmBox);
        del.focus();
      });
      replace(
        confirmBox,
        h(
          "div",
          { class: "notice", role: "group", "aria-label": "Confirm deletion" },
          h("p", {}, "Delete this webhook? Its pending deliveries are cancelled; its history is kept."),
          yes,
          " ",
          no,
        ),
      );
      yes.focus();
    },
    "danger",
  );

  // Edit: URL, topic and every delivery setting.
  const url = h("input", { name: "url", type: "url", required: true, value: hook.url });
  const topic = topicSelect(hook.topic);
  const editError = h("div", { role: "alert" });
  const errors = new FieldErrors();
  const settings = settingsForm(errors, hook, true);
  const edit = h("form", { class: "stack" }, webhookFields(errors, url, topic), settings.element, editError, h("button", { type: "submit" }, "Save changes"));
  edit.addEventListener("submit", async (e) => {
    e.preventDefault();
    const [group, action] = topic.value.split(":");
    ctx.announce(""); // a "Saved." from before must not answer for this save
    try {
      await api.patch(`/webhooks/${id}/`, { url: url.value, group, action, ...settings.body() });
      await ctx.navigate(`#/webhooks/${id}`, true);
      ctx.announce("Saved.");
    } catch (err) {
      refused(err, errors, editError);
    }
  });

  replace(
    ctx.main,
    ctx.heading(hook.url),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Topic"),
      h("dd", {}, hook.topic),
      h("dt", {}, "State"),
      h("dd", {}, health(s, hook.active)),
      h("dt", {}, "Success rate (24 h)"),
      h("dd", {}, `${pct(s?.success_rate ?? null)} of ${s?.attempts ?? 0} attempts`),
      h("dt", {}, "Latency p50 / p95"),
      h("dd", {}, `${ms(s?.p50_ms ?? null)} / ${ms(s?.p95_ms ?? null)}`),
      h("dt", {}, "Circuit breaker"),
      h("dd", {}, hook.breaker.description),
      h("dt", {}, "Failures in a row"),
      h("dd", {}, String(s?.consecutive_failures ?? 0)),
      h("dt", {}, "Backing off until"),
      h("dd", {}, when(s?.backoff_until)),
      h("dt", {}, "Last error"),
      h("dd", {}, s?.last_error ?? "—"),
      h("dt", {}, "Created"),
      h("dd", {}, when(hook.created_at)),
    ),
    h("div", { class: "toolbar" }, toggle, test, rotate, del),
    confirmBox,
    out,
    h("section", { "aria-labelledby": "edit-h" }, h("h2", { id: "edit-h" }, "Edit"), edit),
    h(
      "section",
      { "aria-labelledby": "recent-h" },
      h("h2", { id: "recent-h" }, "Recent deliveries"),
      recent,
      link(`#/deliveries?webhook=${id}`, "All deliveries of this webhook"),
    ),
    h("section", { "aria-labelledby": "replay-h" }, h("h2", { id: "replay-h" }, "Replay failed deliveries"), replayForm(ctx, { webhook: id })),
  );
  const load = async () => {
    const page = await api.get<Page<Delivery>>(`/deliveries/?webhook=${id}&limit=10`);
    replace(
      recent,
      page.results.length
        ? deliveriesTable(page.results, new Map([[id, hook.url]]))
        : empty("No deliveries yet. Publish an event on this topic, or send a test above."),
    );
  };
  await load();
  return load;
}
