// Producing from an HTTP handler with `node:http`: the Node.js twin of
// examples/http_producer_deno.ts, using the npm package (`npm install racecar`).
//
//   RACECAR_BROKERS=127.0.0.1:9092 node examples/http_producer_node.mjs
//   curl -XPOST localhost:8000/comments -d '{"text":"hi"}'
//
// POST /comments waits for Kafka's acknowledgement (produceSync); GET
// /comments/:id records a view in the background (produceAsync); POST /import
// waits for a whole batch (waitForDelivery). On SIGINT/SIGTERM the server
// stops, then closeDefaultProducer() flushes what is still queued.

import { createServer } from "node:http";
import { randomUUID } from "node:crypto";
import {
  closeDefaultProducer,
  DeliveryError,
  produceAsync,
  produceSync,
  waitForDelivery,
} from "racecar";

async function readJson(request) {
  const chunks = [];
  for await (const chunk of request) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString("utf8") || "null");
}

function json(response, status, body) {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

async function handle(request, response) {
  const url = new URL(request.url, "http://localhost");
  if (request.method === "POST" && url.pathname === "/comments") {
    const comment = { id: randomUUID(), ...(await readJson(request)) };
    const report = await produceSync(JSON.stringify(comment), {
      topic: "comments",
      key: comment.id,
      headers: { "content-type": "application/json" },
    });
    return json(response, 200, {
      id: comment.id,
      partition: report.partition,
      offset: report.offset,
    });
  }
  const view = url.pathname.match(/^\/comments\/([^/]+)$/);
  if (request.method === "GET" && view !== null) {
    produceAsync(JSON.stringify({ name: "comment_viewed", commentId: view[1] }), {
      topic: "activity",
      partitionKey: view[1],
    });
    return json(response, 200, { id: view[1] });
  }
  if (request.method === "POST" && url.pathname === "/import") {
    const rows = await readJson(request);
    await waitForDelivery(() => {
      for (const row of rows) produceAsync(JSON.stringify(row), { topic: "imports" });
    });
    return json(response, 200, { imported: rows.length });
  }
  json(response, 404, { error: "not found" });
}

const server = createServer((request, response) => {
  handle(request, response).catch((error) => {
    // A DeliveryError's message explains the likely cause (timeout, size, missing topic, ACLs).
    json(response, error instanceof DeliveryError ? 503 : 500, { error: error.message });
  });
});
server.listen(Number(process.env.PORT ?? 8000));

async function shutDown() {
  await new Promise((resolve) => server.close(resolve));
  await closeDefaultProducer();
  process.exit(0);
}
process.once("SIGINT", shutDown);
process.once("SIGTERM", shutDown);
