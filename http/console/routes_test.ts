import assert from "node:assert/strict";
import { consoleRoutes } from "./routes.ts";

/** The `/console/:file` route's handler. */
const serveFile = consoleRoutes().find((route) => route.pattern.pathname === "/console/:file")!;

Deno.test("console routes: a known file is served with its type; other names, Object.prototype's included, are 404", async () => {
  for (const name of ["console.js", "console.css"]) {
    const response = await serveFile.handler(new Request(`http://db/console/${name}`), {
      file: name,
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\//);
    await response.body?.cancel();
  }
  for (const name of ["constructor", "toString", "__proto__", "hasOwnProperty", "nope.js"]) {
    await assert.rejects(
      async () => await serveFile.handler(new Request(`http://db/console/${name}`), { file: name }),
      (error: Error & { status?: number }) => error.status === 404,
      name,
    );
  }
});
