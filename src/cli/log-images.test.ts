import { test } from 'node:test';
import assert from 'node:assert/strict';
import { locateImages, parseImageOverride, relocationNotices, type RecordedImage } from './log-images.js';
import { CliError } from './option-syntax.js';

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);
const kernel: RecordedImage = { role: 'kernel', path: '/rec/dir/Image', given: 'dir/Image', sha256: SHA_A, size: 1 };

/** A file system of path -> sha256. */
const fs = (files: Record<string, string>) => (path: string): string | undefined => files[path];

test('an image is taken from its recorded place, then beside the log, then from --image', () => {
  assert.deepEqual(locateImages('/logs/x.rrlog', [kernel], [], fs({ '/rec/dir/Image': SHA_A })).map((l) => [l.path, l.how]),
    [['/rec/dir/Image', 'recorded place']]);
  const beside = locateImages('/logs/x.rrlog', [kernel], [], fs({ '/logs/Image': SHA_A }));
  assert.deepEqual(beside.map((l) => [l.path, l.how]), [['/logs/Image', 'beside the log']]);
  assert.deepEqual(relocationNotices(beside), ['kernel /rec/dir/Image is not there: using /logs/Image (beside the log, same sha256)']);
  for (const old of ['Image', 'dir/Image', '/rec/dir/Image']) {
    const moved = locateImages('/logs/x.rrlog', [kernel], [parseImageOverride(`${old}=/new/K`)], fs({ '/new/K': SHA_A }));
    assert.deepEqual(moved.map((l) => [l.path, l.how]), [['/new/K', '--image']]);
  }
});

test('a file with the right name and the wrong sha256 is refused, naming the places and the hash', () => {
  assert.throws(() => locateImages('/logs/x.rrlog', [kernel], [], fs({ '/rec/dir/Image': SHA_B })), (e: unknown) => {
    assert.ok(e instanceof CliError);
    assert.equal(e.status, 1);
    assert.match(e.message, /^kernel \/rec\/dir\/Image \(given as dir\/Image\): no file with sha256 a{64} at /);
    assert.match(e.message, /\/rec\/dir\/Image \(sha256 b{16}\.\.\. differs\), \/logs\/Image; name its new place with --image Image=PATH$/);
    return true;
  });
});

test('--image must name a recorded image and be OLD=NEW', () => {
  assert.throws(() => locateImages('/l/x.rrlog', [kernel], [parseImageOverride('bzImage=/k')], fs({})),
    (e: unknown) => e instanceof CliError && e.status === 2 && /--image bzImage=\/k: the log has no image bzImage/.test(e.message));
  for (const bad of ['noequals', '=x', 'x=']) assert.throws(() => parseImageOverride(bad), /expected OLD=NEW/);
});
