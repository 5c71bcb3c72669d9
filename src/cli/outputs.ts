/**
 * Output paths are checked before anything is opened: no output may overwrite an input, and
 * a file that holds a capture is never truncated (`kasmon replay --alerts cap1.pcap cap2.pcap`,
 * the alerts file forgotten, would otherwise turn cap1.pcap into NDJSON; tcpdump's `-w` on
 * the file being read is the mistake users know). Like cat(1)'s "input file is output",
 * standard output redirected onto an input is refused too.
 */
import { closeSync, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { resolve } from 'node:path';
import { isPcapMagic } from '../capture/read/pcap.js';
import { isPcapngMagic } from '../capture/read/pcapng.js';
import { UsageError } from './usage-error.js';

/** Names a capture file would have: an alerts file named so is almost certainly a slip. */
const CAPTURE_NAME = /\.(pcap|pcapng|cap|ntar|erf)(\.gz)?$/i;

function statOf(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function fstatOf(fd: number): Stats | undefined {
  try {
    return fstatSync(fd);
  } catch {
    return undefined;
  }
}

const sameFile = (a: Stats, b: Stats): boolean => a.dev === b.dev && a.ino === b.ino;

/** What the first bytes of a regular file say it holds, if it is a capture (or gzip). */
function captureKind(path: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const head = new Uint8Array(4);
    const n = readSync(fd, head, 0, 4, 0);
    if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip data (a compressed capture?)';
    if (n < 4) return undefined;
    if (isPcapMagic(head)) return 'a pcap capture';
    if (isPcapngMagic(head)) return 'a pcapng capture';
    return undefined;
  } catch {
    return undefined; // unreadable: the open for writing will say why
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export interface Paths {
  /** Capture inputs ('-' = standard input). */
  readonly inputs: readonly string[];
  /** The --config file, if any: an input too. */
  readonly config?: string | undefined;
}

/**
 * Refuses `path` (given as `option`) when writing it would destroy an input or a capture.
 * `-` (stdout) is checked by refuseStdoutOntoInput.
 */
export function refuseOverwrite(option: string, path: string | undefined, p: Paths, command: string): void {
  if (path === undefined || path === '-') return;
  const out = statOf(path);
  const named = (input: string): string => (input === '-' ? 'standard input' : `the input ${input}`);
  for (const input of [...p.inputs, ...(p.config !== undefined ? [p.config] : [])]) {
    const isConfig = input === p.config && !p.inputs.includes(input);
    const what = isConfig ? `the config file ${input}` : named(input);
    const inStat = input === '-' ? fstatOf(0) : statOf(input);
    const same = out !== undefined && inStat !== undefined ? sameFile(out, inStat) : input !== '-' && resolve(input) === resolve(path);
    if (same) {
      throw new UsageError(`${option} ${path} is ${what}; kasmon never writes over an input: name another file`, command);
    }
  }
  if (out !== undefined && out.isFile()) {
    const kind = captureKind(path);
    if (kind !== undefined) {
      throw new UsageError(`${option} ${path} holds ${kind}; kasmon will not overwrite it: name a new file (alerts are NDJSON, e.g. alerts.ndjson)`, command);
    }
  }
  if (CAPTURE_NAME.test(path)) {
    throw new UsageError(`${option} ${path} is named like a capture, but alerts are NDJSON; name it e.g. alerts.ndjson (did you forget the file name?)`, command);
  }
}

/** Standard output redirected (`>>`) onto one of the inputs would grow the file while it is read. */
export function refuseStdoutOntoInput(p: Paths, command: string): void {
  const outStat = fstatOf(1);
  if (outStat === undefined || !outStat.isFile()) return;
  for (const input of p.inputs) {
    const inStat = input === '-' ? fstatOf(0) : statOf(input);
    if (inStat !== undefined && sameFile(outStat, inStat)) {
      const what = input === '-' ? 'standard input' : `the input ${input}`;
      throw new UsageError(`standard output is ${what}; kasmon never writes over an input: redirect the output to another file`, command);
    }
  }
}
