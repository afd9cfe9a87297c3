/** A logger whose lines a test can read back: what an operator would find in the journal. */
import { Writable } from "node:stream";
import { pino } from "pino";
import type { Logger } from "../../src/logger.js";

export interface MemoryLog {
  logger: Logger;
  /** every line so far, parsed */
  entries(): Array<Record<string, unknown> & { level: number; msg?: string }>;
  /** every line so far, as written */
  text(): string;
}

export function memoryLogger(level = "info"): MemoryLog {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      done();
    },
  });
  return {
    logger: pino({ level }, sink),
    entries: () => lines.map((l) => JSON.parse(l)),
    text: () => lines.join("\n"),
  };
}
