/**
 * Pure config merging and validation: no file or environment access here, so every
 * rule is testable with literal inputs. `load.ts` does the I/O.
 */
import { Ajv, type ErrorObject } from "ajv";
import cron from "node-cron";
import { HookdError, type ErrorDetail } from "../errors.js";
import { accentProblem, logoProblem } from "./brand.js";
import { settingsSchema, type HookdSettings } from "./schema.js";

export interface ConfigLayer {
  /** Where the values came from: a file path or an environment variable name. */
  source: string;
  data: unknown;
}

export interface MergedConfig {
  value: Record<string, unknown>;
  /** dotted key → the source that set it last */
  origins: Map<string, string>;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Deep-merge layers in order; objects merge key by key, arrays and scalars replace. */
export function mergeLayers(layers: readonly ConfigLayer[]): MergedConfig {
  const value: Record<string, unknown> = {};
  const origins = new Map<string, string>();

  const mergeInto = (target: Record<string, unknown>, src: Record<string, unknown>, prefix: string, source: string) => {
    for (const [key, v] of Object.entries(src)) {
      const path = prefix ? `${prefix}.${key}` : key;
      if (isPlainObject(v)) {
        if (!isPlainObject(target[key])) target[key] = {};
        origins.set(path, source);
        mergeInto(target[key] as Record<string, unknown>, v, path, source);
      } else {
        target[key] = Array.isArray(v) ? [...v] : v;
        origins.set(path, source);
      }
    }
  };

  for (const layer of layers) {
    if (!isPlainObject(layer.data)) {
      throw new HookdError("config_invalid", `${layer.source}: the top level must be a JSON object`, [
        { field: "(root)", message: `${layer.source}: the top level must be a JSON object` },
      ]);
    }
    mergeInto(value, layer.data, "", layer.source);
  }
  return { value, origins };
}

// Compiled as every command starts; ajv's optimising passes over the generated code cost
// more than they save for one validation (`hookd status` 15 ms faster without them).
const ajv = new Ajv({ allErrors: true, strict: true, verbose: true, code: { optimize: false } });
const validateSchema = ajv.compile(settingsSchema);

export function originOf(origins: Map<string, string>, key: string): string {
  // The nearest recorded ancestor names the file (a whole object may come from one file).
  for (let k = key; k; k = k.includes(".") ? k.slice(0, k.lastIndexOf(".")) : "") {
    const o = origins.get(k);
    if (o) return o;
  }
  return "config/default.json";
}

function describe(e: ErrorObject, merged: MergedConfig): ErrorDetail {
  const base = e.instancePath.slice(1).replaceAll("/", ".");
  if (e.keyword === "additionalProperty" || e.keyword === "additionalProperties") {
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    const key = base ? `${base}.${extra}` : extra;
    const allowed = Object.keys((e.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {}).join(", ");
    return {
      field: key,
      message: `unknown key "${key}" in ${originOf(merged.origins, key)}; allowed ${base ? `under "${base}"` : "at the top level"}: ${allowed}`,
    };
  }
  if (e.keyword === "required") {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    const key = base ? `${base}.${missing}` : missing;
    return { field: key, message: `"${key}" is required (set it in config/default.json or your config file)` };
  }
  let allowed = e.message ?? "is invalid";
  if (e.keyword === "enum") {
    allowed = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(", ")}`;
  }
  const got = JSON.stringify(e.data);
  return {
    field: base,
    message: `"${base}" in ${originOf(merged.origins, base)} ${allowed} (got ${got})`,
  };
}

/** Validate a merged config; throws `config_invalid` naming every bad key and its file. */
export function validateSettings(merged: MergedConfig): HookdSettings {
  const candidate = structuredClone(merged.value);
  if (!validateSchema(candidate)) {
    const details = (validateSchema.errors ?? []).map((e) => describe(e, merged));
    throw new HookdError("config_invalid", details.map((d) => d.message).join("\n"), details);
  }
  const settings = candidate as HookdSettings;
  const extra: ErrorDetail[] = [];
  if (!cron.validate(settings.dispatch.schedule)) {
    extra.push({
      field: "dispatch.schedule",
      message: `"dispatch.schedule" in ${originOf(merged.origins, "dispatch.schedule")} must be a cron expression such as "*/30 * * * *" (got ${JSON.stringify(settings.dispatch.schedule)})`,
    });
  }
  // A lease shorter than one request would let a second dispatcher take a row that is still being sent.
  if (settings.dispatch.leaseSeconds * 1000 <= settings.dispatch.timeoutMs) {
    extra.push({
      field: "dispatch.leaseSeconds",
      message: `"dispatch.leaseSeconds" in ${originOf(merged.origins, "dispatch.leaseSeconds")} must be longer than dispatch.timeoutMs (${settings.dispatch.timeoutMs} ms) (got ${settings.dispatch.leaseSeconds})`,
    });
  }
  // Node refuses to start a server whose headers may take longer than the whole request.
  if (settings.server.headersTimeoutMs > settings.server.requestTimeoutMs) {
    extra.push({
      field: "server.headersTimeoutMs",
      message: `"server.headersTimeoutMs" in ${originOf(merged.origins, "server.headersTimeoutMs")} must be at most server.requestTimeoutMs (${settings.server.requestTimeoutMs} ms) (got ${settings.server.headersTimeoutMs})`,
    });
  }
  const { brand } = settings.console;
  const brandProblems: [string, string | null][] = [
    ["console.brand.accentColor", accentProblem(brand.accentColor)],
    ["console.brand.logoUrl", brand.logoUrl == null ? null : logoProblem(brand.logoUrl)],
  ];
  for (const [key, problem] of brandProblems) {
    if (problem === null) continue;
    const got = key.endsWith("logoUrl") ? JSON.stringify((brand.logoUrl ?? "").slice(0, 60)) : JSON.stringify(brand.accentColor);
    extra.push({ field: key, message: `"${key}" in ${originOf(merged.origins, key)} ${problem} (got ${got})` });
  }
  if (extra.length > 0) throw new HookdError("config_invalid", extra.map((d) => d.message).join("\n"), extra);
  return settings;
}
