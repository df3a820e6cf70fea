/** The error class of the vCPU thread layer. */

/** A vCPU thread protocol violation: invalid state transition, bad shared buffer, ring misuse. */
export class VcpuError extends Error {
  override name = 'VcpuError';
}
