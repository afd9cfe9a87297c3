/**
 * `console.brand`: the operator's product name, logo and accent colour on the console
 * and the customer portal. Pure checks beyond the schema's patterns:
 *
 * - the accent colour carries white button text and is the colour of links on white,
 *   so it must reach WCAG's 4.5:1 against white, or the console fails its own
 *   accessibility checks (a pale brand colour is refused at start, naming the ratio);
 * - the logo is an `https:` URL (its origin, and only it, is added to the console's
 *   img-src) or a `data:image/…;base64,` URL (fetched from nowhere). Nothing else:
 *   an `http:` logo would be mixed content, and a script URL has no place in an image.
 */

export interface Brand {
  /** shown in the header, the tab title and on the sign-in page */
  name: string;
  /** optional in a config file; null or absent: no logo */
  logoUrl?: string | null;
  /** #rgb or #rrggbb */
  accentColor: string;
}

export const DEFAULT_BRAND: Brand = { name: "hookd", logoUrl: null, accentColor: "#0550ae" };

/** WCAG AA for normal text. */
export const MIN_CONTRAST = 4.5;

const DATA_LOGO = /^data:image\/(png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/]+={0,2}$/;

/** WCAG 2 relative luminance of a #rgb / #rrggbb colour. */
function luminance(hex: string): number {
  const h = hex.length === 4 ? [...hex.slice(1)].map((c) => c + c).join("") : hex.slice(1);
  const channel = (i: number) => {
    const c = Number.parseInt(h.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4);
}

/** The contrast ratio of a colour against white (1 to 21). */
export function contrastWithWhite(hex: string): number {
  return 1.05 / (luminance(hex) + 0.05);
}

/** Why `color` cannot be the accent, or null. (The schema already checked it is #rgb / #rrggbb.) */
export function accentProblem(color: string): string | null {
  const ratio = contrastWithWhite(color);
  if (ratio >= MIN_CONTRAST) return null;
  return `must be dark enough for white text on it and for links on white: a contrast of at least ${MIN_CONTRAST}:1 against white (${color} has ${(Math.floor(ratio * 100) / 100).toFixed(2)}:1)`;
}

/** Why `url` cannot be the logo, or null. */
export function logoProblem(url: string): string | null {
  if (url.startsWith("data:")) return DATA_LOGO.test(url) ? null : "must be a data:image/(png|jpeg|gif|webp|svg+xml);base64,… URL";
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "must be an https:// URL or a data:image/…;base64, URL";
  }
  if (parsed.protocol !== "https:") return "must be an https:// URL (or a data:image/…;base64, URL): the console refuses to load anything over plain http";
  if (parsed.username || parsed.password) return "must not carry a user name or password";
  return null;
}

/** The origin the console must allow images from for this logo, or null (none, or a data: URL). */
export function logoOrigin(url: string | null | undefined): string | null {
  return url != null && url.startsWith("https:") ? new URL(url).origin : null;
}
