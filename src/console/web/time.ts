/**
 * Times as a person reads them: how long ago (or how soon), and the local clock time
 * with its time zone named, so "14:32" is never a guess between UTC and local time.
 */
import { h } from "./dom.js";

const DAY = 86_400_000;
const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * DAY],
  ["month", 30 * DAY],
  ["week", 7 * DAY],
  ["day", DAY],
  ["hour", 3_600_000],
  ["minute", 60_000],
];
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

/** "3 minutes ago", "in 2 hours", "yesterday"; under a minute: "just now" or "in a few seconds". */
export function fromNow(ms: number, now = Date.now()): string {
  const diff = ms - now;
  if (Math.abs(diff) < 60_000) return diff <= 0 ? "just now" : "in a few seconds";
  const [unit, size] = UNITS.find(([, size]) => Math.abs(diff) >= size) ?? UNITS.at(-1)!;
  return relative.format(Math.round(diff / size), unit);
}

/** The local time with its zone: "14:32 UTC" today, "3 May, 14:32 GMT+2" another day (the year when not this one). */
export function clockTime(ms: number, now = Date.now(), seconds = false): string {
  const d = new Date(ms);
  const today = new Date(now);
  const options: Intl.DateTimeFormatOptions = { hour: "2-digit", minute: "2-digit", timeZoneName: "short" };
  if (seconds) options.second = "2-digit";
  if (d.toDateString() !== today.toDateString()) Object.assign(options, { month: "short", day: "numeric" });
  if (d.getFullYear() !== today.getFullYear()) options.year = "numeric";
  return new Intl.DateTimeFormat(undefined, options).format(d);
}

/** The browser's time zone, e.g. "Europe/Berlin", for captions. */
export function zoneName(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** A <time>: "3 minutes ago (14:32 UTC)", the full date in its title; a dash for none. */
export function when(iso: string | null | undefined, now = Date.now()): HTMLElement | string {
  if (!iso) return "—";
  const ms = Date.parse(iso);
  const full = new Date(ms).toLocaleString(undefined, { dateStyle: "full", timeStyle: "long" });
  return h("time", { datetime: iso, title: full }, `${fromNow(ms, now)} `, h("span", { class: "clock" }, `(${clockTime(ms, now)})`));
}
