/**
 * kill -9 during heavy guest writes to a qcow2 image, many times over the same image: after every
 * kill `qemu-img check` may report leaked clusters (exit status 3) but never corruption (2) or
 * a failed check (1), the next boot opens the image again, and at the end every write the guest
 * saw completed (its `diskfill` printed, so fsync returned) reads back exactly from the file;
 * a last boot reads the whole image as `qemu-img convert` does.
 * Small clusters (4 KiB) on a 64 MiB disk make every write allocate clusters, L2 tables and
 * refcount blocks. Random places, sizes and kill moments come from a seeded host PRNG
 * (REPLAYVM_BLOCK_SEED reruns a failure).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertGuestReads, blockTestSeed, guestFill, patternWord, qemuImgCheck, SECTOR, tool } from '../helpers/guest-disk.js';
import { seededRandom } from '../helpers/host-utils.js';
import { powerOff, TEST_TIMEOUT_MS, withLinuxVm } from '../helpers/linux.js';

const tmp = mkdtempSync(join(tmpdir(), 'replayvm-block-kill-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const KILLS = 10;
const DISK_BYTES = 64 << 20;
const SECTORS = DISK_BYTES / SECTOR;
/** What a sector holds: ZERO, UNKNOWN (a write to it was cut by the kill) or a pattern seed (> 0). */
const ZERO = 0;
const UNKNOWN = -1;

test(`${KILLS} kill -9 at random moments of guest writes: qemu-img check never finds corruption; completed writes survive`, { timeout: TEST_TIMEOUT_MS }, async () => {
  const seed = blockTestSeed();
  const random = seededRandom(seed);
  const image = join(tmp, 'killed.qcow2');
  tool('qemu-img', 'create', '-f', 'qcow2', '-o', 'cluster_size=4096', image, String(DISK_BYTES));
  const state = new Int32Array(SECTORS); // ZERO
  const mark = (sector: number, count: number, v: number): void => {
    state.fill(v, sector, sector + count);
  };
  let nextSeed = 1;
  let cutMidWrite = 0;
  const leaks: number[] = [];
  for (let round = 0; round < KILLS; round++) {
    const what = `round ${round + 1}/${KILLS} (seed ${seed})`;
    await withLinuxVm(['-drive', `file=${image},format=qcow2,if=virtio`], async (vm) => {
      await vm.prompt();
      // One or two writes that complete (timing the guest's write speed), then one cut by the kill.
      const pick = (): { sector: number; count: number; seed: number } => {
        const count = 1024 + Math.floor(random() * 3072); // 0.5..2 MiB
        return { sector: Math.floor(random() * (SECTORS - count)), count, seed: nextSeed++ };
      };
      let msPerSector = 0;
      for (let i = 1 + Math.floor(random() * 2); i > 0; i--) {
        const f = pick();
        const t0 = Date.now();
        await guestFill(vm, f.sector, f.count, f.seed);
        msPerSector = (Date.now() - t0) / f.count;
        mark(f.sector, f.count, f.seed);
      }
      const f = pick();
      const delay = random() * msPerSector * f.count * 1.2;
      vm.sendLine(`diskfill ${f.sector} ${f.count} ${f.seed}`);
      await new Promise((r) => setTimeout(r, delay));
      await vm.kill();
      const done = new RegExp(`^diskfill: wrote ${f.count * SECTOR} bytes at sector ${f.sector} seed ${f.seed}\n`, 'm').test(vm.text);
      if (done) {
        mark(f.sector, f.count, f.seed);
      } else {
        mark(f.sector, f.count, UNKNOWN);
        cutMidWrite++;
      }
      assert.ok(vm.exited?.signal === 'SIGKILL', `${what}: the VM was killed, not exited\n${vm.describe()}`);
    }, { name: what });
    const check = qemuImgCheck(image);
    assert.ok(check.status === 0 || check.status === 3,
      `${what}: qemu-img check exit status ${check.status} (2 = corruption, 1 = check failed)\n${check.stdout}${check.stderr}`);
    leaks.push(Number(/(\d+) leaked clusters were found/.exec(check.stdout)?.[1] ?? 0));
  }
  // Most kills must land inside a write, or the test measured nothing.
  assert.ok(cutMidWrite >= KILLS / 3, `only ${cutMidWrite} of ${KILLS} kills cut a write (seed ${seed})`);

  tool('qemu-img', 'convert', '-O', 'raw', image, join(tmp, 'killed.raw'));
  const raw = readFileSync(join(tmp, 'killed.raw'));
  assert.equal(raw.length, DISK_BYTES);
  const bad: string[] = [];
  for (let s = 0; s < SECTORS && bad.length < 5; s++) {
    const v = state[s]!;
    if (v === UNKNOWN) continue;
    for (let w = 0; w < SECTOR / 4; w++) {
      const off = s * SECTOR + 4 * w;
      const want = v === ZERO ? 0 : patternWord(v, off / 4);
      if (raw.readUInt32LE(off) !== want) {
        bad.push(`sector ${s} (offset ${off}): ${v === ZERO ? 'never written, not zero' : `not the pattern of completed write ${v}`}`);
        break;
      }
    }
  }
  assert.deepEqual(bad, [], `completed writes must read back after the kills (seed ${seed}; leaks per round ${leaks.join(',')})`);

  // The guest reads the image left by the last kill as QEMU does (the cut writes included).
  await withLinuxVm(['-drive', `file=${image},format=qcow2,if=virtio`], async (vm) => {
    await vm.prompt();
    await assertGuestReads(vm, raw, `the image after ${KILLS} kills (seed ${seed})`, 8 << 20);
    await powerOff(vm);
  });
  const last = qemuImgCheck(image);
  assert.ok(last.status === 0 || last.status === 3, `qemu-img check after the last boot: status ${last.status}\n${last.stdout}${last.stderr}`);
});
