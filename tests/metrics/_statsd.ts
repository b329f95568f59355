/** A DogStatsD agent stand-in: a real UDP socket on 127.0.0.1 that keeps every line received. */

import { createSocket, type Socket } from "node:dgram";

export interface FakeAgent {
  port: number;
  lines: string[];
  /** Resolves once `predicate` holds for the lines received; rejects after `timeoutMs`. */
  waitFor(predicate: (lines: string[]) => boolean, timeoutMs?: number): Promise<string[]>;
  close(): Promise<void>;
}

export async function startFakeAgent(): Promise<FakeAgent> {
  const socket: Socket = createSocket("udp4");
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  socket.on("message", (packet) => {
    for (const line of packet.toString("utf8").split("\n")) if (line !== "") lines.push(line);
    for (const wake of waiters) wake();
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const port = socket.address().port;
  return {
    port,
    lines,
    waitFor(predicate, timeoutMs = 10_000) {
      if (predicate(lines)) return Promise.resolve(lines);
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate(lines)) return;
          cleanup();
          resolve(lines);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`Timed out waiting for statsd lines; got:\n${lines.join("\n")}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
      });
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
