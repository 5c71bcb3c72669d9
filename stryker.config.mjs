// @ts-check
/**
 * Mutation testing (`npm run mutation`; not part of `npm test` or CI: a full run takes minutes).
 * Stryker changes one small thing at a time in the files below (a `<` into `<=`, a constant,
 * a dropped statement) and reruns the tests that cover it; a mutant the tests do not notice
 * "survives". test/MUTATION.md lists the survivors we accept and why.
 *
 * Incremental: results are kept in reports/mutation/incremental.json, and a rerun tests only
 * the mutants whose code or covering tests changed (`npm run mutation -- --force` retests all).
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'vitest',
  // Only the test files that import the mutated sources: the e2e tests run the built CLI
  // (dist/), which Stryker never mutates, so they could kill nothing and cost a minute each run.
  testFiles: ['test/analyze/**/*.test.ts', 'test/capture/**/*.test.ts', 'test/engine/**/*.test.ts', 'test/config.test.ts'],
  mutate: [
    'src/analyze/**/*.ts',
    'src/capture/app/{dns,tls,http,quic,quic-crypto,ja4,name-filter}.ts',
    'src/engine/clock.ts',
    'src/engine/engine.ts',
  ],
  // Each mutant runs only the tests that executed its code in the initial run.
  coverageAnalysis: 'perTest',
  incremental: true,
  incrementalFile: 'reports/mutation/incremental.json',
  // Two cores, shared with others.
  concurrency: 2,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  tempDirName: '.stryker-tmp',
  ignorePatterns: ['bench/out', 'reports', '.stryker-tmp'],
  timeoutMS: 10_000,
};
