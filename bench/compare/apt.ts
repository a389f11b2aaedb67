/**
 * Debian packages the comparison needs: installed with apt when their binary is missing,
 * saying so (the suite runs as root on a Debian machine; `apt-get update` has run).
 *
 * @module
 */

/** Installs `packages` with apt-get unless `binary` exists; logs what it does. */
export async function ensureDebianPackage(
  binary: string,
  packages: readonly string[],
  log: (line: string) => void,
): Promise<void> {
  try {
    await Deno.stat(binary);
    return;
  } catch {
    log(`installing ${packages.join(", ")} with apt-get …`);
  }
  const apt = await new Deno.Command("apt-get", {
    args: ["install", "-y", "--no-install-recommends", ...packages],
    env: { DEBIAN_FRONTEND: "noninteractive" },
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!apt.success) {
    throw new Error(
      `apt-get install ${packages.join(" ")} failed: ${new TextDecoder().decode(apt.stderr)}`,
    );
  }
}

/** The first line a binary prints for `args` (its version), or "?". */
export async function versionOf(binary: string, args: string[]): Promise<string> {
  try {
    const output = await new Deno.Command(binary, { args, stdout: "piped", stderr: "piped" })
      .output();
    const text = new TextDecoder().decode(output.stdout) || new TextDecoder().decode(output.stderr);
    return text.split("\n").find((line) => line.trim() !== "")?.trim() ?? "?";
  } catch {
    return "?";
  }
}
