/** What a name becomes once the set is full: one series for all the rest, instead of many. */
export const OTHER = '_other';
const MAX_NAME_LENGTH = 128;

/**
 * Bounds the values of one metric attribute: the first `max` distinct names are kept as they are,
 * later ones are reported as `_other`. Operations are already route templates (`GET /members/:id`),
 * but an application without routes can still produce many; this caps the series they cost.
 */
export class BoundedNames {
  private readonly known = new Set<string>();

  constructor(private readonly max: number) {}

  name(value: string): string {
    const name = value.length > MAX_NAME_LENGTH ? value.slice(0, MAX_NAME_LENGTH) : value;
    if (this.known.has(name)) return name;
    if (this.known.size >= this.max) return OTHER;
    this.known.add(name);
    return name;
  }

  get size(): number {
    return this.known.size;
  }
}
