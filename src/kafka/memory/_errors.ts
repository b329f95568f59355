/**
 * The memory adapter's {@link KafkaError}s, with librdkafka's names and texts
 * (`src/_librdkafka.ts`), so they look exactly like the real adapters' ones.
 *
 * @module
 */

import { KafkaError, type KafkaErrorOptions } from "../../errors.ts";
import {
  errorName,
  errorText,
  LIBRDKAFKA_ERRORS,
  type LibrdkafkaErrorName,
} from "../../_librdkafka.ts";

/**
 * A {@link KafkaError} for librdkafka's error `code` (its name, e.g. `"_STATE"`,
 * or its number) with librdkafka's text, then `detail` after a colon.
 */
export function kafkaError(
  code: LibrdkafkaErrorName | number,
  detail?: string,
  options: KafkaErrorOptions = {},
): KafkaError {
  const errno = typeof code === "number" ? code : LIBRDKAFKA_ERRORS[code][0];
  const text = errorText(errno);
  return new KafkaError(
    errno,
    errorName(errno),
    detail === undefined ? text : `${text}: ${detail}`,
    options,
  );
}
