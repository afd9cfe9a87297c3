/**
 * `hookd tick`'s progress bar on a terminal (cli-progress), fed by the dispatcher's
 * onProgress callback. Nothing at all when stdout is not a terminal or with --json,
 * so scripts and logs see only the summary.
 */
import cliProgress from "cli-progress";
import type { TickProgress } from "../dispatch/dispatcher.js";

export interface BarValues {
  /** finished one way or another: the bar's position */
  done: number;
  total: number;
  delivered: number;
  failed: number;
  remaining: number;
}

/**
 * What the bar shows. `failed` counts every unsuccessful attempt (retry budget spent
 * or rescheduled); deferred ones were handed back unsent and count as done for this tick.
 */
export function barValues(p: TickProgress): BarValues {
  const failed = p.failed + p.rescheduled;
  const done = p.delivered + failed + p.deferred;
  // Probes and deliveries that came due during the tick can push past the count taken at its start.
  const total = Math.max(p.total, done);
  return { done, total, delivered: p.delivered, failed, remaining: total - done };
}

export interface TickBar {
  update(p: TickProgress): void;
  stop(): void;
}

/** A bar on `stream` if it is a terminal, else null. */
export function tickProgressBar(stream: NodeJS.WriteStream = process.stdout): TickBar | null {
  if (!stream.isTTY) return null;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: "sending [{bar}] {value}/{total} | delivered {delivered} | failed {failed} | remaining {remaining}",
      clearOnComplete: true,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(p) {
      const v = barValues(p);
      const payload = { delivered: v.delivered, failed: v.failed, remaining: v.remaining };
      if (!started) {
        bar.start(v.total, v.done, payload);
        started = true;
        return;
      }
      bar.setTotal(v.total);
      bar.update(v.done, payload);
    },
    /** Clears the bar; safe to call twice. */
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}
