/** event-types set|list|show|delete — the event-type catalog, with the API's rules. */
import type { Command } from "commander";
import { validationError } from "../errors.js";
import { deleteEventType, eventTypeJson, getEventType, listEventTypes, putEventType } from "../store/eventTypes.js";
import { cliPage, readOnly, withApp } from "./context.js";
import { readInput } from "./input.js";
import { printJson, printLines, table } from "./output.js";

/** A schema file is JSON text; well past any sensible schema, small enough to hold. */
const MAX_SCHEMA_BYTES = 1024 * 1024;

async function readSchema(file: string): Promise<unknown> {
  const text = (await readInput(file, MAX_SCHEMA_BYTES, "--schema")).toString("utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw validationError([{ field: "--schema", message: `must be a file of JSON: ${(err as Error).message}` }]);
  }
}

export function registerEventTypes(program: Command): void {
  const types = program.command("event-types").description("the event-type catalog: a JSON Schema payloads of a topic must match");

  types
    .command("set")
    .argument("<topic>", "group:action, e.g. orders:created")
    .description("store (or replace) a topic's JSON Schema (draft 2020-12); publishing on it then validates payloads")
    .requiredOption("--schema <file>", "the schema, a JSON file ('-' for stdin)")
    .option("--description <text>", "what events of this topic mean")
    .action((topic: string, opts: { schema: string; description?: string }, cmd: Command) =>
      withApp(cmd, async (app, json) => {
        const schema = await readSchema(opts.schema);
        const { row, created } = await putEventType(app.store.db, topic, { schema, description: opts.description }, app.config.topics);
        if (json) printJson(eventTypeJson(row));
        else printLines([`${created ? "created" : "replaced"} event type ${topic}`]);
      }),
    );

  types
    .command("list")
    .description("list event types")
    .action((_opts, cmd: Command) =>
      withApp(
        cmd,
        async (app, json) => {
          const results = (await listEventTypes(app.store.db)).map(eventTypeJson);
          if (json) printJson(cliPage(results, results.length));
          else
            printLines([...table(results as unknown as Record<string, unknown>[], ["topic", "description", "updated_at"]), `${results.length} event type(s)`]);
        },
        readOnly,
      ),
    );

  types
    .command("show")
    .argument("<topic>")
    .description("show a topic's event type and its schema")
    .action((topic: string, _opts, cmd: Command) =>
      withApp(
        cmd,
        async (app, json) => {
          const out = eventTypeJson(await getEventType(app.store.db, topic));
          if (json) printJson(out);
          else
            printLines([`topic: ${out.topic}`, `description: ${out.description ?? "-"}`, `updated_at: ${out.updated_at}`, JSON.stringify(out.schema, null, 2)]);
        },
        readOnly,
      ),
    );

  types
    .command("delete")
    .argument("<topic>")
    .description("remove a topic's event type: its payloads are no longer validated")
    .action((topic: string, _opts, cmd: Command) =>
      withApp(cmd, async (app, json) => {
        await deleteEventType(app.store.db, topic);
        if (json) printJson({ topic, deleted: true });
        else printLines([`deleted event type ${topic}`]);
      }),
    );
}
