// Readiness probe for a Kafka broker: one ApiVersions v0 request over plain TCP.
// A JVM tool would cost 1-2 s per attempt; this costs milliseconds and proves more than an open
// port, because something that merely accepts connections does not answer with our correlation id.

/** What a broker said to an ApiVersions request. */
export interface ApiVersionsReply {
  /** Number of API keys the broker supports. */
  apiCount: number;
  /** Highest ApiVersions version the broker accepts. */
  maxApiVersionsVersion: number;
}

/** Options of {@linkcode probeApiVersions}. */
export interface ProbeOptions {
  /**
   * Give up on one attempt (connect, write, read) after this many milliseconds.
   * @default {2000}
   */
  timeoutMs?: number;
}

const API_VERSIONS_KEY = 18;
const CORRELATION_ID = 0x52434152; // "RCAR": unlikely to come back from a non-Kafka peer by chance
const CLIENT_ID = "racecar-kafka-script";
// A reply lists about 90 APIs in 4.x (6 bytes each); anything far bigger is not a Kafka reply.
const MAX_REPLY_BYTES = 64 * 1024;

/** Encodes an ApiVersions v0 request: request header v1 (with client id) and an empty body. */
export function encodeApiVersionsRequest(): Uint8Array {
  const clientId = new TextEncoder().encode(CLIENT_ID);
  const payloadSize = 2 + 2 + 4 + 2 + clientId.length;
  const bytes = new Uint8Array(4 + payloadSize);
  const view = new DataView(bytes.buffer);
  view.setInt32(0, payloadSize);
  view.setInt16(4, API_VERSIONS_KEY);
  view.setInt16(6, 0);
  view.setInt32(8, CORRELATION_ID);
  view.setInt16(12, clientId.length);
  bytes.set(clientId, 14);
  return bytes;
}

/**
 * Decodes the body of an ApiVersions v0 response (without its 4-byte size prefix).
 * Returns undefined when it is not a successful reply to our request.
 */
export function decodeApiVersionsResponse(body: Uint8Array): ApiVersionsReply | undefined {
  if (body.length < 10) return undefined;
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  if (view.getInt32(0) !== CORRELATION_ID) return undefined;
  if (view.getInt16(4) !== 0) return undefined;
  const count = view.getInt32(6);
  if (count < 0 || 10 + count * 6 > body.length) return undefined;
  let maxApiVersionsVersion = -1;
  for (let i = 0; i < count; i++) {
    const at = 10 + i * 6;
    if (view.getInt16(at) === API_VERSIONS_KEY) maxApiVersionsVersion = view.getInt16(at + 4);
  }
  return { apiCount: count, maxApiVersionsVersion };
}

/**
 * Sends one ApiVersions request to `host:port`; resolves to the reply, or undefined when nothing
 * (or something that is not a Kafka broker) answers in time. Never throws for network errors.
 */
export async function probeApiVersions(
  host: string,
  port: number,
  options: ProbeOptions = {},
): Promise<ApiVersionsReply | undefined> {
  const timeoutMs = options.timeoutMs ?? 2000;
  const abort = new AbortController();
  let conn: Deno.TcpConn | undefined;
  const timer = setTimeout(() => {
    abort.abort();
    try {
      conn?.close();
    } catch { /* already closed */ }
  }, timeoutMs);
  try {
    conn = await Deno.connect({ hostname: host, port, signal: abort.signal });
    if (abort.signal.aborted) return undefined;
    await writeAll(conn, encodeApiVersionsRequest());
    const sizeBytes = await readExactly(conn, 4);
    if (!sizeBytes) return undefined;
    const size = new DataView(sizeBytes.buffer).getInt32(0);
    if (size < 10 || size > MAX_REPLY_BYTES) return undefined;
    const body = await readExactly(conn, size);
    return body ? decodeApiVersionsResponse(body) : undefined;
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
    try {
      conn?.close();
    } catch { /* closed by the timer */ }
  }
}

/** Whether a TCP connection to `host:port` is accepted, whatever speaks there. */
export async function portAccepts(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const conn = await Deno.connect({ hostname: host, port, signal: abort.signal });
    conn.close();
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

async function readExactly(conn: Deno.Conn, size: number): Promise<Uint8Array | undefined> {
  const out = new Uint8Array(size);
  let filled = 0;
  while (filled < size) {
    const n = await conn.read(out.subarray(filled));
    if (n === null) return undefined;
    filled += n;
  }
  return out;
}
