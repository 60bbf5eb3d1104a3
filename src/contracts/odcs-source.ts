import { readFileSync } from 'node:fs';
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import { RefineryError } from '../core/errors.js';

/** A path into a parsed document, e.g. `['schema', 0, 'properties', 2, 'logicalType']`. */
export type DocumentPath = readonly (string | number)[];

/** A contract file as parsed: its plain value and a way back from any path to its line. */
export interface OdcsSource {
  readonly file: string;
  readonly text: string;
  readonly value: unknown;
  /** 1-based line of the node at `path`, or of its nearest ancestor that exists. */
  lineOf(path: DocumentPath): number;
}

/** Parses YAML text, keeping node positions so every later finding can name its line. */
export function parseOdcsText(text: string, file: string): OdcsSource {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const problem = document.errors[0];
  if (problem) {
    const line = lines.linePos(problem.pos[0]).line;
    throw new RefineryError(
      'REFINERY_ERR_CONTRACT_INVALID',
      `${file}:${line}: not valid YAML: ${problem.message.split('\n')[0]}`,
      { field: file, line },
    );
  }
  const value: unknown = document.toJS({ maxAliasCount: 100 });
  return {
    file,
    text,
    value,
    lineOf(path) {
      let node: unknown = document.contents;
      let line = 1;
      const lineOfNode = (candidate: unknown): number | undefined => {
        const range = (candidate as { range?: [number, number, number] } | null)?.range;
        return range ? lines.linePos(range[0]).line : undefined;
      };
      line = lineOfNode(node) ?? line;
      for (const step of path) {
        if (isMap(node)) {
          const pair = node.items.find(
            (item) => String((item.key as { value?: unknown })?.value) === String(step),
          );
          if (!pair) break;
          line = lineOfNode(pair.key) ?? line;
          node = pair.value;
        } else if (isSeq(node) && typeof step === 'number') {
          const item = node.items[step];
          if (item === undefined) break;
          line = lineOfNode(item) ?? line;
          node = item;
        } else {
          break;
        }
      }
      return line;
    },
  };
}

/** Reads and parses a contract file; `displayName` (e.g. a workspace-relative path) is what messages name. */
export function readOdcsFile(file: string, displayName = file): OdcsSource {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new RefineryError('REFINERY_ERR_CONTRACT_NOT_FOUND', `Cannot read contract ${displayName}.`, {
      field: displayName,
      cause: error,
    });
  }
  return parseOdcsText(text, displayName);
}
