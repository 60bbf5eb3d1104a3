import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import type { Store } from '../../src/store/store.js';
import type { WalRecord } from '../../src/store/wal-format.js';
import type { StoreHarness } from './store-conformance.js';
import { writeSegment } from './wal-fixtures.js';

/** Writing and loading write-ahead-log segments into the store a test has open. */
export interface SegmentStore {
  /** Writes the records as a new segment file and returns its path. */
  segment(records: readonly WalRecord[]): string;
  /** Loads a segment file under a stream's sequence number, as the loader does. */
  loadFile(file: string, sequence: number, stream?: string): ReturnType<Store['events']['loadBatch']>;
  /** Writes the records as a new segment and loads it. */
  load(
    records: readonly WalRecord[],
    sequence: number,
    stream?: string,
  ): ReturnType<Store['events']['loadBatch']>;
}

/**
 * Opens a fresh store before each test (handed to `onOpen`) with a temp folder for its segments, and closes both
 * after it: the set-up every conformance module that loads segments shares.
 */
export function useSegmentStore(
  open: () => Promise<StoreHarness>,
  folderPrefix: string,
  defaultStream: string,
  onOpen: (store: Store) => void,
): SegmentStore {
  let harness: StoreHarness;
  let dir: string;
  let segments = 0;

  beforeEach(async () => {
    harness = await open();
    onOpen(harness.store);
    dir = mkdtempSync(join(tmpdir(), folderPrefix));
  });
  afterEach(async () => {
    await harness.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const segment = (records: readonly WalRecord[]) => writeSegment(dir, `seg-${++segments}.ndjson`, records);
  const loadFile = (file: string, sequence: number, stream = defaultStream) =>
    harness.store.events.loadBatch({ stream, sequence, file, dedupeWindowHours: 24 });
  return {
    segment,
    loadFile,
    load: (records, sequence, stream) => loadFile(segment(records), sequence, stream),
  };
}
