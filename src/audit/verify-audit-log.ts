import { readFile } from 'node:fs/promises';
import { type AuditAnchor, headFileAnchor } from './audit-anchor.js';
import { type AuditHead, GENESIS_HASH, parseEntryLine } from './audit-entry.js';
import { type AuditFile, auditFileName, listAuditFiles, splitLines } from './audit-files.js';

/** Where the log stops being trustworthy. `file` and `line` (1-based) locate it; `seq` when one is known. */
export interface AuditFinding {
  readonly seq?: number;
  /** A log file's name, or an anchor's name when the anchor itself cannot be read. */
  readonly file: string;
  /** 0 when the finding is about an anchor rather than a line of the log. */
  readonly line: number;
  readonly reason: string;
}

/**
 * How one anchor compares with the log: `match` (it records the last entry), `behind` (it records an earlier
 * entry, which is still there unchanged: a crash or a failed anchor write came in between), `ahead` (the log
 * ends before the entry it records: the tail was cut), `mismatch` (that entry has another hash: rewritten),
 * `absent` (it records nothing), `unreadable`, or `unchecked` (the chain broke first).
 */
export interface AnchorCheck {
  readonly name: string;
  readonly status: 'match' | 'behind' | 'ahead' | 'mismatch' | 'absent' | 'unreadable' | 'unchecked';
  readonly anchored?: AuditHead;
  /** Entries after the anchored one, for `behind`. */
  readonly unanchored?: number;
}

export interface AuditVerification {
  readonly ok: boolean;
  /** Entries checked and found intact, up to the first problem. */
  readonly entries: number;
  readonly firstBad?: AuditFinding;
  /** The last intact entry's seq and hash. */
  readonly head: AuditHead | undefined;
  readonly anchors: readonly AnchorCheck[];
}

interface AnchorState {
  readonly anchor: AuditAnchor;
  readonly anchored: AuditHead | undefined;
  readonly unreadable?: string;
  /** The log's entry at the anchored seq, once the walk meets it. */
  found?: { readonly hash: string; readonly file: string; readonly line: number };
}

/**
 * Re-reads the whole log in `folder` and checks every link: each line is a well-formed entry whose hash
 * matches its content, seqs run 1, 2, 3 … across files, each `prev` is the hash of the entry before, and each
 * file starts where its name says. Then it holds the end of the chain against `head.json` and `anchor`.
 * Reports the first problem; never changes anything.
 *
 * @example const { ok, firstBad } = await verifyAuditLog(auditFolder(paths.data), storeMetadataAnchor(store.metadata));
 */
export async function verifyAuditLog(folder: string, anchor?: AuditAnchor): Promise<AuditVerification> {
  const anchorList = [headFileAnchor(folder), ...(anchor ? [anchor] : [])];
  // Anchors first: a running writer updates them only after the log, so what they record is in the files
  // read next. Such a writer can also be caught mid-line; an incomplete last line gets one second look.
  let anchors = await readAnchors(anchorList);
  let walk = await walkChain(listAuditFiles(folder), anchors);
  if (walk.incompleteTail) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    anchors = await readAnchors(anchorList);
    walk = await walkChain(listAuditFiles(folder), anchors);
  }
  if (walk.firstBad) {
    return {
      ok: false,
      entries: walk.entries,
      firstBad: walk.firstBad,
      head: walk.head,
      anchors: anchors.map((state) => ({ name: state.anchor.name, status: 'unchecked' as const })),
    };
  }
  const checks = anchors.map((state) => checkAnchor(state, walk));
  const firstBad = checks.map((check) => check.finding).find((finding) => finding !== undefined);
  return {
    ok: firstBad === undefined,
    entries: walk.entries,
    ...(firstBad ? { firstBad } : {}),
    head: walk.head,
    anchors: checks.map((check) => check.result),
  };
}

async function readAnchors(anchors: readonly AuditAnchor[]): Promise<AnchorState[]> {
  return Promise.all(
    anchors.map(async (anchor) => {
      try {
        return { anchor, anchored: await anchor.read() };
      } catch (error) {
        return {
          anchor,
          anchored: undefined,
          unreadable: error instanceof Error ? error.message : String(error),
        };
      }
    }),
  );
}

interface Walk {
  readonly entries: number;
  readonly head: AuditHead | undefined;
  readonly firstBad?: AuditFinding;
  /** Where the next entry would go: the last file's name and the line after its last. */
  readonly end: { readonly file: string; readonly line: number };
  /** The first problem is a last line without its newline: a crash, or a write still in progress. */
  readonly incompleteTail?: boolean;
}

