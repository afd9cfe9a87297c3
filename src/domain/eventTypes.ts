/**
 * The event-type catalog's rules: a topic's JSON Schema (draft 2020-12, compiled by
 * ajv with its standard formats) and what a payload must be to be published on that
 * topic. A schema is compiled once per text and kept, so publishing pays only for the
 * validation itself.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { unprocessable, type ErrorDetail, type PathDetail } from "../errors.js";

/** The most failing places a refusal lists: enough to fix a payload, bounded for a large one. */
export const MAX_SCHEMA_DETAILS = 20;
export const MAX_DESCRIPTION = 1000;

// Not strict: schemas written for other tools carry keywords ajv does not know
// (`example`, vendor extensions); those are annotations, not reasons to refuse.
const ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: true });
addFormats.default(ajv);

const compiled = new Map<string, ValidateFunction>();
const MAX_COMPILED = 1000;

/** The validator for a schema's stored text, compiled once. Throws when it does not compile. */
export function validatorOf(schemaText: string): ValidateFunction {
  let validate = compiled.get(schemaText);
  if (!validate) {
    validate = ajv.compile(JSON.parse(schemaText) as object);
    if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
    compiled.set(schemaText, validate);
  }
  return validate;
}

/** Check an event type's input: returns the schema's text to store, or the problems. */
export function checkEventType(input: {
  schema?: unknown;
  description?: unknown;
}): { schema: string; description: string | null } | { problems: ErrorDetail[] } {
  const problems: ErrorDetail[] = [];
  const { schema, description } = input;
  let text = "";
  if (typeof schema !== "boolean" && (typeof schema !== "object" || schema === null || Array.isArray(schema))) {
    problems.push({ field: "schema", message: "is required: a JSON Schema (draft 2020-12) object" });
  } else {
    text = JSON.stringify(schema);
    try {
      validatorOf(text);
    } catch (err) {
      problems.push({ field: "schema", message: `does not compile as a draft 2020-12 JSON Schema: ${(err as Error).message}` });
    }
  }
  if (description !== undefined && description !== null && (typeof description !== "string" || description.length > MAX_DESCRIPTION)) {
    problems.push({ field: "description", message: `must be a string of at most ${MAX_DESCRIPTION} characters, or null` });
  }
  if (problems.length > 0) return { problems };
  return { schema: text, description: (description as string | null | undefined) ?? null };
}

const pointerToken = (s: string) => s.replaceAll("~", "~0").replaceAll("/", "~1");

/** One ajv error as a JSON Pointer into the payload and a message: a missing or extra property is named by its own path. */
function detailOf(e: ErrorObject): PathDetail {
  const params = e.params as Record<string, unknown>;
  if (e.keyword === "required") return { path: `${e.instancePath}/${pointerToken(String(params.missingProperty))}`, message: "is required" };
  if (e.keyword === "additionalProperties" || e.keyword === "unevaluatedProperties") {
    const name = String(params.additionalProperty ?? params.unevaluatedProperty);
    return { path: `${e.instancePath}/${pointerToken(name)}`, message: "is not allowed by the schema" };
  }
  return { path: e.instancePath, message: e.message ?? "does not match the schema" };
}

/** Throws a 422 naming each failing path when `payload` (parsed) does not match `topic`'s schema. */
export function checkPayloadSchema(topic: string, schemaText: string, payload: unknown): void {
  const validate = validatorOf(schemaText);
  if (validate(payload)) return;
  const seen = new Set<string>();
  const details = (validate.errors ?? [])
    .map(detailOf)
    .filter((d) => (seen.has(`${d.path} ${d.message}`) ? false : (seen.add(`${d.path} ${d.message}`), true)))
    .slice(0, MAX_SCHEMA_DETAILS);
  const first = details[0];
  const where = first ? ` at ${first.path === "" ? "the top" : first.path}: ${first.message}` : "";
  throw unprocessable(`the payload does not match the schema of event type ${topic}${where}`, details);
}
