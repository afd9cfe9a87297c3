/**
 * The console's files (index.html, app.js, app.css, favicon.svg), built into dist/ui by
 * `npm run build` (src/build/console.ts). Read from there, or from the single
 * binary's embedded copies; held in memory once read, they are small.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const CONSOLE_FILES: readonly string[] = ["index.html", "app.js", "app.css", "favicon.svg"];
export const consoleAsset = (name: string): string => `ui/${name}`;

let embedded: Map<string, string> | null = null;
let cache: Map<string, string> | null = null;

/** The single binary hands over its embedded copies (see embedded.ts). */
export function useEmbeddedConsole(files: Map<string, string>): void {
  embedded = files;
  cache = null;
}

/** dist/ui beside the compiled server (dist/console/…), or from the sources (src/console/…). */
function folder(): string | null {
  for (const rel of ["../ui/", "../../dist/ui/"]) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}index.html`)) return dir;
  }
  return null;
}

/** The console's files by name, or null when they were never built. */
export function consoleFiles(): Map<string, string> | null {
  if (embedded) return embedded;
  if (cache) return cache;
  const dir = folder();
  if (dir === null) return null;
  cache = new Map(CONSOLE_FILES.map((name) => [name, readFileSync(dir + name, "utf8")]));
  return cache;
}
