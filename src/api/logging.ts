/**
 * What the access log says about a request. Never a credential: a client may send its
 * API key (or a secret) as a query parameter however the README asks otherwise, and
 * an access log is read by more people than the keys are meant for.
 */
import type { FastifyRequest } from "fastify";

/** Query parameters whose values are (or may be) credentials. */
const CREDENTIAL_NAME = /key|token|secret|pass|auth|sig|session|credential|jwt/i;

/** `url` (path and query) with every credential-looking query value replaced. Pure. */
export function redactUrl(url: string): string {
  const at = url.indexOf("?");
  if (at === -1) return url;
  const parts = url
    .slice(at + 1)
    .split("&")
    .map((part) => {
      const eq = part.indexOf("=");
      const name = eq === -1 ? part : part.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name.replaceAll("+", " "));
      } catch {
        // a malformed name is logged as sent, its value still checked below
      }
      return eq !== -1 && CREDENTIAL_NAME.test(decoded) ? `${name}=[redacted]` : part;
    });
  return `${url.slice(0, at)}?${parts.join("&")}`;
}

/** The `req` serializer for the HTTP server's logs (fastify's, with the URL redacted). */
export function requestForLog(req: FastifyRequest): Record<string, unknown> {
  return {
    method: req.method,
    url: redactUrl(req.url),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}
