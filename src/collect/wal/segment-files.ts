import { join } from 'node:path';

export const OPEN_SUFFIX = '.ndjson.open';
export const SEALED_SUFFIX = '.ndjson';
/** Beside a segment while the loader works on it: the copy without its set-aside lines, and a trial file. */
export const LOADABLE_COPY_SUFFIX = '.loadable';
export const TRIAL_SUFFIX = '.trial';
// Twelve digits or more: a stray file named `seg-999999999999.ndjson` must not push the next segment's number
// out of what the log recognises.
const NAME = /^seg-(\d{12,15})\.ndjson(\.open)?$/;

export interface SegmentFile {
  readonly sequence: number;
  readonly file: string;
  readonly sealed: boolean;
}

export function segmentName(sequence: number, sealed: boolean): string {
  return `seg-${String(sequence).padStart(12, '0')}${sealed ? SEALED_SUFFIX : OPEN_SUFFIX}`;
}

export function parseSegmentName(dir: string, name: string): SegmentFile | undefined {
  const match = NAME.exec(name);
  if (!match) return undefined;
  return { sequence: Number(match[1]), file: join(dir, name), sealed: match[2] === undefined };
}
