/** migrate, customers create, keys create */
import type { Command } from "commander";
import { notFound } from "../errors.js";
import { validationError } from "../errors.js";
import { createApiKey, revokeApiKey } from "../store/apiKeys.js";
import { createCustomer, MAX_WEIGHT, setCustomerWeight } from "../store/customers.js";
import { migrateToLatest } from "../store/migrate.js";
import { resealSecrets } from "../store/reseal.js";
import { customerId, requireCustomer, withApp } from "./context.js";
import { describeObject, printJson, printLines } from "./output.js";
import { whole } from "./webhookSettingsFlags.js";

export function registerAdmin(program: Command): void {
  program
    .command("migrate")
    .description("bring the database schema up to date")
    .action((_opts, cmd: Command) =>
      withApp(
        cmd,
        async (app, json) => {
          const result = await migrateToLatest(app.store.db);
          // Secrets stored in clear by a hookd from before they were sealed; sealed ones are left alone.
          const sealed = await resealSecrets(app.store.db, app.keyring, "plaintext");
          if (json) printJson({ database: app.store.location, ...result, secrets_encrypted: sealed.fromPlaintext });
          else
            printLines([
              `database ${app.store.location} is at ${result.current}${result.applied.length ? ` (applied ${result.applied.join(", ")})` : " (up to date)"}`,
              ...(sealed.fromPlaintext > 0 ? [`encrypted ${sealed.fromPlaintext} secret(s) stored in clear, under key "${sealed.key}"`] : []),
            ]);
        },
        { schema: "open" },
      ),
    );

  const customers = program.command("customers").description("manage customers (tenants)");
  customers
    .command("create")
    .argument("<name>", "the customer's name")
    .description("create a customer and its first API key")
    .option("--weight <n>", `its share of a tick's slots against other customers with due work (1-${MAX_WEIGHT}, default 1)`, whole("--weight"))
    .action((name: string, opts: { weight?: number }, cmd: Command) =>
      withApp(cmd, async (app, json) => {
        const customer = await createCustomer(app.store.db, name, Date.now(), opts.weight ?? 1);
        const key = await createApiKey(app.store.db, customer.id);
        const out = {
          id: customer.id,
          name: customer.name,
          weight: customer.weight,
          created_at: new Date(customer.created_at).toISOString(),
          api_key: key.key,
        };
        if (json) printJson(out);
        else printLines([...describeObject(out), "(the API key is shown only once: store it now)"]);
      }),
    );

  customers
    .command("update")
    .argument("<id>", "the customer's id", customerId)
    .description("change a customer's weight: its share of a tick's slots against other customers with due work")
    .requiredOption("--weight <n>", `1-${MAX_WEIGHT}`, whole("--weight"))
    .action((id: string, opts: { weight: number }, cmd: Command) =>
      withApp(cmd, async (app, json) => {
        if (!(await setCustomerWeight(app.store.db, id, opts.weight))) throw notFound("customer", id);
        const out = { id, weight: opts.weight };
        if (json) printJson(out);
        else printLines(describeObject(out));
      }),
    );

  const keys = program.command("keys").description("manage API keys");
  keys
    .command("create")
    .description("create an API key: --admin, or --customer ID")
    .option("--admin", "an admin key (acts for any customer)")
    .option("--customer <id>", "a key for this customer", customerId)
    .action((opts: { admin?: boolean; customer?: string }, cmd: Command) =>
      withApp(cmd, async (app, json) => {
        if (Boolean(opts.admin) === Boolean(opts.customer)) {
          throw validationError([{ field: "--admin/--customer", message: "give exactly one of --admin or --customer ID" }]);
        }
        if (opts.customer) await requireCustomer(app.store.db, opts.customer);
        const key = await createApiKey(app.store.db, opts.customer ?? null);
        // api_key, as `customers create` names it.
        const out = {
          id: key.id,
          customer: key.customerId,
          admin: key.customerId === null,
          api_key: key.key,
          created_at: new Date(key.createdAt).toISOString(),
        };
        if (json) printJson(out);
        else printLines([...describeObject(out), "(the key is shown only once: store it now)"]);
      }),
    );
  keys
    .command("revoke")
    .description(
      "revoke an API key by its id: every process serving the API refuses it from the next request, and the console sessions and portal links it opened end with it",
    )
    .argument("<id>", "the key's id, as keys create printed it")
    .action((id: string, _opts: unknown, cmd: Command) =>
      withApp(cmd, async (app, json) => {
        if (!(await revokeApiKey(app.store.db, id))) throw notFound("API key", id);
        const out = { id, revoked: true };
        if (json) printJson(out);
        else printLines(describeObject(out));
      }),
    );
}
