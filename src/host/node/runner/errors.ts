/** The runner's error: a one-line message naming the option or file at fault, without the program prefix. */
export class RunnerError extends Error {
  override name = 'RunnerError';
}
