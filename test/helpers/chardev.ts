/**
 * Helpers for the record/replay tests of console configurations (test/replay/consoles.test.ts)
 * and of QEMU's record/replay syntax (test/replay/qemu-syntax.test.ts): one replayvm run through
 * the real CLI, driven by a script, with its final state (REPLAYVM_FINAL_STATE) collected, and
 * the checks that a replay reproduces its recording (exit status, console bytes, final
 * instruction count and state hash, the "replay complete" report).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describeDifference, runInfo, startVm, type FinalState, type RunInfo, type VmProcess } from './rr-driver.js';

/** One finished replayvm run. */
export interface VmRun extends RunInfo {
  readonly label: string;
  readonly args: readonly string[];
  /** The command line, status and output tails, for assertion messages. */
  readonly describe: string;
}

export interface RunVmOptions {
  /** Names the final-state file in `dir` and the run in messages. */
  readonly label: string;
  /** A folder for the final-state file. */
  readonly dir: string;
  /** stdin: a pipe kept open until the process exits (default), or /dev/null. */
  readonly stdin?: 'pipe' | 'null';
  /** Hard timeout of the run (default 60 s); the process is killed with SIGKILL then. */
  readonly timeoutMs?: number;
  /** Drives the running process (waits on its output, types); awaited before waiting for its exit. */
  readonly script?: (p: VmProcess) => Promise<void>;
}

/**
 * Runs `replayvm ARGS` with REPLAYVM_FINAL_STATE set, runs `script` against it, waits for the
 * exit and returns everything. The process is always killed (SIGKILL) when the script fails.
 */
export async function runVm(args: readonly string[], o: RunVmOptions): Promise<VmRun> {
  const statePath = join(o.dir, `${o.label.replace(/[^\w.-]+/g, '_')}-${process.hrtime.bigint()}.state.json`);
  const p = startVm(args, o.timeoutMs ?? 60_000, statePath, o.stdin ?? 'pipe');
  try {
    if (o.script !== undefined) await o.script(p);
    await p.exit();
  } catch (e) {
    p.kill();
    await p.exit();
    throw new Error(`[${o.label}] ${e instanceof Error ? e.message : String(e)}\n${p.describe()}`);
  }
  return { label: o.label, args, ...runInfo(p, statePath), describe: `[${o.label}] ${p.describe()}` };
}

/** The recording ran to its end: status `status`, its log written, its final state known. */
export function assertRecorded(rec: VmRun, status = 0): FinalState {
  assert.equal(rec.timedOut, false, `the recording hit its hard timeout\n${rec.describe}`);
  assert.deepEqual({ status: rec.status, signal: rec.signal }, { status, signal: null }, `the recording's exit\n${rec.describe}`);
  const m = /replayvm: recorded (\d+) instructions to /.exec(rec.stderr);
  assert.ok(m !== null, `the recording says how many instructions it recorded\n${rec.describe}`);
  assert.ok(rec.finalState !== undefined, `the recording wrote its final state\n${rec.describe}`);
  assert.equal(rec.finalState.totalSteps, Number(m[1]), 'the recording\'s final state and its report name the same instruction count');
  return rec.finalState;
}

/**
 * `rep` reproduces `rec`: the same exit status, the same final instruction count and state
 * hash, a "replay complete" report at the recorded end, and the same console bytes: `repOut`
 * (default: the replay's stdout) equals `recOut` (default: the recording's stdout).
 */
export function assertReplayMatches(rec: VmRun, rep: VmRun, out: { recOut?: Buffer; repOut?: Buffer } = {}): void {
  const recFinal = assertRecorded(rec, rec.status ?? -1);
  assert.equal(rep.timedOut, false, `the replay hit its hard timeout\n${rep.describe}`);
  assert.deepEqual({ status: rep.status, signal: rep.signal }, { status: rec.status, signal: null }, `the replay exits as the recording did\n${rep.describe}`);
  const recOut = out.recOut ?? rec.stdout;
  const repOut = out.repOut ?? rep.stdout;
  assert.ok(repOut.equals(recOut), `the replay's console output is the recording's\n${describeDifference(recOut, repOut, 'recording', 'replay')}\n${rep.describe}`);
  assert.ok(rep.finalState !== undefined, `the replay wrote its final state\n${rep.describe}`);
  assert.deepEqual(rep.finalState, recFinal, `the replay ends at the recorded instruction count with the recorded state hash\n${rep.describe}`);
  const m = /replayvm: replay complete: \d+ events, (\d+) instructions \(recorded end at instruction (\d+)\)\n/.exec(rep.stderr);
  assert.ok(m !== null, `the replay reports "replay complete"\n${rep.describe}`);
  assert.equal(Number(m[1]), recFinal.totalSteps, 'the report names the recorded instruction count');
  assert.equal(Number(m[2]), recFinal.totalSteps, 'the report names the recorded end');
  assert.doesNotMatch(rep.stderr, /diverged|internal error/, rep.describe);
}

/** How many times `needle` occurs in `text`. */
export function countOccurrences(text: string, needle: string): number {
  let n = 0;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) n++;
  return n;
}

/**
 * The notice a replay prints on stderr at the first console byte typed into it; `quitKeys` is
 * what the console offers to quit ('Ctrl-A x' with the monitor multiplexed on stdio; plain
 * stdio from a pipe has none).
 */
export function inputIgnoredNotice(log: string, quitKeys: string | undefined): string {
  return `\r\nreplayvm: replaying ${log}: console input is ignored${quitKeys !== undefined ? ` (${quitKeys} quits)` : ''}\r\n`;
}

/** What Ctrl-A x prints on the console (QEMU prints "QEMU: Terminated"). */
export const TERMINATED_TEXT = 'replayvm: terminated\n\r';
