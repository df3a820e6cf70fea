/** A host-side problem with a replay log's file or an image it names (cannot open, exists...); one line. */
export class LogFileError extends Error {
  override name = 'LogFileError';
}
