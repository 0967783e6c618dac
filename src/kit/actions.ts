/**
 * The kit's primitives: what each action does to the world (objects,
 * refcounts, fields and pointers, locks, RCU, waits, deferred work; the id
 * spaces' are in spaces.ts), each dereference checked (deref.ts), and each
 * primitive's own findings.
 */
import { DefinitionError } from '../engine/define.ts';
import { fire, initialValue } from '../engine/machine.ts';
import type { Action, LocalName, Step } from './calls.ts';
import { Ctx, NEXT, type Done, type Flow } from './context.ts';
import { deref, failed, oops, otherwise, pointer } from './deref.ts';
import { setEntry, xaAlloc, xaFind, xaInit, xaInsert, xaLoadOf, xaLookup, xaStore } from './spaces.ts';
import { REFCOUNT_EVENTS, refcountTable } from './refcount.ts';
import { blank, counted, entryOf, sameObject, initialCounts, resolveLock, objName, ptrName, refsOn, writable, type Entry, type FieldSpec, type Obj, type Ptr, type Rwsem } from './world.ts';


export function perform(ctx: Ctx, step: Step): Done {
  const a = resolveLock(ctx.th.frame, step.action);
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
  return { ...done, warnings: [...warnings, ...(done.warnings ?? [])] };
}

function act(ctx: Ctx, step: Step, a: Action): Done {
  switch (a.op) {
    case 'alloc':
      return alloc(ctx, a.kind, a.into);
    case 'xa_alloc':
      return xaAlloc(ctx, step, a.space, a.ptr, a.into, a.range === 'scenario' ? ctx.bounds.ids : undefined);
    case 'xa_insert':
      return xaInsert(ctx, step, a.space, a.id, a.ptr);
    case 'xa_load_of':
      return xaLoadOf(ctx, step, a);
    case 'xa_init':
      return xaInit(ctx, a.space);
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
      if (a.ptr !== undefined && ctx.read(a.ptr, step.fn) === null) return { text: 'ok', flow: NEXT };
      return { text: 'WARN', flow: NEXT, warnings: [`WARNING: at ${ctx.th.call} (${ctx.who}): ${step.fn}`] };
    case 'is_kind':
      return isKind(ctx, step, a);
    case 'send':
      return send(ctx, step, a);
    case 'error':
      return failed(a.errno);
    case 'counter':
    case 'check':
    case 'use':
    case 'kfree':
      return onObject(ctx, step, a);
    case 'mutex_lock': {
      ctx.setLockOwner(a.lock, ctx.t);
      const warnings = ctx.acquire(a.lock);
      return { text: 'locked', flow: NEXT, warnings };
    }
    case 'mutex_trylock':
      if (ctx.lockOwner(a.lock) !== -1) return failed(a.errno ?? '-EBUSY');
      ctx.setLockOwner(a.lock, ctx.t);
      ctx.edit((th) => {
        th.locks = [...th.locks, a.lock];
      });
      return { text: 'locked', flow: NEXT };
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
      ctx.edit((th) => {
        th.rcu++;
      });
      return { text: 'ok', flow: NEXT };
    case 'rcu_read_unlock':
      return rcuUnlock(ctx);
    case 'synchronize_rcu':
      return { text: 'ok', flow: NEXT };
    case 'fallible':
      return { text: 'ok', flow: NEXT };
    case 'queue_work':
      return queueWork(ctx, step, a.work, a.ptr);
    case 'set_link':
    case 'take_link':
    case 'get_link':
      return link(ctx, step, a);
    case 'link_is':
      return linkIs(ctx, step, a);
    case 'if_null':
      return ctx.read(a.ptr, step.fn) === null ? { text: a.errno ?? 'NULL', flow: otherwise(step, a.errno) } : { text: 'ok', flow: NEXT };
    case 'if_set':
      return ctx.read(a.ptr, step.fn) !== null ? { text: a.errno ?? 'set', flow: otherwise(step, a.errno) } : { text: 'NULL', flow: NEXT };
    case 'xa_find':
      return xaFind(ctx, step, a);
    case 'let':
      ctx.setLocal(a.local, a.to);
      return { text: String(a.to ?? 'NULL'), flow: NEXT };
  }
}

