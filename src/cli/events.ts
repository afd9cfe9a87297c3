/** publish, deliveries list|retry */
import type { Command } from "commander";
import { validationError } from "../errors.js";
import { attemptsOf, getDelivery, listDeliveries, retryDelivery, retryFailed } from "../store/deliveries.js";
import { deliveryView } from "../store/deliveryViews.js";
import { DEFAULT_LIMIT, deliveryJson, MAX_LIMIT, MAX_PAGE } from "../store/model.js";
import { publish } from "../publishing.js";
import { tracedPublish } from "../telemetry/tracing.js";
import { DELIVERY_STATUSES, type DeliveryStatus } from "../store/schema.js";
import { cliPage, oneOf, positiveInt, readOnly, withApp, customerId, requireCustomer } from "./context.js";
import { readInput } from "./input.js";
import { describeObject, printJson, printLines, table } from "./output.js";

async function readPayload(opts: { data?: string; file?: string }, maxBytes: number): Promise<string | Buffer> {
  if ((opts.data === undefined) === (opts.file === undefined)) {
    throw validationError([{ field: "--data/--file", message: "give exactly one of --data JSON or --file FILE" }]);
  }
  if (opts.data !== undefined) return opts.data;
  return readInput(opts.file, maxBytes, "--file");
}

export function registerEvents(program: Command): void {
  program
    .command("publish")
    .description("publish an event: stored, then delivered by the next tick")
    .requiredOption("--customer <id>", "the customer publishing", customerId)
    .requiredOption("--topic <topic>", "group:action, e.g. orders:created")
    .option("--data <json>", "the payload, as JSON text")
    .option("--file <file>", "read the payload from a file ('-' for stdin); sent byte for byte")
    .option("--idempotency-key <key>", "a repeated key returns the first event instead of a new one")
    .action((opts: { customer: string; topic: string; data?: string; file?: string; idempotencyKey?: string }, cmd: Command) =>
      withApp(cmd, async (app, json) => {
        await requireCustomer(app.store.db, opts.customer);
        const payload = await readPayload(opts, app.publishRules.maxPayloadBytes);
        const input = { customerId: opts.customer, topic: opts.topic, payload, idempotencyKey: opts.idempotencyKey ?? null };
        const result = await tracedPublish(app.tracing, input, (traceContext) => publish(app.store.db, input, app.publishRules, Date.now(), traceContext));
        const out = { id: result.id, topic: result.topic, deliveries: result.deliveries };
        if (json) printJson(out);
        else
          printLines([
            `${result.duplicate ? "already published (idempotency key)" : "published"} event ${result.id} (${result.topic}): ${result.deliveries} deliveries`,
          ]);
      }),
    );

  const deliveries = program.command("deliveries").description("inspect and replay deliveries");
  deliveries
    .command("list")
    .description("list deliveries, newest first, with their attempts")
    .option("--status <status>", DELIVERY_STATUSES.join(", "), oneOf("--status", DELIVERY_STATUSES))
    .option("--webhook <id>", "only this webhook's")
    .option("--customer <id>", "only this customer's", customerId)
    .option("--limit <n>", `page size (max ${MAX_LIMIT})`, positiveInt("--limit", MAX_LIMIT), DEFAULT_LIMIT)
    .option("--page <n>", "page number", positiveInt("--page", MAX_PAGE), 1)
    .action((opts: { status?: DeliveryStatus; webhook?: string; customer?: string; limit: number; page: number }, cmd: Command) =>
      withApp(
        cmd,
        async (app, json) => {
          if (opts.customer !== undefined) await requireCustomer(app.store.db, opts.customer);
          const { count, rows } = await listDeliveries(app.store.db, { status: opts.status, webhookId: opts.webhook, customerId: opts.customer }, opts);
          const attempts = await attemptsOf(
            app.store.db,
            rows.map((r) => r.id),
          );
          const view = await deliveryView(app.store.db, rows, app.config.retry.maxAttempts);
          const results = rows.map((r) => deliveryJson(r, view, attempts.get(r.id) ?? []));
          if (json) printJson(cliPage(results, count));
          else
            printLines([
              // `waiting` last: it is a sentence (domain/deliveryWait.ts), the columns before it stay aligned.
              ...table(results.map((r) => ({ ...r, last: r.last_status_code ?? r.last_error })) as unknown as Record<string, unknown>[], [
                "id",
                "webhook",
                "status",
                "attempts",
                "last",
                "next_attempt_at",
                "waiting",
              ]),
              `${count} deliveries`,
            ]);
        },
        readOnly,
      ),
    );

  deliveries
    .command("retry")
    .argument("[id]", "a failed delivery")
    .option("--failed", "every failed delivery")
    .description("put failed deliveries back in line, due now")
    .action((id: string | undefined, opts: { failed?: boolean }, cmd: Command) =>
      withApp(cmd, async (app, json) => {
        if (Boolean(id) === Boolean(opts.failed)) {
          throw validationError([{ field: "id/--failed", message: "give a delivery ID or --failed, not both" }]);
        }
        if (id) {
          const row = await retryDelivery(app.store.db, id, null);
          const out = deliveryJson(
            row,
            await deliveryView(app.store.db, [row], app.config.retry.maxAttempts),
            (await attemptsOf(app.store.db, [id])).get(id) ?? [],
          );
          if (json) printJson(out);
          else printLines([`delivery ${id} is pending again, due now`]);
          return;
        }
        const n = await retryFailed(app.store.db, null);
        if (json) printJson({ retried: n });
        else printLines([`${n} failed deliveries are pending again, due now`]);
      }),
    );

  deliveries
    .command("show")
    .argument("<id>")
    .description("show one delivery and its attempts")
    .action((id: string, _opts, cmd: Command) =>
      withApp(
        cmd,
        async (app, json) => {
          const row = await getDelivery(app.store.db, id);
          const out = deliveryJson(
            row,
            await deliveryView(app.store.db, [row], app.config.retry.maxAttempts),
            (await attemptsOf(app.store.db, [id])).get(id) ?? [],
          );
          if (json) printJson(out);
          else
            printLines([
              ...describeObject(out as unknown as Record<string, unknown>),
              ...table((out.history ?? []) as unknown as Record<string, unknown>[], ["number", "started_at", "duration_ms", "status_code", "error"]),
            ]);
        },
        readOnly,
      ),
    );
}
