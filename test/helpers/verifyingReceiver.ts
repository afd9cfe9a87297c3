/**
 * A real receiver that checks every request as a receiver built on the
 * `standardwebhooks` package does (and the seed-003 X-Signature), answering 200 to a
 * genuine one and 403 to anything else. The secrets it holds can change, as a real
 * receiver's do during a rotation.
 */
import { createHmac } from "node:crypto";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { startReceiver, type Received, type Receiver } from "./receiver.js";

export interface VerifyingReceiver extends Receiver {
  /** the secrets a receiver holds: any of them will do */
  secrets: string[];
  /** per request, in order: "ok", or why it was refused */
  verdicts: string[];
}

/** Why `req` is not genuine under any of `secrets`, or "ok". */
export function verdict(req: Received, secrets: readonly string[]): string {
  const headers = req.headers as Record<string, string>;
  if (!headers["webhook-signature"] || !headers["x-signature"]) return "unsigned";
  const standard = secrets.some((secret) => {
    try {
      new StandardWebhook(secret.startsWith("whsec_") ? secret : Buffer.from(secret).toString("base64")).verify(req.body.toString("utf8"), headers);
      return true;
    } catch {
      return false;
    }
  });
  if (!standard) return "webhook-signature does not verify";
  const hex = secrets.some((secret) => createHmac("sha256", secret).update(req.body).digest("hex") === headers["x-signature"]);
  return hex ? "ok" : "X-Signature does not verify";
}

export async function startVerifyingReceiver(secrets: string[] = []): Promise<VerifyingReceiver> {
  let self: VerifyingReceiver | null = null;
  const receiver = await startReceiver((req, res) => {
    const v = verdict(req, self!.secrets);
    self!.verdicts.push(v);
    res.writeHead(v === "ok" ? 200 : 403).end(v);
  });
  self = Object.assign(receiver, { secrets, verdicts: [] as string[] });
  return self;
}