function alloc(ctx: Ctx, kind: string, into: LocalName): Done {
  const spec = ctx.spec.kinds[kind];
  if (!spec) throw new DefinitionError(`alloc of unknown kind '${kind}'; known: ${Object.keys(ctx.spec.kinds).join(', ')}`);
  const slot = ctx.freeSlot(kind);
  if (slot < 0) return failed('-ENOMEM');
  const old = ctx.objAt(kind, slot);
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
  const machine = spec.machine;
  ctx.setObj(p, { gen: p.gen, state: 'live', fields, links, readers: [], ...(machine ? { phase: initialValue(machine) } : {}) });
  ctx.setLocal(into, p);
  ctx.effect(objName(kind, slot), 1);
  return { text: objName(kind, slot), flow: NEXT };
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
  else if (after !== before && a.of !== undefined) warnings.push(...ofLocal(ctx, step, a.of, local, p, field, after > before));
  else if (after > before) ctx.gainRef(local, field);
  // Dropping the object's last reference (every count at 0) makes the thread its only owner: it is the one to free it.
  else if (after < before) ctx.loseRef(local, field, lastReference(ctx, p) ? 'own' : `ended:${call}`);
  return { text: fired.reply.text, flow: refcountFlow(a, fired.reply.text, step), warnings };
}

/**
 * A reference a space's entry holds, dropped (or given back) by a thread on
 * the entry's behalf: the entry records it, so an erase hands over only what
 * it still holds. Dropping the object's last reference makes the thread its
 * owner, as its own last put would.
 */
function onBehalf(ctx: Ctx, step: Step, name: string, local: LocalName, p: Ptr, field: string, give: boolean): string[] {
  const k = ctx.findEntry(name, (s) => {
    const e = entryOf(s);
    return sameObject(e, p) && (e!.dropped?.includes(field) ?? false) === give;
  });
  const e = entryOf(ctx.entry(name, k));
  if (!e) {
    const what = give ? `gives ${name} back a reference on ${field} it did not drop` : `drops ${name}'s reference on ${field}, which no entry of ${name} holds`;
    return [`lifecheck: ${ctx.who} ${step.fn}: ${ptrName(local, p)}: ${what}`];
  }
  const dropped = give ? (e.dropped ?? []).filter((f) => f !== field) : [...(e.dropped ?? []), field].sort();
  const { dropped: _, ...bare } = e;
  setEntry(ctx, name, ctx.idBase(name) + k, dropped.length ? { ...bare, dropped } : bare);
  if (!give && lastReference(ctx, p) && !counted(p)) ctx.setLocal(local, { ...p, prot: 'own' });
  return [];
}

/**
 * A reference taken or dropped by id on behalf of the caller's pointer `of` (`ioasid_put(set, id)`): it moves to or
 * from that pointer, which must point to the object the lookup found and, for a drop, hold a reference on it.
 */
function ofLocal(ctx: Ctx, step: Step, of: LocalName, local: LocalName, p: Ptr, field: string, take: boolean): string[] {
  const q = pointer(ctx, of, step);
  const holds = q !== null && sameObject(q, p) && (take || refsOn(q, field) > 0);
  if (!holds) {
    const has = q === null ? `${of} is NULL` : sameObject(q, p) ? `${of} holds none` : `${of} points to ${objName(q.kind, q.slot, q.gen)}`;
    return [`lifecheck: ${ctx.who} ${step.fn}: ${take ? 'takes a reference for' : 'drops a reference of'} ${of} on ${objName(p.kind, p.slot, p.gen)}.${field}, but ${has}`];
  }
  if (take) ctx.gainRef(of, field);
  else ctx.loseRef(of, field, lastReference(ctx, p) ? 'own' : `ended:${step.fn}`);
  if (!take && lastReference(ctx, p) && !counted(p)) ctx.setLocal(local, { ...p, prot: 'own' });
  return [];
}

