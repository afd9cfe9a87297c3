/**
 * Hash routes (#/deliveries/ID?…) to pages; a page may return a reload for the periodic
 * refresh. One router per page life: it listens to `hashchange` once (popstate as well
 * would render every navigation twice) and runs one refresh timer, however many times
 * someone signs out and in; while signed out it is unmounted and renders nothing, and
 * whatever was still loading is dropped.
 */
import { ApiError, problemText } from "./api.js";
import { title } from "./brand.js";
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
  /** render into `main` from now on (the first mount starts listening and the timer) */
  mount(main: HTMLElement, status: HTMLElement): void;
  /** stop rendering (signed out); loads still under way are dropped */
  unmount(): void;
  navigate(hash: string, reload?: boolean): Promise<void>;
}

const REFRESH_MS = 15_000;

export function createRouter(pages: Record<string, PageFn>, onUnauthorized: () => void): Router {
  let view: { main: HTMLElement; status: HTMLElement } | null = null;
  let reload: (() => Promise<void>) | null = null;
  let seq = 0;
  let listening = false;

  const finish = (main: HTMLElement) => {
    main.querySelector("h1")?.focus();
    document.title = title(main.querySelector("h1")?.textContent ?? "Console");
  };

  const failed = (err: unknown) => {
    if (!view) return;
    if (err instanceof ApiError && err.status === 401) return onUnauthorized();
    const missing = err instanceof ApiError && err.status === 404;
    replace(
      view.main,
      h("h1", { tabindex: -1 }, missing ? "Not found" : "Something went wrong"),
      h("p", { role: "alert" }, problemText(err)),
      h("p", {}, h("a", { href: "#/" }, "Back to the overview")),
    );
    finish(view.main);
  };

  async function render(): Promise<void> {
    const mine = ++seq;
    reload = null;
    if (!view) return;
    const { main, status } = view;
    const [path = "", search = ""] = location.hash.replace(/^#\/?/, "").split("?");
    const [name = "", ...params] = path.split("/").filter(Boolean).map(decodeURIComponent);
    const key = params.length ? `${name}/:id` : name;
    const page = pages[name === "webhooks" && params[0] === "new" ? "webhooks/new" : key] ?? pages["404"]!;
    for (const a of document.querySelectorAll("nav.main a")) a.toggleAttribute("aria-current", a.getAttribute("href") === `#/${name}`);
    replace(main, h("p", { "aria-busy": "true" }, "Loading…"));
    const ctx: PageContext = {
      main,
      params,
      query: new URLSearchParams(search),
      heading: (text) => h("h1", { tabindex: -1 }, text),
      navigate,
      announce: (text) => replace(status, text),
    };
    try {
      const r = await page(ctx);
      if (mine !== seq) return;
      reload = r ?? null;
      finish(main);
    } catch (err) {
      if (mine === seq) failed(err);
    }
  }

  async function navigate(hash: string, force = false): Promise<void> {
    if (location.hash !== hash) (force ? history.replaceState : history.pushState).call(history, null, "", hash);
    await render();
  }

  async function refresh(): Promise<void> {
    // Not while someone is typing in a form: the refresh replaces only data sections, but stay out of the way.
    const active = document.activeElement;
    if (!view || !reload || document.hidden || (active && /INPUT|SELECT|TEXTAREA/.test(active.tagName))) return;
    const mine = seq;
    try {
      await reload();
    } catch (err) {
      if (mine === seq) failed(err);
    }
  }

  return {
    mount(main, status) {
      view = { main, status };
      if (!listening) {
        listening = true;
        addEventListener("hashchange", () => void render());
        setInterval(() => void refresh(), REFRESH_MS);
      }
      void render();
    },
    unmount() {
      view = null;
      reload = null;
      seq++;
    },
    navigate,
  };
}
