/**
 * A strict reader of the Informal Trace Format (Apalache ADR-015), written
 * from the spec as typed readers read it: `vars` names every variable, every
 * state holds exactly those (and `#meta`), every value is one the spec
 * defines (booleans, strings, `#bigint`, lists, `#tup`, `#set`, `#map`,
 * records, variants `{ tag, value }`; no `#unserializable`), and each
 * variable has one type in every state. A container seen empty fits any
 * element type; a variant's cases add up, each tag keeping one type.
 */

type Type =
  | { k: 'bool' | 'str' | 'int' }
  | { k: 'list' | 'set'; of?: Type }
  | { k: 'map'; key?: Type; of?: Type }
  | { k: 'tup'; of: Type[] }
  | { k: 'rec'; fields: Map<string, Type> }
  | { k: 'variant'; cases: Map<string, Type> };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The type of an ITF value; throws, naming where, at anything the spec does not define. */
function typeOf(v: unknown, at: string): Type {
  if (typeof v === 'boolean') return { k: 'bool' };
  if (typeof v === 'string') return { k: 'str' };
  if (typeof v === 'number') throw new Error(`${at}: a bare number (${v}); ITF integers are {"#bigint": "..."}`);
  if (Array.isArray(v)) return { k: 'list', ...all(v.map((x, i) => typeOf(x, `${at}[${i}]`)), at) };
  if (!isObject(v)) throw new Error(`${at}: ${v === null ? 'null' : typeof v} is no ITF value`);
  const keys = Object.keys(v);
  if (keys.includes('#unserializable')) throw new Error(`${at}: #unserializable (${JSON.stringify(v['#unserializable'])})`);
  if (keys.length === 1 && keys[0] === '#bigint') {
    if (typeof v['#bigint'] !== 'string' || !/^-?\d+$/.test(v['#bigint'])) throw new Error(`${at}: #bigint ${JSON.stringify(v['#bigint'])} is not a decimal string`);
    return { k: 'int' };
  }
  if (keys.length === 1 && keys[0] === '#tup') return { k: 'tup', of: list(v['#tup'], at).map((x, i) => typeOf(x, `${at}.#tup[${i}]`)) };
  if (keys.length === 1 && keys[0] === '#set') return { k: 'set', ...all(list(v['#set'], at).map((x, i) => typeOf(x, `${at}.#set[${i}]`)), at) };
  if (keys.length === 1 && keys[0] === '#map') {
    const pairs = list(v['#map'], at).map((p, i) => {
      if (!Array.isArray(p) || p.length !== 2) throw new Error(`${at}.#map[${i}]: not a [key, value] pair`);
      return [typeOf(p[0], `${at}.#map[${i}][0]`), typeOf(p[1], `${at}.#map[${i}][1]`)] as const;
    });
    const keysType = all(pairs.map(([kt]) => kt), at).of;
    const valuesType = all(pairs.map(([, vt]) => vt), at).of;
    return { k: 'map', ...(keysType ? { key: keysType } : {}), ...(valuesType ? { of: valuesType } : {}) };
  }
  if (keys.length === 2 && keys.includes('tag') && keys.includes('value') && typeof v['tag'] === 'string') {
    return { k: 'variant', cases: new Map([[v['tag'], typeOf(v['value'], `${at}.value`)]]) };
  }
  const hashed = keys.find((k) => k.startsWith('#'));
  if (hashed) throw new Error(`${at}: ${hashed} is no ITF tag`);
  return { k: 'rec', fields: new Map(keys.map((k) => [k, typeOf(v[k], `${at}.${k}`)])) };
}

function list(x: unknown, at: string): unknown[] {
  if (!Array.isArray(x)) throw new Error(`${at}: a tagged value whose content is not a list`);
  return x;
}

const all = (types: readonly Type[], at: string): { of?: Type } => (types.length === 0 ? {} : { of: types.reduce((a, b) => unify(a, b, at)) });

const show = (t: Type | undefined): string => JSON.stringify(t, (_, x) => (x instanceof Map ? Object.fromEntries(x) : x));

/** The type both fit, or an error naming where they differ. */
function unify(a: Type, b: Type, at: string): Type {
  const differ = (): never => {
    throw new Error(`${at}: ${show(a)} in one place, ${show(b)} in another`);
  };
  if (a.k !== b.k) return differ();
  switch (a.k) {
    case 'list':
    case 'set': {
      const o = (b as typeof a).of;
      return { k: a.k, ...(a.of && o ? { of: unify(a.of, o, at) } : a.of ? { of: a.of } : o ? { of: o } : {}) };
    }
    case 'map': {
      const m = b as typeof a;
      const key = a.key && m.key ? unify(a.key, m.key, at) : (a.key ?? m.key);
      const of = a.of && m.of ? unify(a.of, m.of, at) : (a.of ?? m.of);
      return { k: 'map', ...(key ? { key } : {}), ...(of ? { of } : {}) };
    }
    case 'tup': {
      const t = b as typeof a;
      if (a.of.length !== t.of.length) return differ();
      return { k: 'tup', of: a.of.map((x, i) => unify(x, t.of[i]!, at)) };
    }
    case 'rec': {
      const r = b as typeof a;
      if ([...a.fields.keys()].join() !== [...r.fields.keys()].join()) return differ();
      return { k: 'rec', fields: new Map([...a.fields].map(([f, t]) => [f, unify(t, r.fields.get(f)!, `${at}.${f}`)])) };
    }
    case 'variant': {
      const cases = new Map(a.cases);
      for (const [tag, t] of (b as typeof a).cases) cases.set(tag, cases.has(tag) ? unify(cases.get(tag)!, t, `${at}<${tag}>`) : t);
      return { k: 'variant', cases };
    }
    default:
      return a;
  }
}

/** Reads an ITF document strictly; throws at the first thing a typed reader would refuse. */
export function readItfStrictly(doc: unknown): { vars: string[]; types: Map<string, Type>; states: number } {
  if (!isObject(doc)) throw new Error('the document is not an object');
  const { vars, states } = doc;
  if (!Array.isArray(vars) || !vars.every((v) => typeof v === 'string')) throw new Error('vars is not a list of names');
  if (!Array.isArray(states) || states.length === 0) throw new Error('states is not a non-empty list');
  const types = new Map<string, Type>();
  states.forEach((s, i) => {
    if (!isObject(s)) throw new Error(`states[${i}] is not an object`);
    const keys = Object.keys(s).filter((k) => k !== '#meta');
    if ([...keys].sort().join() !== [...vars].sort().join()) throw new Error(`states[${i}] holds ${keys.join(', ')}, not the vars ${vars.join(', ')}`);
    for (const v of vars) {
      const t = typeOf(s[v], `states[${i}].${v}`);
      types.set(v, types.has(v) ? unify(types.get(v)!, t, `var ${v} (states[${i}])`) : t);
    }
  });
  return { vars, types, states: states.length };
}
