/**
 * verify: the receiver's check from the command line. Needs no config or database:
 * a receiver can run it anywhere. Exit 0 valid, 1 invalid, 2 usage.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { HookdError } from "../errors.js";
import { verifySignature } from "../verify.js";
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
    .action((file: string | undefined, opts: { secret: string; signature: string }, cmd: Command) => {
      const { json = false } = globals(cmd);
      try {
        const problem = signatureProblem(opts.secret, readBody(file), opts.signature);
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
