/**
 * Reading what a client sent: a JSON body of bounded size, a percent-encoded path segment,
 * an object where one is expected. Every failure is the client's: a 4xx `HttpError`.
 *
 * @module
 */

import { HttpError } from "./errors.ts";

/** Reads a JSON body of at most `maxBodyBytes`. */
export async function readJson(request: Request, maxBodyBytes: number): Promise<unknown> {
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/json\b/i.test(type)) {
    throw new HttpError(
      415,
      "Unsupported media type",
      `expected Content-Type: application/json, got "${type}"`,
    );
  }
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBodyBytes) {
    throw new HttpError(
      413,
      "Payload too large",
      `the body is ${declared} bytes; at most ${maxBodyBytes} are allowed`,
    );
  }
  const bytes = await readBytes(request, maxBodyBytes);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new HttpError(400, "Bad request", "the body is not valid UTF-8");
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(
      400,
      "Bad request",
      `the body is not valid JSON: ${(error as Error).message}`,
    );
  }
}

async function readBytes(request: Request, maxBodyBytes: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body !== null) {
    for await (const chunk of request.body) {
      size += chunk.length;
      if (size > maxBodyBytes) {
        throw new HttpError(413, "Payload too large", `the body is over ${maxBodyBytes} bytes`);
      }
      chunks.push(chunk);
    }
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

/** Decodes a percent-encoded path segment; a malformed one is the client's error. */
export function decodePathPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new HttpError(400, "Bad request", `malformed percent-encoding in "${part}"`);
  }
}

/** `value` as a JSON object, or a 400 naming `what`. */
export function requireObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new HttpError(400, "Bad request", `${what} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** `value` as a JSON array, or a 400 saying what the body should be. */
export function requireArray(value: unknown, expected: string): unknown[] {
  if (!Array.isArray(value)) throw new HttpError(400, "Bad request", expected);
  return value;
}
