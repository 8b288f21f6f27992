/**
 * Literal prefilters for searched (unanchored) RE2 regexes, the way RE2's FilteredRE2 does it
 * (re2/prefilter.cc, re2/filtered_re2.h): from a regex, the literal texts a match must contain
 * (`connection refused|could not connect` needs `connection refused` or `could not connect`); one
 * pass over a text finds which of the literals of many regexes it holds (Aho-Corasick); a regex
 * whose literals are absent cannot match and is not run at all. The regex still decides every
 * case where its literals are present, so a prefilter changes no answer: it only spares engine
 * runs on texts that cannot match (most texts, for most rules).
 *
 * The same analysis tells, for many regexes, the literals every match STARTS with: no match can
 * start before the first of them occurs, so a search for the match itself (re2js's `exec`, whose
 * backtracking costs the program's size at every position it tries) may begin there
 * ({@link searchStart}) and find the same match.
 *
 * Literals are compared case-folded as RE2's `(?i)` compares ASCII letters: a case-sensitive match
 * contains its literal in particular, so the same folded test is a necessary condition for both.
 * Only ASCII characters make literals (a non-ASCII character of a pattern, whose fold orbit this
 * does not model, counts as an unknown character), and a text's `ſ` (U+017F) and `K` (U+212A, the
 * Kelvin sign) are read as `s` and `k`: RE2 folds them so.
 *
 * The analysis reads a conservative subset of RE2 syntax (literals and escaped punctuation,
 * classes (a few plain characters, `[sz]`, as those characters; any other as any character), `.`,
 * anchors and `\b`, groups `(?:…)` `(…)` `(?P<n>…)` `(?<n>…)`, alternation, the quantifiers);
 * anything else (flags, `\Q…\E`, `\p{…}`, …) gives no prefilter, so the regex runs on every text
 * as it did. Being conservative costs speed, never correctness.
 */

/**
 * What a match must contain: every literal of `all` present (AND), or at least one of `any` (OR).
 * A literal is lower-case ASCII of at least {@link MIN_LITERAL_CHARS} characters.
 */
export type Prefilter = { readonly literal: string } | { readonly all: readonly Prefilter[] } | { readonly any: readonly Prefilter[] };

/** Shorter literals select too little to be worth a look (RE2 uses 3 as well, as trigrams). */
export const MIN_LITERAL_CHARS = 3;
/** Most strings an exactly-known sub-pattern may stand for before it is summarised as literals (RE2: 16). */
const MAX_EXACT_SET = 16;
/** Most texts an alternation's matches may be known to start with (one per branch or a few: a list, not a product). */
const MAX_PREFIX_SET = 256;

/** The pattern uses syntax the analysis does not read: no prefilter. */
class Unsupported extends Error {}

/**
 * What a sub-pattern matches: exactly one of a small set of texts (`exact`), or texts satisfying
 * `match` (undefined: anything); and, when known, texts every match starts with (`prefix`; an
 * exact set is its own).
 */
interface Info {
  readonly exact?: ReadonlySet<string>;
  readonly match?: Prefilter;
  readonly prefix?: ReadonlySet<string>;
}

const ANYTHING: Info = {};
const EMPTY: Info = { exact: new Set(['']) };

/** AND of filters, `undefined` standing for "anything" (dropped). */
function allOf(parts: readonly (Prefilter | undefined)[]): Prefilter | undefined {
  const kept: Prefilter[] = [];
  for (const p of parts) {
    if (p === undefined) continue;
    if ('all' in p) kept.push(...p.all);
    else kept.push(p);
  }
  if (kept.length === 0) return undefined;
  return kept.length === 1 ? kept[0] : { all: kept };
}

/** OR of filters: anything when any of them is anything. */
function anyOf(parts: readonly (Prefilter | undefined)[]): Prefilter | undefined {
  const kept: Prefilter[] = [];
  for (const p of parts) {
    if (p === undefined) return undefined;
    if ('any' in p) kept.push(...p.any);
    else kept.push(p);
  }
  if (kept.length === 0) return undefined;
  return kept.length === 1 ? kept[0] : { any: kept };
}

/** What matching one of `exact` requires: one of them as a literal, or nothing when one is too short to require. */
function exactToMatch(exact: ReadonlySet<string>): Prefilter | undefined {
  const literals: Prefilter[] = [];
  for (const s of exact) {
    if (s.length < MIN_LITERAL_CHARS) return undefined;
    literals.push({ literal: s });
  }
  return anyOf(literals);
}

