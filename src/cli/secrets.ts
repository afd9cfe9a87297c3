/** secrets generate-key, secrets rekey: the key file that seals stored secrets (README "Secrets at rest"). */
import type { Command } from "commander";
import { generateKeyLine } from "../domain/secretBox.js";
import { resealSecrets, type ResealReport } from "../store/reseal.js";
import { keyUsage, type KeyUsage } from "../store/sealedColumns.js";
import { globals, withApp } from "./context.js";
import { exitCodeFor, printError, printJson, printLines, reportError } from "./output.js";

export function registerSecrets(program: Command): void {
  const secrets = program.command("secrets").description("the key file that encrypts stored webhook secrets");

  secrets
    .command("generate-key")
    .description("print a new key line, <id>:<base64 of 32 random bytes>, for the key file")
    .option("--id <id>", "the key's id (default: k + 8 random hex digits)")
    .action((opts: { id?: string }, cmd: Command) => {
      // No config and no database: a key line is all it makes.
      const { json = false } = globals(cmd);
      try {
        const line = generateKeyLine(opts.id);
        if (json) printJson({ id: line.slice(0, line.indexOf(":")), line });
        else printLines([line]);
      } catch (err) {
        reportError(err, json);
        process.exitCode = exitCodeFor(err);
      }
    });

  secrets
    .command("rekey")
    .description("encrypt every stored secret under the key file's first key (safe while hookd serve runs)")
    .action((_opts, cmd: Command) =>
      withApp(cmd, async (app, json) => {
        const report = await resealSecrets(app.store.db, app.keyring, "rekey");
        const usage = await keyUsage(app.store.db);
        if (json) printJson(rekeyJson(report, usage));
        else printLines(rekeyLines(report, usage));
        if (Object.keys(usage.byKey).some((id) => id !== report.key) || usage.plaintext > 0) {
          printError(
            `hookd: not every secret is under "${report.key}" yet (${describeUsage(usage)}): keep the other key lines, and run \`hookd secrets rekey\` again once they can be opened`,
          );
          process.exitCode = 1;
        }
      }),
    );
}

function rekeyJson(report: ResealReport, usage: KeyUsage) {
  return {
    key: report.key,
    resealed: report.resealed,
    from_plaintext: report.fromPlaintext,
    unreadable: report.unreadable,
    by_key: usage.byKey,
    in_clear: usage.plaintext,
  };
}

function rekeyLines(report: ResealReport, usage: KeyUsage): string[] {
  const lines = [
    `encrypted ${report.resealed} secret(s) anew under key "${report.key}"${report.fromPlaintext ? ` (${report.fromPlaintext} of them were stored in clear)` : ""}`,
  ];
  for (const [id, n] of Object.entries(report.unreadable)) lines.push(`could not open ${n} secret(s) sealed under key "${id}": they stay as they are`);
  const others = Object.keys(usage.byKey).filter((id) => id !== report.key);
  if (others.length === 0 && usage.plaintext === 0) {
    lines.push(`every stored secret is under "${report.key}" now: the key file's other lines can be removed`);
  }
  return lines;
}

/** e.g. `3 under "k2", 1 under "k1", 0 in clear` */
export function describeUsage(usage: KeyUsage): string {
  return [...Object.entries(usage.byKey).map(([id, n]) => `${n} under "${id}"`), `${usage.plaintext} in clear`].join(", ");
}
