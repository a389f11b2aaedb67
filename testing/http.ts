/**
 * A small HTTP client for system tests and the reliability suites: one call, the status
 * and the parsed JSON answer (or the text when it is not JSON).
 *
 * @module
 */

/** An answer: its status and body. */
export interface HttpAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Headers;
}

/** Sends one request; a JSON body is sent as `application/json` unless `contentType` says otherwise. */
export async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  options: { contentType?: string; raw?: BodyInit; signal?: AbortSignal } = {},
): Promise<HttpAnswer> {
  const init: RequestInit = { method };
  if (options.raw !== undefined) {
    init.body = options.raw;
    init.headers = { "content-type": options.contentType ?? "application/json" };
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { "content-type": options.contentType ?? "application/json" };
  }
  if (options.signal !== undefined) init.signal = options.signal;
  const response = await fetch(`${base}${path}`, init);
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: keep the text.
  }
  return { status: response.status, body: parsed, headers: response.headers };
}
