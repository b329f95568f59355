/**
 * The bad-input cases (usage and config mistakes: exit 2, one clear line, no
 * stack trace) against the compiled bins run by Bun: the Node registration,
 * whose `process.execPath` is Bun's binary when Bun runs it.
 *
 * @module
 */

import "../node/bad_input.node.ts";
