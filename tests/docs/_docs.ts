/**
 * What the documentation tests share: the documents users read, the package's
 * export maps, an import map that points the published specifiers
 * (`jsr:@racecar/cli...`, `racecar...`) at this checkout, and the fenced
 * blocks of a Markdown file.
 *
 * @module
 */

import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT } from "../cli/_helpers.ts";

/** README.md and every docs/*.md, relative to the repository root. */
export async function documents(): Promise<string[]> {
  const files = ["README.md"];
  for await (const entry of Deno.readDir(join(ROOT, "docs"))) {
    if (entry.isFile && entry.name.endsWith(".md")) files.push(`docs/${entry.name}`);
  }
  return files.sort();
}

/** deno.json, as far as these tests read it. */
export interface DenoJson {
  version: string;
  exports: Record<string, string>;
  imports: Record<string, string>;
}

/** The repository's deno.json. */
export async function denoJson(): Promise<DenoJson> {
  return JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
}

/**
 * An import map for code written as a user writes it: deno.json's imports,
 * plus every export of the package under its JSR name (`jsr:@racecar/cli`,
 * `jsr:@racecar/cli/testing`, ...) and its npm name (`racecar`,
 * `racecar/testing`, ...), all pointing at this checkout.
 */
export async function checkoutImportMap(): Promise<{ imports: Record<string, string> }> {
  const config = await denoJson();
  const imports: Record<string, string> = { ...config.imports };
  for (const [subpath, target] of Object.entries(config.exports)) {
    const url = pathToFileURL(join(ROOT, target)).href;
    const tail = subpath === "." ? "" : subpath.slice(1);
    imports[`jsr:@racecar/cli${tail}`] = url;
    imports[`racecar${tail}`] = url;
  }
  return { imports };
}

/** Writes {@link checkoutImportMap} to a temp file; returns its path. */
export async function writeCheckoutImportMap(dir?: string): Promise<string> {
  const file = dir === undefined
    ? await Deno.makeTempFile({ prefix: "racecar-import-map-", suffix: ".json" })
    : join(dir, "import_map.json");
  await Deno.writeTextFile(file, JSON.stringify(await checkoutImportMap(), null, 2));
  return file;
}

/** One fenced block of a Markdown document. */
export interface CodeBlock {
  /** The info string's first word, e.g. `ts`, `sh`. */
  lang: string;
  /** The rest of the info string, e.g. `ignore`. */
  attributes: string[];
  /** The block's text. */
  text: string;
  /** 1-based line of the opening fence. */
  line: number;
}

/** The fenced blocks of a Markdown document, in order. */
export function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*(.*)$/.exec(lines[i]!);
    if (open === null) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i]!.startsWith("```"); i++) body.push(lines[i]!);
    blocks.push({
      lang: open[1]!,
      attributes: open[2]!.split(/\s+/).filter((a) => a !== ""),
      text: body.join("\n") + "\n",
      line: start + 1,
    });
  }
  return blocks;
}

/**
 * The block of `document` whose first line is the comment `// <path>` (the
 * docs name the file a block is meant to be saved as that way).
 */
export async function fileBlock(document: string, path: string): Promise<CodeBlock> {
  const markdown = await Deno.readTextFile(join(ROOT, document));
  const found = codeBlocks(markdown).find((b) => b.text.startsWith(`// ${path}\n`));
  if (found === undefined) throw new Error(`${document} has no block starting "// ${path}"`);
  return found;
}

/** The shell command lines of `document`'s `sh` blocks that start with `prefix`. */
export async function commandLines(document: string, prefix: RegExp): Promise<string[]> {
  const markdown = await Deno.readTextFile(join(ROOT, document));
  return codeBlocks(markdown)
    .filter((b) => b.lang === "sh")
    .flatMap((b) => b.text.split("\n"))
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter((line) => prefix.test(line));
}

/** Splits a documented command into its `NAME=value` prefix and its arguments. */
export function parseCommand(line: string): { env: Record<string, string>; argv: string[] } {
  const words = line.split(/\s+/).filter((w) => w !== "");
  const env: Record<string, string> = {};
  while (words.length > 0 && /^[A-Z_][A-Z0-9_]*=/.test(words[0]!)) {
    const word = words.shift()!;
    const eq = word.indexOf("=");
    env[word.slice(0, eq)] = word.slice(eq + 1);
  }
  return { env, argv: words };
}