/** An event to the object's lifecycle machine: the phase it moves to, or the step's failure with the machine's reply. */
function send(ctx: Ctx, step: Step, a: Extract<Action, { op: 'send' }>): Done {
  const d = deref(ctx, step, a.ptr);
  if ('done' in d) return d.done;
  const { p, warnings } = d;
  const machine = ctx.spec.kinds[p.kind]!.machine;
  const o = ctx.obj(p);
  if (!machine || o.phase === undefined) throw new DefinitionError(`call '${ctx.th.call}', step '${step.fn}': kind '${p.kind}' has no lifecycle machine to send '${a.event}' to; give the kind a machine`);
  const fired = fire<object>(machine, { value: o.phase, context: {} }, { type: a.event });
  if (fired.edge < 0) {
    throw new DefinitionError(`call '${ctx.th.call}', step '${step.fn}': ${p.kind}'s machine has no transition for ${a.event} in state '${o.phase}'; add one (err('-EBUSY') to refuse it)`);
  }
  // A failed call that moved an object's phase changed what others can see (ioasid_set_free's -EBUSY marking it pending).
  if (fired.state.value !== o.phase) ctx.linkWas(`${objName(p.kind, p.slot)}.phase`, o.phase);
  ctx.setObj(p, { ...o, phase: fired.state.value });
  const flow = fired.reply.ok ? NEXT : { to: 'fail' as const, errno: fired.reply.text };
  return { text: fired.reply.text || fired.state.value, flow, warnings };
}

/** `switch (obj->type)`: reading the type dereferences the object. */
function isKind(ctx: Ctx, step: Step, a: Extract<Action, { op: 'is_kind' }>): Done {
  const d = deref(ctx, step, a.ptr);
  if ('done' in d) return d.done;
  const kinds = typeof a.kind === 'string' ? [a.kind] : a.kind;
  const flow = kinds.includes(d.p.kind) ? NEXT : otherwise(step, a.errno);
  return { text: d.p.kind, flow, warnings: d.warnings };
}

/**
 * Whether the object's lifetime count, its kind's first refcount (`users`, `ref`), is 0: no one else can get it
 * any more. Another count at 0 (iommufd's `shortterm_users`, a wait count) gives no ownership.
 */
function lastReference(ctx: Ctx, p: Ptr): boolean {
  const fields = ctx.spec.kinds[p.kind]!.fields;
  const lifetime = Object.keys(fields).find((f) => fields[f]!.type === 'refcount');
  return lifetime !== undefined && ctx.obj(p).fields[lifetime] === 0;
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
    const target = ctx.obj(e);
    if (target.gen !== e.gen || target.state === 'free') {
      warnings.push(`BUG: KASAN: slab-use-after-free: ${ctx.who} ${step.fn}: ${where} (${objName(e.kind, e.slot, e.gen)}) after kfree`);
      continue;
    }
    const before = target.fields[f.holds]!;
    const table = refcountTable((ctx.spec.kinds[e.kind]!.fields[f.holds] as { max: number }).max);
    const ev = REFCOUNT_EVENTS.indexOf('DEC');
    const after = table.next(before, ev);
    for (const w of table.reply(before, ev).warnings ?? []) warnings.push(`${w} ${ctx.who} refcount_dec on ${objName(e.kind, e.slot)} whose ${f.holds} is ${before}`);
    ctx.setObj(e, { ...target, fields: { ...target.fields, [f.holds]: after } });
    if (after !== before) ctx.effect(`${objName(e.kind, e.slot)}.${f.holds}`, after - before);
    texts.push(`${objName(e.kind, e.slot)}.${f.holds} ${after}`);
  }
  return { text: texts.join(', ') || 'ok', flow: NEXT, warnings };
}

/** Where a refcount call goes: the last put to its `zero` label, a refused get or dec_if_one down its error path. */
function refcountFlow(a: Extract<Action, { op: 'refcount' }>, answer: string, step: Step): Flow {
  if (a.call === 'refcount_dec_and_test') return answer === 'true' && step.zero ? { to: 'label', label: step.zero } : NEXT;
  const refused = (a.call === 'refcount_inc_not_zero' || a.call === 'refcount_dec_if_one') && answer === 'false';
  if (!refused) return NEXT;
  // `errno: null`: a refusal that is a branch (`continue`), which sets no errno for the call to return.
  if (a.errno === null) return otherwise(step, undefined);
  return { to: 'fail', errno: a.errno ?? (a.call === 'refcount_inc_not_zero' ? '-ENOENT' : '-EBUSY') };
}

