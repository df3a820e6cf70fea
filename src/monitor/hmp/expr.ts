/**
 * Address expressions of the human monitor (`x /4xw 0x80000000+8`, `xp $sp`), with QEMU's
 * grammar: numbers in C notation (0x hex, leading 0 octal, decimal), `$reg` registers,
 * `( )`, unary `+ - ~`, and the binary levels `+ -` < `* / %` < `& | ^` (QEMU binds the
 * logic operators tightest). Values are unsigned 64-bit (BigInt).
 */

/** A malformed expression; the message is QEMU's wording ("unexpected end of expression"). */
export class HmpExprError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HmpExprError';
  }
}

/** Looks up `$name`; returns undefined for an unknown register. */
export type RegisterLookup = (name: string) => number | undefined;

const MASK64 = (1n << 64n) - 1n;

/**
 * Parses and evaluates the expression at the start of `text`; returns its value and the rest
 * of the text (after the expression).
 */
export function evaluateExpression(text: string, registers: RegisterLookup): { value: bigint; rest: string } {
  const e = new ExprParser(text, registers);
  e.skip();
  if (e.pos >= text.length) throw new HmpExprError('unexpected end of expression');
  const value = e.sum() & MASK64;
  return { value, rest: text.slice(e.pos) };
}

class ExprParser {
  pos = 0;
  constructor(private readonly s: string, private readonly regs: RegisterLookup) {}

  skip(): void {
    while (this.pos < this.s.length && /\s/.test(this.s[this.pos]!)) this.pos++;
  }

  private peek(): string | undefined {
    this.skip();
    return this.s[this.pos];
  }

  sum(): bigint {
    let v = this.prod();
    for (;;) {
      const c = this.peek();
      if (c !== '+' && c !== '-') return v;
      this.pos++;
      const r = this.prod();
      v = c === '+' ? v + r : v - r;
    }
  }

  private prod(): bigint {
    let v = this.logic();
    for (;;) {
      const c = this.peek();
      if (c !== '*' && c !== '/' && c !== '%') return v;
      this.pos++;
      const r = this.logic();
      if (c === '*') v *= r;
      else {
        if ((r & MASK64) === 0n) throw new HmpExprError('division by zero');
        v = c === '/' ? (v & MASK64) / (r & MASK64) : (v & MASK64) % (r & MASK64);
      }
    }
  }

  private logic(): bigint {
    let v = this.unary();
    for (;;) {
      const c = this.peek();
      if (c !== '&' && c !== '|' && c !== '^') return v;
      this.pos++;
      const r = this.unary();
      v = c === '&' ? v & r : c === '|' ? v | r : v ^ r;
    }
  }

  private unary(): bigint {
    const c = this.peek();
    if (c === undefined) throw new HmpExprError('unexpected end of expression');
    if (c === '+') { this.pos++; return this.unary(); }
    if (c === '-') { this.pos++; return -this.unary(); }
    if (c === '~') { this.pos++; return ~this.unary(); }
    if (c === '(') {
      this.pos++;
      const v = this.sum();
      if (this.peek() !== ')') throw new HmpExprError("')' expected");
      this.pos++;
      return v;
    }
    if (c === '$') {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(this.s.slice(this.pos));
      if (!m) throw new HmpExprError('unknown register');
      const v = this.regs(m[1]!);
      if (v === undefined) throw new HmpExprError('unknown register');
      this.pos += m[0].length;
      return BigInt(v >>> 0);
    }
    const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(this.s.slice(this.pos));
    if (!m) throw new HmpExprError('invalid char in expression');
    this.pos += m[0].length;
    const t = m[0];
    if (/^0[xX]/.test(t)) return BigInt(t);
    if (t.length > 1 && t.startsWith('0')) return BigInt(`0o${t.slice(1)}`);
    return BigInt(t);
  }
}
