/** The CameoDB version, from `deno.json`. */
import config from "./deno.json" with { type: "json" };

/** This build's version. */
export const VERSION: string = config.version;
