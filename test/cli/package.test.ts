/**
 * The `replayvm` command as a user gets it: the package's bin runs after a build (tsc leaves no
 * executable bit on dist/), and the packed tarball, installed in a folder elsewhere, runs a
 * bare-metal guest with `npx replayvm` and boots its bundled Linux guest with `npm start`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accessSync, constants, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeRun, elfPath, REPO_ROOT, runProcess } from '../helpers/run-vm.js';

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; version: string };
const NOP = ['-M', 'virt', '-nographic', '-bios', 'none', '-kernel'];
/** npm without the network: the package has no dependencies, so nothing needs fetching. */
const NPM_OFFLINE = ['--offline', '--no-audit', '--no-fund', '--loglevel=error'];

test('the bin is a committed executable that runs the CLI after a build', async () => {
  const bin = join(REPO_ROOT, pkg.bin['replayvm'] ?? 'missing');
  assert.ok(!bin.includes(`${join(REPO_ROOT, 'dist')}`), `the bin ${bin} must not be a file that tsc rewrites`);
  accessSync(bin, constants.X_OK);
  assert.notEqual(statSync(bin).mode & 0o111, 0);
  // Run as a command (its shebang), not through node.
  const r = await runProcess(bin, [...NOP, elfPath('nop')], { timeoutMs: 15_000 });
  assert.equal(r.status, 0, describeRun(r));
  assert.match(r.stdout, /PASS nop/);
});

test('npm pack, installed elsewhere: npx replayvm runs a guest and npm start finds the bundled Linux', { timeout: 120_000 }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'replayvm-pkg-'));
  try {
    // dist/ is already built (the tests run from it), so pack without running `prepare` again.
    const packed = await runProcess('npm', ['pack', '--ignore-scripts', '--pack-destination', tmp, ...NPM_OFFLINE], { timeoutMs: 60_000 });
    assert.equal(packed.status, 0, describeRun(packed));
    const tarball = join(tmp, `replayvm-${pkg.version}.tgz`);
    statSync(tarball);
    const list = await runProcess('tar', ['-tzf', tarball], { timeoutMs: 20_000 });
    assert.equal(list.status, 0, describeRun(list));
    const files = list.stdout.split('\n').filter((l) => l !== '');
    for (const needed of ['package/bin/replayvm.js', 'package/dist/src/cli/main.js', 'package/dist/src/host/node/vcpu-worker-main.js',
      'package/guest/linux/build/Image.gz', 'package/scripts/start.mjs', 'package/README.md']) {
      assert.ok(files.includes(needed), `the tarball lacks ${needed}`);
    }
    const junk = files.filter((f) => /\.test\.js$|\.map$|^package\/(test|bench|src)\/|^package\/dist\/(test|bench)\//.test(f));
    assert.deepEqual(junk, [], 'tests, sources and source maps stay out of the package');

    const app = join(tmp, 'app');
    const installDir = join(app, 'node_modules', 'replayvm');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
    const installed = await runProcess('npm', ['install', tarball, ...NPM_OFFLINE], { cwd: app, timeoutMs: 60_000 });
    assert.equal(installed.status, 0, describeRun(installed));

    const run = await runProcess('npx', ['--offline', 'replayvm', ...NOP, join(installDir, 'guest', 'baremetal', 'build', 'demo.elf')],
      { cwd: app, timeoutMs: 30_000, encoding: 'latin1' });
    assert.equal(run.status, 0, describeRun(run));
    assert.match(run.stdout, /PASS demo/);

    // npm start of the installed package, from the user's folder: boots the bundled guest (its
    // first kernel line), records into the user's folder, and Ctrl-A x ends it.
    const started = await runProcess('npm', ['start', '--prefix', installDir, '--loglevel=error'], {
      cwd: app, timeoutMs: 60_000, encoding: 'latin1',
      input: [{ afterOutput: 'Linux version 6.', bytes: Uint8Array.of(0x01, 0x78) }],
    });
    assert.equal(started.timedOut, false, describeRun(started));
    assert.match(started.stdout, /Linux version 6\./, describeRun(started));
    assert.equal(started.status, 0, describeRun(started));
    const logs = readdirSync(app).filter((f) => f.endsWith('.rrlog'));
    assert.equal(logs.length, 1, `one recording in the user's folder, found ${logs.join(', ')}\n${describeRun(started)}`);
    assert.deepEqual(readdirSync(installDir).filter((f) => f.endsWith('.rrlog')), [], 'nothing is written inside node_modules');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
