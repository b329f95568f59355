/**
 * The `racecar` command: `racecar [options] <ConsumerClass | path>`, with one
 * flag per setting generated from the configuration schema.
 *
 * @module
 */

import { Command, CommanderError, Option } from "commander";
import { cwd as runtimeCwd, writeStderr, writeStdout } from "../_runtime.ts";
import { type FlagSpec, flagSpecs, type FlagValues } from "../config/mod.ts";
import { VERSION } from "../version.ts";
import { ExitCode, isUsageError } from "./_exit.ts";
import { describeResult, generateConsumer, initProject } from "./generate.ts";
import { runCommand } from "./run.ts";

/** Adds one option per setting; no defaults, so unset flags stay `undefined`. */
function addSettingFlags(command: Command, specs: readonly FlagSpec[]): void {
  for (const spec of specs) {
    const option = new Option(spec.usage, spec.description);
    if (spec.choices !== undefined) option.choices(spec.choices as string[]);
    command.addOption(option);
    if (spec.negation !== undefined) {
      command.addOption(new Option(spec.negation).hideHelp());
    }
  }
}

/** Builds the `racecar` program; `run` receives the parsed invocation. */
export function racecarProgram(
  run: (consumer: string, flags: FlagValues, requires: string[]) => Promise<number>,
): Command {
  const specs = flagSpecs();
  const program = new Command("racecar")
    .description("Run a Racecar consumer: racecar OrdersConsumer, or racecar path/to/consumer.ts")
    .argument("<consumer>", "consumer class name (looked up in consumers/) or module path")
    .option(
      "-r, --require <module>",
      "import this module before looking for the consumer (repeatable)",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option("-l, --log <file>", "write logs to this file (same as --logfile)")
    .version(`Racecar ${VERSION}`, "-v, --version", "print the version")
    .showHelpAfterError("(run racecar --help for the options)")
    .configureOutput({ writeOut: writeStdout, writeErr: writeStderr })
    .exitOverride();
  addSettingFlags(program, specs);
  addGenerators(program);
  program.action(async (consumer: string, options: Record<string, unknown>) => {
    const flags: FlagValues = {};
    for (const spec of specs) {
      const value = options[spec.name];
      if (value !== undefined) flags[spec.name] = value as string | boolean;
    }
    if (typeof options.log === "string") flags.logfile = options.log;
    const code = await run(consumer, flags, (options.require as string[] | undefined) ?? []);
    program.setOptionValue("__exitCode", code);
  });
  return program;
}

/** `racecar init` and `racecar generate consumer <Name>`. */
function addGenerators(program: Command): void {
  const finish = async (work: () => Promise<number>) => {
    let code: number;
    try {
      code = await work();
    } catch (error) {
      if (!isUsageError(error)) throw error;
      writeStderr(`Error: ${(error as Error).message}\n`);
      code = ExitCode.USAGE;
    }
    program.setOptionValue("__exitCode", code);
  };
  program.command("init")
    .description(
      "write config/racecar.yml, consumers/ and a 'liveness' task (deno.json; package.json on Node)",
    )
    .action(() =>
      finish(async () => {
        const dir = runtimeCwd();
        writeStdout(describeResult(await initProject(dir), dir, dir));
        return ExitCode.OK;
      })
    );
  program.command("generate")
    .description("generate code: racecar generate consumer TapDance")
    .argument("<what>", "what to generate: consumer")
    .argument("<name>", "the consumer's name, e.g. TapDance")
    .action((what: string, name: string) =>
      finish(async () => {
        if (what !== "consumer") {
          writeStderr(`Error: Cannot generate "${what}": only "consumer" can be generated\n`);
          return ExitCode.USAGE;
        }
        const dir = runtimeCwd();
        const result = await generateConsumer(name, { dir });
        writeStdout(describeResult(result, dir, dir));
        for (const note of result.notes ?? []) writeStderr(`Warning: ${note}\n`);
        return ExitCode.OK;
      })
    );
}

/** Runs `racecar` with these arguments; resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = racecarProgram((consumer, flags, requires) =>
    runCommand({ consumer, flags, requires })
  );
  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage mistakes with 2.
      return error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    }
    throw error;
  }
  return (program.getOptionValue("__exitCode") as number | undefined) ?? ExitCode.OK;
}
