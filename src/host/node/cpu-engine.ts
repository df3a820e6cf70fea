/**
 * `REPLAYVM_CPU=interpreter|translator` picks the CPU engine of every hart this process (and
 * its vCPU thread, which inherits the environment) creates: the block translator (the default)
 * or the interpreter. Both give the same state at every step; the switch exists to compare
 * them and to fall back.
 */
import { setDefaultCpuEngine, type CpuEngine } from '../../cpu/index.js';

const ENGINES: readonly CpuEngine[] = ['interpreter', 'translator'];

/**
 * Applies REPLAYVM_CPU from `env`. Returns an error message (one line) when the value names
 * no engine, undefined otherwise (unset or empty: the default stays).
 */
export function applyCpuEngineFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): string | undefined {
  const v = env['REPLAYVM_CPU'];
  if (v === undefined || v === '') return undefined;
  const engine = ENGINES.find((e) => e === v);
  if (engine === undefined) return `REPLAYVM_CPU=${v}: not an engine (expected ${ENGINES.join(' or ')})`;
  setDefaultCpuEngine(engine);
  return undefined;
}
