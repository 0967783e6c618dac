/**
 * A kit spec checked before any step runs: every name a step uses (a kind,
 * an id space, a field of the right type, a lock, a work) must be declared,
 * so a typo is one line naming the call, the step and what to write, not a
 * NaN deep in a search.
 */
import { DefinitionError } from '../engine/define.ts';
import { machineEdges } from '../engine/edges.ts';
import type { Action, Call, Step } from './calls.ts';
import { spaceHolds, spaceKinds, type FieldSpec, type KitSpec } from './world.ts';

function known(what: string, name: string, names: readonly string[], where: string): void {
  if (!names.includes(name)) {
    throw new DefinitionError(`${where}: no ${what} '${name}'; declared: ${names.join(', ') || 'none'}`);
  }
}

/** The fields an action may name, by the kind of field it needs. */
function fieldNeeds(a: Action): { field: string; type: FieldSpec['type'] | 'number' } | undefined {
  if (a.op === 'refcount') return { field: a.field, type: 'refcount' };
  if (a.op === 'counter') return { field: a.field, type: 'counter' };
  if (a.op === 'check' || a.op === 'wait') return { field: a.field, type: 'number' };
  if (a.op === 'set_link' || a.op === 'take_link' || a.op === 'get_link' || a.op === 'link_is') return { field: a.field, type: 'pointer' };
  return undefined;
}

function checkStep(spec: KitSpec, c: Call, step: Step): void {
  const where = `call '${c.name}', step '${step.fn}'`;
  const a = step.action;
  const kinds = Object.keys(spec.kinds);
  if (a.op === 'alloc') known('kind', a.kind, kinds, where);
  const branches = a.op === 'xa_find' || ((a.op === 'check' || a.op === 'is_kind' || a.op === 'if_null' || a.op === 'if_set' || a.op === 'link_is') && a.errno === undefined) || (a.op === 'refcount' && a.errno === null);
  if (branches && step.fail === undefined) {
    throw new DefinitionError(`${where}: a ${a.op} without an errno is a branch, and needs a label to go to: give it { fail: 'label' }`);
  }
  if (a.op === 'send') {
    const events = kinds.flatMap((k) => (spec.kinds[k]!.machine ? machineEdges(spec.kinds[k]!.machine!).map((e) => e.event) : []));
    known('event of a kind\'s machine', a.event, [...new Set(events)], where);
  }
  if (a.op === 'use' && a.as !== undefined) known('kind', a.as, kinds, where);
  if (a.op === 'refcount' && a.for !== undefined && a.of !== undefined) throw new DefinitionError(`${where}: the reference is either an entry's ('for') or a local's ('of'), not both`);
  if (a.op === 'is_kind') for (const k of typeof a.kind === 'string' ? [a.kind] : a.kind) known('kind', k, kinds, where);
  if (a.op === 'xa_erase' && (a.id === undefined) === (a.ptr === undefined)) {
    throw new DefinitionError(`${where}: xa_erase needs the id to erase: give it 'id' (a local holding an id) or 'ptr' (the object whose entry goes), not ${a.id === undefined ? 'neither' : 'both'}`);
  }
  if ('space' in a) known('id space', a.space, Object.keys(spec.spaces), where);
  if (a.op === 'xa_load' && a.kind !== undefined) known('kind', a.kind, spaceKinds(spec.spaces[a.space]!), `${where}, among the kinds of '${a.space}'`);
  if (a.op === 'refcount' && a.for !== undefined) {
    known('id space', a.for, Object.keys(spec.spaces), where);
    if (!spaceHolds(spec.spaces[a.for]!).includes(a.field)) {
      throw new DefinitionError(`${where}: the reference is '${a.for}''s, but '${a.for}' holds no '${a.field}'; declare it in the space's holds`);
    }
  }
  const objectLocks = (type: 'mutex' | 'rwsem') => kinds.flatMap((k) => Object.keys(spec.kinds[k]!.fields).filter((f) => spec.kinds[k]!.fields[f]!.type === type));
  if ('lock' in a) known(a.ptr ? 'mutex field' : 'lock', a.lock, a.ptr ? objectLocks('mutex') : (spec.locks ?? []), where);
  if ('sem' in a) known(a.ptr ? 'rwsem field' : 'rw_semaphore', a.sem, a.ptr ? objectLocks('rwsem') : (spec.rwsems ?? []), where);
  if (a.op === 'queue_work') known('work', a.work, Object.keys(spec.works ?? {}), where);
  const needs = fieldNeeds(a);
  if (!needs) return;
  // A field is named without its kind, so any kind that has it will do.
  const types = kinds.flatMap((k) => (spec.kinds[k]!.fields[needs.field] ? [spec.kinds[k]!.fields[needs.field]!.type] : []));
  if (types.length === 0) {
    const all = [...new Set(kinds.flatMap((k) => Object.keys(spec.kinds[k]!.fields)))];
    throw new DefinitionError(`${where}: no kind has a field '${needs.field}'; declared fields: ${all.join(', ') || 'none'}`);
  }
  const fits = needs.type === 'number' ? types.some((t) => t === 'refcount' || t === 'counter') : types.includes(needs.type);
  if (!fits) {
    const want = needs.type === 'number' ? 'counter' : needs.type;
    throw new DefinitionError(`${where}: '${needs.field}' is a ${types[0]}, not a ${want}; declare it { type: '${want}' }`);
  }
}

