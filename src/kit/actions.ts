/**
 * The kit's primitives: what each action does to the world, with the
 * kernel's checks on every dereference (KASAN's use-after-free, a NULL
 * oops, the pointer's protection) and each primitive's own findings.
 */
import { DefinitionError } from '../engine/define.ts';
import type { Action, LocalName, Step } from './calls.ts';
import { Ctx, NEXT, type Done, type Flow } from './context.ts';
import { REFCOUNT_EVENTS, refcountTable } from './refcount.ts';
import { actor, blank, counted, entryHolds, sortedRecord, entryOf, initialCounts, resolveLock, spaceHolds, objName, ptrName, refsOn, writable, type Entry, type FieldSpec, type KitWorld, type Obj, type Ptr, type Rwsem, type Slot, type SpaceSpec } from './world.ts';

/** A failed step: the errno it returns, down the step's unwind path. */
export const failed = (world: KitWorld, errno: string): Done => ({ world, text: errno, flow: { to: 'fail', errno } });

/** A pointer local that is set; a definition error when the model names an unset or non-pointer local. */
function pointer(ctx: Ctx, name: LocalName, step: Step): Ptr | null {
  const v = ctx.local(name);
  if (v === null || typeof v === 'object') return v;
  throw new DefinitionError(`call '${ctx.th.call}', step '${step.fn}': '${name}' holds an id, not a pointer`);
}

/** What KASAN and the kit see when `p` is dereferenced: a report when the memory is freed or reused, or the pointer unprotected. */
function derefWarnings(ctx: Ctx, local: LocalName, p: Ptr, fn: string): string[] {
  const o = ctx.obj(p);
  const who = `${ctx.who} ${fn}: ${ptrName(local, p)}`;
  if (o.gen !== p.gen || o.state === 'free') {
    const reused = o.gen !== p.gen && o.state !== 'free' ? ', and its memory is reused' : '';
    return [`BUG: KASAN: slab-use-after-free: ${who} after kfree${reused}`];
  }
  if (o.state === 'rcu' && !(p.prot === 'rcu' && o.readers.includes(ctx.t))) {
    return [`BUG: KASAN: slab-use-after-free: ${who} after kfree_rcu, outside the RCU section that could keep it`];
  }
  if (counted(p)) return [];
  if (p.prot === 'none') return [`lifecheck: ${who} with nothing keeping it alive (no reference, no RCU section, no lock)`];
  if (p.prot.startsWith('borrow:')) return borrowed(ctx, p, who);
  if (p.prot.startsWith('ended:')) return [`lifecheck: ${who} after ${p.prot.slice('ended:'.length)}`];
  return [];
}


/**
 * A step dereferencing `local`: the pointer and what KASAN and the kit say
 * of it, or the step's end when it is NULL (an oops) or its memory is freed
 * (the access is reported, and nothing the model tracks changes).
 */
function deref(ctx: Ctx, step: Step, local: LocalName): { p: Ptr; warnings: string[] } | { done: Done } {
  const p = pointer(ctx, local, step);
  if (p === null) return { done: oops(ctx, step, local) };
  const warnings = derefWarnings(ctx, local, p, step.fn);
  if (!alive(ctx, p)) return { done: { world: ctx.world, text: 'UAF', flow: NEXT, warnings } };
  return { p, warnings };
}

/** A borrowed pointer (`q = p->field`) is safe while the thread's `p` is, and `p->field` still points to it. */
function borrowed(ctx: Ctx, q: Ptr, who: string): string[] {
  const [holderLocal, field] = q.prot.slice('borrow:'.length).split('->') as [string, string];
  const holder = ctx.local(holderLocal);
  const via = `${holderLocal}->${field}`;
  if (holder === null || typeof holder !== 'object') return [`lifecheck: ${who} after ${holderLocal} was cleared, which kept it through ${via}`];
  const o = ctx.obj(holder);
  if (o.gen !== holder.gen || o.state === 'free' || (!counted(holder) && (holder.prot === 'none' || holder.prot.startsWith('ended:')))) {
    return [`lifecheck: ${who} borrowed through ${via}, after ${holderLocal} itself lost its protection`];
  }
  const e = o.links[field];
  if (!e || e.kind !== q.kind || e.slot !== q.slot || e.gen !== q.gen) return [`lifecheck: ${who} borrowed through ${via}, which no longer holds it`];
  return [];
}

/** A NULL dereference: the kernel oopses and the call never returns to its caller's code. */
function oops(ctx: Ctx, step: Step, local: LocalName): Done {
  const warnings = [`BUG: kernel NULL pointer dereference: ${ctx.who} ${step.fn}: ${local} is NULL`];
  return { world: ctx.world, text: 'Oops', flow: { to: 'oops' }, warnings };
}

