// The verify's result file and schedule, without the restore machinery (the S3 client, the throwaway
// server): `tier status` and the ops console read them on every sample.
import { join } from 'node:path';
import { readJson } from '../state.js';
import type { StatePaths } from '../paths.js';
import type { TableSum } from './restore.js';

export interface VerifyResult {
  at: string;
  ok: boolean;
  /** One sentence: what was compared, or what failed and why. */
  sentence: string;
  /** The full backup restored ('' when the verify failed before choosing one). */
  backup: string;
  gtid: string;
  /** The node whose snapshot the restore was compared with. */
  source: string;
  /** What started it: `tier backup verify` or the agent's schedule. */
  trigger: 'manual' | 'schedule';
  tables: Array<TableSum & { live: TableSum | null }>;
  seconds: number;
}

export const verifyFile = (e: { paths: Pick<StatePaths, 'run'> }) => join(e.paths.run, 'backup-verify.json');
export const readVerify = (e: { paths: Pick<StatePaths, 'run'> }) => readJson<VerifyResult>(verifyFile(e));

/**
 * What the schedule measures from: the last verify, or, before any, the oldest full backup in the bucket
 * (a region's first backups get their first verify one period later). null: nothing to verify yet.
 */
export function verifyReference(last: Pick<VerifyResult, 'at'> | null, oldestFullAt: string | null): string | null {
  return last?.at ?? oldestFullAt;
}

/** Whether the schedule asks for a verify now (backup.verifyEveryHours after the reference). */
export function verifyDue(last: Pick<VerifyResult, 'at'> | null, oldestFullAt: string | null, everyHours: number, now = Date.now()): boolean {
  const ref = verifyReference(last, oldestFullAt);
  return ref !== null && now - Date.parse(ref) >= everyHours * 3_600_000;
}