async function walkChain(files: readonly AuditFile[], anchors: readonly AnchorState[]): Promise<Walk> {
  let expected = 1;
  let prev = GENESIS_HASH;
  let head: AuditHead | undefined;
  let end = { file: files[0]?.name ?? auditFileName(1), line: 1 };
  const stop = (firstBad: AuditFinding): Walk => ({ entries: expected - 1, head, firstBad, end });

  for (const [fileIndex, file] of files.entries()) {
    const { lines, torn } = splitLines(await readFile(file.path, 'utf8'));
    for (const [index, text] of lines.entries()) {
      const at = { file: file.name, line: index + 1 };
      if (text === '') return stop({ ...at, seq: expected, reason: 'empty line where an entry should be' });
      const parsed = parseEntryLine(text);
      if ('problem' in parsed) {
        return stop({
          ...at,
          ...(parsed.seq === undefined ? {} : { seq: parsed.seq }),
          reason: parsed.problem,
        });
      }
      const { entry } = parsed;
      if (entry.seq !== expected)
        return stop({ ...at, seq: entry.seq, reason: seqProblem(entry.seq, expected) });
      if (entry.prev !== prev) {
        return stop({
          ...at,
          seq: entry.seq,
          reason:
            expected === 1
              ? '"prev" of the first entry is not 64 zeros: the start of the log was replaced'
              : `"prev" is not the hash of seq ${expected - 1}: an entry before it was removed, replaced or inserted`,
        });
      }
      if (index === 0 && entry.seq !== file.firstSeq) {
        return stop({
          ...at,
          seq: entry.seq,
          reason: `the file's name says it starts at seq ${file.firstSeq}: files were renamed or entries moved`,
        });
      }
      for (const state of anchors) {
        if (state.anchored?.seq === entry.seq) state.found = { hash: entry.hash, ...at };
      }
      expected++;
      prev = entry.hash;
      head = { seq: entry.seq, hash: entry.hash };
    }
    if (torn !== undefined) {
      const last = fileIndex === files.length - 1;
      const finding = stop({
        file: file.name,
        line: lines.length + 1,
        seq: expected,
        reason: last
          ? 'the last line is incomplete (no newline): a write cut short by a crash, never acknowledged; opening the log for writing removes it and records audit.recovered'
          : 'a line without its newline in a file that is not the last: the file was cut or edited',
      });
      return last ? { ...finding, incompleteTail: true } : finding;
    }
    if (lines.length > 0 || fileIndex === files.length - 1) end = { file: file.name, line: lines.length + 1 };
  }
  return { entries: expected - 1, head, end };
}

function seqProblem(seq: number, expected: number): string {
  if (seq > expected) {
    const missing = seq - expected;
    return `expected seq ${expected} but found seq ${seq}: ${missing === 1 ? 'an entry is' : `${missing} entries are`} missing or out of order`;
  }
  return `seq ${seq} comes after seq ${expected - 1}: entries are repeated or out of order`;
}

function checkAnchor(state: AnchorState, walk: Walk): { result: AnchorCheck; finding?: AuditFinding } {
  const name = state.anchor.name;
  if (state.unreadable !== undefined) {
    return {
      result: { name, status: 'unreadable' },
      finding: { file: name, line: 0, reason: `${name} cannot be read: ${state.unreadable}` },
    };
  }
  const anchored = state.anchored;
  if (!anchored) return { result: { name, status: 'absent' } };
  const last = walk.head?.seq ?? 0;
  if (anchored.seq > last) {
    const missing = anchored.seq - last;
    return {
      result: { name, status: 'ahead', anchored },
      finding: {
        ...walk.end,
        seq: last + 1,
        reason: `the log ends at seq ${last}, but ${name} records seq ${anchored.seq}: ${missing === 1 ? 'the last entry was' : `the last ${missing} entries were`} removed`,
      },
    };
  }
  const found = state.found!;
  if (found.hash !== anchored.hash) {
    return {
      result: { name, status: 'mismatch', anchored },
      finding: {
        file: found.file,
        line: found.line,
        seq: anchored.seq,
        reason: `seq ${anchored.seq} does not have the hash ${name} records: the chain was rewritten up to here`,
      },
    };
  }
  if (anchored.seq < last)
    return { result: { name, status: 'behind', anchored, unanchored: last - anchored.seq } };
  return { result: { name, status: 'match', anchored } };
}