function onObject(ctx: Ctx, step: Step, a: Extract<Action, { op: 'counter' | 'check' | 'use' | 'kfree' | 'wait' }>): Done {
  const d = deref(ctx, step, a.ptr);
  if ('done' in d) return d.done;
  const { p, warnings } = d;
  const o = ctx.obj(p);
  const name = objName(p.kind, p.slot);
  switch (a.op) {
    case 'use': {
      const as = useAs(ctx, step, a);
      if (as !== undefined && as !== p.kind) warnings.push(`type confusion: ${ctx.who} ${step.fn}: ${ptrName(a.ptr, p)} used as ${as}`);
      return { text: as === undefined || as === p.kind ? 'ok' : `${p.kind} as ${as}`, flow: NEXT, warnings };
    }
    case 'wait':
      return { text: `${a.field} = ${o.fields[a.field]}`, flow: NEXT, warnings };
    case 'check': {
      const v = o.fields[a.field]!;
      const as = (v === 0) === (a.is === 'zero');
      return { text: String(v), flow: as ? NEXT : otherwise(step, a.errno), warnings };
    }
    case 'counter':
      return counter(ctx, step, a.ptr, p, o, a.field, a.delta, warnings);
    case 'kfree': {
      const readers: number[] = [];
      if (a.rcu) for (let u = 0; u < ctx.threadCount; u++) if (ctx.rcuOf(u) > 0) readers.push(u);
      ctx.setObj(p, { ...o, state: readers.length ? 'rcu' : 'free', readers });
      if (readers.length) ctx.setRcuFreed([...ctx.rcuFreed(), { kind: p.kind, slot: p.slot }]);
      // Freeing what this call allocated undoes it; freeing what its own last put left it (`own`) follows from
      // the count reaching 0, which any change of this call's shows already; any other kfree is a change.
      if (ctx.th.effects[name] === 1) ctx.forget(name);
      else if (p.prot !== 'own') ctx.effect(name, -1);
      ctx.reprotect((q) => sameObject(q, p), 'ended:kfree');
      return { text: readers.length ? `freed after ${readers.map((u) => ctx.actor(u)).join(', ')} leave rcu_read_lock()` : 'freed', flow: NEXT, warnings };
    }
  }
}

/** The kind a `use` takes its object for: `as`, or the kind of what `like` points to (nothing, when it is NULL). */
function useAs(ctx: Ctx, step: Step, a: Extract<Action, { op: 'use' }>): string | undefined {
  if (a.like === undefined) return a.as;
  return pointer(ctx, a.like, step)?.kind;
}

/** `list` without its first `x`. */
function withoutOne<T>(list: readonly T[], x: T): T[] {
  const k = list.indexOf(x);
  return k < 0 ? [...list] : [...list.slice(0, k), ...list.slice(k + 1)];
}

function rwsem(ctx: Ctx, a: Extract<Action, { sem: string }>): Done {
  const sem = ctx.rwsem(a.sem);
  if (!sem) throw new DefinitionError(`no rw_semaphore '${a.sem}'; declare it in rwsems`);
  const t = ctx.t;
  const set = (next: Rwsem, text: string, held?: boolean): Done => {
    ctx.setRwsem(a.sem, next);
    let warnings: string[] = [];
    // A trylock cannot wait, so lockdep records no dependency for it.
    if (held && a.op === 'down_read_trylock') {
      ctx.edit((th) => {
        th.locks = [...th.locks, a.sem];
      });
    } else if (held) warnings = ctx.acquire(a.sem);
    if (held === false) {
      // A read side taken twice (two lookups of one object) is released once per up_read.
      ctx.edit((th) => {
        th.locks = withoutOne(th.locks, a.sem);
      });
      const under = `lock:${a.sem}`;
      if (!ctx.th.locks.includes(a.sem)) ctx.reprotect((q) => q.prot === under, `ended:up(&${a.sem})`);
    }
    return { text, flow: NEXT, warnings };
  };
  const unbalanced = (): Done => ({
    text: 'WARN',
    flow: NEXT,
    warnings: [`WARNING: bad unlock balance detected! ${ctx.who} releases ${a.sem}, which it does not hold`],
  });
  switch (a.op) {
    case 'down_read':
      return set({ ...sem, readers: [...sem.readers, t] }, 'read-locked', true);
    case 'down_read_trylock':
      if (sem.writer >= 0 || sem.queued.length) return failed(a.errno ?? '-EBUSY');
      return set({ ...sem, readers: [...sem.readers, t] }, 'read-locked', true);
    case 'up_read':
      if (!sem.readers.includes(t)) return unbalanced();
      return set({ ...sem, readers: withoutOne(sem.readers, t) }, 'up', false);
    case 'down_write':
      if (writable(sem, t)) return set({ ...sem, writer: t, queued: sem.queued.filter((u) => u !== t) }, 'write-locked', true);
      ctx.setRwsem(a.sem, { ...sem, queued: [...sem.queued, t] });
      return { text: 'waits', flow: { to: 'stay' } };
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
  return { text: String(Math.max(n, 0)), flow: NEXT, warnings };
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
    const q = a.to === null ? null : pointer(ctx, a.to, step);
    set(q && { kind: q.kind, slot: q.slot, gen: q.gen });
    if (q && holds && a.to !== null && refsOn(q, holds) > 0) ctx.loseRef(a.to, holds, `ended:its reference went to ${where}`);
    return { text: q ? objName(q.kind, q.slot, q.gen) : 'NULL', flow: NEXT, warnings };
  }
  const e = o.links[a.field] ?? null;
  const taken = a.op === 'take_link' && holds ? { refs: { [holds]: 1 } } : {};
  ctx.setLocal(a.into, e && { ...e, prot: a.op === 'get_link' ? `borrow:${a.ptr}->${a.field}` : 'none', ...taken });
  if (a.op === 'take_link' && e) set(null);
  return { text: e ? objName(e.kind, e.slot, e.gen) : 'NULL', flow: NEXT, warnings };
}

