/**
 * The console: signs in (an API key, or a portal link's token from the URL
 * fragment), then shows pages that call only the public API with the session cookie.
 */
import { api, ApiError, problemText, state, type Session } from "./api.js";
import { applyBrand, brand, brandMark, title } from "./brand.js";
import { deliveriesPage, deliveryPage } from "./deliveries.js";
import { field, h, replace, shortId } from "./dom.js";
import { eventPage, eventsPage } from "./events.js";
import { overviewPage } from "./overview.js";
import { createRouter } from "./router.js";
import { webhookFormPage, webhookPage, webhooksPage } from "./webhooks.js";

const root = document.getElementById("app")!;
const CUSTOMER_KEY = "hookd.customer";

/** One router for the page's whole life: signing out and in again mounts it again. */
const router = createRouter(
  {
    "": overviewPage,
    webhooks: webhooksPage,
    "webhooks/new": webhookFormPage,
    "webhooks/:id": webhookPage,
    deliveries: deliveriesPage,
    "deliveries/:id": deliveryPage,
    events: eventsPage,
    "events/:id": eventPage,
    "404": async (ctx) => replace(ctx.main, ctx.heading("Not found"), h("p", {}, "No such page. "), h("a", { href: "#/" }, "Go to the overview")),
  },
  // The API's own words ("send Authorization: Bearer <key>") are for API clients, not for someone at the console.
  () => signInPage("Your session has ended: sign in again."),
);

function signInPage(message?: string): void {
  router.unmount();
  state.session = null;
  const key = h("input", { type: "password", name: "key", required: true, autocomplete: "off" });
  const error = h("div", { role: "alert" }, message ?? "");
  const form = h(
    "form",
    { class: "stack signin" },
    field("API key", key, "A customer key opens that customer's console; an admin key opens every customer's."),
    error,
    h("button", { type: "submit" }, "Sign in"),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const session = await api.signIn(key.value);
      key.value = "";
      start(session);
    } catch (err) {
      // A key too long or short for the form is not a key at all: say so, not the schema's words.
      replace(error, err instanceof ApiError && err.status === 400 ? "That is not an API key: hookd's keys start with hk_." : problemText(err));
      key.focus();
    }
  });
  replace(root, h("header", {}, brandMark()), h("main", { id: "main" }, h("h1", {}, `Sign in to ${brand.name}`), form));
  document.title = title("Sign in");
  key.focus();
}

function problemPage(heading: string, message: string, next: string): void {
  replace(root, h("header", {}, brandMark()), h("main", { id: "main" }, h("h1", {}, heading), h("p", { role: "alert" }, message), h("p", {}, next)));
  document.title = title(heading);
}

/**
 * The switcher's names: a name alone when it is unique; customers who share a name
 * are told apart by when each was created (and the id's last group only if even that
 * is the same).
 */
function customerLabels(customers: Session["customers"]): Map<string, string> {
  const count = (key: (c: Session["customers"][number]) => string) => {
    const n = new Map<string, number>();
    for (const c of customers) n.set(key(c), (n.get(key(c)) ?? 0) + 1);
    return n;
  };
  const created = (c: Session["customers"][number]) =>
    `created ${new Date(c.created_at).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" })}`;
  const names = count((c) => c.name);
  const dated = count((c) => `${c.name} ${created(c)}`);
  return new Map(
    customers.map((c) => {
      if (names.get(c.name) === 1) return [c.id, c.name];
      const label = `${c.name} (${created(c)})`;
      return [c.id, dated.get(`${c.name} ${created(c)}`) === 1 ? label : `${label} ${shortId(c.id)}`];
    }),
  );
}

function start(session: Session): void {
  state.session = session;
  const saved = sessionStorage.getItem(CUSTOMER_KEY);
  state.customer = session.admin ? (session.customers.find((c) => c.id === saved)?.id ?? session.customers[0]?.id ?? null) : session.customer;
  const main = h("main", { id: "main" });
  const status = h("div", { role: "status", class: "status", "aria-live": "polite" });
  const nav = h(
    "nav",
    { class: "main", "aria-label": "Console" },
    [
      ["#/", "Overview"],
      ["#/webhooks", "Webhooks"],
      ["#/deliveries", "Deliveries"],
      ["#/events", "Events"],
    ].map(([href, text]) => h("a", { href: href! }, text!)),
  );
  const signOut = h("button", { type: "button", class: "secondary" }, "Sign out");
  signOut.addEventListener("click", async () => {
    router.unmount();
    try {
      await api.signOut();
    } finally {
      sessionStorage.removeItem(CUSTOMER_KEY);
      // replaceState, not location.hash: a hashchange would render a page for nobody.
      history.replaceState(null, "", "#/");
      signInPage("Signed out.");
    }
  });
  let switcher: HTMLElement | null = null;
  if (session.admin) {
    const labels = customerLabels(session.customers);
    const select = h(
      "select",
      { name: "customer" },
      session.customers.map((c) => h("option", { value: c.id, selected: c.id === state.customer }, labels.get(c.id)!)),
    );
    select.addEventListener("change", () => {
      state.customer = select.value;
      sessionStorage.setItem(CUSTOMER_KEY, select.value);
      void router.navigate("#/", true);
    });
    switcher = field("Customer", select);
  }
  const who = session.admin ? "admin" : (session.customers[0]?.name ?? "customer");
  replace(
    root,
    h("header", {}, h("a", { href: "#/", class: "home" }, brandMark()), nav, h("div", { class: "session" }, switcher ?? h("span", {}, who), signOut)),
    main,
    status,
  );
  if (session.customers.length === 0 && session.admin) {
    replace(main, h("h1", {}, "No customers yet"), h("p", {}, "Create one with: hookd customers create NAME"));
    document.title = title("No customers yet");
    return;
  }
  router.mount(main, status);
}

async function boot(): Promise<void> {
  applyBrand();
  if (location.pathname.endsWith("/portal")) {
    const token = location.hash.slice(1);
    // Out of the address bar and history at once: the token is good once anyway.
    history.replaceState(null, "", "/ui/#/");
    const help = "Portal links are short-lived and open once. Go back to the application that sent you here and open the console again.";
    if (!token) {
      problemPage("This link cannot be used", "This link is incomplete: the part after # is missing, perhaps cut off when it was copied.", help);
      return;
    }
    try {
      start(await api.openPortal(token));
    } catch (err) {
      const message = err instanceof ApiError && err.status === 400 ? "This link is not a portal link: it may have been cut off or changed." : problemText(err);
      problemPage("This link cannot be used", message, help);
    }
    return;
  }
  try {
    start(await api.session());
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) signInPage();
    else problemPage("hookd is not answering", problemText(err), "Reload the page once hookd is running again.");
  }
}

void boot();
