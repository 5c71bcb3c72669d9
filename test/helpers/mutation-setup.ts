import fc from 'fast-check';

// Under mutation testing (vitest.mutation.config.ts) a failing property ends the test at its
// first counterexample instead of shrinking it.
fc.configureGlobal({ endOnFailure: true });
