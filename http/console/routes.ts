/**
 * The web console's routes: `GET /` is the page, `GET /console/{file}` its script and style,
 * served as they are in this folder (no build step). The files are read once, on first use.
 *
 * @module
 */

import { HttpError } from "../errors.ts";
import { type Route, route } from "../router.ts";
import { API_DOCS } from "../api_docs.ts";

/**
 * The console's files and their content types. A Map, not an object: a name such as
 * `constructor` must not find something of `Object.prototype` (it answered 500).
 */
const FILES = new Map<string, string>([
  ["index.html", "text/html; charset=utf-8"],
  ["console.js", "text/javascript; charset=utf-8"],
  ["console.css", "text/css; charset=utf-8"],
]);

const cache = new Map<string, Uint8Array>();

async function file(name: string): Promise<Response> {
  const type = FILES.get(name);
  if (type === undefined) throw new HttpError(404, "Not found", `No console file "${name}"`);
  let bytes = cache.get(name);
  if (bytes === undefined) {
    bytes = await Deno.readFile(new URL(name, import.meta.url));
    cache.set(name, bytes);
  }
  return new Response(bytes as Uint8Array<ArrayBuffer>, {
    headers: { "content-type": type, "cache-control": "no-cache" },
  });
}

/** The routes of the web console. */
export function consoleRoutes(): Route[] {
  return [
    route("GET", "/", () => file("index.html"), API_DOCS["GET /"]),
    route(
      "GET",
      "/console/:file",
      (_request, params) => file(params.file ?? ""),
      API_DOCS["GET /console/:file"],
    ),
  ];
}
