/**
 * `patterns_file:` — a rule's patterns from a plain-text list, one per line, as threat-intel
 * feeds and blocklists come: no YAML to write or parse per name. The path is relative to the
 * config file's directory. Blank lines and `#` comments (a line starting with `#`, or ` #` after
 * a pattern) are skipped, surrounding spaces and a CR before the line end are dropped, and each
 * line is a pattern in the config's own syntax (rules.ts). A bad line is reported as
 * FILE:LINE with the rule's field path, like a bad pattern in the YAML.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { compilePattern } from '../analyze/rules.js';
import type { CompiledPattern } from '../analyze/rules.js';
import { str, type Reader } from './yaml-reader.js';

/** Bad lines reported per file; past these, one line says how many more there are. */
export const MAX_PATTERN_FILE_PROBLEMS = 20;

export const patternsFile: Reader<readonly CompiledPattern[]> = (ctx, v, path) => {
  const name = str(ctx, v, path);
  if (name === undefined) return undefined;
  if (name.trim() === '') {
    ctx.at(v, path, 'empty; name a text file with one pattern per line');
    return undefined;
  }
  // Shown as the config names it, joined to the config file's directory (relative stays relative).
  const shown = isAbsolute(name) ? name : join(dirname(ctx.file), name);
  let text: string;
  try {
    text = readFileSync(shown, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file (the path is relative to the config file)'
        : code === 'EISDIR'
          ? 'it is a directory; name a text file with one pattern per line'
          : code === 'EACCES'
            ? 'permission denied; make it readable'
            : String((err as Error).message);
    ctx.at(v, path, `cannot read ${shown}: ${why}`);
    return undefined;
  }
  const out: CompiledPattern[] = [];
  let bad = 0;
  let line = 0;
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    line++;
    let s = text.slice(start, end);
    start = end + 1;
    const hash = s.indexOf('#');
    if (hash === 0 || (hash > 0 && /\s/.test(s[hash - 1] ?? ''))) s = s.slice(0, hash);
    s = s.trim();
    if (s === '') continue;
    const c = compilePattern(s);
    if (c.ok) {
      out.push(c.value);
    } else if (++bad <= MAX_PATTERN_FILE_PROBLEMS) {
      ctx.inFile(shown, line, path, `"${s}": ${c.error}`);
    }
  }
  if (bad > MAX_PATTERN_FILE_PROBLEMS) {
    ctx.inFile(shown, line, path, `${bad - MAX_PATTERN_FILE_PROBLEMS} more bad lines not shown (${bad} in all); is this a list of hostnames, one per line?`);
  }
  if (bad > 0) return undefined;
  if (out.length === 0) {
    ctx.at(v, path, `${shown} lists no patterns; write one name per line`);
    return undefined;
  }
  return out;
};
