/**
 * The id spaces' primitives (xarray, IDA): allocation (lowest free or
 * cyclic, a reservation), store, load, erase and the walk of `xa_for_each`,
 * with the references a space's entries hold handed to and from the thread.
 */
import { DefinitionError } from '../engine/define.ts';
import type { Action, LocalName, Step } from './calls.ts';
import { NEXT, type Ctx, type Done } from './context.ts';
import { derefWarnings, failed, oops, otherwise, pointer } from './deref.ts';
import { entryHolds, entryOf, objName, refsOn, sameObject, sortedRecord, spaceHolds, spaceIds, type Ptr, type Slot, type SpaceSpec } from './world.ts';

export function spaceOf(ctx: Ctx, name: string): SpaceSpec {
  const s = ctx.spec.spaces[name];
  if (!s) throw new DefinitionError(`no id space '${name}'; known: ${Object.keys(ctx.spec.spaces).join(', ')}`);
  return s;
}

export function xaAlloc(ctx: Ctx, step: Step, name: string, local: LocalName | undefined, into: LocalName, limit?: { min: number; max: number }): Done {
  spaceOf(ctx, name);
  const p = local === undefined ? undefined : pointer(ctx, local, step);
  if (p === null) return oops(ctx, step, local!);
  const count = ctx.entryCount(name);
  const from = spaceOf(ctx, name).alloc === 'cyclic' ? ctx.cursor(name) : 0;
  const within = (k: number) => !limit || (ctx.idBase(name) + k >= limit.min && ctx.idBase(name) + k <= limit.max);
  // The first free id from where the search starts, round the space: the entries after it are not read.
  let k: number | undefined;
  for (let i = 0; i < count && k === undefined; i++) {
    const at = (from + i) % count;
    if (within(at) && ctx.entryFree(name, at)) k = at;
  }
  if (k === undefined) return failed('-EBUSY');
  const warnings = p ? derefWarnings(ctx, local!, p, step.fn) : [];
  const id = ctx.idBase(name) + k;
  // Only a cyclic space remembers where it got to: a lowest-free one would make equal worlds differ.
  if (spaceOf(ctx, name).alloc === 'cyclic') ctx.setCursor(name, (k + 1) % count);
  setEntry(ctx, name, id, p ? { kind: p.kind, slot: p.slot, gen: p.gen } : 'reserved');
  ctx.setLocal(into, id);
  ctx.effect(`${name}[${id}]`, 1);
  if (p) takeOver(ctx, name, local!, p);
  return { text: String(id), flow: NEXT, warnings };
}

export function setEntry(ctx: Ctx, name: string, id: number, slot: Slot): void {
  const k = id - ctx.idBase(name);
  if (k < 0 || k >= ctx.entryCount(name)) {
    const { min, max } = spaceIds(ctx.spec, name, ctx.bounds);
    throw new DefinitionError(`call '${ctx.th.call}' stores id ${id} into id space '${name}', whose ids are ${min}..${max}; take the id from that space (xa_alloc, an argument of it)`);
  }
  ctx.setEntry(name, k, slot);
}

/** The table takes over the creator's references it holds on: the creator's pointer keeps what else it has. */
function takeOver(ctx: Ctx, name: string, local: LocalName, p: Ptr): void {
  for (const field of spaceHolds(spaceOf(ctx, name))) {
    if (refsOn(p, field) > 0) ctx.loseRef(local, field, `ended:its reference went to ${name}`);
  }
}

