/** The bench's output: rows for the printed table, raw numbers for the JSON file. */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

export interface Row {
  section: string;
  figure: string;
  /** the measured value, formatted, with absolute numbers where it is a ratio */
  value: string;
  target: string;
  /** null when the figure has no target */
  met: boolean | null;
}

export interface SectionResult {
  rows: Row[];
  /** everything measured, for the JSON file */
  raw: Record<string, unknown>;
}

export interface BenchContext {
  /** scratch folder of this run */
  dir: string;
  quick: boolean;
  log(message: string): void;
}

export function printTable(rows: readonly Row[]): string {
  const header = ["#", "figure", "value", "target", "met"];
  const cells = rows.map((r) => [r.section, r.figure, r.value, r.target, r.met === null ? "" : r.met ? "yes" : "NO"]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...cells.map(line)].join("\n");
}

export function writeResults(file: string, data: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(data, null, 2) + "\n");
}
