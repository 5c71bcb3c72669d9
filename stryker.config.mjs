// @ts-check
/**
 * Mutation testing (`npm run mutation`; not part of `npm test` or CI: a full run takes ~45 min).
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
  vitest: { configFile: 'vitest.mutation.config.ts' },
  // Only the test files written for the mutated sources. Left out: the e2e tests (they run the
  // built CLI in dist/, which Stryker never mutates) and the tests of the readers and packet
  // layers (pcap, pcapng, link, defrag, and property.test.ts, whose whole-capture properties
  // take ~30 s per run and check that nothing throws, which the decoders' own tests check too).
  testFiles: [
    'test/analyze/**/*.test.ts',
    'test/engine/**/*.test.ts',
    'test/memory/**/*.test.ts',
    'test/capture/{dns,dns-compression,dns-differential,http,http-edges,tls,tls-edges,quic,quic-edges,quic-crypto-edges,quic-versions,ja4,ja4-edges,ja4-fixtures,name-filter,tcp-reassembly,tcp-wild,regressions}.test.ts',
    'test/config.test.ts',
  ],
  mutate: [
    'src/analyze/**/*.ts',
    'src/capture/app/{dns,tls,http,quic,quic-crypto,ja4,name-filter}.ts',
    'src/engine/clock.ts',
    'src/engine/engine.ts',
  ],
  // Each mutant runs only the tests that executed its code in the initial run.
  coverageAnalysis: 'perTest',
  // Static mutants (module-level code: issue constants, lookup tables, regex literals) can only
  // be tested by reloading the modules and running every test file (~30-60 s each); with the
  // mutants whose code also runs at load time that was ~1000 of them, hours in all. The purely
  // static ones (~240) are reported as "ignored"; test/MUTATION.md says how to run them.
  ignoreStatic: true,
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