export function xaStore(ctx: Ctx, step: Step, name: string, idLocal: LocalName, local: LocalName): Done {
  spaceOf(ctx, name);
  const id = ctx.local(idLocal);
  if (typeof id !== 'number') throw new DefinitionError(`call '${ctx.th.call}', step '${step.fn}': '${idLocal}' is not an id`);
  const p = pointer(ctx, local, step);
  if (p === null) return oops(ctx, step, local);
  const warnings = derefWarnings(ctx, local, p, step.fn);
  const was = ctx.entry(name, id - ctx.idBase(name));
  // Over another object's entry, xa_store replaces it: the references that entry held are held by nobody now.
  const old = entryOf(was);
  if (old) warnings.push(`xa_store over an entry: ${ctx.who} ${step.fn}: ${name} ${id} held ${objName(old.kind, old.slot, old.gen)}, now lost to it`);
  // Into a free id the entry is new; into a reserved one, the id was this call's already.
  if (was === null) ctx.effect(`${name}[${id}]`, 1);
  setEntry(ctx, name, id, { kind: p.kind, slot: p.slot, gen: p.gen });
  takeOver(ctx, name, local, p);
  return { text: 'stored', flow: NEXT, warnings };
}

/** `xa_insert(&space, id, p)`: the entry at that id, unless it is taken (`-EBUSY`) or outside the space (`-EINVAL`). */
export function xaInsert(ctx: Ctx, step: Step, name: string, idLocal: LocalName, local: LocalName): Done {
  const id = ctx.local(idLocal);
  if (typeof id !== 'number') throw new DefinitionError(`call '${ctx.th.call}', step '${step.fn}': '${idLocal}' is not an id`);
  const at = ctx.entry(name, id - ctx.idBase(name));
  if (at === undefined) return failed('-EINVAL');
  if (at !== null) return failed('-EBUSY');
  return xaStore(ctx, step, name, idLocal, local);
}

/** `xa_init(&space)`: an empty XArray; the entries it had are forgotten, with the references they held. */
export function xaInit(ctx: Ctx, name: string): Done {
  spaceOf(ctx, name);
  // What it held is not read: every entry goes.
  for (let k = 0; k < ctx.entryCount(name); k++) ctx.setEntry(name, k, null);
  return { text: 'ok', flow: NEXT };
}

/** `xa_load(&space, p->id) == p`: reads `p->id`, then the entry if it is still `p`'s. */
export function xaLoadOf(ctx: Ctx, step: Step, a: Extract<Action, { op: 'xa_load_of' }>): Done {
  spaceOf(ctx, a.space);
  const p = pointer(ctx, a.ptr, step);
  if (p === null) return oops(ctx, step, a.ptr);
  const warnings = derefWarnings(ctx, a.ptr, p, step.fn);
  const k = ctx.entryIndex(a.space, p);
  ctx.setLocal(a.into, k < 0 ? null : { kind: p.kind, slot: p.slot, gen: p.gen, prot: foundProtection(ctx, spaceOf(ctx, a.space)) });
  return { text: k < 0 ? 'NULL' : objName(p.kind, p.slot, p.gen), flow: NEXT, warnings };
}

/** What protects a pointer a thread finds in a space now: the space's lock, an RCU section, nothing; at exit, with nothing else running, the exiting thread owns it. */
function foundProtection(ctx: Ctx, space: SpaceSpec): string {
  if (ctx.th.call === ctx.spec.exit?.name && ctx.exited) return 'own';
  return space.lock && ctx.th.locks.includes(space.lock) ? `lock:${space.lock}` : ctx.th.rcu > 0 ? 'rcu' : 'none';
}

/** `xa_find` / `xa_find_after`: the next entry (a reservation is skipped, as `xa_for_each` skips it), or a branch when none is left. */
export function xaFind(ctx: Ctx, step: Step, a: Extract<Action, { op: 'xa_find' }>): Done {
  const space = spaceOf(ctx, a.space);
  const at = ctx.local(a.id);
  if (a.after && typeof at !== 'number') throw new DefinitionError(`call '${ctx.th.call}', step '${step.fn}': '${a.id}' holds no id to find after; an xa_find from the first id sets it`);
  const from = a.after ? (at as number) - ctx.idBase(a.space) + 1 : 0;
  const k = ctx.findEntry(a.space, (e) => entryOf(e) !== undefined, from);
  if (k < 0) {
    ctx.setLocal(a.into, null);
    return { text: 'NULL', flow: otherwise(step, undefined) };
  }
  const e = entryOf(ctx.entry(a.space, k))!;
  ctx.setLocal(a.id, ctx.idBase(a.space) + k);
  ctx.setLocal(a.into, { kind: e.kind, slot: e.slot, gen: e.gen, prot: foundProtection(ctx, space) });
  return { text: objName(e.kind, e.slot, e.gen), flow: NEXT };
}

