/**
 * A small W3C WebDriver client over `fetch`, driving Debian's headless Chromium through
 * `chromedriver` (no npm Selenium: the protocol is a handful of JSON endpoints).
 *
 * @module
 */

import { waitUntil } from "./wait.ts";

const ELEMENT_KEY = "element-6066-11e4-a52e-4f735466cecf";

/** Where Debian puts the two programs. */
export const CHROMIUM_PATH = "/usr/bin/chromium";
/** Where Debian puts the driver. */
export const CHROMEDRIVER_PATH = "/usr/bin/chromedriver";

/** Whether Chromium and its driver are installed. */
export async function chromiumInstalled(): Promise<boolean> {
  for (const path of [CHROMIUM_PATH, CHROMEDRIVER_PATH]) {
    try {
      await Deno.stat(path);
    } catch {
      return false;
    }
  }
  return true;
}

/** One browser session. */
export class Browser {
  readonly #base: string;
  readonly #driver: Deno.ChildProcess;

  private constructor(base: string, driver: Deno.ChildProcess) {
    this.#base = base;
    this.#driver = driver;
  }

  /** Starts chromedriver on a free port and opens a headless Chromium session. */
  static async start(options: { width?: number; height?: number } = {}): Promise<Browser> {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = listener.addr.port;
    listener.close();
    const driver = new Deno.Command(CHROMEDRIVER_PATH, {
      args: [`--port=${port}`],
      stdout: "null",
      stderr: "null",
    }).spawn();
    const root = `http://127.0.0.1:${port}`;
    await waitUntil(
      async () => {
        const status = await (await fetch(`${root}/status`)).json();
        return status.value?.ready === true;
      },
      15_000,
      "chromedriver ready",
    );
    const profile = await Deno.makeTempDir({ prefix: "cameodb-chromium-" });
    const created = await command(root, "POST", "/session", {
      capabilities: {
        alwaysMatch: {
          browserName: "chrome",
          "goog:chromeOptions": {
            binary: CHROMIUM_PATH,
            args: [
              "--headless",
              "--no-sandbox",
              "--disable-gpu",
              "--disable-quic",
              "--no-first-run",
              "--disable-background-networking",
              "--disable-component-update",
              "--disable-sync",
              `--user-data-dir=${profile}`,
              `--window-size=${options.width ?? 1280},${options.height ?? 800}`,
            ],
          },
        },
      },
    }) as { sessionId: string };
    return new Browser(`${root}/session/${created.sessionId}`, driver);
  }

  /** Sends one command of this session. */
  call(method: string, path: string, body?: unknown): Promise<unknown> {
    return command(this.#base, method, path, body);
  }

  /** Opens `url`. */
  async go(url: string): Promise<void> {
    await this.call("POST", "/url", { url });
  }

  /** The first element matching `css`; waits up to `timeoutMs` for it to exist. */
  async find(css: string, timeoutMs = 10_000): Promise<string> {
    return await waitUntil(
      async () => {
        const found = await this.call("POST", "/element", { using: "css selector", value: css });
        return (found as Record<string, string>)[ELEMENT_KEY];
      },
      timeoutMs,
      `element ${css}`,
    );
  }

  /** Waits until the text of the element matching `css` matches `pattern`; answers the text. */
  async waitForText(css: string, pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    let last = "";
    const check = async () => {
      last = await this.text(await this.find(css, timeoutMs));
      return pattern.test(last) ? last : undefined;
    };
    return await waitUntil(check, timeoutMs, `${css} to read ${pattern}`).catch((error) => {
      throw new Error(`${error.message}; it read ${JSON.stringify(last)}`);
    });
  }

  /** The element's visible text. */
  async text(element: string): Promise<string> {
    return await this.call("GET", `/element/${element}/text`) as string;
  }

  /** Clicks the element. */
  async click(element: string): Promise<void> {
    await this.call("POST", `/element/${element}/click`, {});
  }

  /** Types into the element (for a file input: the file's path). */
  async type(element: string, text: string): Promise<void> {
    await this.call("POST", `/element/${element}/value`, { text });
  }

  /** A PNG of the page. */
  async screenshot(): Promise<Uint8Array> {
    const base64 = await this.call("GET", "/screenshot") as string;
    return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  }

  /** Ends the session and the driver. */
  async close(): Promise<void> {
    await this.call("DELETE", "").catch(() => {});
    try {
      this.#driver.kill("SIGTERM");
    } catch { /* already gone */ }
    await this.#driver.status;
  }
}

async function command(base: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${base}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  });
  const answer = await response.json() as { value: unknown };
  if (!response.ok) {
    const error = answer.value as { error?: string; message?: string };
    throw new Error(`WebDriver ${method} ${path}: ${error?.error}: ${error?.message}`);
  }
  return answer.value;
}
