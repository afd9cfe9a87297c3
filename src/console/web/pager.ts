/** Newer / Older links for a keyset page: the API's next/previous cursors moved into the console's own route. */
import { cursorOf, type Page } from "./api.js";
import { h, link } from "./dom.js";

export function pager(route: string, query: URLSearchParams, page: Page<unknown>): HTMLElement {
  const move = (url: string | null, text: string) => {
    const cursor = cursorOf(url);
    if (cursor === null) return null;
    const next = new URLSearchParams(query);
    next.set("cursor", cursor);
    return link(`#/${route}?${next}`, text, { class: "button secondary" });
  };
  return h("nav", { "aria-label": "Pages", class: "toolbar" }, move(page.previous, "Newer"), move(page.next, "Older"));
}

/** "1,234 deliveries", or "10,000+ …" when the API stopped counting. */
export function counted(page: Page<unknown>, noun: string): HTMLElement {
  return h("p", {}, `${page.count.toLocaleString()}${page.count_exact === false ? "+" : ""} ${noun}`);
}
