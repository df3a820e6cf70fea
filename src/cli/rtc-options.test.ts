import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRtcDate, parseRtcOption } from './rtc-options.js';
import { CliError } from './options.js';

function fails(text: string, message: string): void {
  assert.throws(() => parseRtcOption(text), (e: unknown) => e instanceof CliError && e.message === `-rtc ${text}: ${message}`);
}

test('bases and clocks', () => {
  assert.deepEqual(parseRtcOption('base=utc'), { base: { kind: 'utc' }, clock: 'host' });
  assert.deepEqual(parseRtcOption('base=localtime,clock=rt'), { base: { kind: 'localtime' }, clock: 'rt' });
  assert.deepEqual(parseRtcOption('clock=vm'), { base: { kind: 'utc' }, clock: 'vm' });
  assert.deepEqual(parseRtcOption('base=2006-06-17T16:01:21,clock=vm'),
    { base: { kind: 'date', epochMs: Date.UTC(2006, 5, 17, 16, 1, 21) }, clock: 'vm' });
  assert.deepEqual(parseRtcOption('base=2006-06-17'), { base: { kind: 'date', epochMs: Date.UTC(2006, 5, 17) }, clock: 'host' });
  assert.deepEqual(parseRtcOption('driftfix=slew'), { base: { kind: 'utc' }, clock: 'host', driftfix: 'slew' });
});

test('dates: UTC, fields carry over like mktime, years below 100 are literal', () => {
  assert.equal(parseRtcDate('1970-01-01'), 0);
  assert.equal(parseRtcDate('2006-13-01'), Date.UTC(2007, 0, 1));
  assert.equal(parseRtcDate('0050-01-01'), -60589296000000);
  assert.equal(parseRtcDate('2006-06-17T16:01'), undefined);
  assert.equal(parseRtcDate('yesterday'), undefined);
});

test('errors carry QEMU messages', () => {
  const fmt = "invalid datetime format (valid formats: '2006-06-17T16:01:21' or '2006-06-17')";
  fails('base=tomorrow', fmt);
  fails('base=2006-06-17 16:01:21', fmt);
  fails('clock=wall', "invalid option value 'wall'");
  fails('driftfix=fast', "invalid option value 'fast'");
  fails('base=utc,tz=1', "Invalid parameter 'tz'");
});
