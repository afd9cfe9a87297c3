/**
 * The egress proxy's URL (`dispatch.proxyUrl`), read once: checked when the config is
 * loaded, used by the dispatcher's agents (dispatch/egressProxy.ts). Pure.
 */

export interface EgressProxy {
  host: string;
  port: number;
  /** the EgressProxy-Authorization header, when the URL carries credentials */
  authorization: string | null;
}

/** The parts of a proxy URL; throws with a message naming what is wrong. Pure. */
export function parseProxyUrl(url: string): EgressProxy {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error("must be a URL such as http://proxy.internal:3128");
  }
  if (parsed.protocol !== "http:") throw new Error(`must be an http:// URL (the proxy is spoken to in plain HTTP), not ${parsed.protocol}//`);
  if (parsed.pathname !== "/" || parsed.search || parsed.hash)
    throw new Error("must be only http://[user:pass@]host[:port], without a path, query or fragment");
  const user = decodeURIComponent(parsed.username);
  const pass = decodeURIComponent(parsed.password);
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ""),
    port: parsed.port ? Number(parsed.port) : 80,
    authorization: user || pass ? `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}` : null,
  };
}
