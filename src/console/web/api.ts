/**
 * The public API, from the browser: the session cookie goes along by itself, writes
 * carry the session's CSRF token, and an admin's chosen customer is named on each call.
 */
export interface Session {
  admin: boolean;
  customer: string | null;
  customers: { id: string; name: string; created_at: string }[];
  topics: string[];
  csrf_token: string;
  expires_at: string;
}

export interface ErrorDetail {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: readonly ErrorDetail[] = [],
  ) {
    super(message);
  }
}

export const state: { session: Session | null; customer: string | null } = { session: null, customer: null };

/** The error the API gave (it names what is wrong, field by field), or a plain one for network trouble. */
async function failure(res: Response): Promise<ApiError> {
  try {
    const body = (await res.json()) as { error?: { message?: string; details?: ErrorDetail[] } };
    return new ApiError(res.status, body.error?.message ?? `${res.status} ${res.statusText}`, body.error?.details ?? []);
  } catch {
    return new ApiError(res.status, `${res.status} ${res.statusText}`);
  }
}

/**
 * An error in the words of the form it came from: each bad field under the label the
 * person filled in ("Receiver URL: must use https"). `labels` maps the API's field
 * names to the form's labels; the fields in `mentions` are renamed inside messages
 * too ("must be later than since" → "must be later than “Failed since”").
 */
export function problemText(err: unknown, labels: Record<string, string> = {}, mentions: readonly string[] = []): string {
  if (!(err instanceof ApiError)) return (err as Error).message;
  if (err.status >= 500) return `hookd could not do that (${err.message}); nothing was changed. Try again in a moment.`;
  if (err.details.length === 0) return err.message;
  const named = (text: string) => text.replace(/\b[a-z_]+\b/g, (word) => (mentions.includes(word) && labels[word] ? `“${labels[word]}”` : word));
  return err.details.map((d) => `${labels[d.field] ?? d.field}: ${named(d.message)}`).join("; ");
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET" && state.session) headers["x-csrf-token"] = state.session.csrf_token;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin" });
  } catch {
    throw new ApiError(0, "hookd did not answer: is it running?");
  }
  if (!res.ok) throw await failure(res);
  return (res.status === 204 ? null : await res.json()) as T;
}

/** An admin acts for the customer picked in the switcher; a customer session needs no name. */
function scoped(path: string): string {
  if (!state.session?.admin || !state.customer) return path;
  return `${path}${path.includes("?") ? "&" : "?"}customer=${encodeURIComponent(state.customer)}`;
}

export const api = {
  get: <T>(path: string) => request<T>("GET", scoped(path)),
  post: <T>(path: string, body?: unknown) => request<T>("POST", scoped(path), body),
  patch: <T>(path: string, body: unknown) => request<T>("PATCH", scoped(path), body),
  del: (path: string) => request<null>("DELETE", scoped(path)),
  /** An admin names the customer in the body of a create. */
  create: <T>(path: string, body: Record<string, unknown>) => request<T>("POST", path, state.session?.admin ? { ...body, customer: state.customer } : body),
  signIn: (key: string) => request<Session>("POST", "/ui/session", { key }),
  openPortal: (token: string) => request<Session>("POST", "/ui/session/portal", { token }),
  session: () => request<Session>("GET", "/ui/session"),
  signOut: () => request<null>("DELETE", "/ui/session"),
};

export interface Page<T> {
  count: number;
  count_exact?: boolean;
  next: string | null;
  previous: string | null;
  results: T[];
}

/** The cursor in a next/previous link, so pages move without leaving the console. */
export function cursorOf(url: string | null): string | null {
  return url === null ? null : new URL(url).searchParams.get("cursor");
}