/** Whether `p` still points at the object it was made for. */
const alive = (ctx: Ctx, p: Ptr) => {
  const o = ctx.obj(p);
  return o.gen === p.gen && o.state !== 'free';
};

export function perform(ctx: Ctx, step: Step): Done {
  const a = resolveLock(ctx.world, ctx.t, step.action);
  const local = 'ptr' in a && a.ptr !== undefined && ('lock' in a || 'sem' in a) ? a.ptr : undefined;
  if (local === undefined) return act(ctx, step, a);
  // An object's lock is in the object: taking it dereferences the pointer, and holding it keeps the object alive.
  const d = deref(ctx, step, local);
  if ('done' in d) return d.done;
  const { warnings } = d;
  const done = act(ctx, step, a);
  const name = 'lock' in a ? a.lock : (a as Extract<Action, { sem: string }>).sem;
  const now = ctx.local(local);
  const held = ctx.th.locks.includes(name);
  // The object's lock protects a pointer that had nothing else (it adds nothing to a reference, an RCU section or another lock).
  const bare = now !== null && typeof now === 'object' && !counted(now) && (now.prot === 'none' || now.prot.startsWith('ended:'));
  if (held && bare) ctx.setLocal(local, { ...now, prot: `lock:${name}` });
  return { ...done, world: ctx.world, warnings: [...warnings, ...(done.warnings ?? [])] };
}

function act(ctx: Ctx, step: Step, a: Action): Done {
  switch (a.op) {
    case 'alloc':
      return alloc(ctx, a.kind, a.into);
    case 'xa_alloc':
      return xaAlloc(ctx, step, a.space, a.ptr, a.into);
    case 'xa_store':
      return xaStore(ctx, step, a.space, a.id, a.ptr);
    case 'xa_load':
    case 'xa_erase':
      return xaLookup(ctx, step, a);
    case 'refcount':
      return refcount(ctx, step, a);
    case 'put_links':
      return putLinks(ctx, step, a.ptr);
    case 'warn':
      if (a.ptr !== undefined && ctx.local(a.ptr) === null) return { world: ctx.world, text: 'ok', flow: NEXT };
      return { world: ctx.world, text: 'WARN', flow: NEXT, warnings: [`WARNING: at ${ctx.th.call} (${ctx.who}): ${step.fn}`] };
    case 'is_kind':
      return isKind(ctx, step, a);
    case 'error':
      return failed(ctx.world, a.errno);
    case 'counter':
    case 'check':
    case 'use':
    case 'kfree':
      return onObject(ctx, step, a);
    case 'mutex_lock': {
      ctx.world = { ...ctx.world, locks: { ...ctx.world.locks, [a.lock]: ctx.t } };
      const warnings = ctx.acquire(a.lock);
      return { world: ctx.world, text: 'locked', flow: NEXT, warnings };
    }
    case 'mutex_trylock':
      if (ctx.world.locks[a.lock] !== -1) return failed(ctx.world, a.errno ?? '-EBUSY');
      ctx.world = { ...ctx.world, locks: { ...ctx.world.locks, [a.lock]: ctx.t } };
      ctx.thread((th) => ({ ...th, locks: [...th.locks, a.lock] }));
      return { world: ctx.world, text: 'locked', flow: NEXT };
    case 'mutex_unlock':
      return unlock(ctx, a.lock);
    case 'wait':
      return onObject(ctx, step, a);
    case 'down_read':
    case 'down_read_trylock':
    case 'up_read':
    case 'down_write':
    case 'up_write':
      return rwsem(ctx, a);
    case 'rcu_read_lock':
      ctx.thread((th) => ({ ...th, rcu: th.rcu + 1 }));
      return { world: ctx.world, text: 'ok', flow: NEXT };
    case 'rcu_read_unlock':
      return rcuUnlock(ctx);
    case 'synchronize_rcu':
      return { world: ctx.world, text: 'ok', flow: NEXT };
    case 'fallible':
      return { world: ctx.world, text: 'ok', flow: NEXT };
    case 'queue_work':
      return queueWork(ctx, step, a.work, a.ptr);
    case 'set_link':
    case 'take_link':
    case 'get_link':
      return link(ctx, step, a);
    case 'if_null':
      return ctx.local(a.ptr) === null ? { world: ctx.world, text: a.errno ?? 'NULL', flow: otherwise(step, a.errno) } : { world: ctx.world, text: 'ok', flow: NEXT };
    case 'xa_find':
      return xaFind(ctx, step, a);
    case 'let':
      ctx.setLocal(a.local, a.to);
      return { world: ctx.world, text: String(a.to ?? 'NULL'), flow: NEXT };
  }
}

