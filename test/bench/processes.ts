/**
 * Child processes for the bench: the receiver, each contender (hookd's CLI tick, the
 * bare loops, the peers), each in its own process so none shares an event loop, a
 * heap or a JIT warm-up with another. Every child started here is killed on exit.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { TickSummary } from "../../src/dispatch/dispatcher.js";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

const children = new Set<ChildProcess>();

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.on("exit", () => children.delete(child));
  return child;
}

/** Kill whatever is still running (normal end, error, Ctrl-C). */
export function killChildren(): void {
  for (const child of children) child.kill("SIGKILL");
}
process.on("exit", killChildren);

/** A TypeScript script of the bench, run with tsx, with an IPC channel. */
export class Script {
  readonly child: ChildProcess;
  private nextId = 1;
  private waiting = new Map<number, (msg: any) => void>();
  private stderr = "";
  /** The script's first `{type: "ready"}` message. */
  readonly ready: Promise<any>;
  /** The script's `{type: "result"}` message. */
  readonly result: Promise<any>;
  /** The script's `{type: "started"}` message, for scripts that send one. */
  readonly started: Promise<any>;
  readonly exited: Promise<number | null>;

  /** `nodeArgs`: flags for node itself, e.g. --cpu-prof (which NODE_OPTIONS does not allow) */
  constructor(file: string, args: string[] = [], env: Record<string, string> = {}, nodeArgs: string[] = []) {
    this.child = track(
      spawn(process.execPath, [...nodeArgs, "--import", "tsx", fileURLToPath(new URL(file, import.meta.url)), ...args], {
        cwd: ROOT,
        env: { ...process.env, ...env },
        stdio: ["ignore", "inherit", "pipe", "ipc"],
      }),
    );
    this.child.stderr!.on("data", (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    // "close", not "exit": only then has every IPC message been read.
    this.exited = new Promise((resolve) => this.child.on("close", (code) => resolve(code)));
    const failed = this.exited.then((code) => {
      throw new Error(`${file} exited with ${code} before answering:\n${this.stderr}`);
    });
    failed.catch(() => {});
    this.ready = Promise.race([this.typed("ready"), failed]);
    this.result = Promise.race([this.typed("result"), failed]);
    this.started = Promise.race([this.typed("started"), failed]);
    // Scripts send some of these only; an unused one must not be an unhandled rejection.
    for (const p of [this.ready, this.result, this.started]) p.catch(() => {});
    this.child.on("message", (msg: any) => {
      const resolve = typeof msg?.id === "number" ? this.waiting.get(msg.id) : undefined;
      if (resolve) {
        this.waiting.delete(msg.id);
        resolve(msg);
      }
    });
  }

  private typed(type: string): Promise<any> {
    return new Promise((resolve) => {
      const on = (msg: any) => {
        if (msg?.type === type) {
          this.child.off("message", on);
          resolve(msg);
        }
      };
      this.child.on("message", on);
    });
  }

  /** Send a request; resolves with the reply carrying the same id. */
  ask<T>(msg: Record<string, unknown>): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve) => {
      this.waiting.set(id, resolve);
      this.child.send({ ...msg, id });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGTERM");
    await this.exited;
  }
}

export interface ReceiverStats {
  ok: number;
  hung: number;
  /** when the last 200 was sent, ms since the epoch */
  lastOkAt: number;
  /** when the first 200 was sent, ms since the epoch */
  firstOkAt: number;
  /** answered 500 (paths under /fail/) */
  failed: number;
  /** the most requests in flight at once to one path (one webhook) */
  maxInFlight: number;
  requests: number;
  /** distinct X-Delivery-Ids: requests − distinct is what arrived twice */
  distinct: number;
}

export interface Receiver {
  url: string;
  pid: number;
  stats(): Promise<ReceiverStats>;
  reset(): Promise<void>;
  /** x-event-id → receipt time, when started with `record` */
  receipts(): Promise<Map<string, number>>;
  /** path → its first request's place among all requests (1-based), when started with `record` */
  firsts(): Promise<Map<string, number>>;
  close(): Promise<void>;
}

export interface ReceiverOptions {
  record?: boolean;
  /** serve HTTPS with this key and certificate (PEM files) */
  tls?: { keyFile: string; certFile: string };
  /** answer each request this long after it arrived */
  delayMs?: number;
}

export async function startReceiver(options: ReceiverOptions = {}): Promise<Receiver> {
  const args = [
    ...(options.record ? ["--record"] : []),
    ...(options.tls ? ["--key", options.tls.keyFile, "--cert", options.tls.certFile] : []),
    ...(options.delayMs ? ["--delay", String(options.delayMs)] : []),
  ];
  const script = new Script("./receiver.ts", args);
  const { port } = await script.ready;
  return {
    url: `${options.tls ? "https" : "http"}://127.0.0.1:${port}`,
    pid: script.child.pid!,
    stats: () => script.ask<ReceiverStats>({ type: "stats" }),
    reset: async () => {
      await script.ask({ type: "reset" });
    },
    receipts: async () => new Map((await script.ask<{ receipts: [string, number][] }>({ type: "receipts" })).receipts),
    firsts: async () => new Map((await script.ask<{ firsts: [string, number][] }>({ type: "firsts" })).firsts),
    close: () => script.stop(),
  };
}

/** Peak resident set (VmHWM) of a live process, in bytes; 0 where /proc is not there. */
export function peakRss(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export interface CliTick {
  /** the `tick --json` summary */
  summary: TickSummary;
  /** peak RSS of the tick process, sampled every 100 ms (VmHWM only grows) */
  peakRssBytes: number;
}

export interface CliTickHandle {
  pid: number;
  /** SIGTERM: the tick stops claiming, drains, hands back the rest, prints its summary. */
  stop(): void;
  done: Promise<CliTick>;
}

/** `hookd tick --json` exactly as a user runs it: the built CLI in its own process. */
export function startCliTick(env: Record<string, string>): CliTickHandle {
  const child = track(
    spawn(process.execPath, [CLI, "tick", "--json"], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, peakRss(child.pid!));
  }, 100);
  const done = new Promise<CliTick>((resolve, reject) => {
    child.on("exit", (code) => {
      clearInterval(sampler);
      if (code !== 0) return reject(new Error(`hookd tick exited with ${code}:\n${stderr}`));
      try {
        resolve({ summary: JSON.parse(stdout), peakRssBytes: peak });
      } catch {
        reject(new Error(`hookd tick printed no summary:\n${stdout}\n${stderr}`));
      }
    });
  });
  return { pid: child.pid!, stop: () => child.kill("SIGTERM"), done };
}
