/**
 * verify: the receiver's check from the command line. Needs no config or database:
 * a receiver can run it anywhere. Exit 0 valid, 1 invalid, 2 usage.
 */
import { readFileSync } from "node:fs";
import { InvalidArgumentError, type Command } from "commander";
import { HookdError, validationError } from "../errors.js";
import { standardProblem, verifySignature } from "../verify.js";
import { globals } from "./context.js";
import { exitCodeFor, printJson, printLines, reportError } from "./output.js";

const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

function readBody(file: string | undefined): Buffer {
  try {
    return readFileSync(file ?? 0);
  } catch (err) {
    const message = `cannot read ${file ?? "stdin"}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
    throw new HookdError("validation_failed", message, [{ field: "file", message }]);
  }
}

/** Why an X-Signature is not valid under any of `secrets`, in words a receiver can act on; null when it is valid. */
export function signatureProblem(secrets: readonly string[], body: Buffer, signature: string): string | null {
  if (!HEX_SHA256.test(signature.trim())) return "the signature is malformed: expected 64 hex characters (HMAC-SHA256)";
  if (secrets.some((secret) => verifySignature(secret, body, signature))) return null;
  return "the signature does not match this body and secret (wrong secret, or the body was changed: check the raw bytes)";
}

interface VerifyOptions {
  secret: string[];
  signature: string;
  standard?: boolean;
  id?: string;
  timestamp?: string;
  tolerance: number;
}

/** Usage is checked before the body is read: a missing flag must not wait on stdin. */
function checkUsage(opts: VerifyOptions): void {
  const missing = opts.standard ? (["id", "timestamp"] as const).filter((k) => opts[k] === undefined) : [];
  if (missing.length > 0) throw validationError(missing.map((k) => ({ field: `--${k}`, message: "is required with --standard" })));
}

function problemOf(opts: VerifyOptions, body: Buffer): string | null {
  if (!opts.standard) return signatureProblem(opts.secret, body, opts.signature);
  const headers = { "webhook-id": opts.id, "webhook-timestamp": opts.timestamp, "webhook-signature": opts.signature };
  return standardProblem(body, headers, opts.secret, { toleranceSeconds: opts.tolerance });
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function seconds(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("--tolerance must be a whole number of seconds");
  return Number(value);
}

export function registerVerify(program: Command): void {
  program
    .command("verify")
    .argument("[file]", "the request body, byte for byte (stdin when omitted)")
    .description("check a delivery's signature against its body: exit 0 valid, 1 invalid")
    .requiredOption("--secret <secret>", "the webhook's hash_secret (repeat it to accept any of several)", collect)
    .requiredOption("--signature <value>", "the X-Signature header (hex), or with --standard the webhook-signature header")
    .option("--standard", "check the Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature)")
    .option("--id <id>", "with --standard: the webhook-id header")
    .option("--timestamp <seconds>", "with --standard: the webhook-timestamp header")
    .option("--tolerance <seconds>", "with --standard: how far the timestamp may be from now", seconds, 300)
    .action((file: string | undefined, opts: VerifyOptions, cmd: Command) => {
      const { json = false } = globals(cmd);
      try {
        checkUsage(opts);
        const problem = problemOf(opts, readBody(file));
        if (json) printJson({ valid: problem === null, reason: problem });
        else if (problem === null) printLines(["valid signature"]);
        else process.stderr.write(`hookd: invalid signature: ${problem}\n`);
        process.exitCode = problem === null ? 0 : 1;
      } catch (err) {
        reportError(err, json);
        process.exitCode = exitCodeFor(err);
      }
    });
}
