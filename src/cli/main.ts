#!/usr/bin/env node
/**
 * The replayvm command: `replayvm [qemu-system-riscv32 options]`. See src/cli/options.ts for the
 * options and src/cli/app.ts for what they do.
 */
import { main } from './app.js';

/** Any error nothing else caught: report it and exit 1 (the 'exit' handlers restore the terminal). */
function die(e: unknown): never {
  process.stderr.write(`replayvm: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
}

process.on('uncaughtException', die);
process.on('unhandledRejection', die);
main(process.argv.slice(2)).then((code) => process.exit(code), die);
