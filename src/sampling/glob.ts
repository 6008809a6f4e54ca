/**
 * Globs for `sampling.criticalOperations`: `*` matches any run of characters (also none), `?`
 * exactly one character (one UTF-16 code unit), everything else itself. Case-sensitive and
 * anchored: `GET /users` does not match `GET /users/1`; `GET /users*` does.
 *
 * A list is compiled once into one matcher. Matching builds no regular expression and does not
 * backtrack: the text between two stars is found leftmost-first, which is enough for `*` and `?`,
 * so a hostile 16 kB URL costs at worst its length times the glob's length, never exponential time.
 */
export type GlobMatcher = (s: string) => boolean;

const QUESTION = 63; // '?'

/** Text between two stars; `wild` when it holds a `?` (then it cannot use indexOf). */
interface Part {
  text: string;
  wild: boolean;
}

/** One glob with at least one star: `head*middle1*middle2*tail`. */
interface StarGlob {
  head: string;
  middles: Part[];
  tail: string;
  /** Characters the glob needs at least (every part but the stars). */
  minLength: number;
}

interface CompiledGlobs {
  /** Globs without `*` or `?`: an exact lookup. */
  exact: Set<string>;
  /** Globs with `?` but no `*`: the lengths must be equal. */
  fixed: string[];
  starred: StarGlob[];
}

const NEVER: GlobMatcher = () => false;

export function compileGlobs(globs: readonly string[]): GlobMatcher {
  if (globs.length === 0) return NEVER;
  const compiled: CompiledGlobs = { exact: new Set(), fixed: [], starred: [] };
  for (const glob of globs) {
    if (glob.indexOf('*') >= 0) compiled.starred.push(compileStarGlob(glob));
    else if (glob.indexOf('?') >= 0) compiled.fixed.push(glob);
    else compiled.exact.add(glob);
  }
  return (s: string): boolean => matchesAny(compiled, s);
}

function compileStarGlob(glob: string): StarGlob {
  const parts = glob.split('*');
  const head = parts[0];
  const tail = parts[parts.length - 1];
  // Empty middles come from `**` and match anywhere: leave them out.
  const middles = parts
    .slice(1, -1)
    .filter((p) => p.length > 0)
    .map((text) => ({ text, wild: text.indexOf('?') >= 0 }));
  let minLength = head.length + tail.length;
  for (const m of middles) minLength += m.text.length;
  return { head, middles, tail, minLength };
}

function matchesAny(compiled: CompiledGlobs, s: string): boolean {
  if (compiled.exact.has(s)) return true;
  const { fixed, starred } = compiled;
  for (let i = 0; i < fixed.length; i++) {
    const glob = fixed[i];
    if (glob.length === s.length && partAt(s, glob, 0)) return true;
  }
  for (let i = 0; i < starred.length; i++) {
    if (matchesStarGlob(starred[i], s)) return true;
  }
  return false;
}

function matchesStarGlob(glob: StarGlob, s: string): boolean {
  if (s.length < glob.minLength) return false;
  const end = s.length - glob.tail.length;
  if (!partAt(s, glob.head, 0) || !partAt(s, glob.tail, end)) return false;
  let from = glob.head.length;
  const middles = glob.middles;
  for (let i = 0; i < middles.length; i++) {
    const middle = middles[i];
    const at = findPart(s, middle, from, end);
    if (at < 0) return false;
    from = at + middle.text.length;
  }
  return true;
}

/** Whether `part` (literal characters and `?`) matches `s` at `pos`; the caller checked the length. */
function partAt(s: string, part: string, pos: number): boolean {
  for (let i = 0; i < part.length; i++) {
    const c = part.charCodeAt(i);
    if (c !== QUESTION && c !== s.charCodeAt(pos + i)) return false;
  }
  return true;
}

/** First position >= from where `part` matches and ends by `end`, or -1. */
function findPart(s: string, part: Part, from: number, end: number): number {
  const last = end - part.text.length;
  if (!part.wild) {
    const at = s.indexOf(part.text, from);
    return at >= 0 && at <= last ? at : -1;
  }
  for (let pos = from; pos <= last; pos++) {
    if (partAt(s, part.text, pos)) return pos;
  }
  return -1;
}
