#!/usr/bin/env node
/**
 * The replayvm command: `replayvm [qemu-system-riscv32 options]`. See src/cli/options.ts for the
 * options and src/cli/app.ts for what they do.
 */
import { main } from './app.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`replayvm: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
