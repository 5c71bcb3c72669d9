#!/usr/bin/env node
// Lists the mutants Stryker's last run left alive (reports/mutation/mutation.json, or MUTATION_JSON), one a line:
//   file:line:col  Mutator  original → replacement
// Usage: npm run mutation:survivors [-- <path substring> ...]   (e.g. -- quic.ts)
// Status filter: SURVIVORS_STATUS=Survived,NoCoverage (the default); another report: MUTATION_JSON=path.
import { readFileSync } from 'node:fs';

const report = JSON.parse(readFileSync(process.env.MUTATION_JSON ?? 'reports/mutation/mutation.json', 'utf8'));
const wanted = new Set((process.env.SURVIVORS_STATUS ?? 'Survived,NoCoverage').split(','));
const filters = process.argv.slice(2);
let total = 0;
for (const [file, { source, mutants }] of Object.entries(report.files)) {
  if (filters.length > 0 && !filters.some((f) => file.includes(f))) continue;
  const lines = source.split('\n');
  const alive = mutants
    .filter((m) => wanted.has(m.status))
    .sort((a, b) => a.location.start.line - b.location.start.line || a.location.start.column - b.location.start.column);
  for (const m of alive) {
    const { start, end } = m.location;
    let original;
    if (start.line === end.line) original = lines[start.line - 1].slice(start.column - 1, end.column - 1);
    else original = `${lines[start.line - 1].slice(start.column - 1)} …`;
    const one = (s) => (s.length > 90 ? `${s.slice(0, 87)}...` : s).replace(/\s+/g, ' ');
    const tag = m.status === 'Survived' ? '' : ` [${m.status}]`;
    console.log(`${file}:${start.line}:${start.column}  ${m.mutatorName}${tag}  ${one(original)} → ${one(m.replacement ?? '')}`);
  }
  total += alive.length;
}
console.log(`${total} mutant(s) with status ${[...wanted].join('/')}`);
