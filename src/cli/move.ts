/**
 * export, import: moving a whole store between databases (SQLite ⇄ PostgreSQL) as a
 * versioned NDJSON stream: `hookd export | HOOKD_DB=postgres://… hookd import`.
 */
import { createReadStream, createWriteStream, openSync, renameSync, rmSync } from "node:fs";
import { once } from "node:events";
import path from "node:path";
import type { Writable } from "node:stream";
import type { Command } from "commander";
import { HookdError } from "../errors.js";
import { exportStore } from "../store/exportStore.js";
import { ndjsonLines, type Counts } from "../store/exportFormat.js";
import { importStore } from "../store/importStore.js";
import { withApp } from "./context.js";
import { printJson, printLines } from "./output.js";
import { rowsProgressBar } from "./rowsProgress.js";

export function registerMove(program: Command): void {
  program
    .command("export")
    .argument("[file]", "write here instead of stdout")
    .description("write the whole store as versioned NDJSON from one consistent snapshot (stdout without FILE)")
    .action((file: string | undefined, _opts, cmd: Command) =>
      withApp(
        cmd,
        async (app, json) => {
          if (file === undefined && process.stdout.isTTY) {
            throw new HookdError("validation_failed", "stdout is a terminal: give a FILE or redirect it (hookd export > hookd.ndjson)");
          }
          const out = file === undefined ? stdoutSink() : fileSink(file);
          const bar = rowsProgressBar("exporting");
          let counts: Counts;
          try {
            counts = await exportStore(app.store.db, { write: (line) => out.write(line), onProgress: bar?.update });
            await out.commit();
          } catch (err) {
            out.abandon();
            throw err;
          } finally {
            bar?.stop();
          }
          const where = file ?? "stdout";
          if (json && file !== undefined) printJson({ file, counts });
          // With the data on stdout, the summary goes to stderr.
          else (file === undefined ? process.stderr : process.stdout).write(`exported ${describeCounts(counts)} to ${where}\n`);
        },
        // Reading only: exporting must not change the source, not even its schema.
        { schema: "use" },
      ),
    );

  program
    .command("import")
    .argument("[file]", "read here instead of stdin")
    .description("load an export into an empty store, all or nothing (stdin without FILE)")
    .action((file: string | undefined, _opts, cmd: Command) =>
      withApp(
        cmd,
        async (app, json) => {
          const input = openInput(file);
          input.setEncoding("utf8");
          const lines = ndjsonLines(input as AsyncIterable<string>); // text: setEncoding above
          const bar = rowsProgressBar("importing");
          try {
            const counts = await importStore(app.store.db, lines, { location: app.store.location, keyring: app.keyring, onProgress: bar?.update });
            bar?.stop();
            if (json) printJson({ counts });
            else printLines([`imported ${describeCounts(counts)} into ${app.store.location}`]);
          } finally {
            bar?.stop();
            input.destroy();
          }
        },
        // The target may be new (a fresh PostgreSQL database or SQLite path): import creates it.
        { schema: "create" },
      ),
    );
}

function describeCounts(counts: Counts): string {
  return Object.entries(counts)
    .map(([table, n]) => `${n} ${table}`)
    .join(", ");
}

function openInput(file: string | undefined): NodeJS.ReadableStream & { destroy(): void } {
  if (file === undefined) {
    if (process.stdin.isTTY) throw new HookdError("validation_failed", "stdin is a terminal: give an export FILE or pipe one in (hookd export | hookd import)");
    return process.stdin;
  }
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (err) {
    throw new HookdError("validation_failed", `cannot read ${file}: ${(err as Error).message}`);
  }
  return createReadStream("", { fd });
}

/** Where export lines go: buffered into large writes, waiting when the reader is slower. */
interface Sink {
  write(line: string): void | Promise<void>;
  /** everything written and, for a file, in place */
  commit(): Promise<void>;
  /** after a failure: a file export leaves no half-written file behind */
  abandon(): void;
}

const CHUNK = 1 << 16;

/** A write that failed (a closed pipe, a full disk), said as such. */
function cannotWrite(err: Error): Error {
  const why = (err as NodeJS.ErrnoException).code === "EPIPE" ? "the reading end of the pipe closed" : err.message;
  return new Error(`cannot write the export: ${why}`);
}

function bufferedWriter(stream: Writable) {
  let parts: string[] = [];
  let size = 0;
  let failed: Error | null = null;
  // A closed pipe (`hookd export | head`) is an error event, not an exception.
  stream.on("error", (err) => (failed ??= err));
  const flush = async () => {
    if (failed) throw cannotWrite(failed);
    if (size === 0) return;
    const data = parts.join("");
    parts = [];
    size = 0;
    try {
      if (!stream.write(data)) await once(stream, "drain");
    } catch (err) {
      throw cannotWrite(err as Error);
    }
  };
  return {
    write(line: string): void | Promise<void> {
      parts.push(line, "\n");
      size += line.length + 1;
      if (size >= CHUNK) return flush();
    },
    flush,
    /** Everything handed to the stream has been written out. */
    async drained(): Promise<void> {
      await flush();
      await new Promise<void>((resolve, reject) => stream.write("", (err) => (err ? reject(cannotWrite(err)) : resolve())));
    },
  };
}

function stdoutSink(): Sink {
  const writer = bufferedWriter(process.stdout);
  return {
    write: writer.write,
    commit: writer.drained,
    abandon() {},
  };
}

/** Written beside the target under a temporary name and renamed at the end, so FILE is always whole. */
function fileSink(file: string): Sink {
  const partial = path.join(path.dirname(file), `.${path.basename(file)}.partial-${process.pid}`);
  let fd: number;
  try {
    fd = openSync(partial, "w");
  } catch (err) {
    throw new HookdError("validation_failed", `cannot write ${file}: ${(err as Error).message}`);
  }
  const stream = createWriteStream("", { fd });
  const writer = bufferedWriter(stream);
  return {
    write: writer.write,
    async commit() {
      await writer.drained();
      stream.end();
      await once(stream, "finish");
      renameSync(partial, file);
    },
    abandon() {
      stream.destroy();
      rmSync(partial, { force: true });
    },
  };
}