function toMatch(info: Info): Prefilter | undefined {
  return info.exact !== undefined ? exactToMatch(info.exact) : info.match;
}

function prefixOf(info: Info): ReadonlySet<string> | undefined {
  return info.exact ?? info.prefix;
}

/** An Info of `match` and `prefix`, either possibly unknown. */
function inexact(match: Prefilter | undefined, prefix: ReadonlySet<string> | undefined): Info {
  if (match === undefined && prefix === undefined) return ANYTHING;
  return { ...(match !== undefined ? { match } : {}), ...(prefix !== undefined ? { prefix } : {}) };
}

/** What one or more repetitions of a sub-pattern require: what one does, starting as one does (the exact texts are lost). */
function required(info: Info): Info {
  return inexact(toMatch(info), prefixOf(info));
}

function cross(a: ReadonlySet<string>, b: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  for (const x of a) for (const y of b) out.add(x + y);
  return out;
}

/** What every match of the concatenation starts with: the exact texts of its leading items, then the next item's prefix. */
function concatPrefix(infos: readonly Info[]): ReadonlySet<string> | undefined {
  let prefix: ReadonlySet<string> = new Set(['']);
  for (const info of infos) {
    const next = prefixOf(info);
    if (next === undefined || prefix.size * next.size > MAX_EXACT_SET) break;
    prefix = cross(prefix, next);
    if (info.exact === undefined) break;
  }
  return prefix;
}

function concat(infos: readonly Info[]): Info {
  const matches: (Prefilter | undefined)[] = [];
  let exact: ReadonlySet<string> | undefined = new Set(['']);
  for (const info of infos) {
    if (info.exact !== undefined) {
      if (exact === undefined) exact = info.exact;
      else if (exact.size * info.exact.size <= MAX_EXACT_SET) exact = cross(exact, info.exact);
      else {
        matches.push(exactToMatch(exact));
        exact = info.exact;
      }
    } else {
      if (exact !== undefined) matches.push(exactToMatch(exact));
      exact = undefined;
      matches.push(info.match);
    }
  }
  if (matches.length === 0 && exact !== undefined) return { exact };
  if (exact !== undefined) matches.push(exactToMatch(exact));
  return inexact(allOf(matches), concatPrefix(infos));
}

function alternate(infos: readonly Info[]): Info {
  if (infos.every((i) => i.exact !== undefined)) {
    const union = new Set<string>();
    for (const i of infos) for (const s of i.exact!) union.add(s);
    if (union.size <= MAX_EXACT_SET) return { exact: union };
  }
  // Every match starts as one of the branches does, when each branch says how.
  let prefix: Set<string> | undefined = new Set();
  for (const i of infos) {
    const p = prefixOf(i);
    if (p === undefined) {
      prefix = undefined;
      break;
    }
    for (const x of p) prefix.add(x);
  }
  return inexact(anyOf(infos.map(toMatch)), prefix !== undefined && prefix.size <= MAX_PREFIX_SET ? prefix : undefined);
}