function alloc(ctx: Ctx, kind: string, into: LocalName): Done {
  const spec = ctx.spec.kinds[kind];
  if (!spec) throw new DefinitionError(`alloc of unknown kind '${kind}'; known: ${Object.keys(ctx.spec.kinds).join(', ')}`);
  const slot = ctx.world.objects[kind]!.findIndex((o) => o.state === 'free');
  if (slot < 0) return failed(ctx.world, '-ENOMEM');
  const old = ctx.world.objects[kind]![slot]!;
  // kref_init / refcount_set(.., n): the first refcount starts at 1 unless a field says otherwise; the creator holds them all.
  // Counted through the refcount machine, so coverage sees each count come alive (refcount_set).
  const counts = Object.fromEntries(
    Object.entries(initialCounts(spec)).map(([f, n]) => {
      const table = refcountTable((spec.fields[f] as { max: number }).max);
      let c = 0;
      for (let k = 0; k < n; k++) c = table.next(c, REFCOUNT_EVENTS.indexOf(k === 0 ? 'SET_ONE' : 'INC'));
      return [f, c];
    }),
  );
  const refs = Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
  // Without a count, the creator owns the object until it frees or hands it over.
  const p: Ptr = { kind, slot, gen: old.gen + 1, prot: Object.keys(refs).length ? 'none' : 'own', ...(Object.keys(refs).length ? { refs } : {}) };
  const { fields: zeros, links } = blank(spec);
  const fields = { ...zeros, ...counts };
  ctx.setObj(p, { gen: p.gen, state: 'live', fields, links, readers: [] });
  ctx.setLocal(into, p);
  ctx.effect(objName(kind, slot), 1);
  return { world: ctx.world, text: objName(kind, slot), flow: NEXT };
}

function spaceOf(ctx: Ctx, name: string): SpaceSpec {
  const s = ctx.spec.spaces[name];
  if (!s) throw new DefinitionError(`no id space '${name}'; known: ${Object.keys(ctx.spec.spaces).join(', ')}`);
  return s;
}

function xaAlloc(ctx: Ctx, step: Step, name: string, local: LocalName | undefined, into: LocalName): Done {
  spaceOf(ctx, name);
  const p = local === undefined ? undefined : pointer(ctx, local, step);
  if (p === null) return oops(ctx, step, local!);
  const entries = ctx.world.spaces[name]!;
  const from = spaceOf(ctx, name).alloc === 'cyclic' ? ctx.world.cursors[name]! : 0;
  const order = entries.map((_, k) => (from + k) % entries.length);
  const k = order.find((i) => entries[i] === null);
  if (k === undefined) return failed(ctx.world, '-EBUSY');
  const warnings = p ? derefWarnings(ctx, local!, p, step.fn) : [];
  const id = ctx.bounds.ids.min + k;
  // Only a cyclic space remembers where it got to: a lowest-free one would make equal worlds differ.
  if (spaceOf(ctx, name).alloc === 'cyclic') ctx.world = { ...ctx.world, cursors: { ...ctx.world.cursors, [name]: (k + 1) % entries.length } };
  setEntry(ctx, name, id, p ? { kind: p.kind, slot: p.slot, gen: p.gen } : 'reserved');
  ctx.setLocal(into, id);
  ctx.effect(`${name}[${id}]`, 1);
  if (p) takeOver(ctx, name, local!, p);
  return { world: ctx.world, text: String(id), flow: NEXT, warnings };
}

function setEntry(ctx: Ctx, name: string, id: number, slot: Slot): void {
  const entries = ctx.world.spaces[name]!;
  const k = id - ctx.bounds.ids.min;
  ctx.world = { ...ctx.world, spaces: { ...ctx.world.spaces, [name]: entries.map((e, i) => (i === k ? slot : e)) } };
}

/** The table takes over the creator's references it holds on: the creator's pointer keeps what else it has. */
function takeOver(ctx: Ctx, name: string, local: LocalName, p: Ptr): void {
  for (const field of spaceHolds(spaceOf(ctx, name))) {
    if (refsOn(p, field) > 0) ctx.loseRef(local, field, `ended:its reference went to ${name}`);
  }
}

function xaStore(ctx: Ctx, step: Step, name: string, idLocal: LocalName, local: LocalName): Done {
  spaceOf(ctx, name);
  const id = ctx.local(idLocal);
  if (typeof id !== 'number') throw new DefinitionError(`call '${ctx.th.call}', step '${step.fn}': '${idLocal}' is not an id`);
  const p = pointer(ctx, local, step);
  if (p === null) return oops(ctx, step, local);
  const warnings = derefWarnings(ctx, local, p, step.fn);
  // Over another object's entry, xa_store replaces it: the references that entry held are held by nobody now.
  const old = entryOf(ctx.world.spaces[name]![id - ctx.bounds.ids.min]);
  if (old) warnings.push(`lifecheck: ${ctx.who} ${step.fn}: xa_store over ${name} ${id}, which held ${objName(old.kind, old.slot, old.gen)}`);
  // Into a free id the entry is new; into a reserved one, the id was this call's already.
  if (ctx.world.spaces[name]![id - ctx.bounds.ids.min] === null) ctx.effect(`${name}[${id}]`, 1);
  setEntry(ctx, name, id, { kind: p.kind, slot: p.slot, gen: p.gen });
  takeOver(ctx, name, local, p);
  return { world: ctx.world, text: 'stored', flow: NEXT, warnings };
}

