/**
 * The console: signs in (an API key, or a portal link's token from the URL
 * fragment), then shows pages that call only the public API with the session cookie.
 */
import { api, ApiError, state, type Session } from "./api.js";
import { deliveriesPage, deliveryPage } from "./deliveries.js";
import { field, h, replace, shortId } from "./dom.js";
import { eventPage, eventsPage } from "./events.js";
import { overviewPage } from "./overview.js";
import { createRouter } from "./router.js";
import { webhookFormPage, webhookPage, webhooksPage } from "./webhooks.js";

const root = document.getElementById("app")!;
const CUSTOMER_KEY = "hookd.customer";

function signInPage(message?: string): void {
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
      replace(error, (err as Error).message);
      key.focus();
    }
  });
  replace(root, h("main", { id: "main" }, h("h1", {}, "hookd console"), form));
  document.title = "Sign in · hookd";
  key.focus();
}

function problemPage(title: string, message: string, next: string): void {
  replace(root, h("main", { id: "main" }, h("h1", {}, title), h("p", { role: "alert" }, message), h("p", {}, next)));
  document.title = `${title} · hookd`;
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
    try {
      await api.signOut();
    } finally {
      sessionStorage.removeItem(CUSTOMER_KEY);
      location.hash = "#/";
      signInPage("Signed out.");
    }
  });
  let switcher: HTMLElement | null = null;
  if (session.admin) {
    const select = h(
      "select",
      { name: "customer" },
      session.customers.map((c) => h("option", { value: c.id, selected: c.id === state.customer }, `${c.name} (${shortId(c.id)})`)),
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
    h("header", {}, h("strong", { class: "brand" }, "hookd"), nav, h("div", { class: "session" }, switcher ?? h("span", {}, who), signOut)),
    main,
    status,
  );
  const router = createRouter(
    main,
    status,
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
    (message) => signInPage(`${message}`),
  );
  if (session.customers.length === 0 && session.admin) {
    replace(main, h("h1", {}, "No customers yet"), h("p", {}, "Create one with: hookd customers create NAME"));
    return;
  }
  router.start();
}

async function boot(): Promise<void> {
  if (location.pathname.endsWith("/portal")) {
    const token = location.hash.slice(1);
    // Out of the address bar and history at once: the token is good once anyway.
    history.replaceState(null, "", "/ui/#/");
    try {
      start(await api.openPortal(token));
    } catch (err) {
      problemPage(
        "This link cannot be used",
        (err as Error).message,
        "Portal links are short-lived and open once. Go back to the application that sent you here and open the console again.",
      );
    }
    return;
  }
  try {
    start(await api.session());
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) signInPage();
    else problemPage("hookd is not answering", (err as Error).message, "Reload the page once hookd is running again.");
  }
}

void boot();
