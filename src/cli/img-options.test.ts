import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CliError } from './option-syntax.js';
import { IMG_USAGE, parseImgCommand } from './img-options.js';

function usageError(args: string[], message: string): void {
  assert.throws(() => parseImgCommand(args), (e: unknown) => e instanceof CliError && e.status === 2 && e.message === message, args.join(' '));
}

test('img info and check: -f, --output=X or --output X, options before or after the file', () => {
  assert.deepEqual(parseImgCommand(['info', 'd.qcow2']), { kind: 'info', file: 'd.qcow2', format: undefined, output: 'human' });
  assert.deepEqual(parseImgCommand(['info', '--output=json', '-f', 'raw', 'd.img']), { kind: 'info', file: 'd.img', format: 'raw', output: 'json' });
  assert.deepEqual(parseImgCommand(['check', 'd.qcow2', '--output', 'json']), { kind: 'check', file: 'd.qcow2', format: undefined, output: 'json' });
  assert.deepEqual(parseImgCommand(['info', '--', '-odd-name']), { kind: 'info', file: '-odd-name', format: undefined, output: 'human' });
});

test('img create: format, size with suffixes, backing file and its format, cluster size', () => {
  assert.deepEqual(parseImgCommand(['create', '-f', 'qcow2', 'd.qcow2', '1G']), {
    kind: 'create', file: 'd.qcow2', format: 'qcow2', size: 1 << 30, backing: undefined, clusterSize: undefined, quiet: false,
  });
  assert.deepEqual(parseImgCommand(['create', '-q', '-f', 'qcow2', '-b', 'base.img', '-F', 'raw', '-o', 'cluster_size=4k', 'o.qcow2']), {
    kind: 'create', file: 'o.qcow2', format: 'qcow2', size: undefined, backing: { file: 'base.img', format: 'raw' }, clusterSize: 4096, quiet: true,
  });
  assert.deepEqual(parseImgCommand(['create', '-f', 'raw', 'r.img', '1536']), {
    kind: 'create', file: 'r.img', format: 'raw', size: 1536, backing: undefined, clusterSize: undefined, quiet: false,
  });
});

test('img snapshot: exactly one of -l, -c, -a, -d', () => {
  assert.deepEqual(parseImgCommand(['snapshot', '-l', 'd.qcow2']), { kind: 'snapshot', file: 'd.qcow2', action: { kind: 'list' }, quiet: false });
  assert.deepEqual(parseImgCommand(['snapshot', '-c', 'before upgrade', 'd.qcow2']), {
    kind: 'snapshot', file: 'd.qcow2', action: { kind: 'create', name: 'before upgrade' }, quiet: false,
  });
  assert.deepEqual(parseImgCommand(['snapshot', 'd.qcow2', '-a', 's1']).kind, 'snapshot');
  assert.deepEqual(parseImgCommand(['snapshot', '-q', '-d', 's1', 'd.qcow2']), { kind: 'snapshot', file: 'd.qcow2', action: { kind: 'delete', name: 's1' }, quiet: true });
  usageError(['snapshot', '-l', '-d', 's1', 'd.qcow2'], 'exactly one of -l, -c NAME, -a NAME, -d NAME is required');
  usageError(['snapshot', 'd.qcow2'], 'exactly one of -l, -c NAME, -a NAME, -d NAME is required');
  usageError(['snapshot', 'd.qcow2', '-c'], 'option -c needs an argument');
});

test('img -h and COMMAND -h print the help', () => {
  for (const args of [['-h'], ['--help'], ['create', '-h'], ['snapshot', '--help']]) {
    assert.deepEqual(parseImgCommand(args), { kind: 'help', text: IMG_USAGE });
  }
  assert.match(IMG_USAGE, /^usage: replayvm img COMMAND/);
});

test('img usage errors name the word at fault', () => {
  usageError([], 'no command given (info, create, check or snapshot; -h for help)');
  usageError(['convert', 'a', 'b'], "unknown command 'convert' (info, create, check or snapshot)");
  usageError(['info'], 'no image file given');
  usageError(['info', 'a', 'b'], "unexpected argument 'b'");
  usageError(['info', '-x', 'a'], "unknown option '-x'");
  usageError(['info', '-f', 'vmdk', 'a'], '-f vmdk: unknown format (qcow2 or raw)');
  usageError(['info', '--output=xml', 'a'], '--output xml: human or json expected');
  usageError(['check', '-r', 'all', 'a'], '-r (repair) is not supported: check reports only');
  usageError(['create', 'a', '1M'], '-f qcow2 or -f raw is required');
  usageError(['create', '-f', 'qcow2', 'a'], 'the image size is required (without -b)');
  usageError(['create', '-f', 'qcow2', 'a', '12Q'], "invalid size '12Q' (bytes, or with a suffix K, M, G, T)");
  usageError(['create', '-f', 'qcow2', '-b', 'base', 'a'], "-b needs -F (the backing file's format), as qemu-img does");
  usageError(['create', '-f', 'raw', '-b', 'base', '-F', 'raw', 'a'], '-b: a backing file needs -f qcow2');
  usageError(['create', '-f', 'qcow2', '-F', 'raw', 'a', '1M'], '-F without -b');
  usageError(['create', '-f', 'qcow2', '-o', 'cluster_size=3000', 'a', '1M'], '-o cluster_size=3000: a power of two from 512 to 2M expected');
  usageError(['create', '-f', 'qcow2', '-o', 'cluster_size=4M', 'a', '1M'], '-o cluster_size=4M: a power of two from 512 to 2M expected');
  usageError(['create', '-f', 'qcow2', '-o', 'lazy_refcounts=on', 'a', '1M'], '-o lazy_refcounts: unsupported option (cluster_size only)');
  usageError(['create', '-f', 'raw', '-o', 'cluster_size=4k', 'a', '1M'], '-o cluster_size: only for -f qcow2');
});
