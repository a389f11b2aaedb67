/**
 * The commented default `cameodb.toml` that `cameodb generate-config` prints.
 *
 * @module
 */

import { envName, SETTINGS } from "./settings.ts";

function toml(value: unknown): string {
  return Array.isArray(value)
    ? `[${value.map((item) => JSON.stringify(item)).join(", ")}]`
    : JSON.stringify(value);
}

/** A complete configuration file with every default and what each setting means. */
export function generateConfig(): string {
  const lines = [
    "# CameoDB configuration. Every setting is shown with its default.",
    "# Environment variables CAMEODB_<SECTION>_<KEY> override this file; flags override both.",
  ];
  let section = "";
  for (const setting of SETTINGS) {
    const here = setting.path.slice(0, -1).join(".");
    if (here !== section) {
      section = here;
      lines.push("", `[${section}]`);
    }
    const bounds = setting.min !== undefined
      ? ` (${setting.min}..${setting.max})`
      : setting.choices !== undefined
      ? ` (${setting.choices.join(" | ")})`
      : "";
    lines.push(`# ${setting.doc}${bounds}; env ${envName(setting)}`);
    lines.push(`${setting.path.at(-1)} = ${toml(setting.default)}`);
  }
  return lines.join("\n") + "\n";
}