/** What protects a pointer a thread finds in a space now: the space's lock, an RCU section, nothing; at exit, with nothing else running, the exiting thread owns it. */
function foundProtection(ctx: Ctx, space: SpaceSpec): string {
  if (ctx.world.exited && ctx.th.call === ctx.spec.exit?.name) return 'own';
  return space.lock && ctx.th.locks.includes(space.lock) ? `lock:${space.lock}` : ctx.th.rcu > 0 ? 'rcu' : 'none';
}

/** `xa_find` / `xa_find_after`: the next entry (a reservation is skipped, as `xa_for_each` skips it), or a branch when none is left. */
function xaFind(ctx: Ctx, step: Step, a: Extract<Action, { op: 'xa_find' }>): Done {
  const space = spaceOf(ctx, a.space);
  const entries = ctx.world.spaces[a.space]!;
  const from = a.after ? (ctx.local(a.id) as number) - ctx.bounds.ids.min + 1 : 0;
  const k = entries.findIndex((e, i) => i >= from && entryOf(e) !== undefined);
  if (k < 0) {
    ctx.setLocal(a.into, null);
    return { world: ctx.world, text: 'NULL', flow: otherwise(step, undefined) };
  }
  const e = entryOf(entries[k])!;
  ctx.setLocal(a.id, ctx.bounds.ids.min + k);
  ctx.setLocal(a.into, { kind: e.kind, slot: e.slot, gen: e.gen, prot: foundProtection(ctx, space) });
  return { world: ctx.world, text: objName(e.kind, e.slot, e.gen), flow: NEXT };
}

/** The id an `xa_load`/`xa_erase` acts on: its `id` local's, or (erase by object) the id of the entry `ptr`'s object has. */
function idOf(ctx: Ctx, step: Step, a: Extract<Action, { op: 'xa_load' | 'xa_erase' }>): number | undefined {
  if (a.id !== undefined) {
    const id = ctx.local(a.id);
    if (typeof id !== 'number') throw new DefinitionError(`call '${ctx.th.call}', step '${step.fn}': '${a.id}' is not an id`);
    return id;
  }
  const p = pointer(ctx, (a as { ptr: LocalName }).ptr, step);
  const k = ctx.world.spaces[a.space]!.findIndex((s) => {
    const e = entryOf(s);
    return p !== null && e !== undefined && e.kind === p.kind && e.slot === p.slot && e.gen === p.gen;
  });
  return k < 0 ? undefined : ctx.bounds.ids.min + k;
}

function xaLookup(ctx: Ctx, step: Step, a: Extract<Action, { op: 'xa_load' | 'xa_erase' }>): Done {
  const { op, space: name } = a;
  const space = spaceOf(ctx, name);
  // Where the pointer goes: `into`, or (erase by object) the local that names it.
  const byObject = op === 'xa_erase' ? a.ptr : undefined;
  const into = a.into ?? byObject;
  const id = idOf(ctx, step, a);
  const k = id === undefined ? -1 : id - ctx.bounds.ids.min;
  const slot = ctx.world.spaces[name]![k] ?? null;
  const found = entryOf(slot);
  // A lookup for one kind in a table of several: another kind's entry is no match.
  const entry = a.op === 'xa_load' && a.kind !== undefined && found?.kind !== a.kind ? undefined : found;
  if (!entry) {
    // A reserved id looks empty to lookups; erasing it gives the id back.
    if (op === 'xa_erase' && slot === 'reserved') {
      setEntry(ctx, name, id!, null);
      ctx.effect(`${name}[${id}]`, -1);
    }
    if (into !== undefined && byObject === undefined) ctx.setLocal(into, null);
    return { world: ctx.world, text: 'NULL', flow: NEXT };
  }
  let prot = foundProtection(ctx, space);
  // An erased entry's references (those not dropped on its behalf already) are now the eraser's to drop.
  const given = op === 'xa_erase' ? entryHolds(space, entry) : [];
  if (op === 'xa_erase') {
    setEntry(ctx, name, id!, null);
    ctx.effect(`${name}[${id}]`, -1);
    const { [`${name}:${id}`]: _, ...kept } = ctx.th.handles ?? {};
    if (ctx.th.handles) ctx.thread((th) => ({ ...th, handles: kept }));
  }
  // A local that already points to the object keeps what it held: its references, and ownership.
  const was = into === undefined ? null : ctx.local(into);
  const same = was !== null && typeof was === 'object' && was.kind === entry.kind && was.slot === entry.slot && was.gen === entry.gen ? was : undefined;
  if (same?.prot === 'own') prot = 'own';
  const counts: Record<string, number> = { ...same?.refs };
  for (const f of given) counts[f] = (counts[f] ?? 0) + 1;
  const refs = Object.keys(counts).length ? { refs: sortedRecord(counts) } : {};
  if (into !== undefined) ctx.setLocal(into, { kind: entry.kind, slot: entry.slot, gen: entry.gen, prot, ...refs });
  const o = ctx.world.objects[entry.kind]![entry.slot]!;
  return { world: ctx.world, text: `${objName(entry.kind, entry.slot, o.gen)}`, flow: NEXT };
}

