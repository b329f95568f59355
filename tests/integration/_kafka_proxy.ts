/**
 * A TCP proxy in front of one Kafka broker, for tests that need the broker to
 * go away and come back. It rewrites the broker's own address in responses
 * (Metadata, FindCoordinator) so clients keep talking through the proxy
 * instead of connecting to the advertised address directly.
 */

import { connect, createServer, type Server, type Socket } from "node:net";
import { Buffer } from "node:buffer";

const HOST_CHARS = /^[A-Za-z0-9.\-]+$/;

export class KafkaProxy {
  readonly #targetHost: string;
  readonly #targetPort: number;
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  #port = 0;
  /** Connections accepted since the proxy was created. */
  connections = 0;

  constructor(target: string) {
    const [host, port] = target.split(":");
    this.#targetHost = host!;
    this.#targetPort = Number(port);
  }

  /** The port the proxy listens on (the same across restarts). */
  get port(): number {
    return this.#port;
  }

  /** `127.0.0.1:<port>`. */
  get address(): string {
    return `127.0.0.1:${this.#port}`;
  }

  /** Starts listening (again, on the same port). */
  async start(): Promise<void> {
    const server = createServer((client) => this.#accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.#port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  /** Stops listening and cuts every open connection: the broker is "down". */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    this.connections++;
    const upstream = connect(this.#targetPort, this.#targetHost);
    this.#sockets.add(client);
    this.#sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(upstream);
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.on("data", (chunk) => upstream.write(chunk));
    let pending = Buffer.alloc(0);
    upstream.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4) {
        const size = pending.readInt32BE(0);
        if (pending.length < 4 + size) break;
        const frame = Buffer.from(pending.subarray(0, 4 + size));
        pending = pending.subarray(4 + size);
        this.#rewrite(frame);
        client.write(frame);
      }
    });
  }

  /** Replaces the broker's port after every host name in a response with the proxy's. */
  #rewrite(frame: Buffer): void {
    for (let i = 5; i + 4 <= frame.length; i++) {
      if (frame.readInt32BE(i) !== this.#targetPort) continue;
      for (let len = 1; len <= Math.min(i - 1, 255); len++) {
        const host = frame.subarray(i - len, i).toString("latin1");
        if (!HOST_CHARS.test(host)) break;
        const compact = frame[i - len - 1] === len + 1;
        const classic = i - len - 2 >= 0 && frame.readInt16BE(i - len - 2) === len;
        if (compact || classic) {
          frame.writeInt32BE(this.#port, i);
          break;
        }
      }
    }
  }
}
