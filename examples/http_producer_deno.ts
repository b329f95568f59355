/**
 * Producing from an HTTP handler with `Deno.serve`: racecar's "Standalone
 * Producer" in a web app.
 *
 * - `POST /comments` waits until Kafka acknowledged the comment (`produceSync`);
 * - `GET /comments/:id` records a view in the background (`produceAsync`): it is
 *   buffered and retried while Kafka is unavailable, up to `message_timeout`;
 * - `POST /import` sends many messages, then waits for all (`waitForDelivery`).
 *
 * The default producer reads `RACECAR_*` variables and `config/racecar.yml`.
 * On SIGINT/SIGTERM the server stops, then `closeDefaultProducer()` flushes
 * what is still queued: an open Kafka client would keep the process alive.
 *
 *     RACECAR_BROKERS=127.0.0.1:9092 deno run -A examples/http_producer_deno.ts
 *     curl -XPOST localhost:8000/comments -d '{"text":"hi"}'
 *
 * @module
 */

import {
  closeDefaultProducer,
  produceAsync,
  produceSync,
  waitForDelivery,
} from "../src/app_producer.ts";
import { DeliveryError } from "../src/errors.ts";

async function handle(request: Request): Promise<Response> {
  const url = new URL(request.url);
  try {
    if (request.method === "POST" && url.pathname === "/comments") {
      const comment = { id: crypto.randomUUID(), ...(await request.json()) };
      const report = await produceSync(JSON.stringify(comment), {
        topic: "comments",
        key: comment.id,
        headers: { "content-type": "application/json" },
      });
      return Response.json({ id: comment.id, partition: report.partition, offset: report.offset });
    }
    const view = url.pathname.match(/^\/comments\/([^/]+)$/);
    if (request.method === "GET" && view !== null) {
      produceAsync(JSON.stringify({ name: "comment_viewed", commentId: view[1] }), {
        topic: "activity",
        partitionKey: view[1]!,
      });
      return Response.json({ id: view[1] });
    }
    if (request.method === "POST" && url.pathname === "/import") {
      const rows = (await request.json()) as unknown[];
      await waitForDelivery(() => {
        for (const row of rows) produceAsync(JSON.stringify(row), { topic: "imports" });
      });
      return Response.json({ imported: rows.length });
    }
    return new Response("Not found\n", { status: 404 });
  } catch (error) {
    if (error instanceof DeliveryError) {
      // The message explains the likely cause (timeout, size, missing topic, ACLs).
      return new Response(`${error.message}\n`, { status: 503 });
    }
    throw error;
  }
}

const server = Deno.serve({ port: Number(Deno.env.get("PORT") ?? 8000) }, handle);

async function shutDown(): Promise<void> {
  await server.shutdown();
  await closeDefaultProducer();
  Deno.exit(0);
}
Deno.addSignalListener("SIGINT", shutDown);
Deno.addSignalListener("SIGTERM", shutDown);
