/** The vCPU thread layer (core side): state machine, control block, console byte ring. */
export { VcpuError } from './errors.js';
export { ByteRing } from './byte-ring.js';
export { VcpuState, type VcpuStateName, isValidTransition } from './vcpu-state.js';
export { VcpuControl, VCPU_CONTROL_WORDS } from './control.js';
