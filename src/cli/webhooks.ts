/** webhooks list|show|create|update|delete|rotate-secret — the same rules as the API. */
import type { Command } from "commander";
import { validationError } from "../errors.js";
import { DEFAULT_LIMIT, MAX_LIMIT, MAX_PAGE, webhookJson } from "../store/model.js";
import { MAX_OVERLAP_SECONDS, rotateSecret } from "../store/rotation.js";
import { createWebhook, deleteWebhook, getWebhook, listWebhooks, updateWebhook, WEBHOOK_SORTS, type WebhookSort } from "../store/webhooks.js";
import type { WebhookInput } from "../domain/webhookInput.js";
import { bool, cliPage, oneOf, positiveInt, readOnly, wholeNumber, withApp, customerId, requireCustomer } from "./context.js";
import { describeObject, printJson, printLines, table } from "./output.js";
import { settingsInput, settingsOptions, type SettingsFlags } from "./webhookSettingsFlags.js";
import type { WebhookJson } from "../store/model.js";

/** key: value lines, settings that are lists or objects as compact JSON. */
function describeWebhook(out: WebhookJson): string[] {
  const nested = Object.entries(out).filter(([, v]) => v !== null && typeof v === "object");
  return [...describeObject(out as unknown as Record<string, unknown>), ...nested.map(([k, v]) => `${k}: ${JSON.stringify(v)}`)];
}

export function registerWebhooks(program: Command): void {
  const webhooks = program.command("webhooks").description("manage webhooks (subscriptions)");

  webhooks
    .command("list")
    .description("list webhooks")
    .option("--customer <id>", "only this customer's", customerId)
    .option("--limit <n>", `page size (max ${MAX_LIMIT})`, positiveInt("--limit", MAX_LIMIT), DEFAULT_LIMIT)
    .option("--page <n>", "page number", positiveInt("--page", MAX_PAGE), 1)
    .option("--sort <field>", `one of ${WEBHOOK_SORTS.join(", ")}`, oneOf("--sort", WEBHOOK_SORTS), "created_at")
    .option("--direction <dir>", "asc or desc", oneOf("--direction", ["asc", "desc"] as const), "desc")
    .action((opts: { customer?: string; limit: number; page: number; sort: WebhookSort; direction: "asc" | "desc" }, cmd: Command) =>
      withApp(
        cmd,
        async (app, json) => {
          if (opts.customer !== undefined) await requireCustomer(app.store.db, opts.customer);
          const { count, rows } = await listWebhooks(app.store.db, opts.customer ?? null, opts);
          const results = rows.map((r) => webhookJson(r, app.keyring));
          if (json) printJson(cliPage(results, count));
          else printLines([...table(results as unknown as Record<string, unknown>[], ["id", "customer", "topic", "active", "url"]), `${count} webhook(s)`]);
        },
        readOnly,
      ),
    );

  webhooks
    .command("show")
    .argument("<id>")
    .description("show one webhook")
    .action((id: string, _opts, cmd: Command) =>
      withApp(
        cmd,
        async (app, json) => {
          const out = webhookJson(await getWebhook(app.store.db, id), app.keyring);
          if (json) printJson(out);
          else printLines(describeWebhook(out));
        },
        readOnly,
      ),
    );

  settingsOptions(
    webhooks
      .command("create")
      .description("subscribe a URL to a topic")
      .requiredOption("--customer <id>", "the customer it belongs to", customerId)
      .requiredOption("--url <url>", "where to POST")
      .requiredOption("--group <group>", "topic group, e.g. orders")
      .requiredOption("--action <action>", "topic action, e.g. created")
      .option("--secret <secret>", "signing secret (X-Signature); unsigned without one"),
    false,
  ).action((opts: { customer: string; url: string; group: string; action: string; secret?: string } & SettingsFlags, cmd: Command) =>
    withApp(cmd, async (app, json) => {
      const input: WebhookInput = { url: opts.url, group: opts.group, action: opts.action, hash_secret: opts.secret ?? null, ...settingsInput(opts) };
      await requireCustomer(app.store.db, opts.customer);
      const { row, secret } = await createWebhook(app.store.db, app.keyring, opts.customer, input, app.webhookRules);
      const out = webhookJson(row, app.keyring, { secret });
      if (json) printJson(out);
      else printLines(describeWebhook(out).filter((l) => !l.startsWith("hash_secret")));
    }),
  );

  settingsOptions(
    webhooks
      .command("update")
      .argument("<id>")
      .description("change a webhook")
      .option("--url <url>")
      .option("--group <group>")
      .option("--action <action>")
      .option("--secret <secret>", "new signing secret ('' removes it)")
      .option("--active <bool>", "true or false", bool("--active")),
    true,
  ).action((id: string, opts: { url?: string; group?: string; action?: string; secret?: string; active?: boolean } & SettingsFlags, cmd: Command) =>
    withApp(cmd, async (app, json) => {
      const input: WebhookInput = {
        url: opts.url,
        group: opts.group,
        action: opts.action,
        hash_secret: opts.secret,
        active: opts.active,
        ...settingsInput(opts),
      };
      if (Object.values(input).every((v) => v === undefined)) {
        throw validationError([
          { field: "options", message: "give at least one of --url, --group, --action, --secret, --active, a setting's flag or --reset" },
        ]);
      }
      const out = webhookJson(await updateWebhook(app.store.db, app.keyring, id, null, input, app.webhookRules), app.keyring);
      if (json) printJson(out);
      else printLines(describeWebhook(out));
    }),
  );

  webhooks
    .command("rotate-secret")
    .argument("<id>")
    .description("make a new secret current; the previous ones keep signing for the overlap")
    .option("--secret <secret>", "the new secret (default: whsec_ + 32 random bytes in base64)")
    .option(
      "--overlap <seconds>",
      "how long the previous secrets stay valid (0 retires them now; default security.secretRotationOverlapSeconds)",
      wholeNumber("--overlap", 0, MAX_OVERLAP_SECONDS, " of seconds"),
    )
    .action((id: string, opts: { secret?: string; overlap?: number }, cmd: Command) =>
      withApp(cmd, async (app, json) => {
        const input = { hash_secret: opts.secret, overlap_seconds: opts.overlap };
        const { row, secret } = await rotateSecret(app.store.db, app.keyring, id, null, input, app.config.security.secretRotationOverlapSeconds);
        const out = webhookJson(row, app.keyring, { secret });
        if (json) printJson(out);
        else
          printLines([
            ...describeWebhook(out),
            secret === null ? "the new public_key is in effect" : "the new hash_secret is shown only this once: store it now",
          ]);
      }),
    );

  webhooks
    .command("delete")
    .argument("<id>")
    .description("delete a webhook; its pending deliveries are cancelled")
    .action((id: string, _opts, cmd: Command) =>
      withApp(cmd, async (app, json) => {
        await deleteWebhook(app.store.db, id, null);
        if (json) printJson({ id, deleted: true });
        else printLines([`deleted webhook ${id}`]);
      }),
    );
}
