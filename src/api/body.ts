/**
 * JSON request bodies. The only accepted media type is application/json (others get
 * 415). The raw text is kept beside the parsed value, so POST /events/ can store
 * the payload exactly as the client wrote it (SPEC: byte for byte).
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { HookdError, validationError } from "../errors.js";
import { stringEnd } from "../domain/jsonText.js";

const rawBodies = new WeakMap<FastifyRequest, string>();
const utf8 = new TextDecoder("utf-8", { fatal: true });

export function acceptJsonBodies(server: FastifyInstance): void {
  server.removeAllContentTypeParsers();
  server.addContentTypeParser("application/json", { parseAs: "buffer" }, (request, body, done) => {
    const charset = charsetOf(request.headers["content-type"]);
    if (charset !== null && charset !== "utf-8" && charset !== "utf8") {
      done(new HookdError("unsupported_media_type", `JSON bodies must be UTF-8; this one declares charset=${charset}`));
      return;
    }
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      done(validationError([{ field: "(body)", message: "must be UTF-8 text" }]));
      return;
    }
    // An empty body is no body (e.g. POST …/retry/ sent with a Content-Type out of habit).
    if (text.trim() === "") {
      done(null, undefined);
      return;
    }
    try {
      const value: unknown = JSON.parse(text);
      rawBodies.set(request, text);
      done(null, value);
    } catch (err) {
      done(validationError([{ field: "(body)", message: `is not valid JSON: ${(err as Error).message}` }]));
    }
  });
}

/** The charset parameter of a Content-Type, lower case, or null without one. Pure. */
export function charsetOf(contentType: string | undefined): string | null {
  const match = /;\s*charset\s*=\s*("?)([^";\s]*)\1/i.exec(contentType ?? "");
  return match ? match[2]!.toLowerCase() : null;
}

export function rawBodyOf(request: FastifyRequest): string | undefined {
  return rawBodies.get(request);
}

/** JSON's whitespace: space, tab, line feed, carriage return. */
const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;
/** The next character that can open or close a container, or open a string. */
const STRUCTURE = /["{}[\]]/g;
/** The character after a number, true, false or null. */
const SCALAR_END = /[,}\] \t\n\r]/g;

/**
 * The exact text of a top-level member's value in a JSON object's text: for
 * `{"topic":"a:b", "payload" : {"x" : 1} }` and "payload", `{"x" : 1}`. `text` must
 * already have passed JSON.parse; like JSON.parse, the last of duplicate keys wins.
 * Null when `text` is not an object or has no such member. It runs on every published
 * event, so it jumps from quote to quote and bracket to bracket (indexOf, a regular
 * expression) instead of reading each character in JavaScript.
 */
export function rawMember(text: string, name: string): string | null {
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  };
  // From an opening quote to just past its closing one (`text` is valid JSON: it closes).
  const skipString = () => {
    i = stringEnd(text, i);
  };
  const skipValue = () => {
    const c = text[i];
    if (c === '"') return skipString();
    if (c === "{" || c === "[") {
      let depth = 0;
      STRUCTURE.lastIndex = i;
      for (;;) {
        const at = STRUCTURE.exec(text)!.index;
        const d = text[at];
        if (d === '"') {
          i = at;
          skipString();
          STRUCTURE.lastIndex = i;
        } else if (d === "{" || d === "[") {
          depth++;
        } else if (--depth === 0) {
          i = at + 1;
          return;
        }
      }
    }
    SCALAR_END.lastIndex = i;
    const end = SCALAR_END.exec(text);
    i = end ? end.index : text.length;
  };

  skipSpace();
  if (text[i] !== "{") return null;
  i++;
  let found: string | null = null;
  for (;;) {
    skipSpace();
    if (i >= text.length || text[i] === "}") return found;
    const keyStart = i;
    skipString();
    // Keys may be escaped ("pay\u006coad"); decoding the token compares what JSON.parse saw.
    const token = text.slice(keyStart + 1, i - 1);
    const key = token.includes("\\") ? (JSON.parse(text.slice(keyStart, i)) as string) : token;
    skipSpace();
    i++; // the colon
    skipSpace();
    const start = i;
    skipValue();
    if (key === name) found = text.slice(start, i);
    skipSpace();
    if (text[i] === ",") i++;
  }
}
