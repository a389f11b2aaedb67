/**
 * The web console in headless Chromium (driven over WebDriver) against a real server, doing what a
 * person does: load it, search, page, open a document, upload a CSV file. With
 * `CAMEODB_UPDATE_SCREENSHOTS=1` the screenshots of each step are written to `docs/console/`.
 */
import assert from "node:assert/strict";
import { connect } from "../client/connect.ts";
import { startServerProcess } from "../testing/server_process.ts";
import { Browser, chromiumInstalled } from "../testing/webdriver.ts";

const installed = await chromiumInstalled();
const root = Deno.uid() === 0;
if (!installed && !root) {
  console.warn(
    "console_test: skipped — Chromium is not installed and this user cannot install it " +
      "(as root: apt-get install -y chromium chromium-driver, as .ci/run does)",
  );
}

const SHOTS = Deno.env.get("CAMEODB_UPDATE_SCREENSHOTS") === "1"
  ? new URL("../docs/console/", import.meta.url).pathname
  : undefined;

Deno.test({
  name: "web console: load, search with facets and paging, open a document, upload a CSV",
  ignore: !installed && !root,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    assert.ok(installed, "Chromium is missing: apt-get install -y chromium chromium-driver");
    const dir = await Deno.makeTempDir();
    const server = await startServerProcess({ dataDir: `${dir}/data` });
    const db = connect(server.url);
    const browser = await Browser.start({ width: 1280, height: 760 });
    const shot = async (name: string) => {
      const png = await browser.screenshot();
      assert.deepEqual([...png.slice(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
      await Deno.writeFile(`${SHOTS ?? `${dir}/`}${name}.png`, png);
    };
    try {
      const titles = ["Rust Programming", "Rust in Action", "Go in Action", "Programming Rust"];
      await db.index("books").configure({ fields: [{ name: "status", type: "string" }] });
      await db.index("books").bulk(Array.from({ length: 25 }, (_, i) => ({
        id: `b${String(i + 1).padStart(2, "0")}`,
        doc: {
          title: `${titles[i % 4]} ${i + 1}`,
          year: 2000 + i,
          status: i % 3 === 0 ? "draft" : "active",
          summary: `Volume ${i + 1} of a long series about ${titles[i % 4]!.toLowerCase()}.`,
        },
      })));

      await browser.go(`${server.url}/`);
      await browser.waitForText("#health", /^green$/);
      await browser.waitForText("#indexes", /books\s*25 docs · fts5/);
      await browser.waitForText("#schema", /year\s*i64/);
      await browser.waitForText("#summary", /^1–10 of 25 hits/);
      await shot("load");

      await browser.click(await browser.find("#next"));
      await browser.waitForText("#summary", /^11–20 of 25 hits/);
      const query = await browser.find("#query");
      await browser.type(query, "title:rust sort year:asc");
      await browser.waitForText("#summary", /^1–10 of 19 hits/);
      await browser.waitForText("#hits li:first-child", /^b01\s/);
      // The matched word is marked in the hit (the server's highlights, shown as <mark>).
      await browser.waitForText("#hits li:first-child mark", /^Rust$/i);
      await browser.waitForText("#facets", /status\s*active \(\d+\)\s*draft \(\d+\)/);
      await browser.click(await browser.find("#facets button:last-child"));
      await browser.waitForText("#summary", /^1–7 of 7 hits/);
      await shot("search");

      await browser.click(await browser.find("#hits li:nth-child(2)"));
      await browser.waitForText("#document-title", /^books \/ b04 \(version 1\)$/);
      const body = await browser.waitForText("#document-body", /"title": "Programming Rust 4"/);
      assert.match(body, /"status": "draft"/);
      await shot("document");

      const csv = `${dir}/movies.csv`;
      await Deno.writeTextFile(
        csv,
        'id,title,year\nm1,"Alien, the director\'s cut",1979\nm2,Solaris,1972\nm3,Stalker,1979\n',
      );
      await browser.type(await browser.find("#upload-index"), "movies");
      await browser.type(await browser.find("#upload-file"), csv);
      await browser.click(await browser.find("#upload button[type=submit]"));
      await browser.waitForText(
        "#upload-status",
        /^loaded 3 of 3 documents into movies \(0 errors\)$/,
      );
      await browser.waitForText("#indexes", /movies\s*3 docs/);
      await browser.waitForText("#summary", /^1–3 of 3 hits/);
      assert.deepEqual((await db.index("movies").get("m1"))?.doc, {
        title: "Alien, the director's cut",
        year: 1979,
      });
      await shot("upload");
    } finally {
      await browser.close();
      await db.close();
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "web console: with a master key it asks for an API key and works with a reader's key",
  ignore: !installed && !root,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    assert.ok(installed, "Chromium is missing: apt-get install -y chromium chromium-driver");
    const dir = await Deno.makeTempDir();
    const master = "console-test-master-key-0123456789";
    const server = await startServerProcess({
      dataDir: `${dir}/data`,
      env: { CAMEODB_SECURITY_MASTER_KEY: master },
    });
    const admin = connect(server.url, { apiKey: master });
    const browser = await Browser.start({ width: 1280, height: 760 });
    try {
      await admin.index("books").bulk([
        { id: "b1", doc: { title: "Rust Programming" } },
        { id: "b2", doc: { title: "Go in Action" } },
      ]);
      const created = await fetch(`${server.url}/_keys`, {
        method: "POST",
        headers: { authorization: `Bearer ${master}`, "content-type": "application/json" },
        body: JSON.stringify({
          description: "console reader",
          actions: ["search"],
          indexes: ["books"],
        }),
      });
      assert.equal(created.status, 201);
      const { key } = await created.json() as { key: string };

      await browser.go(`${server.url}/`);
      // Without a key: the listing is refused and the key form says why; nothing is shown.
      await browser.waitForText("#key-status", /needs an API key/);
      await browser.waitForText("#error", /^Unauthorized/);
      assert.equal(await browser.text(await browser.find("#indexes")), "");

      await browser.type(await browser.find("#api-key"), "cdb_not-a-real-key");
      await browser.click(await browser.find("#key-form button[type=submit]"));
      await browser.waitForText("#key-status", /not valid/);

      await browser.type(await browser.find("#api-key"), key);
      await browser.click(await browser.find("#key-form button[type=submit]"));
      await browser.waitForText("#indexes", /books\s*2 docs · fts5/);
      await browser.waitForText("#summary", /^1–2 of 2 hits/);
      await browser.type(await browser.find("#query"), "title:rust");
      await browser.waitForText("#summary", /^1–1 of 1 hits/);
      // The reader's key may search but not write: the upload says so and writes nothing.
      const csv = `${dir}/more.csv`;
      await Deno.writeTextFile(csv, "id,title\nb3,Dune\n");
      await browser.type(await browser.find("#upload-index"), "books");
      await browser.type(await browser.find("#upload-file"), csv);
      await browser.click(await browser.find("#upload button[type=submit]"));
      await browser.waitForText("#upload-status", /^upload failed: Forbidden/);
      assert.equal(await admin.index("books").get("b3"), null);
    } finally {
      await browser.close();
      await admin.close();
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
