import { ConfigError } from "../../src/errors.ts";
import { importOptional, isMissingPackage } from "../../src/metrics/_optional.ts";
import assert from "node:assert/strict";

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
  assert.ok(isMissingPackage(error, MISSING), String(error));
  assert.ok(!isMissingPackage(error, "hot-shots"));
  assert.ok(!isMissingPackage(new Error(`'${MISSING}' failed to initialise`), MISSING));
});

Deno.test("importOptional() throws a ConfigError naming the package and the setting when it is missing", async () => {
  const missing = Object.assign(new Error("Cannot find package 'hot-shots' imported from x"), {
    code: "ERR_MODULE_NOT_FOUND",
  });
  await assert.rejects(
    () => importOptional("hot-shots", () => Promise.reject(missing)),
    (error) => {
      assert.ok(error instanceof ConfigError);
      assert.ok(
        error.message.includes(
          `Cannot enable Datadog metrics ('datadog_enabled'): the package "hot-shots" is not installed; ` +
            `install it next to racecar with 'npm install hot-shots'`,
        ),
        error.message,
      );
      assert.deepEqual(error.key, "datadog_enabled");
      return true;
    },
  );
});

Deno.test("importOptional() passes other failures through unchanged", async () => {
  const broken = new SyntaxError("Unexpected token in prom-client");
  await assert.rejects(
    () => importOptional("prom-client", () => Promise.reject(broken)),
    (error) => {
      assert.ok(error instanceof SyntaxError);
      assert.match(error.message, /Unexpected token/);
      return true;
    },
  );
});

Deno.test("importOptional() returns the module when it is installed", async () => {
  const promClient = await importOptional("prom-client", () => import("prom-client"));
  assert.deepEqual(typeof promClient.Registry, "function");
});

Deno.test("importOptional() names @opentelemetry/api and 'tracing_enabled' when the API is missing", async () => {
  const missing = Object.assign(
    new Error("Cannot find package '@opentelemetry/api' imported from x"),
    { code: "ERR_MODULE_NOT_FOUND" },
  );
  await assert.rejects(
    () => importOptional("@opentelemetry/api", () => Promise.reject(missing)),
    (error) => {
      assert.ok(error instanceof ConfigError);
      assert.ok(
        error.message.includes(
          `Cannot enable OpenTelemetry tracing ('tracing_enabled'): the package ` +
            `"@opentelemetry/api" is not installed; install it next to racecar with ` +
            `'npm install @opentelemetry/api'`,
        ),
        error.message,
      );
      assert.deepEqual(error.key, "tracing_enabled");
      return true;
    },
  );
});
