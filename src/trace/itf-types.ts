/**
 * ITF values with one type per variable (Apalache ADR-015, as typed readers
 * such as Quint's and itf-py's read them). A trace's worlds are plain data
 * whose shape can change from state to state (a pointer that is NULL, then
 * set; a call's locals, present only while it runs), so each variable's type
 * is first inferred over every state, then each value written as that type:
 *
 * - integers as `#bigint`, strings and booleans as they are;
 * - arrays as lists; objects keyed by integers (id tables) as `#map`;
 * - objects whose keys are names (`found`, `users`) as records, a field
 *   absent in some states an option; objects keyed by other text
 *   (`buf 1.ref`, `pasid_mutex`, `ioasid_xa:1`) as `#map`;
 * - a value of several kinds as a variant `{ tag, value }`: `Some`/`None`
 *   for a value or NULL (Quint's option), else a tag per kind (`Int`,
 *   `Str`, `Rec`, ...), `None` for NULL;
 * - an xstate snapshot (`{ value, context }`) as a record of its state and
 *   its context's fields, not xstate's internals.
 *
 * `varTypes` spells each variable's type as Apalache does (`Int`, `Str`,
 * `Seq(Int)`, `{ gen: Int }`, `Str -> Int`, `Some(Int) | None(UNIT)`).
 */

/** A value as ITF holds it: tagged big integers, tuples, sets, maps, variants, and what ITF cannot hold. */
export type ItfValue =
  | boolean
  | string
  | number
  | readonly ItfValue[]
  | { readonly '#bigint': string }
  | { readonly '#tup': readonly ItfValue[] }
  | { readonly '#set': readonly ItfValue[] }
  | { readonly '#map': readonly (readonly [ItfValue, ItfValue])[] }
  | { readonly '#unserializable': string }
  | { readonly tag: string; readonly value: ItfValue }
  | { readonly [field: string]: ItfValue };


export type ItfType =
  | { readonly k: 'int' | 'str' | 'bool' | 'none' | 'unserializable' }
  | { readonly k: 'list'; readonly of?: ItfType }
  | { readonly k: 'rec'; readonly fields: ReadonlyMap<string, ItfType> }
  | { readonly k: 'map'; readonly key: 'int' | 'str'; readonly of?: ItfType }
  | { readonly k: 'union'; readonly cases: ReadonlyMap<string, ItfType> };

const FIELD = /^[A-Za-z_][A-Za-z0-9_]*$/;
const INTEGER_KEY = /^(0|-?[1-9]\d*)$/;
const UNIT: ItfValue = { '#tup': [] };

/** An xstate snapshot as a record: its state and its context's fields. */
function unwrapped(x: unknown): unknown {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return x;
  const keys = Object.keys(x);
  const { value, context } = x as { value?: unknown; context?: unknown };
  if (keys.length === 2 && 'value' in x && 'context' in x && typeof context === 'object' && context !== null && !Array.isArray(context)) {
    return { state: value, ...context };
  }
  return x;
}

/** The entries of an object that are there (an `undefined` field is absent). */
const present = (x: object) => Object.entries(x).filter(([, v]) => v !== undefined);

/** The type of one value. */
export function typeOf(raw: unknown): ItfType {
  const x = unwrapped(raw);
  // ITF has no fractions: one is written as its text.
  if (typeof x === 'number') return Number.isInteger(x) ? { k: 'int' } : { k: 'str' };
  if (typeof x === 'bigint') return { k: 'int' };
  if (typeof x === 'string') return { k: 'str' };
  if (typeof x === 'boolean') return { k: 'bool' };
  if (x === null || x === undefined) return { k: 'none' };
  if (Array.isArray(x)) return { k: 'list', ...ofAll(x.map(typeOf)) };
  if (typeof x !== 'object') return { k: 'unserializable' };
  const entries = present(x);
  if (entries.length > 0 && entries.every(([k]) => INTEGER_KEY.test(k))) return { k: 'map', key: 'int', ...ofAll(entries.map(([, v]) => typeOf(v))) };
  if (entries.length > 0 && entries.every(([k]) => FIELD.test(k))) return { k: 'rec', fields: new Map(entries.map(([k, v]) => [k, typeOf(v)])) };
  // An empty object is an empty table; keys that are not names make a table too.
  return { k: 'map', key: 'str', ...ofAll(entries.map(([, v]) => typeOf(v))) };
}

const ofAll = (types: readonly ItfType[]): { of?: ItfType } => (types.length === 0 ? {} : { of: types.reduce(unify) });

const unifyOf = (a?: ItfType, b?: ItfType): { of?: ItfType } => (a && b ? { of: unify(a, b) } : a ? { of: a } : b ? { of: b } : {});

/** The tag a kind has among a variant's cases. */
const TAGS = { int: 'Int', str: 'Str', bool: 'Bool', none: 'None', unserializable: 'Unserializable', list: 'List', rec: 'Rec', map: 'Map' } as const;

