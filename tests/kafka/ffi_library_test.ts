/**
 * How the FFI adapter finds librdkafka, and how clearly it says so when it
 * cannot: missing files, files that are not librdkafka, too-old versions.
 *
 * @module
 */

import assert from "node:assert/strict";
import { LibraryNotFoundError } from "../../src/errors.ts";
import { candidatePaths, projectDirs } from "../../src/kafka/ffi/library.ts";
import { createFfiTransport, loadLibrdkafka } from "../../src/kafka/ffi/mod.ts";

const DEBIAN_LIB = "/usr/lib/x86_64-linux-gnu/librdkafka.so.1";
// On a developer's machine without these, the tests that need them are ignored;
// CI (CI=true; .ci/run installs them) always runs them, so they fail there if missing.
const inCi = Deno.env.get("CI") === "true";
const hasDebianLib = inCi || exists(DEBIAN_LIB);
const hasGcc = inCi || await commandWorks("gcc", ["--version"]);

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

async function commandWorks(command: string, args: string[]): Promise<boolean> {
  try {
    return (await new Deno.Command(command, { args, stdout: "null", stderr: "null" }).output())
      .success;
  } catch {
    return false;
  }
}

function withEnv<T>(name: string, value: string | undefined, fn: () => T): T {
  const before = Deno.env.get(name);
  if (value === undefined) Deno.env.delete(name);
  else Deno.env.set(name, value);
  try {
    return fn();
  } finally {
    if (before === undefined) Deno.env.delete(name);
    else Deno.env.set(name, before);
  }
}

function assertNotFound(fn: () => unknown): LibraryNotFoundError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof LibraryNotFoundError, `expected LibraryNotFoundError, got ${caught}`);
  assert.equal(caught.code, "LIBRDKAFKA_NOT_FOUND");
  assert.match(caught.message, /deno install --allow-scripts=npm:node-rdkafka/);
  assert.match(caught.message, /apt-get install librdkafka1/);
  assert.match(caught.message, /brew install librdkafka/);
  assert.match(caught.message, /RACECAR_LIBRDKAFKA_PATH/);
  return caught;
}

Deno.test("loadLibrdkafka() names the missing path and how to install when nothing loads", () => {
  const error = assertNotFound(() =>
    loadLibrdkafka({ libraryPath: "/nowhere/librdkafka.so.1", fallbacks: false })
  );
  assert.equal(error.tried.length, 1);
  assert.match(error.message, /\/nowhere\/librdkafka\.so\.1 \(libraryPath option\): no such file/);
});

Deno.test("createFfiTransport() throws LibraryNotFoundError for a bad path without fallbacks", () => {
  assertNotFound(() => createFfiTransport({ libraryPath: "/nowhere/x.so", fallbacks: false }));
});