const REFCOUNT_EVENT = {
  refcount_inc: 'INC',
  refcount_inc_not_zero: 'INC_NOT_ZERO',
  refcount_dec: 'DEC',
  refcount_dec_and_test: 'DEC_AND_TEST',
  refcount_dec_if_one: 'DEC_IF_ONE',
  refcount_set: 'SET_ONE',
} as const;

function refcount(ctx: Ctx, step: Step, a: Extract<Action, { op: 'refcount' }>): Done {
  const { call, ptr: local, field } = a;
  const d = deref(ctx, step, local);
  if ('done' in d) return d.done;
  const { p, warnings } = d;
  const where = `${objName(p.kind, p.slot)}.${field}`;
  const o = ctx.obj(p);
  const before = o.fields[field]!;
  const max = (ctx.spec.kinds[p.kind]!.fields[field] as { max: number }).max;
  const table = refcountTable(max);
  const e = REFCOUNT_EVENTS.indexOf(REFCOUNT_EVENT[call]);
  const fired = { reply: table.reply(before, e) };
  const after = table.next(before, e);
  if (after > max) throw new DefinitionError(`${where} would reach ${after}, past its declared max ${max}; raise it`);
  ctx.setObj(p, { ...o, fields: { ...o.fields, [field]: after } });
  if (after !== before) ctx.effect(where, after - before);
  for (const w of fired.reply.warnings ?? []) warnings.push(`${w} ${ctx.who} ${call} on ${objName(p.kind, p.slot)} whose ${field} is ${before}`);
  if (after !== before && a.for !== undefined) warnings.push(...onBehalf(ctx, step, a.for, local, p, field, after > before));
  else if (after > before) ctx.gainRef(local, field);
  // Dropping the last reference makes the thread the object's only owner: it is the one to free it.
  else if (after < before) ctx.loseRef(local, field, after === 0 ? 'own' : `ended:${call}`);
  return { world: ctx.world, text: fired.reply.text, flow: refcountFlow(call, fired.reply.text, step), warnings };
}

/**
 * A reference a space's entry holds, dropped (or given back) by a thread on
 * the entry's behalf: the entry records it, so an erase hands over only what
 * it still holds. Dropping the object's last reference makes the thread its
 * owner, as its own last put would.
 */
function onBehalf(ctx: Ctx, step: Step, name: string, local: LocalName, p: Ptr, field: string, give: boolean): string[] {
  const entries = ctx.world.spaces[name]!;
  const k = entries.findIndex((s) => {
    const e = entryOf(s);
    return e !== undefined && e.kind === p.kind && e.slot === p.slot && e.gen === p.gen && (e.dropped?.includes(field) ?? false) === give;
  });
  const e = entryOf(entries[k]);
  if (!e) {
    const what = give ? `gives ${name} back a reference on ${field} it did not drop` : `drops ${name}'s reference on ${field}, which no entry of ${name} holds`;
    return [`lifecheck: ${ctx.who} ${step.fn}: ${ptrName(local, p)}: ${what}`];
  }
  const dropped = give ? (e.dropped ?? []).filter((f) => f !== field) : [...(e.dropped ?? []), field].sort();
  const { dropped: _, ...bare } = e;
  setEntry(ctx, name, ctx.bounds.ids.min + k, dropped.length ? { ...bare, dropped } : bare);
  if (!give && ctx.obj(p).fields[field] === 0 && !counted(p)) ctx.setLocal(local, { ...p, prot: 'own' });
  return [];
}

/** Where a test that does not hold goes: a failure with `errno`, or without one, a branch to the step's `fail` label. */
const otherwise = (step: Step, errno: string | undefined): Flow => (errno === undefined ? { to: 'label', label: step.fail! } : { to: 'fail', errno });

/** `switch (obj->type)`: reading the type dereferences the object. */
function isKind(ctx: Ctx, step: Step, a: Extract<Action, { op: 'is_kind' }>): Done {
  const d = deref(ctx, step, a.ptr);
  if ('done' in d) return d.done;
  const kinds = typeof a.kind === 'string' ? [a.kind] : a.kind;
  const flow = kinds.includes(d.p.kind) ? NEXT : otherwise(step, a.errno);
  return { world: ctx.world, text: d.p.kind, flow, warnings: d.warnings };
}

