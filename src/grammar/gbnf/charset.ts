/**
 * Sets of Unicode code points as sorted, disjoint, non-adjacent inclusive ranges. Used by the GBNF
 * recognizer (what may come next), the regex translator (class algebra) and the sampler.
 */

export const MAX_CODE_POINT = 0x10ffff;

/** An inclusive code-point range `[from, to]`. */
export type CodePointRange = readonly [from: number, to: number];

/** A normalized set of code points: ranges sorted, disjoint and not touching. Immutable. */
export class CodePointSet {
  static readonly EMPTY = new CodePointSet([]);
  static readonly ALL = new CodePointSet([[0, MAX_CODE_POINT]]);

  private constructor(readonly ranges: readonly CodePointRange[]) {}

  /** Builds a set from any ranges (unsorted, overlapping allowed). */
  static of(ranges: Iterable<CodePointRange>): CodePointSet {
    const sorted = [...ranges]
      .filter(([a, b]) => a <= b)
      .map(([a, b]): [number, number] => [Math.max(0, a), Math.min(MAX_CODE_POINT, b)])
      .sort((x, y) => x[0] - y[0]);
    const out: [number, number][] = [];
    for (const [a, b] of sorted) {
      const last = out[out.length - 1];
      if (last !== undefined && a <= last[1] + 1) {
        if (b > last[1]) last[1] = b;
      } else {
        out.push([a, b]);
      }
    }
    return new CodePointSet(out);
  }

  static fromChars(chars: string): CodePointSet {
    const ranges: CodePointRange[] = [];
    for (const ch of chars) {
      const cp = ch.codePointAt(0) as number;
      ranges.push([cp, cp]);
    }
    return CodePointSet.of(ranges);
  }

  static single(cp: number): CodePointSet {
    return new CodePointSet([[cp, cp]]);
  }

  get isEmpty(): boolean {
    return this.ranges.length === 0;
  }

  /** Number of code points in the set. */
  get size(): number {
    let n = 0;
    for (const [a, b] of this.ranges) n += b - a + 1;
    return n;
  }

  /** The only member when the set has exactly one, else undefined. */
  get single(): number | undefined {
    const r = this.ranges[0];
    return this.ranges.length === 1 && r !== undefined && r[0] === r[1] ? r[0] : undefined;
  }

  has(cp: number): boolean {
    const rs = this.ranges;
    let lo = 0;
    let hi = rs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = rs[mid] as CodePointRange;
      if (cp < r[0]) hi = mid - 1;
      else if (cp > r[1]) lo = mid + 1;
      else return true;
    }
    return false;
  }

  union(other: CodePointSet): CodePointSet {
    if (other.isEmpty) return this;
    if (this.isEmpty) return other;
    return CodePointSet.of([...this.ranges, ...other.ranges]);
  }

  complement(): CodePointSet {
    const out: CodePointRange[] = [];
    let next = 0;
    for (const [a, b] of this.ranges) {
      if (a > next) out.push([next, a - 1]);
      next = b + 1;
    }
    if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
    return new CodePointSet(out);
  }

  intersect(other: CodePointSet): CodePointSet {
    return this.complement().union(other.complement()).complement();
  }

  subtract(other: CodePointSet): CodePointSet {
    return this.intersect(other.complement());
  }

  equals(other: CodePointSet): boolean {
    if (this.ranges.length !== other.ranges.length) return false;
    return this.ranges.every((r, i) => {
      const o = other.ranges[i] as CodePointRange;
      return r[0] === o[0] && r[1] === o[1];
    });
  }

  toString(): string {
    return this.ranges.map(([a, b]) => (a === b ? hex(a) : `${hex(a)}-${hex(b)}`)).join(",");
  }
}

function hex(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
}
