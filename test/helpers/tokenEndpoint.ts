/**
 * A real OAuth2 token endpoint on 127.0.0.1 (client-credentials grant): checks the
 * client's HTTP Basic credentials and the form, and hands out numbered tokens. Tests
 * read back every request and choose how it answers.
 */
import { startReceiver, type Receiver, type Received } from "./receiver.js";

export interface TokenEndpoint {
  url: string;
  receiver: Receiver;
  /** tokens handed out so far, in order */
  issued: string[];
  /** the form of each token request, parsed */
  forms(): URLSearchParams[];
  /** each token request's Basic credentials, decoded */
  credentials(): { id: string; secret: string }[];
  close(): Promise<void>;
}

export interface TokenOptions {
  clientId: string;
  clientSecret: string;
  /** seconds; omitted from the answer when null */
  expiresIn?: number | null;
  /** answer every request with this instead of a token */
  fail?: { status: number; body: string };
}

function basic(req: Received): { id: string; secret: string } | null {
  const m = /^Basic (.+)$/.exec(String(req.headers.authorization ?? ""));
  if (!m) return null;
  const [id, secret] = Buffer.from(m[1]!, "base64").toString("utf8").split(":");
  const dec = (s: string | undefined) => decodeURIComponent((s ?? "").replace(/\+/g, " "));
  return { id: dec(id), secret: dec(secret) };
}

export async function startTokenEndpoint(options: TokenOptions): Promise<TokenEndpoint> {
  const issued: string[] = [];
  const receiver = await startReceiver((req, res) => {
    if (options.fail) {
      res.writeHead(options.fail.status, { "content-type": "application/json" }).end(options.fail.body);
      return;
    }
    const creds = basic(req);
    const form = new URLSearchParams(req.body.toString("utf8"));
    if (!creds || creds.id !== options.clientId || creds.secret !== options.clientSecret) {
      res.writeHead(401, { "content-type": "application/json" }).end('{"error":"invalid_client"}');
      return;
    }
    if (form.get("grant_type") !== "client_credentials") {
      res.writeHead(400, { "content-type": "application/json" }).end('{"error":"unsupported_grant_type"}');
      return;
    }
    const token = `tok_${issued.length + 1}`;
    issued.push(token);
    const expires = options.expiresIn === undefined ? 3600 : options.expiresIn;
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ access_token: token, token_type: "Bearer", ...(expires === null ? {} : { expires_in: expires }) }));
  });
  return {
    url: `${receiver.url}/oauth/token`,
    receiver,
    issued,
    forms: () => receiver.requests.map((r) => new URLSearchParams(r.body.toString("utf8"))),
    credentials: () => receiver.requests.map((r) => basic(r)!),
    close: () => receiver.close(),
  };
}