/** `if (p->field != q)`: reading the field dereferences `p`; the comparison is of objects (a reused slot is another). */
function linkIs(ctx: Ctx, step: Step, a: Extract<Action, { op: 'link_is' }>): Done {
  const d = deref(ctx, step, a.ptr);
  if ('done' in d) return d.done;
  const e = ctx.obj(d.p).links[a.field] ?? null;
  const q = a.to === null ? null : pointer(ctx, a.to, step);
  const same = q === null ? e === null : sameObject(e, q);
  const text = !same && a.errno !== undefined ? a.errno : e ? objName(e.kind, e.slot, e.gen) : 'NULL';
  return { text, flow: same ? NEXT : otherwise(step, a.errno), warnings: d.warnings };
}

function unlock(ctx: Ctx, lock: string): Done {
  if (!ctx.th.locks.includes(lock)) {
    return { text: 'WARN', flow: NEXT, warnings: [`WARNING: bad unlock balance detected! ${ctx.who} releases ${lock}, which it does not hold`] };
  }
  ctx.setLockOwner(lock, -1);
  ctx.edit((th) => {
    th.locks = th.locks.filter((l) => l !== lock);
  });
  const under = `lock:${lock}`;
  ctx.reprotect((q) => q.prot === under, `ended:mutex_unlock(&${lock})`);
  return { text: 'unlocked', flow: NEXT };
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
  ctx.setQueue([...ctx.queue(), { work, local, ptr: given }]);
  return { text: 'queued', flow: NEXT };
}

/** Leaving the section ends its pointers' protection, and frees what kfree_rcu queued once its last reader is out. */
function rcuUnlock(ctx: Ctx): Done {
  if (ctx.th.rcu === 0) return { text: 'WARN', flow: NEXT, warnings: [`WARNING: ${ctx.who} rcu_read_unlock() outside rcu_read_lock()`] };
  ctx.edit((th) => {
    th.rcu--;
  });
  if (ctx.th.rcu > 0) return { text: 'ok', flow: NEXT };
  ctx.reprotect((q) => q.prot === 'rcu', 'ended:rcu_read_unlock()');
  // Only the objects kfree_rcu freed wait for readers: the rest of the slots are not read.
  const freed = ctx.rcuFreed();
  const waiting = freed.filter((r) => {
    const o = ctx.obj(r);
    if (!o.readers.includes(ctx.t)) return true;
    const readers = o.readers.filter((u) => u !== ctx.t);
    ctx.setObj(r, { ...o, readers, state: readers.length ? o.state : 'free' });
    return readers.length > 0;
  });
  if (waiting.length < freed.length) ctx.setRcuFreed(waiting);
  return { text: 'ok', flow: NEXT };
}
