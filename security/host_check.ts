/**
 * Who may reach a server without a key: the HTTP bind address must be loopback, and a request's
 * `Host` must be a loopback name or a configured one (a page served from elsewhere that points
 * its own DNS name at 127.0.0.1 — DNS rebinding — sends its own name as `Host`).
 *
 * @module
 */

/** True for an address that only this machine can reach: `localhost`, 127.0.0.0/8, `::1`. */
export function isLoopbackAddress(address: string): boolean {
  const bare = address.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (bare === "localhost" || bare === "::1" || bare === "0:0:0:0:0:0:0:1") return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

/** The host name of a `Host` header, without its port, lower-cased (IPv6 without brackets). */
export function hostName(header: string): string {
  const value = header.trim().toLowerCase();
  if (value.startsWith("[")) {
    const end = value.indexOf("]");
    return end < 0 ? value : value.slice(1, end);
  }
  const colon = value.lastIndexOf(":");
  return colon < 0 ? value : value.slice(0, colon);
}

/** True when a request with this `Host` header may be served without a key. */
export function hostAllowed(header: string | null, allowedHosts: readonly string[]): boolean {
  if (header === null || header === "") return false;
  const name = hostName(header);
  return name === "localhost" || name === "127.0.0.1" || name === "::1" ||
    allowedHosts.some((allowed) => allowed.toLowerCase() === name);
}

/**
 * Why HTTP must not start with these settings, or undefined: a non-loopback bind address needs
 * a master key.
 */
export function exposureProblem(
  bindAddress: string,
  masterKey: string,
): string | undefined {
  if (masterKey !== "" || isLoopbackAddress(bindAddress)) return undefined;
  return `refusing to serve HTTP on ${bindAddress} without a master key: set ` +
    "CAMEODB_SECURITY_MASTER_KEY (or security.master_key in cameodb.toml) to a secret of at " +
    "least 16 bytes, or bind to 127.0.0.1";
}
