/**
 * verify: the receiver's check from the command line. Needs no config or database:
 * a receiver can run it anywhere. Exit 0 valid; 1 invalid, or no body to check (a
 * file that cannot be read, one too large); 2 usage (a missing option).
 */
import type { Command } from "commander";
import { verifySignature } from "../verify.js";
import { globals } from "./context.js";
import { readInput } from "./input.js";
import { printError, printJson, printLines, reportError } from "./output.js";

const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;
/** Larger than any payload hookd sends (limits.maxPayloadBytes is at most 64 MiB). */
export const VERIFY_MAX_BYTES = 64 * 1024 * 1024;

/** Why a signature is not valid, in words a receiver can act on; null when it is valid. */
export function signatureProblem(secret: string, body: Buffer, signature: string): string | null {
  if (!HEX_SHA256.test(signature.trim())) return "the signature is malformed: expected 64 hex characters (HMAC-SHA256)";
  if (verifySignature(secret, body, signature)) return null;
  return "the signature does not match this body and secret (wrong secret, or the body was changed: check the raw bytes)";
}

export function registerVerify(program: Command): void {
  program
    .command("verify")
    .argument("[file]", "the request body, byte for byte (stdin when omitted)")
    .description("check an X-Signature against a body: exit 0 valid, 1 invalid")
    .requiredOption("--secret <secret>", "the webhook's hash_secret")
    .requiredOption("--signature <hex>", "the X-Signature header")
    .action(async (file: string | undefined, opts: { secret: string; signature: string }, cmd: Command) => {
      const { json = false } = globals(cmd);
      try {
        const problem = signatureProblem(opts.secret, await readInput(file, VERIFY_MAX_BYTES, "file"), opts.signature);
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