/** `ops->destroy(p)`: each pointer field that holds a reference is cleared, and its reference put (`refcount_dec`). */
function putLinks(ctx: Ctx, step: Step, local: LocalName): Done {
  const d = deref(ctx, step, local);
  if ('done' in d) return d.done;
  const { p, warnings } = d;
  const texts: string[] = [];
  for (const [field, f] of Object.entries(ctx.spec.kinds[p.kind]!.fields)) {
    const o = ctx.obj(p);
    const e = o.links[field];
    if (f.type !== 'pointer' || !f.holds || !e) continue;
    const where = `${objName(p.kind, p.slot)}->${field}`;
    ctx.linkWas(where, objName(e.kind, e.slot, e.gen));
    ctx.setObj(p, { ...o, links: { ...o.links, [field]: null } });
    const target = ctx.world.objects[e.kind]![e.slot]!;
    if (target.gen !== e.gen || target.state === 'free') {
      warnings.push(`BUG: KASAN: slab-use-after-free: ${ctx.who} ${step.fn}: ${where} (${objName(e.kind, e.slot, e.gen)}) after kfree`);
      continue;
    }
    const before = target.fields[f.holds]!;
    const table = refcountTable((ctx.spec.kinds[e.kind]!.fields[f.holds] as { max: number }).max);
    const ev = REFCOUNT_EVENTS.indexOf('DEC');
    const after = table.next(before, ev);
    for (const w of table.reply(before, ev).warnings ?? []) warnings.push(`${w} ${ctx.who} refcount_dec on ${objName(e.kind, e.slot)} whose ${f.holds} is ${before}`);
    ctx.world = { ...ctx.world, objects: { ...ctx.world.objects, [e.kind]: ctx.world.objects[e.kind]!.map((x, k) => (k === e.slot ? { ...x, fields: { ...x.fields, [f.holds!]: after } } : x)) } };
    if (after !== before) ctx.effect(`${objName(e.kind, e.slot)}.${f.holds}`, after - before);
    texts.push(`${objName(e.kind, e.slot)}.${f.holds} ${after}`);
  }
  return { world: ctx.world, text: texts.join(', ') || 'ok', flow: NEXT, warnings };
}

/** Where a refcount call goes: the last put to its `zero` label, a refused get or dec_if_one down its error path. */
function refcountFlow(call: string, answer: string, step: Step): Flow {
  if (call === 'refcount_dec_and_test') return answer === 'true' && step.zero ? { to: 'label', label: step.zero } : NEXT;
  if (call === 'refcount_inc_not_zero' && answer === 'false') return { to: 'fail', errno: '-ENOENT' };
  if (call === 'refcount_dec_if_one' && answer === 'false') return { to: 'fail', errno: '-EBUSY' };
  return NEXT;
}

function onObject(ctx: Ctx, step: Step, a: Extract<Action, { op: 'counter' | 'check' | 'use' | 'kfree' | 'wait' }>): Done {
  const d = deref(ctx, step, a.ptr);
  if ('done' in d) return d.done;
  const { p, warnings } = d;
  const o = ctx.obj(p);
  const name = objName(p.kind, p.slot);
  switch (a.op) {
    case 'use':
      return { world: ctx.world, text: 'ok', flow: NEXT, warnings };
    case 'wait':
      return { world: ctx.world, text: `${a.field} = ${o.fields[a.field]}`, flow: NEXT, warnings };
    case 'check': {
      const v = o.fields[a.field]!;
      const as = (v === 0) === (a.is === 'zero');
      return { world: ctx.world, text: String(v), flow: as ? NEXT : otherwise(step, a.errno), warnings };
    }
    case 'counter':
      return counter(ctx, step, a.ptr, p, o, a.field, a.delta, warnings);
    case 'kfree': {
      const readers = a.rcu ? ctx.world.threads.flatMap((th, u) => (th.rcu > 0 ? [u] : [])) : [];
      ctx.setObj(p, { ...o, state: readers.length ? 'rcu' : 'free', readers });
      // Freeing what this call allocated undoes it; freeing what its own last put left it (`own`) follows from
      // the count reaching 0, which any change of this call's shows already; any other kfree is a change.
      if (ctx.th.effects[name] === 1) ctx.forget(name);
      else if (p.prot !== 'own') ctx.effect(name, -1);
      ctx.reprotect((q) => q.kind === p.kind && q.slot === p.slot && q.gen === p.gen, 'ended:kfree');
      return { world: ctx.world, text: readers.length ? `freed after ${readers.map((u) => actor(ctx.world, u)).join(', ')} leave rcu_read_lock()` : 'freed', flow: NEXT, warnings };
    }
  }
}

