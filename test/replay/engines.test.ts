/**
 * The two CPU engines (REPLAYVM_CPU=interpreter|translator) record the same log and reach the
 * same state: each bare-metal guest is recorded on both, the logs' events (what `dump` prints
 * after the header lines, but the digests and the chunk and event counts, which follow host
 * timing) and the final state hashes must be equal, and each log replays on the other engine
 * (which checks every digest in it) to the same final state.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BAREMETAL_ELF, makeTempDir, readFinalState, startVm } from '../helpers/rr-driver.js';
import { runCli } from '../helpers/run-vm.js';

const tmp = makeTempDir('engines');
after(() => tmp.remove());

const ENGINES = ['interpreter', 'translator'] as const;
type Engine = typeof ENGINES[number];
const TIMEOUT_MS = 120_000;

/** Runs the CLI with REPLAYVM_CPU=engine; returns the exit status and the final state. */
async function run(engine: Engine, args: readonly string[], tag: string): Promise<{ status: number | null; stderr: string; state: string }> {
  const finalPath = join(tmp.dir, `${tag}.final.json`);
  const saved = process.env['REPLAYVM_CPU'];
  process.env['REPLAYVM_CPU'] = engine;
  try {
    const p = startVm(args, TIMEOUT_MS, finalPath, 'null');
    await p.exit();
    const f = readFinalState(finalPath);
    return { status: p.exited?.status ?? null, stderr: p.stderr, state: f === undefined ? 'none' : `${f.totalSteps} ${f.stateHash}` };
  } finally {
    if (saved === undefined) delete process.env['REPLAYVM_CPU'];
    else process.env['REPLAYVM_CPU'] = saved;
  }
}

/** The log's events as `dump` prints them, without the header lines (which carry the date), digests, chunk and event counts. */
async function events(log: string): Promise<string> {
  const r = await runCli(['dump', log], [{ end: true }], 30_000);
  assert.equal(r.status, 0, `dump ${log}: ${r.stderr}`);
  // How many chunks the writer cut the log into, and where it put its digests, follow host
  // timing, not the guest (the cross replays check every digest against the other engine).
  return r.stdout.split('\n').slice(2).filter((l) => !/^\s*\d+\s+digest\s/.test(l)).join('\n').replace(/\d+ chunks, /, '').replace(/\d+ events, /, '');
}

for (const guest of ['interrupts', 'vm', 'traps', 'bench-quick']) {
  test(`${guest}.elf: both engines record the same log and state, and replay each other's log`, async () => {
    const machine = ['-M', 'virt', '-nographic', '-bios', 'none', '-kernel', BAREMETAL_ELF(guest), '-rtc', 'base=2020-01-01,clock=vm'];
    const rec: Record<string, { log: string; state: string }> = {};
    for (const engine of ENGINES) {
      const log = join(tmp.dir, `${guest}-${engine}.rrlog`);
      const r = await run(engine, [...machine, '-icount', `shift=4,sleep=off,rr=record,rrfile=${log}`], `${guest}-${engine}-record`);
      assert.equal(r.status, 0, `${engine} record: ${r.stderr}`);
      rec[engine] = { log, state: r.state };
    }
    const [a, b] = [rec['interpreter']!, rec['translator']!];
    assert.notEqual(a.state, 'none');
    assert.equal(b.state, a.state, 'final state (steps, hash) differs between the engines');
    assert.equal(await events(b.log), await events(a.log), 'the logs differ between the engines');
    for (const [engine, other] of [['translator', a], ['interpreter', b]] as const) {
      const r = await run(engine, [...machine, '-icount', `shift=4,sleep=off,rr=replay,rrfile=${other.log}`], `${guest}-${engine}-replay`);
      assert.equal(r.status, 0, `${engine} replaying the other engine's log: ${r.stderr}`);
      assert.equal(r.state, a.state, `${engine} replay ends in another state`);
    }
  });
}
