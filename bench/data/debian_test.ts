import assert from "node:assert/strict";
import { parseDumpavail } from "./debian.ts";

Deno.test("debian data: a dumpavail stanza becomes a document", () => {
  const [pkg] = parseDumpavail(`Package: 0ad
Version: 0.0.26-3
Installed-Size: 28591
Maintainer: Debian Games Team <pkg-games-devel@lists.alioth.debian.org>
Description: Real-time strategy game of ancient warfare
Tag: game::strategy, interface::graphical,
 uitoolkit::sdl
Section: games
Priority: optional
Size: 7891488
`);
  assert.deepEqual(pkg, {
    id: "0ad",
    doc: {
      name: "0ad",
      version: "0.0.26-3",
      section: "games",
      priority: "optional",
      installed_size: 28591,
      size: 7891488,
      maintainer: { name: "Debian Games Team", email: "pkg-games-devel@lists.alioth.debian.org" },
      description: "Real-time strategy game of ancient warfare",
      tags: ["game::strategy", "interface::graphical", "uitoolkit::sdl"],
      depends: "",
    },
  });
});
