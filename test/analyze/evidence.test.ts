import { describe, expect, test } from 'vitest';
import { OBSERVATION_KINDS } from '../../src/capture/observation.js';
import { EVIDENCE_INDEX, kindEvidence } from '../../src/analyze/evidence.js';

describe('kindEvidence', () => {
  test('is EVIDENCE_INDEX for every observation kind', () => {
    for (const k of OBSERVATION_KINDS) expect(kindEvidence(k)).toBe(EVIDENCE_INDEX[k]);
  });
});
