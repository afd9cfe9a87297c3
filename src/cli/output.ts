/**
 * How commands print: `--json` prints the API's JSON on stdout; otherwise short
 * human lines. Errors go to stderr as one line, never a stack trace. Human lines carry
 * what tenants wrote (URLs, names, receivers' error messages), so every control
 * character in them is shown escaped: nobody writes into the operator's terminal.
 */
import { detailPlace, HookdError } from "../errors.js";

export interface OutputOptions {
  json?: boolean;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Control characters (C0, DEL, C1), bidirectional overrides and lone surrogates: what
 * could move the cursor, recolour, retitle or reorder a terminal's text.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|\p{Surrogate}/gu;

/** `text` with every unprintable character written as an escape (\x1b, \u202e). Pure. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

export function printLines(lines: string[]): void {
  process.stdout.write(lines.map((l) => `${printable(l)}\n`).join(""));
}

/** One human line on stderr, escaped like printLines. */
export function printError(line: string): void {
  process.stderr.write(`${printable(line)}\n`);
}

/** key: value lines for one object, skipping nested arrays/objects. */
export function describeObject(o: Record<string, unknown>): string[] {
  return Object.entries(o)
    .filter(([, v]) => v === null || typeof v !== "object")
    .map(([k, v]) => `${k}: ${v === null ? "-" : String(v)}`);
}

/** A plain aligned table. */
export function table(rows: Record<string, unknown>[], columns: string[]): string[] {
  const cell = (v: unknown) => (v === null || v === undefined ? "-" : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))];
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof HookdError) {
    return ["config_invalid", "validation_failed", "payload_too_large", "unsupported_media_type", "unprocessable"].includes(err.code) ? 2 : 1;
  }
  return 1;
}

export function reportError(err: unknown, json: boolean): void {
  if (err instanceof HookdError) {
    if (json) printJson(err.toJSON());
    if (err.details.length === 0) {
      printError(`hookd: ${err.message}`);
      return;
    }
    const title = err.code === "config_invalid" ? "invalid configuration" : err.code === "validation_failed" ? "invalid input" : err.message;
    const lines = err.details.map((d) => (err.code === "config_invalid" ? `  ${d.message}` : `  ${detailPlace(d)}: ${d.message}`));
    for (const line of [`hookd: ${title}`, ...lines]) printError(line);
    return;
  }
  const message = err instanceof Error ? err.message : String(err);
  if (json) printJson({ error: { code: "internal", message, details: [] } });
  printError(`hookd: ${message}`);
}
