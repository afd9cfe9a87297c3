/** tick, serve */
import type { Command } from "commander";
import { Pruner } from "../pruner.js";
import { oneOf, withApp } from "./context.js";
import { printJson, printLines, printError } from "./output.js";
import { tickProgressBar } from "./progress.js";
import { onTermination } from "./signals.js";

const SERVE_ROLES = ["api", "dispatch", "all"] as const;
type ServeRole = (typeof SERVE_ROLES)[number];

export function registerDispatch(program: Command): void {
  program
    .command("tick")
    .description("one dispatch pass now: send everything due, then print a summary")
    .action((_opts, cmd: Command) =>
      withApp(cmd, async (app, json) => {
        const stop = new AbortController();
        const dispose = onTermination((signal) => {
          app.logger.info({ signal }, "stopping: no more claims, draining in-flight attempts");
          stop.abort();
        });
        const bar = json ? null : tickProgressBar();
        try {
          const summary = await app.dispatcher.tick({ signal: stop.signal, onProgress: bar?.update });
          bar?.stop();
          if (json) printJson(summary);
          else
            printLines([
              `delivered ${summary.delivered}, failed ${summary.failed}, rescheduled ${summary.rescheduled}, deferred ${summary.deferred} (${summary.claimed} claimed in ${summary.duration_ms} ms)${summary.interrupted ? " — interrupted" : ""}`,
            ]);
          if (summary.error) {
            printError(`hookd: ${summary.error}`);
            process.exitCode = 1;
          }
        } finally {
          bar?.stop();
          dispose();
        }
      }),
    );

  program
    .command("serve")
    .description("the daemon: the HTTP API and the dispatch schedule")
    .option(
      "--role <role>",
      "api: only the HTTP API; dispatch: only the schedule (ticks, retention), its port answering GET /healthz and /metrics; all: both",
      oneOf("--role", SERVE_ROLES),
      "all",
    )
    .action((opts: { role: ServeRole }, cmd: Command) =>
      withApp(
        cmd,
        async (app) => {
          const api = opts.role !== "dispatch";
          const dispatch = opts.role !== "api";
          // Loaded here, not at the top: the HTTP framework, metrics and cron are only
          // the daemon's, and every other command starts faster and smaller without them.
          const [{ startServer }, { Scheduler }] = await Promise.all([import("../api/server.js"), import("../dispatch/scheduler.js")]);
          const scheduler = dispatch ? new Scheduler(app.dispatcher, app.config.dispatch.schedule, app.logger, app.health) : null;
          // Listening first: a port in use stops start-up before anything is scheduled. A
          // dispatcher alone still answers its health check and metrics there.
          const server = await startServer(app, api ? "api" : "health");
          const stopped = new Promise<void>((resolve) => {
            onTermination((signal) => {
              app.logger.info({ signal }, "shutting down");
              // The API stops accepting and finishes its requests while the tick drains.
              void Promise.allSettled([server.close(), scheduler?.stop()]).then(() => resolve());
            });
          });
          scheduler?.start();
          // Retention is background work: it runs where ticks run.
          const pruner = dispatch ? new Pruner(app.store.db, app.config.retention.days, app.logger, app.health) : null;
          pruner?.start();
          const listening = api ? { api: server.url } : { health: `${server.url}/healthz`, metrics: `${server.url}/metrics` };
          app.logger.info({ env: app.config.env, database: app.store.location, role: opts.role, ...listening }, "hookd serving");
          await stopped;
          await pruner?.stop();
          app.logger.info("stopped");
        },
        { schema: "create", daemon: true },
      ),
    );
}
