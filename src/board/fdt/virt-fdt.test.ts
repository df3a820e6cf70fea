import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findNode, parseFdt, propCells, propStrings, type FdtNode } from './fdt-reader.js';
import { buildVirtFdt, REPLAYVM_RISCV_ISA } from './virt-fdt.js';

const MiB = 1 << 20;

test('our virt tree parses and has the expected wiring', () => {
  const root = parseFdt(buildVirtFdt({ ramBase: 0x80000000, ramSize: 128 * MiB, smp: 2, bootargs: 'console=ttyS0', timebaseFrequency: 10_000_000 }));
  const chosen = findNode(root, '/chosen')!;
  assert.deepEqual(propStrings(chosen.props.get('stdout-path')!), ['/soc/serial@10000000']);
  assert.deepEqual(propStrings(chosen.props.get('bootargs')!), ['console=ttyS0']);
  assert.equal(chosen.props.has('linux,initrd-start'), false);
  assert.deepEqual(propCells(findNode(root, '/memory@80000000')!.props.get('reg')!), [0, 0x80000000, 0, 128 * MiB]);
  assert.deepEqual(propCells(findNode(root, '/cpus')!.props.get('timebase-frequency')!), [10_000_000]);
  const intc0 = propCells(findNode(root, '/cpus/cpu@0/interrupt-controller')!.props.get('phandle')!)[0]!;
  const intc1 = propCells(findNode(root, '/cpus/cpu@1/interrupt-controller')!.props.get('phandle')!)[0]!;
  assert.deepEqual(propStrings(findNode(root, '/cpus/cpu@1')!.props.get('riscv,isa')!), [REPLAYVM_RISCV_ISA]);
  const plic = findNode(root, '/soc/plic@c000000')!;
  assert.deepEqual(propCells(plic.props.get('interrupts-extended')!), [intc0, 11, intc0, 9, intc1, 11, intc1, 9]);
  assert.deepEqual(propCells(findNode(root, '/soc/clint@2000000')!.props.get('interrupts-extended')!), [intc0, 3, intc0, 7, intc1, 3, intc1, 7]);
  const plicPh = propCells(plic.props.get('phandle')!)[0]!;
  const uart = findNode(root, '/soc/serial@10000000')!;
  assert.deepEqual(propCells(uart.props.get('interrupt-parent')!), [plicPh]);
  assert.deepEqual(propCells(uart.props.get('interrupts')!), [10]);
  for (let i = 1; i <= 8; i++) {
    const v = findNode(root, `/soc/virtio_mmio@${(0x10000000 + i * 0x1000).toString(16)}`)!;
    assert.deepEqual(propCells(v.props.get('interrupts')!), [i]);
  }
  const testPh = propCells(findNode(root, '/soc/test@100000')!.props.get('phandle')!)[0]!;
  assert.deepEqual(propCells(findNode(root, '/poweroff')!.props.get('regmap')!), [testPh]);
  assert.deepEqual(propCells(findNode(root, '/reboot')!.props.get('value')!), [0x7777]);
});

/** Nodes QEMU has and we deliberately omit (no such device on our board). */
const OMITTED_NODES = ['/pmu', '/fw-cfg@10100000', '/flash@20000000', '/platform-bus@4000000', '/soc/pci@30000000'];
/** Properties that deliberately differ: QEMU's random seed, and the ISA string of QEMU's default cpu. */
const DIFFERENT_PROPS = ['/chosen:rng-seed', '/cpus/cpu@N:riscv,isa'];

function flatten(node: FdtNode, path: string, out: Map<string, FdtNode>): void {
  out.set(path === '' ? '/' : path, node);
  for (const c of node.children) flatten(c, `${path}/${c.name}`, out);
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

test('matches QEMU 7.2 virt tree for the same -m/-smp (apart from the listed differences)', () => {
  const probe = spawnSync('qemu-system-riscv32', ['--version'], { encoding: 'utf8' });
  // QEMU is the reference; CI installs it (.ci/run), so its absence is a failure, not a skip.
  assert.equal(probe.error, undefined, 'qemu-system-riscv32 is required for this comparison (apt-get install qemu-system-misc)');
  const dir = mkdtempSync(join(tmpdir(), 'replayvm-fdt-'));
  try {
    const smp = 2;
    const ramSize = 256 * MiB;
    writeFileSync(join(dir, 'kernel.bin'), new Uint8Array(4096));
    writeFileSync(join(dir, 'initrd.bin'), new Uint8Array(1000));
    const dtbPath = join(dir, 'qemu.dtb');
    const r = spawnSync('qemu-system-riscv32', [
      '-M', `virt,dumpdtb=${dtbPath}`, '-m', `${ramSize / MiB}M`, '-smp', `${smp}`, '-bios', 'none',
      '-display', 'none', '-serial', 'null', '-monitor', 'none',
      '-kernel', join(dir, 'kernel.bin'), '-initrd', join(dir, 'initrd.bin'), '-append', 'console=ttyS0 quiet',
    ], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, `qemu failed: ${r.stderr}`);
    const qemu = parseFdt(new Uint8Array(readFileSync(dtbPath)));
    const qChosen = findNode(qemu, '/chosen')!;
    const initrd = {
      start: propCells(qChosen.props.get('linux,initrd-start')!)[0]!,
      end: propCells(qChosen.props.get('linux,initrd-end')!)[0]!,
    };
    const ours = parseFdt(buildVirtFdt({ ramBase: 0x80000000, ramSize, smp, bootargs: 'console=ttyS0 quiet', initrd, timebaseFrequency: 10_000_000 }));

    const qNodes = new Map<string, FdtNode>();
    const oNodes = new Map<string, FdtNode>();
    flatten(qemu, '', qNodes);
    flatten(ours, '', oNodes);
    const omitted = (p: string) => OMITTED_NODES.some((o) => p === o || p.startsWith(`${o}/`));
    const differences: string[] = [];
    for (const [path, qn] of qNodes) {
      if (omitted(path)) continue;
      const on = oNodes.get(path);
      if (on === undefined) {
        differences.push(`missing node ${path}`);
        continue;
      }
      for (const [name, qv] of qn.props) {
        const key = `${path.replace(/cpu@\d+$/, 'cpu@N')}:${name}`;
        if (DIFFERENT_PROPS.includes(key)) continue;
        const ov = on.props.get(name);
        if (ov === undefined) differences.push(`missing ${path}:${name}`);
        else if (hex(ov) !== hex(qv)) differences.push(`${path}:${name}: ours ${hex(ov)}, qemu ${hex(qv)}`);
      }
      for (const name of on.props.keys()) {
        if (!qn.props.has(name)) differences.push(`extra ${path}:${name}`);
      }
    }
    for (const path of oNodes.keys()) {
      if (!qNodes.has(path)) differences.push(`extra node ${path}`);
    }
    assert.deepEqual(differences, []);
    // The intended differences are real (so the lists above stay honest).
    for (const p of OMITTED_NODES) assert.ok(qNodes.has(p) && !oNodes.has(p), `${p} should be in QEMU's tree only`);
    assert.ok(qChosen.props.has('rng-seed'));
    assert.notEqual(propStrings(findNode(qemu, '/cpus/cpu@0')!.props.get('riscv,isa')!)[0], REPLAYVM_RISCV_ISA);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
