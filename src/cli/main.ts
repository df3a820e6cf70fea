#!/usr/bin/env node
/**
 * The replayvm command: `replayvm [qemu-system-riscv32 options]`. See src/cli/options.ts for the
 * options and src/cli/app.ts for what they do.
 *
 * Start-up: the vCPU worker thread is started first, so that it loads its modules while this
 * thread loads the program's (app.js is imported after it, not statically before it).
 */
import { applyCpuEngineFromEnv } from '../host/node/cpu-engine.js';
import { prestartVcpuWorker } from '../host/node/vcpu-worker-spawn.js';

/** Any error nothing else caught: report it and exit 1 (the 'exit' handlers restore the terminal). */
function die(e: unknown): never {
  process.stderr.write(`replayvm: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
}

process.on('uncaughtException', die);
process.on('unhandledRejection', die);
const argv = process.argv.slice(2);
const engineError = applyCpuEngineFromEnv();
if (engineError !== undefined) {
  process.stderr.write(`replayvm: ${engineError}\n`);
  process.exit(2);
}
// Runs that never start a vCPU thread: `dump`, `img`, and the single-thread loop (REPLAYVM_THREADS=0).
if (argv[0] !== 'dump' && argv[0] !== 'img' && process.env['REPLAYVM_THREADS'] !== '0') prestartVcpuWorker();
const { main } = await import('./app.js');
main(argv).then((code) => process.exit(code), die);
