/**
 * A running `hookd serve --role …` child, with its log readable while it runs: what an
 * operator sees in the journal, and whether the process is still there.
 */
import type { ChildProcess } from "node:child_process";
import { spawnCli, untilServing } from "./cli.js";
import { closedPort } from "./receiver.js";

export type Role = "api" | "dispatch" | "all";

export interface LogLine {
  level: number;
  msg?: string;
  [key: string]: unknown;
}

export interface ServeNode {
  readonly role: Role;
  readonly child: ChildProcess;
  /** http://127.0.0.1:<port> (every role gets a port; --role dispatch may not listen on it) */
  readonly url: string;
  /** every JSON log line so far */
  logs(): LogLine[];
  /** stderr so far, as written (stack traces, Node's own messages) */
  stderr(): string;
  /** running: neither exited nor killed */
  alive(): boolean;
  /** SIGTERM, then the exit code (or the signal that ended it). Safe to call twice. */
  stop(): Promise<number | NodeJS.Signals | null>;
}

const PINO_WARN = 40;

export async function startServeNode(role: Role, env: Record<string, string>): Promise<ServeNode> {
  const port = await closedPort();
  const child = spawnCli(["serve", "--role", role], { ...env, HOOKD_PORT: String(port) });
  child.stdin?.end();
  let err = "";
  child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  child.stdout?.resume();
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal)));
  const logs = () =>
    err
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as LogLine);
  const node: ServeNode = {
    role,
    child,
    url: `http://127.0.0.1:${port}`,
    logs,
    stderr: () => err,
    alive: () => child.exitCode === null && child.signalCode === null,
    stop() {
      if (node.alive()) child.kill("SIGTERM");
      return exited;
    },
  };
  // Started once it says so (a dispatcher has no port to try), or once its port answers.
  for (let i = 0; !logs().some((l) => l.msg === "hookd serving"); i++) {
    if (!node.alive() || i > 600) throw new Error(`hookd serve --role ${role} did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  if (role !== "dispatch") await untilServing(node.url);
  return node;
}

/** Warnings and worse in a node's log, leaving out `ignore`d messages. */
export function warnings(node: ServeNode, ignore: readonly string[] = []): LogLine[] {
  return node.logs().filter((l) => l.level >= PINO_WARN && !ignore.includes(l.msg ?? ""));
}

/** A request to a node as a client would send it (a key, a JSON body); the status and the body, parsed when JSON. */
export async function callNode(node: ServeNode, method: string, route: string, key: string | null = null, body?: unknown) {
  const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${node.url}${route}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  // Tests read arbitrary JSON shapes.
  return { status: res.status, text, body: (text.startsWith("{") ? JSON.parse(text) : null) as any };
}
