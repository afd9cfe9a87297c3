/**
 * The egress proxy (`dispatch.proxyUrl`): every delivery and token request leaves through
 * an operator's HTTP proxy. https targets go through a CONNECT tunnel, http targets as
 * absolute-form requests (`POST http://host/path`), as proxies expect them.
 *
 * The proxy is the operator's and trusted (it may well be on loopback); the URL policy
 * applies to the target, before the proxy is asked: unless private addresses are allowed,
 * the target's name is resolved here and refused if any address is not public, so a
 * refused target never reaches the proxy. A tunnel is opened to the checked address
 * itself (TLS still verifies the certificate against the name), so the proxy cannot
 * resolve the name anew to somewhere else. An absolute-form request names the host, so
 * for http targets the proxy resolves it again: a name re-pointed in between (DNS
 * rebinding) is then the proxy's to refuse.
 */
import http from "node:http";
import https from "node:https";
import net, { isIP, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import { isPublicAddress } from "../domain/urlPolicy.js";
import { parseProxyUrl, type EgressProxy } from "../domain/proxyUrl.js";
import { blockedAddressError, publicOnlyLookup } from "./connectGuard.js";

export interface ProxyRules {
  /** `http://[user:pass@]host[:port]` */
  proxyUrl: string;
  allowPrivateAddresses: boolean;
  /** the longest a proxy may take to answer a CONNECT */
  connectTimeoutMs?: number;
}

const unbracket = (host: string) => host.replace(/^\[|\]$/g, "");
const hostPort = (host: string, port: number) => `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;

/**
 * The address to reach `host` at: itself when private addresses are allowed (the proxy
 * resolves it), else its first address once every address it resolves to is public.
 * Rejects with ERR_HOOKD_BLOCKED_ADDRESS otherwise.
 */
export function checkedTarget(host: string, allowPrivateAddresses: boolean): Promise<string> {
  const bare = unbracket(host);
  if (allowPrivateAddresses) return Promise.resolve(bare);
  if (isIP(bare) !== 0) return isPublicAddress(bare) ? Promise.resolve(bare) : Promise.reject(blockedAddressError(bare, bare));
  return new Promise((resolve, reject) => {
    publicOnlyLookup(bare, { all: true }, (err, addresses) => {
      if (err) reject(err);
      else resolve((addresses as unknown as { address: string }[])[0]!.address);
    });
  });
}

/** Recorded like the target's own refusal or timeout (src/dispatch/outcome.ts), with the message saying it was the proxy. */
function proxyError(message: string, code: "ECONNREFUSED" | "ETIMEDOUT"): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

/** A raw socket to `target` (host:port) through a CONNECT tunnel. */
function tunnel(proxy: EgressProxy, target: string, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: target };
    if (proxy.authorization) headers["proxy-authorization"] = proxy.authorization;
    const req = http.request({ host: proxy.host, port: proxy.port, method: "CONNECT", path: target, headers, agent: false });
    req.setTimeout(timeoutMs, () => req.destroy(proxyError(`the egress proxy did not open a tunnel to ${target} within ${timeoutMs} ms`, "ETIMEDOUT")));
    req.once("connect", (res: http.IncomingMessage, socket: Socket) => {
      req.setTimeout(0);
      if (res.statusCode === 200) {
        resolve(socket);
        return;
      }
      socket.destroy();
      reject(proxyError(`the egress proxy refused a tunnel to ${target}: HTTP ${res.statusCode}`, "ECONNREFUSED"));
    });
    req.once("error", reject);
    req.end();
  });
}

type Callback = (err: Error | null, socket: Duplex) => void;

/** https through CONNECT tunnels, one per pooled connection, each to a checked address. */
class TunnelAgent extends https.Agent {
  constructor(
    private readonly proxy: EgressProxy,
    private readonly rules: ProxyRules,
    options: https.AgentOptions,
  ) {
    super(options);
  }

  override createConnection(options: http.RequestOptions, callback?: Callback): Duplex {
    const host = unbracket(options.host ?? options.hostname ?? "localhost");
    const port = Number(options.port ?? 443);
    checkedTarget(host, this.rules.allowPrivateAddresses)
      .then((address) => tunnel(this.proxy, hostPort(address, port), this.rules.connectTimeoutMs ?? 30_000))
      .then(
        (socket) => {
          const { host: _h, port: _p, path: _path, ...rest } = options as tls.ConnectionOptions & { host?: string; port?: number; path?: string };
          const servername = rest.servername ?? (isIP(host) === 0 ? host : undefined);
          callback?.(null, tls.connect({ ...rest, socket, servername }));
        },
        (err: Error) => callback?.(err, undefined as unknown as Duplex),
      );
    // The agent waits for the callback when nothing is returned.
    return undefined as unknown as Duplex;
  }
}

/**
 * http as absolute-form requests to the proxy. Sockets are pooled per target (each one a
 * connection to the proxy), and a target is checked when a socket is made for it: a
 * kept-alive socket is only ever reused for the target it was checked for.
 */
class ForwardAgent extends http.Agent {
  constructor(
    private readonly proxy: EgressProxy,
    private readonly rules: ProxyRules,
    options: http.AgentOptions,
  ) {
    super(options);
  }

  // Node's Agent types leave addRequest out; it is the hook that sees the request before its head is written.
  addRequest(req: http.ClientRequest, options: http.RequestOptions): void {
    const host = unbracket(options.host ?? options.hostname ?? "localhost");
    req.path = `http://${hostPort(host, Number(options.port ?? 80))}${req.path}`;
    if (this.proxy.authorization) req.setHeader("proxy-authorization", this.proxy.authorization);
    (http.Agent.prototype as unknown as { addRequest: (r: http.ClientRequest, o: http.RequestOptions) => void }).addRequest.call(this, req, options);
  }

  override createConnection(options: http.RequestOptions, callback?: Callback): Duplex {
    const host = unbracket(options.host ?? options.hostname ?? "localhost");
    checkedTarget(host, this.rules.allowPrivateAddresses).then(
      () => {
        const socket = net.connect(this.proxy.port, this.proxy.host);
        callback?.(null, socket);
      },
      (err: Error) => callback?.(err, undefined as unknown as Duplex),
    );
    return undefined as unknown as Duplex;
  }
}

/** Keep-alive agents that send everything through the proxy. */
export function proxyAgents(rules: ProxyRules, options: { http: http.AgentOptions; https: https.AgentOptions }): { http: http.Agent; https: https.Agent } {
  const proxy = parseProxyUrl(rules.proxyUrl);
  return { http: new ForwardAgent(proxy, rules, options.http), https: new TunnelAgent(proxy, rules, options.https) };
}
