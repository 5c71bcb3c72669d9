import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * The vitest config Stryker runs the tests with (stryker.config.mjs; `npm run mutation` only):
 * the project's own, plus a setup file that stops fast-check from shrinking a failing property.
 * A mutant is killed by the first counterexample; shrinking it only costs time.
 */
export default mergeConfig(
  base,
  defineConfig({
    test: { setupFiles: ['test/helpers/mutation-setup.ts'] },
  }),
);
