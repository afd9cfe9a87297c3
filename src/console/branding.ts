/**
 * The operator's brand (config `console.brand`) on the console's page, and the page's
 * Content-Security-Policy. Pure. The brand travels in a <meta> tag the script reads
 * (no inline script: the policy forbids it), so the sign-in page and a refused portal
 * link are branded too, before anyone is signed in.
 */
import { logoOrigin, type Brand } from "../config/brand.js";

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/** The shipped index.html with the brand's name as its title and the brand for the script. */
export function brandedPage(html: string, brand: Brand): string {
  const json = JSON.stringify({ name: brand.name, logoUrl: brand.logoUrl ?? null, accentColor: brand.accentColor });
  return html.replace(/<title>[^<]*<\/title>/, `<title>${escapeHtml(brand.name)}</title>\n    <meta name="hookd-brand" content="${escapeHtml(json)}" />`);
}

/**
 * Nothing from anywhere else: no CDN, no fonts, no framing, no inline script. Images
 * from hookd itself and data: URLs, and from the logo's origin when the logo is an
 * https URL (only that origin: a data: logo needs nothing more).
 */
export function consoleCsp(brand: Brand): string {
  const origin = logoOrigin(brand.logoUrl);
  const img = ["'self'", "data:", ...(origin ? [origin] : [])].join(" ");
  return `default-src 'self'; img-src ${img}; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`;
}
