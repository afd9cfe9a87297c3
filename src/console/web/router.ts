/** Hash routes (#/deliveries/ID?…) to pages; a page may return a reload for the periodic refresh. */
import { ApiError } from "./api.js";
import { h, replace } from "./dom.js";

export interface PageContext {
  main: HTMLElement;
  /** path segments after the page name */
  params: string[];
  query: URLSearchParams;
  /** the page's h1, focused after each navigation so keyboard and screen-reader users start there */
  heading(text: string): HTMLHeadingElement;
  /** go to a hash route; `reload` re-renders the current one */
  navigate(hash: string, reload?: boolean): Promise<void>;
  /** a polite message for screen readers and the status line */
  announce(text: string): void;
}

type PageFn = (ctx: PageContext) => Promise<(() => Promise<void>) | void>;

export interface Router {
  start(): void;
  navigate(hash: string, reload?: boolean): Promise<void>;
  refresh(): Promise<void>;
}

const REFRESH_MS = 15_000;

export function createRouter(main: HTMLElement, status: HTMLElement, pages: Record<string, PageFn>, onUnauthorized: (message: string) => void): Router {
  let reload: (() => Promise<void>) | null = null;
  let seq = 0;

  const ctxFor = (params: string[], query: URLSearchParams): PageContext => ({
    main,
    params,
    query,
    heading: (text) => h("h1", { tabindex: -1 }, text),
    navigate,
    announce: (text) => replace(status, text),
  });

  const failed = (err: unknown) => {
    if (err instanceof ApiError && err.status === 401) return onUnauthorized(err.message);
    replace(
      main,
      h("h1", { tabindex: -1 }, "Something went wrong"),
      h("p", { role: "alert" }, (err as Error).message),
      h("p", {}, h("a", { href: "#/" }, "Back to the overview")),
    );
  };

  async function render(): Promise<void> {
    const mine = ++seq;
    reload = null;
    const [path = "", search = ""] = location.hash.replace(/^#\/?/, "").split("?");
    const [name = "", ...params] = path.split("/").filter(Boolean).map(decodeURIComponent);
    const key = params.length ? `${name}/:id` : name;
    const page = pages[name === "webhooks" && params[0] === "new" ? "webhooks/new" : key] ?? pages["404"]!;
    for (const a of document.querySelectorAll("nav.main a")) a.toggleAttribute("aria-current", a.getAttribute("href") === `#/${name}`);
    replace(main, h("p", { "aria-busy": "true" }, "Loading…"));
    try {
      const r = await page(ctxFor(params, new URLSearchParams(search)));
      if (mine !== seq) return;
      reload = r ?? null;
      main.querySelector("h1")?.focus();
      document.title = `${main.querySelector("h1")?.textContent ?? "Console"} · hookd`;
    } catch (err) {
      if (mine === seq) failed(err);
    }
  }

  async function navigate(hash: string, force = false): Promise<void> {
    if (location.hash === hash || force) {
      if (location.hash !== hash) history.replaceState(null, "", hash);
      await render();
    } else {
      history.pushState(null, "", hash);
      await render();
    }
  }

  async function refresh(): Promise<void> {
    // Not while someone is typing in a form: the refresh replaces only data sections, but stay out of the way.
    const active = document.activeElement;
    if (!reload || document.hidden || (active && /INPUT|SELECT|TEXTAREA/.test(active.tagName))) return;
    try {
      await reload();
    } catch (err) {
      failed(err);
    }
  }

  return {
    start() {
      addEventListener("popstate", () => void render());
      addEventListener("hashchange", () => void render());
      setInterval(() => void refresh(), REFRESH_MS);
      void render();
    },
    navigate,
    refresh,
  };
}
