#!/usr/bin/env node
/**
 * `hookd <command>`. Exit codes: 0 success, 1 runtime failure, 2 usage or
 * configuration error.
 */
import { Command, CommanderError } from "commander";
import { VERSION } from "../version.js";
import { registerAdmin } from "./admin.js";
import { oneOf } from "./context.js";
import { registerDispatch } from "./dispatch.js";
import { LOG_LEVELS } from "../config/schema.js";
import { registerEvents } from "./events.js";
import { keepHeapSmall } from "./heap.js";
import { registerEventTypes } from "./eventTypes.js";
import { registerMove } from "./move.js";
import { printable, printError } from "./output.js";
import { registerPrune } from "./prune.js";
import { registerSecrets } from "./secrets.js";
import { registerStatus } from "./status.js";
import { registerVerify } from "./verify.js";
import { registerWebhooks } from "./webhooks.js";

/** What `hookd --version` prints, e.g. "hookd 0.1.0 (Node.js v24.11.1)". */
export function versionLine(): string {
  return `hookd ${VERSION} (Node.js ${process.version})`;
}

export function buildProgram(): Command {
  const program = new Command("hookd")
    .description("self-hosted webhook dispatcher")
    // The runtime too: which Node a binary embeds is something an operator must be able to see.
    .version(versionLine(), "-V, --version")
    .option("--config <file>", "a config file merged over config/<env>.json")
    .option("--json", "print JSON (the API's shapes)")
    .option(
      "--log-level <level>",
      `log lines on stderr from this level up (${LOG_LEVELS.join(", ")}); default log.level, and on a terminal only warnings and errors`,
      oneOf("--log-level", LOG_LEVELS),
    )
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    // Usage errors quote the arguments given, so they are escaped like every other line.
    .configureOutput({ writeErr: (s) => process.stderr.write(s.split("\n").map(printable).join("\n")) });
  registerDispatch(program);
  registerAdmin(program);
  registerWebhooks(program);
  registerEvents(program);
  registerEventTypes(program);
  registerPrune(program);
  registerStatus(program);
  registerVerify(program);
  registerMove(program);
  registerSecrets(program);
  // Subcommands inherit exit handling so usage errors anywhere exit 2.
  for (const cmd of program.commands) {
    cmd.exitOverride();
    for (const sub of cmd.commands) sub.exitOverride();
  }
  return program;
}

async function main(argv: string[]): Promise<void> {
  keepHeapSmall();
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version arrive here too, with exit code 0.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    printError(`hookd: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}

// Not a top-level await: the single binary bundles the CLI as CommonJS, which has none.
void main(process.argv);
