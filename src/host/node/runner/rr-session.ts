/** The record/replay side of a run: opening the log, and what is printed when a recording or replay ends. */
import { existsSync } from 'node:fs';
import type { ReplayOutcome } from '../replay/session.js';
import { compareOverlays, overlayPath, readOverlayFile, writeOverlayFile } from '../replay/overlay-file.js';
import type { RunnerEnv } from './env.js';
import { RunnerError } from './errors.js';

/** Opens a record or replay log with `open`; its errors name the log (`rrfile=FILE: ...`). */
export function openLog<T>(file: string, open: () => T): T {
  try {
    return open();
  } catch (e) {
    throw new RunnerError(`rrfile=${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Disk writes a run kept in memory, per virtio slot. */
export interface DiskWrites {
  readonly slot: number;
  readonly sectors: Map<number, Uint8Array>;
}

/** After a recording: says how much was recorded, keeps each disk's writes beside the log, says how to replay. */
export function reportRecording(log: string, icount: number, disks: readonly DiskWrites[], env: RunnerEnv): void {
  env.stderr(`${env.program}: recorded ${icount} instructions to ${log}\n`);
  for (const d of disks) {
    const path = overlayPath(log, d.slot);
    const n = writeOverlayFile(path, [...d.sectors].sort((a, b) => a[0] - b[0]));
    env.stderr(`${env.program}: disk writes of virtio${d.slot} (${n} sectors; the image is unchanged) kept in ${path}\n`);
  }
  env.stderr(`${env.program}: replay with: ${env.replayCommand(log)}\n`);
}

/**
 * After a complete replay: each disk's writes must equal the overlay the recording kept beside
 * its log. Prints one line per disk; returns true if one differs.
 */
export function checkOverlays(log: string, disks: readonly DiskWrites[], env: RunnerEnv): boolean {
  let bad = false;
  for (const d of disks) {
    const path = overlayPath(log, d.slot);
    let recorded: Map<number, Uint8Array>;
    try {
      recorded = existsSync(path) ? readOverlayFile(path) : new Map();
    } catch (e) {
      env.stderr(`${env.program}: ${e instanceof Error ? e.message : String(e)}\n`);
      bad = true;
      continue;
    }
    const diff = compareOverlays(recorded, d.sectors);
    if (diff === undefined) {
      env.stderr(`${env.program}: disk writes of virtio${d.slot} identical to the recording's (${d.sectors.size} sectors)\n`);
    } else {
      env.stderr(`${env.program}: replay diverged: disk writes of virtio${d.slot} differ from the recording's (${path}): ${diff}\n`);
      bad = true;
    }
  }
  return bad;
}

/** Prints how a replay ended. */
export function reportReplay(r: ReplayOutcome, icount: number, env: RunnerEnv): void {
  switch (r.kind) {
    case 'end':
      env.stderr(`${env.program}: replay complete: ${r.events} events, ${icount} instructions (recorded end at instruction ${r.event.icount})\n`);
      return;
    case 'machine-stopped':
      env.stderr(`${env.program}: replay stopped at instruction ${icount} after ${r.events} events\n`);
      return;
    case 'log-ended':
      env.stderr(`${env.program}: replay: ${r.report}; stopped at instruction ${r.icount} after ${r.events} events\n`);
      return;
    case 'diverged':
      env.stderr(`${env.program}: ${r.error.message}\n`);
      return;
  }
}
