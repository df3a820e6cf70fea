/**
 * replayvm's exit statuses for cli/: defined at host level (src/host/exit-status.ts) so the
 * host-side runner can return them without importing cli/.
 */
export {
  EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_REPLAY_DIVERGED, EXIT_LOG_DAMAGED, EXIT_LOG_INCOMPLETE, EXIT_STATUSES,
  type ExitStatus,
} from '../host/exit-status.js';
