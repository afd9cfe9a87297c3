/**
 * verify: the receiver's check from the command line. Needs no config or database:
 * a receiver can run it anywhere. Exit 0 valid; 1 invalid, or no body to check (a
 * file that cannot be read, one too large); 2 usage (a missing option).
 */
import type { Command } from "commander";
import { validationError } from "../errors.js";
import { standardProblem, verifySignature } from "../verify.js";
import { globals, wholeNumber } from "./context.js";
import { readInput } from "./input.js";
import { exitCodeFor, printError, printJson, printLines, reportError } from "./output.js";

const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;
/** Larger than any payload hookd sends (limits.maxPayloadBytes is at most 64 MiB). */
export const VERIFY_MAX_BYTES = 64 * 1024 * 1024;

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

/** A year: a timestamp further off than that is no check against replays at all. */
const MAX_TOLERANCE_SECONDS = 365 * 86_400;

export function registerVerify(program: Command): void {
  program
    .command("verify")
    .argument("[file]", "the request body, byte for byte (stdin when omitted)")
    .description("check a delivery's signature against its body: exit 0 valid, 1 invalid")
    .requiredOption("--secret <secret>", "the webhook's hash_secret, or with --standard its public_key (whpk_…); repeat it to accept any of several", collect)
    .requiredOption("--signature <value>", "the X-Signature header (hex), or with --standard the webhook-signature header")
    .option("--standard", "check the Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature)")
    .option("--id <id>", "with --standard: the webhook-id header")
    .option("--timestamp <seconds>", "with --standard: the webhook-timestamp header")
    .option(
      "--tolerance <seconds>",
      "with --standard: how far the timestamp may be from now",
      wholeNumber("--tolerance", 0, MAX_TOLERANCE_SECONDS, " of seconds"),
      300,
    )
    .action(async (file: string | undefined, opts: VerifyOptions, cmd: Command) => {
      const { json = false } = globals(cmd);
      try {
        checkUsage(opts);
      } catch (err) {
        // A usage error (--standard without --id or --timestamp): 2, like a missing option.
        reportError(err, json);
        process.exitCode = exitCodeFor(err);
        return;
      }
      try {
        const problem = problemOf(opts, await readInput(file, VERIFY_MAX_BYTES, "file"));
        if (json) printJson({ valid: problem === null, reason: problem });
        else if (problem === null) printLines(["valid signature"]);
        else printError(`hookd: invalid signature: ${problem}`);
        process.exitCode = problem === null ? 0 : 1;
      } catch (err) {
        // Whatever stops the check, the signature was not shown valid: 1, as the README says.
        reportError(err, json);
        process.exitCode = 1;
      }
    });
}
