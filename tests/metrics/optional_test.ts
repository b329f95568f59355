import { ConfigError } from "../../src/errors.ts";
import { importOptional, isMissingPackage } from "../../src/metrics/_optional.ts";
import { assert, assertEquals, assertFalse, assertRejects } from "../_assert.ts";

const MISSING = "racecar-no-such-package";

async function importError(specifier: string): Promise<unknown> {
  try {
    await import(specifier);
  } catch (error) {
    return error;
  }
  throw new Error(`"${specifier}" was found`);
}

Deno.test("isMissingPackage() recognises the runtime's error for a package that is not installed", async () => {
  const error = await importError(MISSING);
  assert(isMissingPackage(error, MISSING), String(error));
  assertFalse(isMissingPackage(error, "hot-shots"));
  assertFalse(isMissingPackage(new Error(`'${MISSING}' failed to initialise`), MISSING));
});

Deno.test("importOptional() throws a ConfigError naming the package and the setting when it is missing", async () => {
  const missing = Object.assign(new Error("Cannot find package 'hot-shots' imported from x"), {
    code: "ERR_MODULE_NOT_FOUND",
  });
  const error = await assertRejects(
    () => importOptional("hot-shots", () => Promise.reject(missing)),
    ConfigError,
    `Cannot enable Datadog metrics ('datadog_enabled'): the package "hot-shots" is not installed; ` +
      `install it next to racecar with 'npm install hot-shots'`,
  );
  assertEquals((error as ConfigError).key, "datadog_enabled");
});

Deno.test("importOptional() passes other failures through unchanged", async () => {
  const broken = new SyntaxError("Unexpected token in prom-client");
  await assertRejects(
    () => importOptional("prom-client", () => Promise.reject(broken)),
    SyntaxError,
    "Unexpected token",
  );
});

Deno.test("importOptional() returns the module when it is installed", async () => {
  const promClient = await importOptional("prom-client", () => import("prom-client"));
  assertEquals(typeof promClient.Registry, "function");
});

Deno.test("importOptional() names @opentelemetry/api and 'tracing_enabled' when the API is missing", async () => {
  const missing = Object.assign(
    new Error("Cannot find package '@opentelemetry/api' imported from x"),
    { code: "ERR_MODULE_NOT_FOUND" },
  );
  const error = await assertRejects(
    () => importOptional("@opentelemetry/api", () => Promise.reject(missing)),
    ConfigError,
    `Cannot enable OpenTelemetry tracing ('tracing_enabled'): the package "@opentelemetry/api" ` +
      `is not installed; install it next to racecar with 'npm install @opentelemetry/api'`,
  );
  assertEquals((error as ConfigError).key, "tracing_enabled");
});
