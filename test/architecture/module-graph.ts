/**
 * The import graph of src/, built from the .ts sources' import and export-from statements
 * (type-only imports included: they are dependencies of the design even if erased at run time),
 * and the three architecture checks run over it: no import cycle, no import from a lower layer
 * to a higher one, no import of src/replay internals from outside src/replay.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';

/**
 * The layers of src/, lowest first; a module may import from its own layer and lower ones only.
 * Documented in docs/architecture.md ("Layers"). A new top-level folder of src/ must be added here.
 */
export const LAYERS: readonly string[] = [
  'memory', 'cpu', 'devices', 'main-loop', 'board', 'threads', 'net', 'block', 'replay', 'monitor', 'host', 'cli',
];

/** Module (path relative to the repository, e.g. `src/cpu/hart.ts`) -> the modules it imports. */
export type ModuleGraph = ReadonlyMap<string, readonly string[]>;

const IMPORT = /(?:^|[;\s])(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The relative module specifiers `source` imports (import, export-from, dynamic import). */
export function importSpecifiers(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const out: string[] = [];
  for (const m of code.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    if (spec !== undefined && spec.startsWith('.')) out.push(spec);
  }
  return out;
}

/** Resolves `spec` imported by `from` (both repository-relative, posix) to a .ts path. */
export function resolveImport(from: string, spec: string): string {
  return posix.normalize(posix.join(posix.dirname(from), spec)).replace(/\.js$/, '.ts');
}

function listTs(root: string, dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    const rel = posix.join(dir, e.name);
    if (e.isDirectory()) out.push(...listTs(root, rel));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(rel);
  }
  return out.sort();
}

/** The import graph of every .ts file under `dir` (default `src`) of the repository at `root` (each import once). */
export function buildModuleGraph(root: string, dir = 'src'): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of listTs(root, dir)) {
    graph.set(file, [...new Set(importSpecifiers(readFileSync(join(root, file), 'utf8')).map((s) => resolveImport(file, s)))]);
  }
  return graph;
}

/** Whether `file` is a unit test. */
export function isTest(file: string): boolean {
  return file.endsWith('.test.ts');
}

/** Every import cycle among the graph's modules, each as a path that returns to its start. */
export function findCycles(graph: ModuleGraph): string[][] {
  // Tarjan's strongly connected components; a component of 2+ modules (or a self-import) holds a cycle.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) components.push(comp);
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return components.map((comp) => cycleIn(graph, new Set(comp)));
}

/** One cycle inside a strongly connected component, from its first module (sorted) back to it. */
function cycleIn(graph: ModuleGraph, comp: ReadonlySet<string>): string[] {
  const start = [...comp].sort()[0]!;
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!comp.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = prev.get(u)!) path.splice(1, 0, u);
        return [...path, start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

/** The layer of a module: its first folder under src/. */
export function layerOf(file: string): string {
  return file.split('/')[1] ?? '';
}

/** An import that breaks a rule. */
export interface BadImport {
  readonly from: string;
  readonly to: string;
  readonly why: string;
}

/**
 * Imports from a lower layer to a higher one (unit tests excepted: a test may build a whole
 * machine), and modules in a folder the layer list does not declare.
 */
export function layerViolations(graph: ModuleGraph, layers: readonly string[] = LAYERS): BadImport[] {
  const rank = new Map(layers.map((l, i) => [l, i]));
  const out: BadImport[] = [];
  for (const [from, targets] of graph) {
    if (isTest(from)) continue;
    const a = rank.get(layerOf(from));
    if (a === undefined) {
      out.push({ from, to: from, why: `src/${layerOf(from)} is not in the layer list (test/architecture/module-graph.ts LAYERS)` });
      continue;
    }
    for (const to of targets) {
      const b = rank.get(layerOf(to));
      if (b !== undefined && b > a) out.push({ from, to, why: `${layerOf(from)} is below ${layerOf(to)}` });
    }
  }
  return out;
}

/** The one module of src/replay that code outside it may import. */
export const REPLAY_FRONT_DOOR = 'src/replay/index.ts';

/** Subsystems with a front door: code outside `src/NAME/` imports only `src/NAME/index.ts`. */
export const FRONT_DOORS: readonly string[] = ['replay', 'block'];

/**
 * Imports of a subsystem's internals from outside it (tests inside it may use internals).
 * @param subsystems the folders of src/ whose index.ts is their only door.
 */
export function frontDoorViolations(graph: ModuleGraph, subsystems: readonly string[] = FRONT_DOORS): BadImport[] {
  const out: BadImport[] = [];
  for (const name of subsystems) {
    const inside = `src/${name}/`;
    const door = `${inside}index.ts`;
    for (const [from, targets] of graph) {
      if (from.startsWith(inside)) continue;
      for (const to of targets) {
        if (to.startsWith(inside) && to !== door) out.push({ from, to, why: `only ${door} may be imported from outside src/${name}` });
      }
    }
  }
  return out;
}

/** Imports of src/replay internals from outside src/replay (tests there may use internals). */
export function replayInternalsImports(graph: ModuleGraph): BadImport[] {
  return frontDoorViolations(graph, ['replay']);
}

/** One line per bad import, for an assertion message. */
export function describeBadImports(bad: readonly BadImport[]): string {
  return bad.map((b) => `${b.from} imports ${b.to}: ${b.why}`).join('\n');
}
