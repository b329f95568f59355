/**
 * Renders `docs/configuration.md` from the schema. The output is already in
 * `deno fmt` form (aligned tables), so the committed file stays stable.
 *
 * @module
 */

import { formatDefault } from "./flags.ts";
import { ALLOWED_ENV_VARS } from "./load.ts";
import { GROUPS, schema, type SettingDefinition } from "./schema.ts";

const HEADER = ["Key", "Environment variable", "Flag", "Type", "Default", "Description"];

const INTRO = `# Configuration

<!-- Generated from src/config/schema.ts by \`deno task docs:config\`. Do not edit by hand. -->

Every setting has one name in each place it can be set: \`snake_case\` in \`config/racecar.yml\`,
\`RACECAR_SNAKE_CASE\` in the environment, \`--kebab-case\` on the command line and \`camelCase\` in code
(\`config/racecar.ts\`, consumer classes and the \`RacecarConfig\` type). Durations are in seconds and
may be fractional (\`0.5\`).

## Where settings come from

Sources are applied in this order; a later source overrides an earlier one:

1. **Defaults**, listed in the tables below.
2. **The consumer class**: \`static groupId\`, \`static maxWaitTime\`, \`static fetchMessages\` and any
   other setting declared on the class.
3. **\`config/racecar.yml\`**: the \`common\` section, then the section named by \`RACECAR_ENV\` (default
   \`development\`) on top of it. A missing environment section is fine when \`common\` exists;
   otherwise loading fails and lists the sections the file has.
4. **\`config/racecar.ts\`**: its default export, either a function that changes the configuration it
   is given or a partial configuration object. This is the place for values only code can provide,
   such as \`onError\`.
5. **\`RACECAR_*\` environment variables.**
6. **Command-line flags.**

The rule is that the source closest to the invocation wins: a flag typed for one run beats the
environment of the process, which beats files checked in with the application, which beat the code's
own defaults. Ruby racecar loaded \`config/racecar.yml\` after the flags, so the file silently
overrode them; that was a defect and is not reproduced.

\`racecarctl liveness_probe\` with \`liveness_probe_skip_config_files\` reads only defaults and the
environment, so the probe stays fast.

### \`config/racecar.yml\`

\`\`\`yaml
common:
  client_id: orders-service
  max_wait_time: 2

production:
  brokers:
    - kafka1:9092
    - kafka2:9092
  security_protocol: ssl
\`\`\`

Keys must be settings: an unknown key is an error that names the file and line and suggests the
closest setting. ERB tags are not rendered; use environment variables or \`config/racecar.ts\` for
computed values.

### \`config/racecar.ts\`

\`\`\`ts
import type { RacecarConfig } from "jsr:@racecar/cli";

export default (config: RacecarConfig) => {
  config.brokers = ["kafka1:9092", "kafka2:9092"];
  config.onError = (error, info) => console.error(\`\${info.topic}: \${String(error)}\`);
};
\`\`\`

Assigning an unknown name or a value of the wrong type fails at once, naming the setting.

### Environment variables

\`RACECAR_\` followed by the key in upper case, e.g. \`RACECAR_MAX_WAIT_TIME=2.5\`. Lists are
comma-separated (\`RACECAR_BROKERS=kafka1:9092,kafka2:9092\`); booleans are \`true\`, \`false\`, \`1\` or
\`0\`; an empty variable counts as unset. Any other value is an error naming the variable, the value
and what is allowed. An unknown \`RACECAR_*\` variable is an error (with a suggestion when it looks
like a typo), except these, which are not settings:

${ALLOWED_ENV_VARS.map((name) => `- \`${name}\``).join("\n")}

### Command-line flags

\`--\` followed by the key in kebab case, e.g. \`--max-wait-time 2.5\`. Booleans take no value and have
a \`--no-\` form (\`--no-ssl-verify-hostname\`). Lists are comma-separated.

### Consumer class only

\`static parallelWorkers = N\` on a consumer class (Ruby racecar's \`parallel_workers\`) runs N worker
processes of the class under one supervisor, each its own member of the group; default 1. It is set
in the class only: it has no key, variable or flag. See docs/operations.md, "Parallel workers", for
signals, restarts and how the probes are combined.

## Differences from Ruby racecar

- \`without_rails\` is gone: there is no Rails to boot. \`config/racecar.yml\` is always read.
- \`sasl_over_ssl\` is gone: racecar ignored it; use \`security_protocol\`.
- \`ssl_verify_hostname\` now controls host name verification
  (\`ssl.endpoint.identification.algorithm\`); the new \`ssl_verify_certificate\` controls certificate
  verification (\`enable.ssl.certificate.verification\`), which racecar wrongly tied to
  \`ssl_verify_hostname\`.
- A subscription's \`maxBytesPerPartition\` sets \`max.partition.fetch.bytes\`, not \`message.max.bytes\`.
- \`pause_timeout = 0\` is documented as what it does: the error stops the consumer.
- \`sasl_mechanism\` accepts \`OAUTHBEARER\`; \`producer_compression_codec\` accepts \`zstd\`.
- Secrets are redacted whenever the configuration is printed.
- New: retries with a dead-letter topic, in-process \`concurrency\`, a readiness probe, Prometheus
  metrics and in-memory PEM certificates (used for Heroku).

## Settings

Settings marked _new_ do not exist in Ruby racecar; _changed_ ones differ from it as noted.
`;

/**
 * The whole `docs/configuration.md`.
 *
 * @example
 * ```ts
 * import { renderConfigDocs } from "./docs.ts";
 * console.assert(renderConfigDocs().includes("RACECAR_MAX_WAIT_TIME"));
 * ```
 */
export function renderConfigDocs(): string {
  const parts = [INTRO];
  for (const group of GROUPS) {
    const defs = schema().filter((d) => d.group === group);
    if (defs.length === 0) continue;
    parts.push(`\n### ${group}\n\n${table(defs.map(row))}`);
  }
  return parts.join("");
}

function row(def: SettingDefinition): string[] {
  const description = [def.description];
  if (def.type === "enum") {
    description.push(`One of ${def.allowed.map((a) => `\`${a}\``).join(", ")}.`);
  }
  if (def.rdkafka) description.push(`librdkafka: \`${def.rdkafka}\`.`);
  if (def.secret) description.push("Secret: redacted when printed.");
  if (def.origin === "new") description.push("_New._");
  if (def.origin === "changed") description.push("_Changed._");
  if (def.notes) description.push(def.notes);
  const unit = def.type === "duration"
    ? "seconds"
    : def.type === "integer" && def.unit
    ? `integer (${def.unit})`
    : def.type;
  const fallback = formatDefault(def);
  const shown = def.defaultText ?? (fallback === "none" ? "" : `\`${fallback}\``);
  return [
    `\`${def.fileKey}\``,
    `\`${def.envVar}\``,
    `\`${def.flag}\``,
    unit,
    shown,
    description.join(" "),
  ].map(cell);
}

function cell(text: string): string {
  return text.replaceAll("|", "\\|");
}

function table(rows: string[][]): string {
  const widths = HEADER.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |\n`;
  return line(HEADER) + line(widths.map((w) => "-".repeat(w))) + rows.map(line).join("");
}
