/**
 * A real HTTP proxy on 127.0.0.1: CONNECT tunnels (https targets) and absolute-form
 * requests (http targets), each counted with the target it was asked for, and an
 * optional Proxy-Authorization it insists on.
 */
import http from "node:http";
import net, { type AddressInfo } from "node:net";

export interface TestProxy {
  url: string;
  /** `host:port` of every CONNECT, in order */
  tunnels: string[];
  /** the absolute-form URL of every forwarded request, in order */
  forwarded: string[];
  /** the Proxy-Authorization header of every request, CONNECT or forwarded */
  authorizations: (string | undefined)[];
  close(): Promise<void>;
}

export async function startProxy(options: { requireAuth?: string } = {}): Promise<TestProxy> {
  const tunnels: string[] = [];
  const forwarded: string[] = [];
  const authorizations: (string | undefined)[] = [];
  const sockets = new Set<net.Socket>();
  const refuse = (auth: string | undefined) => options.requireAuth !== undefined && auth !== options.requireAuth;

  const server = http.createServer((req, res) => {
    const auth = req.headers["proxy-authorization"];
    authorizations.push(auth);
    if (refuse(auth)) return void res.writeHead(407).end();
    forwarded.push(req.url ?? "");
    const target = new URL(req.url ?? "");
    const { "proxy-authorization": _, ...headers } = req.headers;
    const upstream = http.request(
      { host: target.hostname, port: target.port || 80, method: req.method, path: target.pathname + target.search, headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on("error", () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  server.on("connect", (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const auth = req.headers["proxy-authorization"];
    authorizations.push(auth);
    if (refuse(auth)) return void client.end("HTTP/1.1 407 Proxy Authentication Required\r\n\r\n");
    tunnels.push(req.url ?? "");
    const [, host, port] = /^\[?([^\]]+?)\]?:(\d+)$/.exec(req.url ?? "") ?? [];
    const upstream = net.connect(Number(port), host, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream).add(client);
    const end = () => {
      upstream.destroy();
      client.destroy();
    };
    upstream.on("error", end).on("close", end);
    client.on("error", end).on("close", end);
  });
  server.on("connection", (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tunnels,
    forwarded,
    authorizations,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
