/**
 * Writes `docs/configuration.md` from the configuration schema.
 * Run with `deno task docs:config`; `tests/config/docs_test.ts` fails when the
 * committed file is out of date.
 *
 * @module
 */

import { writeTextFile } from "../src/_runtime.ts";
import { renderConfigDocs } from "../src/config/docs.ts";

const target = new URL("../docs/configuration.md", import.meta.url);
await writeTextFile(decodeURIComponent(target.pathname), renderConfigDocs());
console.log(`Wrote ${decodeURIComponent(target.pathname)}`);
