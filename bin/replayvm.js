#!/usr/bin/env node
// The `replayvm` command of the package (package.json "bin"). A committed file with its
// executable bit in git, so the command works after any build: tsc writes dist/ with the
// umask's mode (no executable bit once dist/ was removed), which broke a bin pointing into it.
import '../dist/src/cli/main.js';
