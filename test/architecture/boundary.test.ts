// The architecture boundary is enforced by ESLint (eslint.config.js). These tests prove the
// rule really bites: a core file importing a Node module or the host/CLI layer is rejected,
// while the same import in a host file is accepted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

async function boundaryMessages(code: string, filePath: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: repoRoot });
  const [result] = await eslint.lintText(code, { filePath });
  assert.ok(result, 'ESLint returned no result');
  return result.messages
    .filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-globals')
    .map((m) => m.message);
}

const cases: Array<[string, string]> = [
  ["import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n", 'Node modules'],
  ["import { readFileSync } from 'fs';\nexport const f = readFileSync;\n", 'Node modules'],
  ["import { main } from '../cli/main.js';\nexport const f = main;\n", 'CLI or host'],
  ["import { x } from '../host/node/time.js';\nexport const f = x;\n", 'CLI or host'],
  ['export const f = (): number => process.pid;\n', 'Node process'],
  ['export const f = (): unknown => document.body;\n', 'DOM'],
];

for (const folder of ['cpu', 'memory', 'devices', 'board', 'main-loop', 'threads', 'net', 'block']) {
  for (const [code, expected] of cases) {
    test(`core folder src/${folder} rejects: ${code.split('\n')[0]}`, async () => {
      const messages = await boundaryMessages(code, `src/${folder}/boundary-probe.ts`);
      assert.ok(messages.some((m) => m.includes(expected)), `expected a boundary error mentioning "${expected}", got ${JSON.stringify(messages)}`);
    });
  }
}

test('host layer may import Node modules', async () => {
  const messages = await boundaryMessages(cases[0]![0], 'src/host/node/boundary-probe.ts');
  assert.deepEqual(messages, []);
});