/**
 * A failure the explorer chooses (a fallible step, a bounded wait's timeout) is offered only for a thread's next
 * step, so inside an atomic block it must be the block's first step.
 */
function checkBlocks(c: Call): void {
  c.items.forEach((item, k) => {
    if (!('fn' in item) || item.atomic === undefined) return;
    const chosen = item.action.op === 'fallible' || (item.action.op === 'wait' && item.action.timeout !== undefined);
    const first = c.items.findIndex((i) => 'fn' in i && i.atomic === item.atomic) === k;
    if (chosen && !first) {
      throw new DefinitionError(`call '${c.name}', step '${item.fn}': the explorer can make it fail only as the first step of its atomic block '${item.atomic.fn}'; start a block with it, or take it out`);
    }
  });
}

/** Checks every call and work of `spec`, and what the spec itself refers to. */
export function checkSpec(spec: KitSpec): void {
  for (const [kind, k] of Object.entries(spec.kinds)) {
    for (const [name, f] of Object.entries(k.fields)) {
      // A counter holds references on a refcount of its own object (`attached` on `ref`).
      if (f.type === 'counter' && f.holds !== undefined && k.fields[f.holds]?.type !== 'refcount') {
        throw new DefinitionError(`field '${kind}.${name}' holds '${f.holds}', which is not a refcount of kind '${kind}'; declare it { type: 'refcount' }`);
      }
      if (f.type !== 'pointer') continue;
      const where = `field '${kind}.${name}'`;
      for (const target of typeof f.kind === 'string' ? [f.kind] : f.kind) {
        known('kind', target, Object.keys(spec.kinds), where);
        if (f.holds && spec.kinds[target]!.fields[f.holds]?.type !== 'refcount') {
          throw new DefinitionError(`${where} holds '${f.holds}', which is not a refcount of kind '${target}'`);
        }
      }
    }
  }
  for (const [name, s] of Object.entries(spec.spaces)) {
    for (const kind of spaceKinds(s)) {
      known('kind', kind, Object.keys(spec.kinds), `id space '${name}'`);
      for (const field of spaceHolds(s)) {
        if (spec.kinds[kind]!.fields[field]?.type !== 'refcount') {
          throw new DefinitionError(`id space '${name}' holds '${field}', which is not a refcount of kind '${kind}'`);
        }
      }
    }
    if (s.lock) known('lock or rw_semaphore', s.lock, [...(spec.locks ?? []), ...(spec.rwsems ?? [])], `id space '${name}'`);
  }
  for (const c of [...Object.values(spec.calls), ...Object.values(spec.works ?? {}), ...(spec.exit ? [spec.exit] : []), ...(spec.setup ? [spec.setup] : [])]) {
    for (const item of c.items) if ('fn' in item) checkStep(spec, c, item);
    for (const [local, space] of Object.entries(c.args)) known('id space', space, Object.keys(spec.spaces), `call '${c.name}', argument '${local}'`);
    for (const item of c.items) {
      if ('ret' in item && typeof item.ret === 'object') known('id space', item.ret.space, Object.keys(spec.spaces), `call '${c.name}', retId('${item.ret.id}')`);
    }
    checkBlocks(c);
  }
  for (const at of Object.values(spec.current?.(0, 1) ?? {})) if (at) known('id space', at.space, Object.keys(spec.spaces), 'current');
  for (const name of (spec.roles ?? []).flat()) known('call', name, Object.keys(spec.calls), 'roles');
}
