// The architecture holds on the real tree: no import cycle in src/, no import from a lower layer to
// a higher one, no import of src/replay internals from outside src/replay. Each check is first
// shown to bite on a small synthetic graph.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import {
  buildModuleGraph, describeBadImports, findCycles, FRONT_DOORS, frontDoorViolations, importSpecifiers, layerViolations, replayInternalsImports, resolveImport,
} from './module-graph.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

function graphOf(edges: Record<string, string[]>): Map<string, string[]> {
  return new Map(Object.entries(edges));
}

test('import specifiers: import, import type, export-from, dynamic import; not comments or packages', () => {
  const source = [
    "import { a } from './a.js';",
    "import type { B } from '../b/b.js';",
    "import * as C from './c.js';",
    "export { d } from './d.js';",
    "export * from './e.js';",
    "import './side-effect.js';",
    "const f = await import('./f.js');",
    "import { test } from 'node:test';",
    "// import { no } from './commented.js';",
    "/* import { no } from './block-commented.js'; */",
    'import {\n  g,\n  h,\n} from "./gh.js";',
  ].join('\n');
  assert.deepEqual(importSpecifiers(source), ['./a.js', '../b/b.js', './c.js', './d.js', './e.js', './side-effect.js', './f.js', './gh.js']);
  assert.equal(resolveImport('src/board/virt.ts', '../cpu/index.js'), 'src/cpu/index.ts');
});

test('cycle check bites on a synthetic graph: finds a 3-module loop and a self-import, not a diamond', () => {
  const graph = graphOf({
    'src/main-loop/clocks.ts': ['src/main-loop/icount.ts'],
    'src/main-loop/icount.ts': ['src/main-loop/timers.ts'],
    'src/main-loop/timers.ts': ['src/main-loop/clocks.ts'],
    'src/cpu/self.ts': ['src/cpu/self.ts'],
    'src/board/a.ts': ['src/board/b.ts', 'src/board/c.ts'],
    'src/board/b.ts': ['src/board/d.ts'],
    'src/board/c.ts': ['src/board/d.ts'],
    'src/board/d.ts': [],
  });
  assert.deepEqual(findCycles(graph).sort(), [
    ['src/cpu/self.ts', 'src/cpu/self.ts'],
    ['src/main-loop/clocks.ts', 'src/main-loop/icount.ts', 'src/main-loop/timers.ts', 'src/main-loop/clocks.ts'],
  ]);
  assert.deepEqual(findCycles(graphOf({ 'src/board/a.ts': ['src/board/b.ts'], 'src/board/b.ts': [] })), []);
});

test('layer check bites on a synthetic graph: an upward import, an unknown folder; not a downward import or a test', () => {
  const graph = graphOf({
    'src/cpu/hart.ts': ['src/devices/irq.ts', 'src/memory/ram.ts'],
    'src/devices/irq.ts': ['src/cpu/index.ts'],
    'src/cpu/hart.test.ts': ['src/board/virt.ts'],
    'src/gizmo/x.ts': [],
  });
  assert.deepEqual(layerViolations(graph, ['memory', 'cpu', 'devices', 'board']), [
    { from: 'src/cpu/hart.ts', to: 'src/devices/irq.ts', why: 'cpu is below devices' },
    { from: 'src/gizmo/x.ts', to: 'src/gizmo/x.ts', why: 'src/gizmo is not in the layer list (test/architecture/module-graph.ts LAYERS)' },
  ]);
});

test('replay front-door check bites on a synthetic graph: internals from outside; not the index, not inside', () => {
  const graph = graphOf({
    'src/host/node/session.ts': ['src/replay/engine/recorder.ts', 'src/replay/index.ts'],
    'src/cli/dump.test.ts': ['src/replay/log/events.ts'],
    'src/replay/index.ts': ['src/replay/engine/recorder.ts'],
    'src/replay/engine/recorder.test.ts': ['src/replay/log/events.ts'],
  });
  assert.deepEqual(replayInternalsImports(graph).map((b) => `${b.from} -> ${b.to}`), [
    'src/host/node/session.ts -> src/replay/engine/recorder.ts',
    'src/cli/dump.test.ts -> src/replay/log/events.ts',
  ]);
});

const tree = buildModuleGraph(repoRoot);

test('the real tree: no import cycle in src/', () => {
  assert.ok(tree.size > 100, `only ${tree.size} modules found under ${repoRoot}src`);
  const cycles = findCycles(tree);
  assert.deepEqual(cycles, [], `import cycles:\n${cycles.map((c) => c.join(' -> ')).join('\n')}`);
});

test('the real tree: no import from a lower layer to a higher one', () => {
  const bad = layerViolations(tree);
  assert.deepEqual(bad, [], describeBadImports(bad));
});

test('the real tree: only src/replay/index.ts is imported from outside src/replay', () => {
  assert.ok(tree.has('src/replay/index.ts'), 'src/replay/index.ts is missing');
  const bad = replayInternalsImports(tree);
  assert.deepEqual(bad, [], describeBadImports(bad));
});

test('the real tree: every front door (FRONT_DOORS) is the only way into its subsystem', () => {
  for (const name of FRONT_DOORS) assert.ok(tree.has(`src/${name}/index.ts`), `src/${name}/index.ts is missing`);
  const bad = frontDoorViolations(tree);
  assert.deepEqual(bad, [], describeBadImports(bad));
});