/** `list` without its first `x`. */
function withoutOne<T>(list: readonly T[], x: T): T[] {
  const k = list.indexOf(x);
  return k < 0 ? [...list] : [...list.slice(0, k), ...list.slice(k + 1)];
}

function rwsem(ctx: Ctx, a: Extract<Action, { sem: string }>): Done {
  const sem = ctx.world.rwsems[a.sem];
  if (!sem) throw new DefinitionError(`no rw_semaphore '${a.sem}'; declare it in rwsems`);
  const t = ctx.t;
  const set = (next: Rwsem, text: string, held?: boolean): Done => {
    ctx.world = { ...ctx.world, rwsems: { ...ctx.world.rwsems, [a.sem]: next } };
    let warnings: string[] = [];
    // A trylock cannot wait, so lockdep records no dependency for it.
    if (held && a.op === 'down_read_trylock') ctx.thread((th) => ({ ...th, locks: [...th.locks, a.sem] }));
    else if (held) warnings = ctx.acquire(a.sem);
    if (held === false) {
      // A read side taken twice (two lookups of one object) is released once per up_read.
      ctx.thread((th) => ({ ...th, locks: withoutOne(th.locks, a.sem) }));
      if (!ctx.th.locks.includes(a.sem)) ctx.reprotect((q) => q.prot === `lock:${a.sem}`, `ended:up(&${a.sem})`);
    }
    return { world: ctx.world, text, flow: NEXT, warnings };
  };
  const unbalanced = (): Done => ({
    world: ctx.world,
    text: 'WARN',
    flow: NEXT,
    warnings: [`WARNING: bad unlock balance detected! ${ctx.who} releases ${a.sem}, which it does not hold`],
  });
  switch (a.op) {
    case 'down_read':
      return set({ ...sem, readers: [...sem.readers, t] }, 'read-locked', true);
    case 'down_read_trylock':
      if (sem.writer >= 0 || sem.queued.length) return failed(ctx.world, a.errno ?? '-EBUSY');
      return set({ ...sem, readers: [...sem.readers, t] }, 'read-locked', true);
    case 'up_read':
      if (!sem.readers.includes(t)) return unbalanced();
      return set({ ...sem, readers: withoutOne(sem.readers, t) }, 'up', false);
    case 'down_write':
      if (writable(sem, t)) return set({ ...sem, writer: t, queued: sem.queued.filter((u) => u !== t) }, 'write-locked', true);
      ctx.world = { ...ctx.world, rwsems: { ...ctx.world.rwsems, [a.sem]: { ...sem, queued: [...sem.queued, t] } } };
      return { world: ctx.world, text: 'waits', flow: { to: 'stay' } };
    case 'up_write':
      if (sem.writer !== t) return unbalanced();
      return set({ ...sem, writer: -1 }, 'up', false);
  }
}

/**
 * `p->field += delta`. A counter that holds references (`holds: 'ref'`)
 * takes over the thread's reference on its increment (attach keeps the
 * reference it took) and hands one to the thread on its decrement (detach
 * then drops it).
 */
function counter(ctx: Ctx, step: Step, local: LocalName, p: Ptr, o: Obj, field: string, delta: 1 | -1, warnings: string[]): Done {
  const name = objName(p.kind, p.slot);
  const spec = ctx.spec.kinds[p.kind]!.fields[field] as Extract<FieldSpec, { max: number }>;
  const n = o.fields[field]! + delta;
  if (n > spec.max) throw new DefinitionError(`${name}.${field} would reach ${n}, past its declared max ${spec.max}; raise it`);
  if (n < 0) warnings.push(`WARNING: ${ctx.who} ${step.fn}: ${name}.${field} goes below 0`);
  ctx.setObj(p, { ...o, fields: { ...o.fields, [field]: Math.max(n, 0) } });
  ctx.effect(`${name}.${field}`, delta);
  const holds = spec.type === 'counter' ? spec.holds : undefined;
  if (holds && delta > 0 && refsOn(p, holds) > 0) ctx.loseRef(local, holds, `ended:its reference went to ${field}`);
  if (holds && delta < 0 && n >= 0) ctx.gainRef(local, holds);
  return { world: ctx.world, text: String(Math.max(n, 0)), flow: NEXT, warnings };
}

/**
 * An object's pointer field. `set_link` stores a pointer (`hwpt->ioas = ioas`):
 * a field that holds a reference takes over the thread's. `take_link` moves
 * it back out (`ioas = hwpt->ioas; hwpt->ioas = NULL`), with its reference.
 * `get_link` reads it without taking it: the pointer is borrowed, safe while
 * the thread's pointer to the holder is, and the holder still holds it.
 */
