// Errors of the local Kafka script. The CLI maps them to exit codes: a missing tool is a setup
// problem the user fixes by installing something (2, like a usage error), anything else is 1.

/** A failure of the local Kafka script, carrying the exit code the CLI should use. */
export class KafkaScriptError extends Error {
  /** Exit code for the CLI: 2 for a missing tool or bad usage, 1 otherwise. */
  readonly exitCode: number;
  /** Extra lines (a log tail, a tool's output) shown after the message. */
  readonly details: string[];

  constructor(
    message: string,
    options: { exitCode?: number; details?: string[]; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "KafkaScriptError";
    this.exitCode = options.exitCode ?? 1;
    this.details = options.details ?? [];
  }
}

/** The apt line that provides everything the script needs on Debian and Ubuntu. */
export const INSTALL_HINT = "apt-get install maven openjdk-17-jre-headless";

/** Error for a missing `java` or `mvn`, with the exact install command. */
export function missingTool(tool: string, why: string): KafkaScriptError {
  return new KafkaScriptError(
    `Cannot ${why}: '${tool}' was not found on PATH; install it with: ${INSTALL_HINT}`,
    { exitCode: 2 },
  );
}
