/** A few lines of DOM building instead of a framework: the whole console stays a few KB. */

export type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

/** An element: `on*` attributes become listeners, booleans toggle, null/undefined/false are left out. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === "function") el.addEventListener(name.slice(2).toLowerCase(), value);
    else if (value === true) el.setAttribute(name, "");
    else if (value !== null && value !== undefined && value !== false) el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(parent, c);
    else parent.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
}

/** An SVG element (the chart). */
export function svg(tag: string, attrs: Record<string, string | number>, ...children: (Node | string)[]): SVGElement {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
  return el;
}

export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/**
 * An id short enough for a table: its last group. Event and delivery ids lead with
 * their creation time (UUID v7), so their first group is the same for everything made
 * in the same minute; the last is random. A whole group, so the text is a word of the
 * link's accessible name ("Delivery <id>").
 */
export function shortId(id: string): string {
  return id.slice(id.lastIndexOf("-") + 1);
}

export function link(href: string, text: string, attrs: Attrs = {}): HTMLAnchorElement {
  return h("a", { href, ...attrs }, text);
}

/** A badge whose text says the state (colour is only a second cue). */
export function badge(text: string, tone: string = text): HTMLSpanElement {
  return h("span", { class: `badge ${tone}` }, text);
}

/** Copies `text`; falls back to selecting it when the clipboard is not available. */
export function copyButton(label: string, text: () => string): HTMLButtonElement {
  const button = h("button", { type: "button", class: "secondary" }, label);
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text());
      button.textContent = "Copied";
    } catch {
      button.textContent = "Copy failed: select and copy by hand";
    }
    setTimeout(() => (button.textContent = label), 2000);
  });
  return button;
}

/** A labelled field: the label wraps the control, so it is always associated. */
export function field(label: string, control: HTMLElement, hint?: string): HTMLLabelElement {
  return h("label", { class: "field" }, h("span", {}, label), control, hint ? h("small", {}, hint) : null);
}

/**
 * A table in its own scrolling box, so a wide table never widens the page (a phone
 * scrolls the table, not the page). The box is focusable and named, so keyboard users
 * can scroll it too.
 */
export function table(headers: string[], rows: Child[][], caption: string): HTMLElement {
  return h(
    "div",
    { class: "table-box", role: "region", "aria-label": caption, tabindex: 0 },
    h(
      "table",
      {},
      h("caption", { class: "visually-hidden" }, caption),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          headers.map((t) => h("th", { scope: "col" }, t)),
        ),
      ),
      h(
        "tbody",
        {},
        rows.map((r) =>
          h(
            "tr",
            {},
            r.map((c) => h("td", {}, c)),
          ),
        ),
      ),
    ),
  );
}

/** What to do when a list is empty: never a blank space. */
export function empty(text: string, ...next: Child[]): HTMLElement {
  return h("div", { class: "empty" }, h("p", {}, text), next);
}
