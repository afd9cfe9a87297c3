/**
 * The operator's brand (config `console.brand`), handed over by the server in a
 * <meta> tag (console/branding.ts): the name in the header and tab titles, the logo,
 * and the accent colour (set through the CSSOM, which the page's CSP allows).
 */
import { h } from "./dom.js";

export interface Brand {
  name: string;
  logoUrl: string | null;
  accentColor: string | null;
}

function read(): Brand {
  const fallback: Brand = { name: "hookd", logoUrl: null, accentColor: null };
  const text = document.querySelector('meta[name="hookd-brand"]')?.getAttribute("content");
  if (!text) return fallback;
  try {
    return { ...fallback, ...(JSON.parse(text) as Partial<Brand>) };
  } catch {
    return fallback;
  }
}

export const brand: Brand = read();

export function applyBrand(): void {
  if (brand.accentColor) document.documentElement.style.setProperty("--accent", brand.accentColor);
}

/** "Overview · Acme Webhooks" */
export function title(page: string): string {
  return `${page} · ${brand.name}`;
}

/** The logo (decorative: the name beside it says the same) and the name. */
export function brandMark(): HTMLElement {
  return h("span", { class: "brand" }, brand.logoUrl ? h("img", { src: brand.logoUrl, alt: "", class: "logo" }) : null, h("strong", {}, brand.name));
}
