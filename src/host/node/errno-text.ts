/**
 * Host error text as QEMU prints it: strerror() wording ("No such file or directory") rather
 * than Node's "ENOENT: no such file or directory, open 'x'".
 */

const STRERROR: Readonly<Record<string, string>> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  EROFS: 'Read-only file system',
  ELOOP: 'Too many levels of symbolic links',
  ENAMETOOLONG: 'File name too long',
  EMFILE: 'Too many open files',
  ENFILE: 'Too many open files in system',
  EIO: 'Input/output error',
  ENOSPC: 'No space left on device',
  EDQUOT: 'Disk quota exceeded',
  EFBIG: 'File too large',
  EBUSY: 'Device or resource busy',
  ETXTBSY: 'Text file busy',
  EBADF: 'Bad file descriptor',
  EINVAL: 'Invalid argument',
  ENXIO: 'No such device or address',
  ENODEV: 'No such device',
  EAGAIN: 'Resource temporarily unavailable',
  EWOULDBLOCK: 'Resource temporarily unavailable',
};

/** The strerror()-style text of a Node system error (or the error's message, on one line). */
export function errnoText(e: unknown): string {
  if (typeof e === 'object' && e !== null) {
    const code = (e as { code?: unknown }).code;
    const known = typeof code === 'string' ? STRERROR[code] : undefined;
    if (known !== undefined) return known;
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string') {
      // "ECODE: description, syscall 'path'" -> "description (ECODE)".
      const m = /^([A-Z0-9_]+): ([^,]*)/.exec(message);
      const [, errCode, text] = m ?? [];
      if (errCode !== undefined && text !== undefined) return `${text.charAt(0).toUpperCase()}${text.slice(1)} (${errCode})`;
      return firstLine(message);
    }
  }
  return firstLine(String(e));
}

function firstLine(text: string): string {
  const nl = text.indexOf('\n');
  return nl < 0 ? text : text.slice(0, nl);
}
