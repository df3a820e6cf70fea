/**
 * The state arena: every piece of machine state that is not RAM (hart registers, CSRs,
 * reservations, device registers) lives in one SharedArrayBuffer of 32-bit words, allocated
 * by name. The declared layout (owner, field, word offset, word count) is what later issues
 * walk to snapshot, migrate and hash the machine, and what a vCPU worker thread maps to see the
 * same state. Allocation is deterministic: the same machine configuration allocates the same
 * layout in every thread and every run.
 *
 * Contract for components: keep state in the arena, not in object fields. Derived caches (a
 * TLB, a decode cache) may live outside it, as long as they can be rebuilt from the arena.
 */

/** One named field of the layout, in 32-bit words from the start of the arena. */
export interface StateField {
  /** Owning component, for example `hart0` or `uart0`. */
  readonly owner: string;
  /** Field name within the owner, for example `x` or `mtimecmp`. */
  readonly name: string;
  /** Offset in 32-bit words from the start of the arena. */
  readonly word: number;
  /** Number of 32-bit words. A 64-bit value takes two words, low word first. */
  readonly words: number;
  /**
   * Host-derived bookkeeping (for example the host clock's offset behind the realtime clocks):
   * shared by the threads and saved by snapshots, but not guest-visible state, so the state
   * hash leaves it out (two runs of the same guest must hash equal whatever the host clock did).
   */
  readonly host: boolean;
}

/** Options of {@link StateArena.allocate}. */
export interface AllocateOptions {
  /** See {@link StateField.host}. */
  readonly host?: boolean;
}

/** Raised when the arena is misused (duplicate field, out of space). */
export class StateArenaError extends Error {
  override name = 'StateArenaError';
}

const DEFAULT_CAPACITY_WORDS = 1 << 18; // 1 MiB: far more than 8 harts and all devices need.

/** A bump-allocated arena of 32-bit words in a SharedArrayBuffer. */
export class StateArena {
  readonly buffer: SharedArrayBuffer;
  /** Signed view, usable with Atomics. */
  readonly i32: Int32Array;
  /** Unsigned view of the same words. */
  readonly u32: Uint32Array;
  private readonly fields: StateField[] = [];
  private readonly byKey = new Map<string, StateField>();
  private top = 0;

  constructor(capacityWords = DEFAULT_CAPACITY_WORDS, buffer?: SharedArrayBuffer) {
    this.buffer = buffer ?? new SharedArrayBuffer(capacityWords * 4);
    if (this.buffer.byteLength < capacityWords * 4) {
      throw new StateArenaError(`state buffer is ${this.buffer.byteLength} bytes, need ${capacityWords * 4}`);
    }
    this.i32 = new Int32Array(this.buffer, 0, capacityWords);
    this.u32 = new Uint32Array(this.buffer, 0, capacityWords);
  }

  /**
   * Allocates `words` zeroed words for `owner.name` and returns the word offset.
   * Fields are 2-word aligned when `words` is even, so 64-bit values can be read as pairs.
   */
  allocate(owner: string, name: string, words: number, options: AllocateOptions = {}): number {
    const key = `${owner}.${name}`;
    if (this.byKey.has(key)) throw new StateArenaError(`state field ${key} allocated twice`);
    if (!Number.isInteger(words) || words <= 0) throw new StateArenaError(`state field ${key}: bad size ${words}`);
    if (words % 2 === 0 && this.top % 2 !== 0) this.top++;
    const word = this.top;
    if (word + words > this.i32.length) throw new StateArenaError(`state arena full allocating ${key}`);
    this.top += words;
    const field: StateField = { owner, name, word, words, host: options.host ?? false };
    this.fields.push(field);
    this.byKey.set(key, field);
    return word;
  }

  /** The declared layout, in allocation order. */
  layout(): readonly StateField[] {
    return this.fields;
  }

  /** Looks up a field by owner and name. */
  field(owner: string, name: string): StateField | undefined {
    return this.byKey.get(`${owner}.${name}`);
  }

  /** Words in use (the part that snapshots and hashes cover). */
  get usedWords(): number {
    return this.top;
  }

  /** Reads a 64-bit field (two words, low first) as a bigint. */
  readU64(word: number): bigint {
    return (BigInt(this.u32[word + 1]!) << 32n) | BigInt(this.u32[word]!);
  }

  /** Writes a 64-bit field (two words, low first). */
  writeU64(word: number, value: bigint): void {
    this.u32[word] = Number(value & 0xffffffffn);
    this.u32[word + 1] = Number((value >> 32n) & 0xffffffffn);
  }
}