/** The id an `xa_load`/`xa_erase` acts on: its `id` local's, or (erase by object) the id of the entry `ptr`'s object has. */
function idOf(ctx: Ctx, step: Step, a: Extract<Action, { op: 'xa_load' | 'xa_erase' }>): number | undefined {
  if (a.id !== undefined) {
    const id = ctx.local(a.id);
    if (typeof id !== 'number') throw new DefinitionError(`call '${ctx.th.call}', step '${step.fn}': '${a.id}' is not an id`);
    return id;
  }
  const p = pointer(ctx, (a as { ptr: LocalName }).ptr, step);
  const k = p === null ? -1 : ctx.entryIndex(a.space, p);
  return k < 0 ? undefined : ctx.idBase(a.space) + k;
}

export function xaLookup(ctx: Ctx, step: Step, a: Extract<Action, { op: 'xa_load' | 'xa_erase' }>): Done {
  const { op, space: name } = a;
  const space = spaceOf(ctx, name);
  // Where the pointer goes: `into`, or (erase by object) the local that names it.
  const byObject = op === 'xa_erase' ? a.ptr : undefined;
  const into = a.into ?? byObject;
  const id = idOf(ctx, step, a);
  const k = id === undefined ? -1 : id - ctx.idBase(name);
  const slot = ctx.entry(name, k) ?? null;
  const found = entryOf(slot);
  // A lookup for one kind in a table of several: another kind's entry is no match.
  const entry = a.op === 'xa_load' && a.kind !== undefined && found?.kind !== a.kind ? undefined : found;
  if (!entry) {
    // A reserved id looks empty to lookups; erasing it gives the id back.
    if (op === 'xa_erase' && slot === 'reserved') {
      setEntry(ctx, name, id!, null);
      ctx.effect(`${name}[${id}]`, -1);
    }
    // Nothing found: the local it was to go into is NULL (an erase by object leaves its own pointer as it is).
    if (a.into !== undefined) ctx.setLocal(a.into, null);
    return { text: 'NULL', flow: NEXT };
  }
  let prot = foundProtection(ctx, space);
  // An erased entry's references (those not dropped on its behalf already) are now the eraser's to drop.
  const given = op === 'xa_erase' ? entryHolds(space, entry) : [];
  if (op === 'xa_erase') {
    if (a.at !== undefined) ctx.setLocal(a.at, id!);
    setEntry(ctx, name, id!, null);
    ctx.effect(`${name}[${id}]`, -1);
    // An id the thread erased is one it no longer holds: an object given that id later is no stale id to it.
    const handles = ctx.handlesOf(ctx.t);
    if (handles?.[`${name}:${id}`] !== undefined) {
      const { [`${name}:${id}`]: _, ...kept } = handles;
      ctx.setHandles(ctx.t, kept);
    }
  }
  // A local that already points to the object keeps what it held: its references, and ownership.
  const was = into === undefined ? null : ctx.local(into);
  const same = was !== null && typeof was === 'object' && sameObject(was, entry) ? was : undefined;
  // Ownership, or the task's own object (`current`'s), is not lost by looking it up again; erasing the entry of the
  // object a local points to leaves that local's protection as it was.
  if (same && (same.prot === 'own' || same.prot === 'current' || byObject !== undefined)) prot = same.prot;
  const counts: Record<string, number> = { ...same?.refs };
  for (const f of given) counts[f] = (counts[f] ?? 0) + 1;
  const refs = Object.keys(counts).length ? { refs: sortedRecord(counts) } : {};
  if (into !== undefined) ctx.setLocal(into, { kind: entry.kind, slot: entry.slot, gen: entry.gen, prot, ...refs });
  const o = ctx.obj(entry);
  return { text: `${objName(entry.kind, entry.slot, o.gen)}`, flow: NEXT };
}
