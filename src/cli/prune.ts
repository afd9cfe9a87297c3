/** prune: delete history older than retention.days now (serve also does it hourly). */
import type { Command } from "commander";
import { retentionCutoff } from "../pruner.js";
import { pruneBefore } from "../store/retention.js";
import { positiveInt, withApp } from "./context.js";
import { printJson, printLines } from "./output.js";

export function registerPrune(program: Command): void {
  program
    .command("prune")
    .description("delete delivered and cancelled deliveries, their attempts and their events older than retention.days")
    .option("--days <n>", "keep this many days instead of retention.days", positiveInt("--days", 36_500))
    .action((opts: { days?: number }, cmd: Command) =>
      withApp(cmd, async (app, json) => {
        const days = opts.days ?? app.config.retention.days;
        const cutoff = new Date(retentionCutoff(Date.now(), days));
        const counts = await pruneBefore(app.store.db, cutoff.getTime());
        if (json) printJson({ days, cutoff: cutoff.toISOString(), ...counts });
        else
          printLines([
            `pruned ${counts.deliveries} deliveries, ${counts.attempts} attempts and ${counts.events} events from before ${cutoff.toISOString()} (${days} days kept)`,
          ]);
      }),
    );
}
