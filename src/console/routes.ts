/**
 * /ui/: the console's page and files, and its sessions. Signing in trades an API key
 * (in a POST body, never a URL) for an HttpOnly cookie; a portal link's token travels
 * in the URL's fragment, which browsers never send to servers or put in logs, and is
 * traded the same way, once. Every other call the console makes goes to the public API.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { App } from "../app.js";
import { CSRF_HEADER, cookieValue, sameOrigin, SESSION_COOKIE } from "../api/consoleAuth.js";
import { HookdError } from "../errors.js";
import { authenticate } from "../store/apiKeys.js";
import {
  createConsoleSession,
  csrfMatches,
  endConsoleSession,
  findConsoleSession,
  openPortalLink,
  pruneConsoleSessions,
  type ConsoleSession,
} from "../store/consoleSessions.js";
import { consoleFiles } from "./assets.js";
import { brandedPage, consoleCsp } from "./branding.js";

/** A sign-in with a key lasts a working day; a portal link's session an hour. */
export const SIGN_IN_MS = 12 * 3_600_000;
export const PORTAL_SESSION_MS = 3_600_000;

const TYPES: Record<string, string> = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "app.css": "text/css; charset=utf-8",
  "favicon.svg": "image/svg+xml",
};

/** Set-Cookie for a session token: HttpOnly so scripts cannot read it, Secure in production. Pure. */
export function sessionCookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  return [`${SESSION_COOKIE}=${token}`, "Path=/", "HttpOnly", "SameSite=Strict", `Max-Age=${maxAgeSeconds}`, ...(secure ? ["Secure"] : [])].join("; ");
}

export function consoleRoutes(server: FastifyInstance, app: App): void {
  const { db } = app.store;
  const secure = app.config.env === "production";

  async function describe(session: ConsoleSession) {
    const admin = session.customerId === null;
    const customers = await db
      .selectFrom("customers")
      .select(["id", "name", "created_at"])
      .$if(!admin, (q) => q.where("id", "=", session.customerId!))
      .orderBy("name")
      .limit(1000)
      .execute();
    return {
      admin,
      customer: session.customerId,
      // created_at tells apart two customers of the same name in the admin's switcher.
      customers: customers.map((c) => ({ id: c.id, name: c.name, created_at: new Date(Number(c.created_at)).toISOString() })),
      // The topic catalog, so the console offers only topics a webhook can have.
      topics: app.config.topics,
      csrf_token: session.csrfToken,
      expires_at: new Date(session.expiresAt).toISOString(),
    };
  }

  function start(reply: FastifyReply, token: string, session: ConsoleSession) {
    const seconds = Math.max(1, Math.floor((session.expiresAt - Date.now()) / 1000));
    void reply.header("set-cookie", sessionCookie(token, seconds, secure)).header("cache-control", "no-store");
    return describe(session);
  }

  function mustComeFromHere(request: FastifyRequest) {
    if (!sameOrigin(request.headers.origin, request.headers.host)) throw new HookdError("forbidden", "sign-in must come from the console's own page");
  }

  server.post<{ Body: { key: string } }>(
    "/ui/session",
    {
      schema: {
        body: { type: "object", additionalProperties: false, required: ["key"], properties: { key: { type: "string", minLength: 1, maxLength: 200 } } },
      },
    },
    async (request, reply) => {
      mustComeFromHere(request);
      const principal = await authenticate(db, request.body.key);
      if (!principal) throw new HookdError("unauthorized", "that API key is not valid");
      await pruneConsoleSessions(db);
      const { token, session } = await createConsoleSession(db, "session", principal.customerId, principal.keyId, Date.now() + SIGN_IN_MS);
      return start(reply, token, session);
    },
  );

  server.post<{ Body: { token: string } }>(
    "/ui/session/portal",
    {
      schema: {
        body: { type: "object", additionalProperties: false, required: ["token"], properties: { token: { type: "string", minLength: 1, maxLength: 200 } } },
      },
    },
    async (request, reply) => {
      mustComeFromHere(request);
      const opened = await openPortalLink(db, request.body.token, PORTAL_SESSION_MS);
      if (!opened) throw new HookdError("unauthorized", "this portal link has expired or was already used: ask for a new one");
      return start(reply, opened.token, opened.session);
    },
  );

  server.get("/ui/session", async (request, reply) => {
    void reply.header("cache-control", "no-store");
    const token = cookieValue(request.headers.cookie, SESSION_COOKIE);
    const session = token === null ? null : await findConsoleSession(db, token);
    if (!session) throw new HookdError("unauthorized", "not signed in");
    return describe(session);
  });

  server.delete("/ui/session", async (request, reply) => {
    const token = cookieValue(request.headers.cookie, SESSION_COOKIE);
    const session = token === null ? null : await findConsoleSession(db, token);
    if (token !== null && session) {
      if (!sameOrigin(request.headers.origin, request.headers.host) || !csrfMatches(session, request.headers[CSRF_HEADER] as string | undefined)) {
        throw new HookdError("forbidden", `signing out needs the session's ${CSRF_HEADER} header`);
      }
      await endConsoleSession(db, token);
    }
    return reply
      .header("set-cookie", sessionCookie("", 0, secure))
      .status(204)
      .send();
  });

  const { brand } = app.config.console;
  const csp = consoleCsp(brand);
  let branded: string | null = null;
  const page = (name: string) => async (_request: FastifyRequest, reply: FastifyReply) => {
    const files = consoleFiles();
    let text = files?.get(name);
    if (text === undefined) throw new HookdError("not_found", "the console was not built: run npm run build");
    if (name === "index.html") text = branded ??= brandedPage(text, brand);
    return reply
      .header("content-type", TYPES[name]!)
      .header("content-security-policy", csp)
      .header("x-content-type-options", "nosniff")
      .header("referrer-policy", "no-referrer")
      .header("cache-control", name === "index.html" ? "no-store" : "no-cache")
      .send(text);
  };
  server.get("/ui/", page("index.html"));
  server.get("/ui/portal", page("index.html"));
  server.get("/ui/app.js", page("app.js"));
  server.get("/ui/app.css", page("app.css"));
  server.get("/ui/favicon.svg", page("favicon.svg"));
}
