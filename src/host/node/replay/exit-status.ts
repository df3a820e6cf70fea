/**
 * The exit status a log's ending calls for, for a replay and for `replayvm dump` alike (the
 * statuses themselves are defined once, in src/host/exit-status.ts).
 */
import type { LogReport } from '../../../replay/index.js';
import { logEnding } from '../../../replay/index.js';
import { EXIT_ERROR, EXIT_LOG_DAMAGED, EXIT_LOG_INCOMPLETE, EXIT_OK } from '../../exit-status.js';

/**
 * 0 only for a complete log; 5 for an incomplete one (a recording killed or crashed), 4 for one
 * damaged inside, 1 for one that needs a newer replayvm.
 */
export function exitStatusOfLog(report: LogReport): number {
  switch (logEnding(report)) {
    case 'complete': return EXIT_OK;
    case 'incomplete': return EXIT_LOG_INCOMPLETE;
    case 'damaged': return EXIT_LOG_DAMAGED;
    case 'unsupported': return EXIT_ERROR;
  }
}