const casesOf = (t: ItfType): Map<string, ItfType> => (t.k === 'union' ? new Map(t.cases) : new Map([[TAGS[t.k], t]]));

/** The one type both values fit: the same kind merged, else a variant of both. */
export function unify(a: ItfType, b: ItfType): ItfType {
  if (a.k === b.k) {
    switch (a.k) {
      case 'list':
        return { k: 'list', ...unifyOf(a.of, (b as typeof a).of) };
      case 'map': {
        const m = b as typeof a;
        if (a.key === m.key) return { k: 'map', key: a.key, ...unifyOf(a.of, m.of) };
        // An empty table keyed by text meets one keyed by integers: it is that one.
        if (a.of === undefined) return m;
        if (m.of === undefined) return a;
        // Keyed by integers here and by text there: a table keyed by text (its integer keys written as text).
        return { k: 'map', key: 'str', ...unifyOf(a.of, m.of) };
      }
      case 'rec': {
        const r = b as typeof a;
        const fields = new Map<string, ItfType>();
        for (const k of new Set([...a.fields.keys(), ...r.fields.keys()])) {
          // A field absent on one side is an option.
          fields.set(k, unify(a.fields.get(k) ?? { k: 'none' }, r.fields.get(k) ?? { k: 'none' }));
        }
        return { k: 'rec', fields };
      }
      case 'union':
        break;
      default:
        return a;
    }
  }
  // An empty table is a record with no fields yet.
  if (a.k === 'map' && a.of === undefined && b.k === 'rec') return unify({ k: 'rec', fields: new Map() }, b);
  if (b.k === 'map' && b.of === undefined && a.k === 'rec') return unify(a, { k: 'rec', fields: new Map() });
  const cases = casesOf(a);
  for (const [tag, t] of casesOf(b)) cases.set(tag, cases.has(tag) ? unify(cases.get(tag)!, t) : t);
  return { k: 'union', cases };
}

/** A union of NULL and one other kind: Quint's option. */
const optionOf = (t: ItfType): ItfType | undefined =>
  t.k === 'union' && t.cases.size === 2 && t.cases.has('None') ? [...t.cases].find(([tag]) => tag !== 'None')![1] : undefined;

/** `value` written as type `t`. */
export function encode(raw: unknown, t: ItfType): ItfValue {
  const x = unwrapped(raw);
  switch (t.k) {
    case 'int':
      return { '#bigint': String(typeof x === 'bigint' ? x : BigInt(x as number)) };
    case 'str':
      return typeof x === 'number' ? String(x) : (x as string);
    case 'bool':
      return x as boolean;
    case 'none':
      // NULL wherever the var is seen: an option whose other case the trace never shows.
      return { tag: 'None', value: UNIT };
    case 'unserializable':
      return { '#unserializable': String(x) };
    case 'list':
      return (x as unknown[]).map((e) => encode(e, t.of!));
    case 'map':
      return { '#map': present(x as object).map(([k, v]) => [t.key === 'int' ? { '#bigint': k } : k, encode(v, t.of!)] as const) };
    case 'rec': {
      const o = x as Record<string, unknown>;
      return Object.fromEntries([...t.fields].map(([f, ft]) => [f, encode(o[f] ?? null, ft)]));
    }
    case 'union': {
      const kind = TAGS[typeOf(x).k as Exclude<ItfType['k'], 'union'>];
      // An empty object is the table or the record the variant has.
      const tag = t.cases.has(kind) ? kind : kind === 'Map' && t.cases.has('Rec') ? 'Rec' : kind;
      const some = optionOf(t);
      if (some) return tag === 'None' ? { tag: 'None', value: UNIT } : { tag: 'Some', value: encode(x, some) };
      return { tag, value: tag === 'None' ? UNIT : encode(x, t.cases.get(tag)!) };
    }
  }
}

/** A type as Apalache spells it (`varTypes`). */
export function typeName(t: ItfType | undefined): string {
  if (!t) return 'UNIT';
  switch (t.k) {
    case 'int':
      return 'Int';
    case 'str':
      return 'Str';
    case 'bool':
      return 'Bool';
    case 'none':
      return 'None(UNIT)';
    case 'unserializable':
      return 'Str';
    case 'list':
      return `Seq(${typeName(t.of)})`;
    case 'map':
      return `${t.key === 'int' ? 'Int' : 'Str'} -> ${typeName(t.of)}`;
    case 'rec':
      return `{ ${[...t.fields].map(([f, ft]) => `${f}: ${typeName(ft)}`).join(', ')} }`;
    case 'union': {
      const some = optionOf(t);
      if (some) return `Some(${typeName(some)}) | None(UNIT)`;
      return [...t.cases].map(([tag, ct]) => `${tag}(${tag === 'None' ? 'UNIT' : typeName(ct)})`).join(' | ');
    }
  }
}
