/** Run the built CLI (dist/) as a user would: a child process with exit code and output. */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function spawnCli(args: string[], env: Record<string, string> = {}, cwd?: string): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], {
    cwd,
    env: { ...process.env, HOOKD_ENV: "test", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
}

export function collect(child: ChildProcess, stdin?: string | Buffer): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  if (stdin !== undefined) child.stdin?.end(stdin);
  else child.stdin?.end();
  return new Promise((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
}

export function runCli(args: string[], env: Record<string, string> = {}, options: { cwd?: string; stdin?: string | Buffer } = {}): Promise<CliResult> {
  return collect(spawnCli(args, env, options.cwd), options.stdin);
}

/** A shell pipeline, for what only a real pipe shows (e.g. a slow writer on stdin). */
export function runShell(script: string, env: Record<string, string> = {}): Promise<CliResult> {
  return collect(spawn("sh", ["-c", script], { env: { ...process.env, HOOKD_ENV: "test", ...env }, stdio: ["pipe", "pipe", "pipe"] }));
}

/** Wait until a `hookd serve` at `url` accepts connections; resolves with its /healthz answer. */
export async function untilServing(url: string): Promise<Response> {
  for (let i = 0; ; i++) {
    try {
      return await fetch(`${url}/healthz`);
    } catch (err) {
      if (i > 400) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Whether script(1) is there to give the CLI a pseudo-terminal. */
export const hasScript = (() => {
  try {
    execFileSync("script", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

/** Run the CLI with a terminal as its stdout and stderr, through script(1)'s pseudo-terminal. */
export function runOnTerminal(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const command = [process.execPath, CLI, ...args].map((a) => `'${a}'`).join(" ");
  return collect(spawn("script", ["-qec", command, "/dev/null"], { env: { ...process.env, HOOKD_ENV: "test", ...env } }));
}
