/**
 * Numbers in a query string, read strictly. ajv's type coercion reads "1e400",
 * "Infinity" and a run of 400 nines as Infinity, lets that pass as an integer, and then
 * skips minimum/maximum (they only test finite numbers): `?page=1e400` reached the SQL
 * as an infinite offset (500), and `/stats/?bucket=-1e400` looped until the heap ran
 * out. So a query number must be written in decimal digits (a sign allowed, and a
 * fraction for `number`), and read as a safe integer or a finite number; anything else
 * is a 400 naming the parameter, decided here before ajv sees it. Pure.
 */
import type { ErrorObject } from "ajv";

export interface NumberRule {
  type: "integer" | "number";
  minimum?: number;
  maximum?: number;
}

const INTEGER_TEXT = /^[+-]?\d+$/;
const NUMBER_TEXT = /^[+-]?\d+(\.\d+)?$/;

/** The properties of an object schema that are typed integer or number, by name. */
export function numericProperties(schema: object): Map<string, NumberRule> {
  const properties = (schema as { properties?: Record<string, { type?: unknown; minimum?: number; maximum?: number }> }).properties ?? {};
  const rules = new Map<string, NumberRule>();
  for (const [name, p] of Object.entries(properties)) {
    if (p.type === "integer" || p.type === "number") rules.set(name, { type: p.type, minimum: p.minimum, maximum: p.maximum });
  }
  return rules;
}

/** Why `text` is no value for `rule`, in ajv's words where ajv has them; null when it is one. */
export function numberProblem(text: string, rule: NumberRule): { keyword: string; message: string } | null {
  const noun = rule.type === "integer" ? "an integer" : "a number";
  // ajv's own words for text that is no number ("abc"), so every such answer reads the same.
  if (!(rule.type === "integer" ? INTEGER_TEXT : NUMBER_TEXT).test(text)) return { keyword: "type", message: `must be ${rule.type}` };
  const value = Number(text);
  if (rule.type === "integer" ? Number.isSafeInteger(value) : Number.isFinite(value)) return null;
  // Digits too many for a double: past whichever end its sign points to.
  const below = text.startsWith("-");
  const limit = below ? rule.minimum : rule.maximum;
  if (limit === undefined) return { keyword: "type", message: `must be ${noun} within ±${Number.MAX_SAFE_INTEGER}` };
  return below ? { keyword: "minimum", message: `must be >= ${limit}` } : { keyword: "maximum", message: `must be <= ${limit}` };
}

/** ajv-shaped errors for the query's numeric parameters that are not numbers as hookd reads them. */
export function queryNumberErrors(rules: Map<string, NumberRule>, query: unknown): ErrorObject[] {
  if (!query || typeof query !== "object") return [];
  const errors: ErrorObject[] = [];
  for (const [name, rule] of rules) {
    const value = (query as Record<string, unknown>)[name];
    if (typeof value !== "string") continue;
    const problem = numberProblem(value, rule);
    if (problem) errors.push({ instancePath: `/${name}`, schemaPath: `#/properties/${name}`, params: {}, ...problem });
  }
  return errors;
}
