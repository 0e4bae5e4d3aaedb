/**
 * @module The /ui page's files, embedded in the executable at build time (text imports), with
 * an ETag each so a browser revalidates instead of downloading them again.
 */
import script from "./ui/app.js" with { type: "text" };
import page from "./ui/index.html" with { type: "text" };
import style from "./ui/style.css" with { type: "text" };

export interface UiAsset {
  readonly body: string;
  readonly type: string;
  readonly etag: string;
}

function asset(body: string, type: string): UiAsset {
  return { body, type, etag: `"${Bun.hash(body).toString(36)}"` };
}

export const UI_ASSETS: Readonly<Record<string, UiAsset>> = {
  // A text import is a string; TypeScript before 7.1 types it by the .html extension instead.
  "/ui/": asset(page as unknown as string, "text/html; charset=utf-8"),
  "/ui/app.js": asset(script, "text/javascript; charset=utf-8"),
  "/ui/style.css": asset(style, "text/css; charset=utf-8"),
};
