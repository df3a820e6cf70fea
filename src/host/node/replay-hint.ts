/**
 * What a recording tells its user: the one command that replays its log, runnable when pasted
 * as is into the same shell (and from any folder: every path in it is absolute).
 */
import { realpathSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

/** `text` as one shell word (single-quoted unless it is plainly safe). */
export function shellWord(text: string): string {
  return /^[\w./@%+=:,-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
}

/** The real path of `path`, or undefined when it does not exist. */
function realPath(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** The first `name` on PATH, resolved to its real path. */
function onPath(name: string, path: string | undefined): string | undefined {
  for (const dir of (path ?? '').split(delimiter)) {
    if (dir === '') continue;
    const found = realPath(join(dir, name));
    if (found !== undefined) return found;
  }
  return undefined;
}

/** How the running program was started: its script and node, and the PATH to look them up in. */
export interface ProgramLocation {
  /** The entry script (process.argv[1]). */
  readonly script: string | undefined;
  /** The node binary (process.execPath). */
  readonly node: string;
  readonly path: string | undefined;
}

const THIS_PROCESS: ProgramLocation = { script: process.argv[1], node: process.execPath, path: process.env['PATH'] };

/**
 * The command that replays `log`: `replayvm replay LOG` when the `replayvm` on PATH is this very
 * program, else `node /abs/main.js replay /abs/LOG` (`node` as such when it is the node on PATH).
 */
export function replayCommand(log: string, where: ProgramLocation = THIS_PROCESS): string {
  const logWord = shellWord(resolve(log));
  const script = where.script === undefined ? undefined : realPath(where.script) ?? resolve(where.script);
  if (script !== undefined && onPath('replayvm', where.path) === script) return `replayvm replay ${logWord}`;
  if (script === undefined) return `replayvm replay ${logWord}`;
  const node = onPath('node', where.path) === realPath(where.node) ? 'node' : shellWord(where.node);
  return `${node} ${shellWord(script)} replay ${logWord}`;
}
