/**
 * Case conversion, the one helper for it: setting names (`maxWaitTime`,
 * `max_wait_time`, `--max-wait-time`), consumer class names and file names.
 *
 * @example
 * ```ts
 * import { camelCase, kebabCase, pascalCase, snakeCase } from "./_case.ts";
 * console.assert(snakeCase("maxWaitTime") === "max_wait_time");
 * console.assert(snakeCase("HTTPOrdersConsumer") === "http_orders_consumer");
 * console.assert(kebabCase("maxWaitTime") === "max-wait-time");
 * console.assert(camelCase("max-wait-time") === "maxWaitTime");
 * console.assert(pascalCase("tap_dance") === "TapDance");
 * ```
 *
 * @module
 */

/** `maxWaitTime` -> `max_wait_time`; `HTTPConsumer` -> `http_consumer`. */
export function snakeCase(name: string): string {
  return name
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .replace(/([a-z\d])([A-Z])/g, "$1_$2")
    .toLowerCase();
}

/** `maxWaitTime` -> `max-wait-time`. */
export function kebabCase(name: string): string {
  return snakeCase(name).replaceAll("_", "-");
}

/** `max_wait_time` or `max-wait-time` -> `maxWaitTime`. */
export function camelCase(key: string): string {
  return key.replace(/[-_]([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** `tap_dance`, `tap-dance dance` or `tapDance` -> `TapDance`. */
export function pascalCase(name: string): string {
  const camel = name.replace(/[-_\s]+(\w)/g, (_, c: string) => c.toUpperCase());
  return camel.charAt(0).toUpperCase() + camel.slice(1);
}
