/**
 * Debian's package catalogue as JSON documents: real data with text, numbers, arrays and
 * nested fields, read from `apt-cache dumpavail` (run `apt-get update` first on a fresh
 * machine).
 *
 * @module
 */

/** One package as a document. */
export interface PackageDoc {
  id: string;
  doc: {
    name: string;
    version: string;
    section: string;
    priority: string;
    installed_size: number;
    size: number;
    maintainer: { name: string; email: string };
    description: string;
    tags: string[];
    depends: string;
  };
}

/** Parses `apt-cache dumpavail` output into documents (one per package name). */
export function parseDumpavail(text: string): PackageDoc[] {
  const docs = new Map<string, PackageDoc>();
  for (const stanza of text.split("\n\n")) {
    const fields = new Map<string, string>();
    let last = "";
    for (const line of stanza.split("\n")) {
      if (line.startsWith(" ") && last !== "") {
        fields.set(last, `${fields.get(last)}\n${line.trim()}`);
        continue;
      }
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      last = line.slice(0, colon);
      fields.set(last, line.slice(colon + 1).trim());
    }
    const name = fields.get("Package");
    if (name === undefined || docs.has(name)) continue;
    const maintainer = fields.get("Maintainer") ?? "";
    const match = maintainer.match(/^(.*?)\s*<([^>]*)>/);
    docs.set(name, {
      id: name,
      doc: {
        name,
        version: fields.get("Version") ?? "",
        section: fields.get("Section") ?? "unknown",
        priority: fields.get("Priority") ?? "optional",
        installed_size: Number(fields.get("Installed-Size") ?? "0"),
        size: Number(fields.get("Size") ?? "0"),
        maintainer: { name: match?.[1] ?? maintainer, email: match?.[2] ?? "" },
        description: fields.get("Description") ?? "",
        tags: (fields.get("Tag") ?? "").split(/[,\n]\s*/).map((tag) => tag.trim()).filter((tag) =>
          tag !== ""
        ),
        depends: fields.get("Depends") ?? "",
      },
    });
  }
  return [...docs.values()];
}

/** Loads the catalogue from this machine's apt metadata. */
export async function loadDebianPackages(): Promise<PackageDoc[]> {
  const output = await new Deno.Command("apt-cache", {
    args: ["dumpavail"],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (!output.success) {
    throw new Error(`apt-cache dumpavail failed: ${new TextDecoder().decode(output.stderr)}`);
  }
  const docs = parseDumpavail(new TextDecoder().decode(output.stdout));
  if (docs.length === 0) throw new Error("apt has no package lists: run `apt-get update` first");
  return docs;
}