Deno.test("loadLibrdkafka() explains that a file is not a shared library", () => {
  // A private directory: a file directly in /tmp would be refused before it is read.
  const dir = Deno.makeTempDirSync();
  const path = `${dir}/librdkafka.so.1`;
  try {
    Deno.writeTextFileSync(path, "this is not a library\n");
    const error = assertNotFound(() => loadLibrdkafka({ libraryPath: path, fallbacks: false }));
    assert.match(error.message, /not a shared library/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("loadLibrdkafka() finds librdkafka's function name anywhere in the file, read in chunks", () => {
  const dir = Deno.makeTempDirSync();
  const path = `${dir}/librdkafka.so.1`;
  const name = new TextEncoder().encode("rd_kafka_version_str");
  // An ELF magic, then the name across the first 64 KiB boundary, far after it, or nowhere.
  const fake = (at: number | null) => {
    const bytes = new Uint8Array(300_000);
    bytes.set([0x7f, 0x45, 0x4c, 0x46]);
    if (at !== null) bytes.set(name, at);
    return bytes;
  };
  try {
    for (const at of [64 * 1024 - 7, 250_000, null]) {
      Deno.writeFileSync(path, fake(at));
      const error = assertNotFound(() => loadLibrdkafka({ libraryPath: path, fallbacks: false }));
      if (at === null) {
        assert.match(error.message, /not librdkafka \(it has no rd_kafka_version\)/);
      } else {
        // Past the file check: the system loader refuses the fake itself.
        assert.doesNotMatch(error.message, /not librdkafka/, `name at ${at}`);
        assert.match(error.message, /not a shared library for this platform: /, `name at ${at}`);
      }
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test({
  name: "loadLibrdkafka() explains that a shared library is not librdkafka",
  ignore: !inCi && !exists("/usr/lib/x86_64-linux-gnu/libc.so.6"),
  fn() {
    const error = assertNotFound(() =>
      loadLibrdkafka({ libraryPath: "/usr/lib/x86_64-linux-gnu/libc.so.6", fallbacks: false })
    );
    assert.match(error.message, /libc\.so\.6 \(libraryPath option\): not librdkafka/);
  },
});

Deno.test({
  name: "loadLibrdkafka() refuses a librdkafka older than 2.0",
  ignore: !hasGcc,
  async fn() {
    // A stand-in exporting just the version functions of a 1.9.2 build.
    const dir = Deno.makeTempDirSync();
    try {
      Deno.writeTextFileSync(
        `${dir}/old.c`,
        "int rd_kafka_version(void) { return 0x010902ff; }\n" +
          'const char *rd_kafka_version_str(void) { return "1.9.2"; }\n',
      );
      const built = await new Deno.Command("gcc", {
        args: ["-shared", "-fPIC", "-o", `${dir}/librdkafka.so.1`, `${dir}/old.c`],
      }).output();
      assert.ok(built.success, new TextDecoder().decode(built.stderr));
      const error = assertNotFound(() =>
        loadLibrdkafka({ libraryPath: `${dir}/librdkafka.so.1`, fallbacks: false })
      );
      assert.match(error.message, /librdkafka 1\.9\.2 is too old: Racecar needs 2\.0\.0 or newer/);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test("candidatePaths() tries the option, the env, node-rdkafka builds upwards, then the system", () => {
  const root = Deno.makeTempDirSync();
  try {
    const npm = `${root}/node_modules/node-rdkafka/build/deps`;
    const deno =
      `${root}/node_modules/.deno/node-rdkafka@3.6.1/node_modules/node-rdkafka/build/deps`;
    Deno.mkdirSync(npm, { recursive: true });
    Deno.mkdirSync(deno, { recursive: true });
    Deno.writeTextFileSync(`${npm}/librdkafka.so.1`, "");
    Deno.writeTextFileSync(`${deno}/librdkafka.so.1`, "");
    Deno.writeTextFileSync(`${root}/package.json`, "{}");
    Deno.mkdirSync(`${root}/app/src`, { recursive: true });
    const { candidates } = withEnv(
      "RACECAR_LIBRDKAFKA_PATH",
      "/from/env.so",
      () => candidatePaths({ libraryPath: "/from/option.so", cwd: `${root}/app/src` }),
    );
    const paths = candidates.map((c) => c.path);
    assert.deepEqual(paths.slice(0, 4), [
      "/from/option.so",
      "/from/env.so",
      `${npm}/librdkafka.so.1`,
      `${deno}/librdkafka.so.1`,
    ]);
    if (Deno.build.os === "linux") {
      assert.deepEqual(paths.slice(4), ["librdkafka.so.1", "librdkafka.so"]);
    }
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test({
  name: "loadLibrdkafka() falls back past a bad env path and a broken build to the system library",
  ignore: !hasDebianLib,
  fn() {
    const root = Deno.makeTempDirSync();
    try {
      const deps = `${root}/node_modules/node-rdkafka/build/deps`;
      Deno.mkdirSync(deps, { recursive: true });
      Deno.writeTextFileSync(`${deps}/librdkafka.so.1`, "broken build");
      // Nothing here loads, so the system library is what remains.
      const lib = withEnv(
        "RACECAR_LIBRDKAFKA_PATH",
        "/nowhere/librdkafka.so.1",
        () => loadLibrdkafka({ cwd: root }),
      );
      try {
        assert.equal(lib.path, "librdkafka.so.1");
        assert.ok(lib.versionNumber >= 0x02000000);
      } finally {
        lib.close();
      }
    } finally {
      Deno.removeSync(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "createFfiTransport() reports the version, builtin features and optional symbols",
  ignore: !hasDebianLib,
  fn() {
    const old = createFfiTransport({ libraryPath: DEBIAN_LIB, fallbacks: false });
    assert.equal(old.name, "deno-ffi");
    assert.match(old.librdkafkaVersion, /^2\.\d+\.\d+/);
    assert.ok(old.features.versionNumber >= 0x02000000);
    assert.ok(old.features.builtin.includes("ssl"), old.features.builtin.join(","));
    assert.equal(old.features.libraryPath, DEBIAN_LIB);

    // Whatever the default search finds (node-rdkafka's build here) is 2.0 or newer too.
    const found = createFfiTransport();
    assert.ok(found.features.versionNumber >= 0x02000000);
    if (found.features.versionNumber >= 0x02030000) {
      assert.ok(found.features.optionalSymbols.includes("rd_kafka_message_produce_errstr"));
    }
    if (old.features.versionNumber < 0x02010000) {
      assert.deepEqual(old.features.optionalSymbols, []);
    }
  },
});

/**
 * Builds a stand-in librdkafka 2.12 whose load-time constructor creates
 * `marker`: if the file exists afterwards, the library's code ran.
 */
async function buildTrap(path: string, marker: string): Promise<void> {
  const source = `${path}.c`;
  Deno.writeTextFileSync(
    source,
    "#include <stdio.h>\n" +
      "__attribute__((constructor)) static void ran(void) {\n" +
      `  FILE *f = fopen(${JSON.stringify(marker)}, "w"); if (f) fclose(f);\n` +
      "}\n" +
      "int rd_kafka_version(void) { return 0x020c00ff; }\n" +
      'const char *rd_kafka_version_str(void) { return "2.12.0"; }\n',
  );
  const built = await new Deno.Command("gcc", {
    args: ["-shared", "-fPIC", "-o", path, source],
  }).output();
  assert.ok(built.success, new TextDecoder().decode(built.stderr));
  Deno.removeSync(source);
}

function trapDeps(root: string): string {
  const deps = `${root}/node_modules/node-rdkafka/build/deps`;
  Deno.mkdirSync(deps, { recursive: true });
  return deps;
}

/** What was tried when nothing loaded; when something else loaded, its path. */
function tryLoading(options: Parameters<typeof loadLibrdkafka>[0]): readonly string[] {
  try {
    const lib = loadLibrdkafka(options);
    lib.close();
    return [`loaded ${lib.path}`];
  } catch (error) {
    if (error instanceof LibraryNotFoundError) return error.tried;
    throw error;
  }
}

Deno.test({
  name: "loadLibrdkafka() never runs a library in a directory every user can write to",
  ignore: !hasGcc || Deno.build.os === "windows",
  async fn() {
    const root = Deno.makeTempDirSync();
    try {
      Deno.writeTextFileSync(`${root}/package.json`, "{}");
      const deps = trapDeps(root);
      const marker = `${root}/ran`;
      await buildTrap(`${deps}/librdkafka.so.1`, marker);
      Deno.chmodSync(deps, 0o777);

      const tried = tryLoading({ libraryPath: `${deps}/librdkafka.so.1`, fallbacks: false });
      assert.equal(exists(marker), false, "the library's code ran");
      assert.match(tried[0] ?? "", /not loaded: .*build\/deps is writable by every user/);

      // Found by the node_modules search, it is skipped the same way.
      withEnv("RACECAR_LIBRDKAFKA_PATH", undefined, () => tryLoading({ cwd: root }));
      assert.equal(exists(marker), false, "the library's code ran");

      // A world-writable directory higher up (without the sticky bit) counts too.
      Deno.chmodSync(deps, 0o755);
      Deno.chmodSync(`${root}/node_modules`, 0o777);
      const above = tryLoading({ libraryPath: `${deps}/librdkafka.so.1`, fallbacks: false });
      assert.equal(exists(marker), false, "the library's code ran");
      assert.match(above[0] ?? "", /node_modules is writable by every user/);
    } finally {
      Deno.removeSync(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "loadLibrdkafka() does not look for node_modules above the project root",
  ignore: !hasGcc || Deno.build.os === "windows",
  async fn() {
    const root = Deno.makeTempDirSync();
    try {
      const deps = trapDeps(root);
      const marker = `${root}/ran`;
      await buildTrap(`${deps}/librdkafka.so.1`, marker);
      // The project lives below the directory holding the trap.
      Deno.mkdirSync(`${root}/app/src`, { recursive: true });
      Deno.writeTextFileSync(`${root}/app/deno.json`, "{}");

      const { candidates } = withEnv(
        "RACECAR_LIBRDKAFKA_PATH",
        undefined,
        () => candidatePaths({ cwd: `${root}/app/src` }),
      );
      assert.deepEqual(candidates.filter((c) => c.path.startsWith(root)), []);
      withEnv("RACECAR_LIBRDKAFKA_PATH", undefined, () => tryLoading({ cwd: `${root}/app/src` }));
      assert.equal(exists(marker), false, "the library above the project root was loaded");

      assert.deepEqual(projectDirs(`${root}/app/src`), [`${root}/app/src`, `${root}/app`]);
      // Without any project file, only the starting directory is searched.
      assert.deepEqual(projectDirs(`${root}/elsewhere`), [`${root}/elsewhere`]);
    } finally {
      Deno.removeSync(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "loadLibrdkafka() reads the version node-rdkafka declares before opening its build",
  ignore: !hasGcc || Deno.build.os === "windows",
  async fn() {
    const root = Deno.makeTempDirSync();
    try {
      Deno.writeTextFileSync(`${root}/package.json`, "{}");
      const deps = trapDeps(root);
      const marker = `${root}/ran`;
      await buildTrap(`${deps}/librdkafka.so.1`, marker);
      Deno.writeTextFileSync(
        `${root}/node_modules/node-rdkafka/package.json`,
        JSON.stringify({ name: "node-rdkafka", librdkafka: "1.9.2" }),
      );
      const tried = withEnv("RACECAR_LIBRDKAFKA_PATH", undefined, () => tryLoading({ cwd: root }));
      assert.equal(exists(marker), false, "the library's code ran");
      // Whatever the system offers may load instead; the build was refused either way.
      assert.match(tried[0] ?? "", /librdkafka 1\.9\.2 is too old|^loaded librdkafka\.so/);
    } finally {
      Deno.removeSync(root, { recursive: true });
    }
  },
});
