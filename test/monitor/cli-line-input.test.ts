/** The line editor of the human monitor on a raw terminal (Ctrl-A c, -monitor stdio). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MonitorLineInput } from '../../src/host/node/mux.js';

test('MonitorLineInput: echo, Enter as CR, LF or CRLF, backspace, arrow keys dropped', () => {
  const ed = new MonitorLineInput();
  const enc = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
  assert.deepEqual(ed.feed(enc('info\x7fo st')), { echo: 'info\b \bo st', lines: [] });
  assert.deepEqual(ed.feed(enc('atus\r\n')), { echo: 'atus\r\n', lines: ['info status\n'] });
  assert.deepEqual(ed.feed(enc('\x1b[Ac\n')), { echo: 'c\r\n', lines: ['c\n'] });
  assert.deepEqual(ed.feed(enc('ab\x15q\r')), { echo: 'ab\b \b\b \bq\r\n', lines: ['q\n'] });
});
