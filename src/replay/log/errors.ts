/**
 * The one error the replay log reader throws or reports: a one-line message that names the byte
 * offset in the log file where the problem is, and that offset as a number.
 */
/** `text` with every control character (newlines included) replaced by a space. */
function oneLine(text: string): string {
  let out = '';
  for (const ch of text) {
    const c = ch.charCodeAt(0);
    out += c < 0x20 || c === 0x7f ? ' ' : ch;
  }
  return out;
}

export class ReplayLogError extends Error {
  override name = 'ReplayLogError';

  /**
   * @param offset byte offset in the log file (for an event inside a compressed chunk: the
   *   chunk's offset; the message then also names the byte inside the uncompressed payload)
   * @param message one line that already contains "offset N"
   * @param unsupported the data may be valid but needs a newer replayvm (a newer minor version
   *   added an event kind or chunk flag this reader does not know)
   */
  constructor(readonly offset: number, message: string, readonly unsupported = false) {
    // One line whatever went in (a JSON.parse message quotes the damaged text).
    super(oneLine(message));
  }
}
