import assert from "node:assert/strict";
import { readTextFile } from "../../src/_runtime.ts";
import { renderConfigDocs, schema } from "../../src/config/mod.ts";

const DOCS = decodeURIComponent(new URL("../../docs/configuration.md", import.meta.url).pathname);

Deno.test("`renderConfigDocs()` matches the committed docs/configuration.md", async () => {
  const committed = await readTextFile(DOCS);
  assert.ok(
    committed === renderConfigDocs(),
    "docs/configuration.md is out of date: run `deno task docs:config`",
  );
});

Deno.test("`renderConfigDocs()` lists every setting's key, variable and flag", () => {
  const docs = renderConfigDocs();
  for (const def of schema()) {
    assert.ok(docs.includes(`| \`${def.fileKey}\``), def.fileKey);
    assert.ok(docs.includes(`\`${def.envVar}\``), def.envVar);
    assert.ok(docs.includes(`\`${def.flag}\``), def.flag);
  }
  assert.match(docs, /## Where settings come from/);
  assert.match(docs, /without_rails/);
});