function link(ctx: Ctx, step: Step, a: Extract<Action, { op: 'set_link' | 'take_link' | 'get_link' }>): Done {
  const d = deref(ctx, step, a.ptr);
  if ('done' in d) return d.done;
  const { p, warnings } = d;
  const o = ctx.obj(p);
  const holds = (ctx.spec.kinds[p.kind]!.fields[a.field] as Extract<FieldSpec, { type: 'pointer' }>).holds;
  const where = `${objName(p.kind, p.slot)}->${a.field}`;
  const set = (to: Entry | null) => {
    const was = o.links[a.field] ?? null;
    ctx.linkWas(where, was ? objName(was.kind, was.slot, was.gen) : 'NULL');
    ctx.setObj(p, { ...o, links: { ...o.links, [a.field]: to } });
  };
  if (a.op === 'set_link') {
    const q = pointer(ctx, a.to, step);
    set(q && { kind: q.kind, slot: q.slot, gen: q.gen });
    if (q && holds && refsOn(q, holds) > 0) ctx.loseRef(a.to, holds, `ended:its reference went to ${where}`);
    return { world: ctx.world, text: q ? objName(q.kind, q.slot, q.gen) : 'NULL', flow: NEXT, warnings };
  }
  const e = o.links[a.field] ?? null;
  const taken = a.op === 'take_link' && holds ? { refs: { [holds]: 1 } } : {};
  ctx.setLocal(a.into, e && { ...e, prot: a.op === 'get_link' ? `borrow:${a.ptr}->${a.field}` : 'none', ...taken });
  if (a.op === 'take_link' && e) set(null);
  return { world: ctx.world, text: e ? objName(e.kind, e.slot, e.gen) : 'NULL', flow: NEXT, warnings };
}

function unlock(ctx: Ctx, lock: string): Done {
  if (!ctx.th.locks.includes(lock)) {
    return { world: ctx.world, text: 'WARN', flow: NEXT, warnings: [`WARNING: bad unlock balance detected! ${ctx.who} releases ${lock}, which it does not hold`] };
  }
  ctx.world = { ...ctx.world, locks: { ...ctx.world.locks, [lock]: -1 } };
  ctx.thread((th) => ({ ...th, locks: th.locks.filter((l) => l !== lock) }));
  ctx.reprotect((q) => q.prot === `lock:${lock}`, `ended:mutex_unlock(&${lock})`);
  return { world: ctx.world, text: 'unlocked', flow: NEXT };
}

/**
 * `queue_work()`: the work will run later on the kworker with the pointer.
 * A reference the thread holds goes with it (the kernel's `get; queue_work`
 * idiom, the work puts it); without one, the work gets a bare pointer.
 */
function queueWork(ctx: Ctx, step: Step, work: string, local: LocalName): Done {
  if (!ctx.spec.works?.[work]) throw new DefinitionError(`step '${step.fn}' queues work '${work}', which the model's works do not have`);
  const p = pointer(ctx, local, step);
  if (p === null) return oops(ctx, step, local);
  // The references it holds, or the ownership the last put left (the release's `queue_work`), go with the work.
  const goes = counted(p) || p.prot === 'own';
  const given: Ptr = { kind: p.kind, slot: p.slot, gen: p.gen, prot: goes ? p.prot : 'none', ...(p.refs ? { refs: p.refs } : {}) };
  if (goes) ctx.setLocal(local, { kind: p.kind, slot: p.slot, gen: p.gen, prot: `ended:it went to ${work}` });
  ctx.world = { ...ctx.world, queue: [...ctx.world.queue, { work, local, ptr: given }] };
  return { world: ctx.world, text: 'queued', flow: NEXT };
}

/** Leaving the section ends its pointers' protection, and frees what kfree_rcu queued once its last reader is out. */
function rcuUnlock(ctx: Ctx): Done {
  if (ctx.th.rcu === 0) return { world: ctx.world, text: 'WARN', flow: NEXT, warnings: [`WARNING: ${ctx.who} rcu_read_unlock() outside rcu_read_lock()`] };
  ctx.thread((th) => ({ ...th, rcu: th.rcu - 1 }));
  if (ctx.th.rcu > 0) return { world: ctx.world, text: 'ok', flow: NEXT };
  ctx.reprotect((q) => q.prot === 'rcu', 'ended:rcu_read_unlock()');
  const objects = Object.fromEntries(
    Object.entries(ctx.world.objects).map(([kind, slots]) => [
      kind,
      slots.map((o) => {
        if (o.state !== 'rcu' || !o.readers.includes(ctx.t)) return o;
        const readers = o.readers.filter((u) => u !== ctx.t);
        return { ...o, readers, state: readers.length ? o.state : ('free' as const) };
      }),
    ]),
  );
  ctx.world = { ...ctx.world, objects };
  return { world: ctx.world, text: 'ok', flow: NEXT };
}