/** RE2's escapes of one punctuation character (`\.`, `\|`, ...): that character itself. */
const PUNCTUATION = /^[!-/:-@[-`{-~]$/;
/** Escapes of a class of characters (`\d`, `\s`, ...) or of one control character (`\t`, ...): no literal. */
const CLASS_ESCAPES = new Set(['d', 'D', 's', 'S', 'w', 'W', 't', 'n', 'r', 'f', 'v', 'a']);
/** Empty-width escapes. */
const EMPTY_ESCAPES = new Set(['b', 'B', 'A', 'z']);

/** A recursive-descent reader of the supported RE2 subset, computing each node's {@link Info}. */
class Analyzer {
  private i = 0;
  /** Whether the pattern asserts the beginning of the text (`^`, `\A`) anywhere. */
  anchoredAtStart = false;
  constructor(private readonly p: string) {}

  run(): Info {
    const info = this.alternation();
    if (this.i !== this.p.length) throw new Unsupported();
    return info;
  }

  private alternation(): Info {
    const branches = [this.concatenation()];
    while (this.p[this.i] === '|') {
      this.i++;
      branches.push(this.concatenation());
    }
    return branches.length === 1 ? branches[0]! : alternate(branches);
  }

  private concatenation(): Info {
    const items: Info[] = [];
    while (this.i < this.p.length && this.p[this.i] !== '|' && this.p[this.i] !== ')') items.push(this.repetition());
    return items.length === 0 ? EMPTY : concat(items);
  }

  private repetition(): Info {
    let info = this.atom();
    for (;;) {
      const c = this.p[this.i];
      if (c === '?') {
        // Exactly x or nothing.
        info = info.exact !== undefined ? { exact: new Set([...info.exact, '']) } : ANYTHING;
        this.i++;
      } else if (c === '*') {
        info = ANYTHING;
        this.i++;
      } else if (c === '+') {
        info = required(info);
        this.i++;
      } else if (c === '{') {
        const m = /^\{(\d+)(?:,\d*)?\}/.exec(this.p.slice(this.i, this.i + 16));
        if (!m) break; // a `{` that is no repeat is a literal: the next atom
        info = Number(m[1]) === 0 ? ANYTHING : required(info);
        this.i += m[0].length;
      } else break;
      // Non-greedy `?` after a quantifier changes what is preferred, not what can match.
      if (this.p[this.i] === '?') this.i++;
    }
    return info;
  }

  private atom(): Info {
    const p = this.p;
    const c = p[this.i]!;
    if (c === '(') {
      this.i++;
      if (p[this.i] === '?') {
        const named = /^\?P?<[A-Za-z0-9_]+>/.exec(p.slice(this.i));
        if (p[this.i + 1] === ':') this.i += 2;
        else if (named) this.i += named[0].length;
        else throw new Unsupported(); // flags: (?i), (?s:...), ...
      }
      const info = this.alternation();
      if (p[this.i] !== ')') throw new Unsupported();
      this.i++;
      return info;
    }
    if (c === '[') {
      const start = this.i;
      this.skipClass();
      return smallClass(p.slice(start + 1, this.i - 1));
    }
    if (c === '.') {
      this.i++;
      return ANYTHING;
    }
    if (c === '^' || c === '$') {
      if (c === '^') this.anchoredAtStart = true;
      this.i++;
      return EMPTY;
    }
    if (c === '\\') {
      const e = p[this.i + 1];
      if (e === undefined) throw new Unsupported();
      this.i += 2;
      if (PUNCTUATION.test(e)) return this.literal(e);
      if (CLASS_ESCAPES.has(e)) return ANYTHING;
      if (EMPTY_ESCAPES.has(e)) {
        if (e === 'A') this.anchoredAtStart = true;
        return EMPTY;
      }
      throw new Unsupported();
    }
    if (c === ')' || c === '*' || c === '+' || c === '?') throw new Unsupported();
    this.i++;
    return this.literal(c);
  }

  /** One literal character: itself (lower-cased) when printable ASCII, else an unknown character. */
  private literal(c: string): Info {
    const code = c.charCodeAt(0);
    if (code < 0x20 || code > 0x7e) return ANYTHING;
    return { exact: new Set([c.toLowerCase()]) };
  }

  /** Past a character class `[...]` (its `]` first is a literal one; escapes and `[:name:]` inside). */
  private skipClass(): void {
    const p = this.p;
    let i = this.i + 1;
    if (p[i] === '^') i++;
    if (p[i] === ']') i++;
    while (i < p.length && p[i] !== ']') {
      if (p[i] === '\\') {
        const e = p[i + 1];
        i += 2;
        if ((e === 'x' || e === 'p' || e === 'P') && p[i] === '{') {
          const close = p.indexOf('}', i);
          if (close < 0) throw new Unsupported();
          i = close + 1;
        }
      } else if (p[i] === '[' && p[i + 1] === ':') {
        const close = p.indexOf(':]', i + 2);
        if (close < 0) throw new Unsupported();
        i = close + 2;
      } else i++;
    }
    if (i >= p.length) throw new Unsupported();
    this.i = i + 1;
  }
}

/** Most characters a class may have to be read as a set of one-character texts (`[13]`, `[sz]`, `[_ ]`). */
const MAX_CLASS_CHARS = 4;

/**
 * A class of a few plain characters (its body, between the brackets: no negation, range, escape or
 * named class) as an exact set of one-character texts, folded; anything else as any character.
 */
function smallClass(body: string): Info {
  if (body.length === 0 || body.length > MAX_CLASS_CHARS || body[0] === '^') return ANYTHING;
  const chars = new Set<string>();
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    const code = c.charCodeAt(0);
    // A `-` between two characters is a range; `\`, `[` and `]` begin escapes and named classes.
    if (code < 0x20 || code > 0x7e || c === '\\' || c === '[' || c === ']' || (c === '-' && i > 0 && i < body.length - 1)) return ANYTHING;
    chars.add(c.toLowerCase());
  }
  return { exact: chars };
}

/**
 * What any match of the RE2 `pattern` (searched, unanchored; compiled already, so valid) must
 * contain, or `undefined` when nothing useful is required or the pattern uses syntax the analysis
 * does not read. Sound for either case mode: literals are folded, see the module comment.
 */
export function regexPrefilter(pattern: string): Prefilter | undefined {
  return analyzeRegex(pattern).prefilter;
}

/** What the analysis of a searched RE2 regex tells (see {@link analyzeRegex}). */
export interface RegexLiterals {
  /** What any match must contain; undefined: nothing useful known. */
  readonly prefilter?: Prefilter;
  /**
   * Literals (folded, at least {@link MIN_LITERAL_CHARS} characters) one of which every match
   * starts with, when the pattern never asserts the beginning of the text: no match can start
   * before the first occurrence of one of them, so a search may begin there (see
   * {@link searchStart}). Undefined: not known.
   */
  readonly starts?: readonly string[];
}

/**
 * The literal facts of the RE2 `pattern` (searched, unanchored; compiled already, so valid):
 * what every match contains, and what every match starts with. Nothing is known of a pattern
 * using syntax the analysis does not read. Sound for either case mode (see the module comment).
 */
export function analyzeRegex(pattern: string): RegexLiterals {
  const analyzer = new Analyzer(pattern);
  let info: Info;
  try {
    info = analyzer.run();
  } catch (err) {
    if (err instanceof Unsupported) return {};
    throw err;
  }
  const prefilter = toMatch(info);
  const prefix = prefixOf(info);
  const starts = !analyzer.anchoredAtStart && prefix !== undefined && prefix.size > 0 && [...prefix].every((s) => s.length >= MIN_LITERAL_CHARS) ? [...prefix] : undefined;
  return { ...(prefilter !== undefined ? { prefilter } : {}), ...(starts !== undefined ? { starts } : {}) };
}

/** Whether a character code is an ASCII word character, as RE2's `\b` sees it. */
function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/**
 * Where a search of `text` for a regex whose matches all start with one of its `starts` literals
 * may begin without changing what it finds: at or before the first occurrence of any of them
 * (`first`, a position of `text`; no match starts earlier), moved back over ASCII word characters
 * so that the character before it is not one (a `\b` or `\B` right there then sees what it saw
 * in the whole text: a non-word character, or the text's beginning). The regex must not assert
 * the beginning of the text (analyzeRegex gives `starts` only then). Searching `text.slice(from)`
 * finds the same leftmost match as searching `text`, at `from` less.
 */
export function searchStart(text: string, first: number): number {
  let from = first;
  while (from > 0 && isWordChar(text.charCodeAt(from - 1))) from--;
  return from;
}

/** Every literal of a prefilter, in order. */
export function prefilterLiterals(f: Prefilter): string[] {
  if ('literal' in f) return [f.literal];
  return ('all' in f ? f.all : f.any).flatMap(prefilterLiterals);
}

/** Whether `f` holds when `has(literal)` says which literals a text contains. */
export function prefilterHolds(f: Prefilter, has: (literal: string) => boolean): boolean {
  if ('literal' in f) return has(f.literal);
  if ('all' in f) return f.all.every((g) => prefilterHolds(g, has));
  return f.any.some((g) => prefilterHolds(g, has));
}

// ---------------------------------------------------------------------------------------------
// Finding many literals in one pass

/**
 * A set of literals (lower-case printable ASCII) found in a text in one pass, case-folded (see the
 * module comment): an Aho-Corasick automaton with a dense transition table over the literals'
 * characters, so each character of the text costs one table step whatever the number of literals.
 * Build cost and size are proportional to the literals' total length times their alphabet; past
 * {@link MAX_TABLE_ENTRIES} the set gives up (every literal counts as present, with no known
 * position): the regexes then run on every text, as without prefilters.
 */
export class LiteralSet {
  /** The largest transition table built (4 MB; the built-in classification's is about 93,000 entries). */
  static readonly MAX_TABLE_ENTRIES = 1 << 20;
  /** The literals, by id (their index). */
  readonly literals: readonly string[];
  /**
   * A text's ASCII code → character class, folded (`A` as `a`); 0: in no literal. `ſ` and `K` are
   * looked up as `s` and `k`; any other non-ASCII character is in no literal.
   */
  private readonly classOf = new Uint8Array(128);
  private readonly classes: number;
  /** Per literal id, the number of the last {@link find} that found it (no array allocated per text). */
  private readonly marks: Uint32Array;
  /** Per literal id, where its first occurrence ends in the text of the last {@link find} that found it. */
  private readonly firstEnd: Int32Array;
  private generation = 0;
  /** delta[state * classes + class] → next state. */
  private readonly delta: Int32Array;
  /** Literal ids ending at each state (its own and its suffixes'): outputs[outStart[s]..outStart[s + 1]). */
  private readonly outStart: Int32Array;
  private readonly outputs: Int32Array;
  /** False when the table would have been too large: nothing is searched, everything counts as present. */
  private readonly complete: boolean;

  constructor(literals: readonly string[]) {
    this.literals = [...literals];
    let classes = 1;
    for (const lit of literals) {
      for (let i = 0; i < lit.length; i++) {
        const c = lit.charCodeAt(i);
        if (c < 0x20 || c > 0x7e || (c >= 65 && c <= 90)) throw new Error(`literal ${JSON.stringify(lit)}: expected lower-case printable ASCII`);
        if (this.classOf[c] === 0) this.classOf[c] = classes++;
      }
    }
    this.classes = classes;
    for (let c = 65; c <= 90; c++) this.classOf[c] = this.classOf[c | 32]!;
    this.marks = new Uint32Array(literals.length);
    this.firstEnd = new Int32Array(literals.length);
    // The trie: goto[state] maps a class to a child state.
    const goto: Map<number, number>[] = [new Map()];
    const own: number[][] = [[]];
    literals.forEach((lit, id) => {
      let s = 0;
      for (let i = 0; i < lit.length; i++) {
        const cls = this.classOf[lit.charCodeAt(i)]!;
        let next = goto[s]!.get(cls);
        if (next === undefined) {
          next = goto.length;
          goto.push(new Map());
          own.push([]);
          goto[s]!.set(cls, next);
        }
        s = next;
      }
      own[s]!.push(id);
    });
    const states = goto.length;
    this.complete = states * classes <= LiteralSet.MAX_TABLE_ENTRIES;
    if (!this.complete) {
      this.delta = this.outStart = this.outputs = new Int32Array(0);
      return;
    }
    // Failure links, breadth first; the dense table follows them for missing edges.
    const fail = new Int32Array(states);
    const delta = new Int32Array(states * classes);
    const out: number[][] = own.map((o) => [...o]);
    const queue: number[] = [];
    for (let cls = 0; cls < classes; cls++) {
      const child = goto[0]!.get(cls);
      if (child !== undefined) {
        delta[cls] = child;
        queue.push(child);
      }
    }
    for (let q = 0; q < queue.length; q++) {
      const s = queue[q]!;
      out[s]!.push(...out[fail[s]!]!);
      for (let cls = 0; cls < classes; cls++) {
        const child = goto[s]!.get(cls);
        if (child === undefined) delta[s * classes + cls] = delta[fail[s]! * classes + cls]!;
        else {
          fail[child] = delta[fail[s]! * classes + cls]!;
          delta[s * classes + cls] = child;
          queue.push(child);
        }
      }
    }
    this.delta = delta;
    this.outStart = new Int32Array(states + 1);
    for (let s = 0; s < states; s++) this.outStart[s + 1] = this.outStart[s]! + out[s]!.length;
    this.outputs = new Int32Array(out.flat());
  }

  /**
   * Finds which literals `text` contains; {@link has} answers for it until the next call. One
   * pass over `text`, one table step per character.
   */
  find(text: string): void {
    if (!this.complete) return;
    if (this.generation === 0xffffffff) {
      this.marks.fill(0);
      this.generation = 0;
    }
    const gen = ++this.generation;
    const { classOf, classes, delta, outStart, outputs, marks, firstEnd } = this;
    const classS = classOf[115]!;
    const classK = classOf[107]!;
    let s = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      s = delta[s * classes + (c < 128 ? classOf[c]! : c === 0x17f ? classS : c === 0x212a ? classK : 0)]!;
      for (let k = outStart[s]!, end = outStart[s + 1]!; k < end; k++) {
        const id = outputs[k]!;
        if (marks[id] === gen) continue;
        marks[id] = gen;
        firstEnd[id] = i + 1;
      }
    }
  }

  /** Whether the text of the last {@link find} contains the literal `id`. */
  has(id: number): boolean {
    return !this.complete || this.marks[id] === this.generation;
  }

  /** Where the first occurrence of the literal `id` starts in the text of the last {@link find}, or -1 when it has none. */
  firstAt(id: number): number {
    return this.complete && this.marks[id] === this.generation ? this.firstEnd[id]! - this.literals[id]!.length : -1;
  }
}
