// Lint rules, including the architecture boundary: the core of the machine (cpu, memory,
// devices, board, main-loop, threads, replay, snapshot) must run unchanged in a browser worker,
// so it may not import Node built-ins or the host/CLI layers that sit on top of it.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = ['fs', 'path', 'os', 'net', 'child_process', 'worker_threads', 'crypto',
  'zlib', 'tty', 'readline', 'events', 'stream', 'util', 'url', 'process', 'buffer', 'timers'];

export const CORE_FOLDERS = ['cpu', 'memory', 'devices', 'board', 'main-loop', 'threads', 'replay', 'snapshot', 'net', 'block'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'guest/**/build/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // Plain Node scripts (not type-checked TypeScript): they run on the host.
    files: ['scripts/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    files: CORE_FOLDERS.map((d) => `src/${d}/**/*.ts`),
    ignores: ['src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*'], message: 'The core may not import Node modules: put host I/O in src/host.' },
          { group: NODE_BUILTINS, message: 'The core may not import Node modules: put host I/O in src/host.' },
          { group: ['**/cli/**', '**/host/**', '**/monitor/**', '**/gdbstub/**', '**/web/**'],
            message: 'The core may not depend on the CLI or host layers (dependencies flow one way).' },
        ],
      }],
      'no-restricted-globals': ['error',
        { name: 'process', message: 'The core may not touch the Node process: inject it from src/host.' },
        { name: 'Buffer', message: 'The core uses Uint8Array, not Node Buffer.' },
        { name: 'require', message: 'ESM only.' },
        { name: 'window', message: 'The core may not touch the DOM.' },
        { name: 'document', message: 'The core may not touch the DOM.' }],
    },
  },
);
