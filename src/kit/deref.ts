/**
 * What the kit checks at every dereference: KASAN's use-after-free (the
 * memory freed, or reused by a later object), a NULL pointer's oops, and the
 * pointer's protection (a reference, an RCU section, a lock, a borrow).
 */
import { DefinitionError } from '../engine/define.ts';
import type { LocalName, Step } from './calls.ts';
import { NEXT, type Ctx, type Done, type Flow } from './context.ts';
import { counted, ptrName, type Ptr } from './world.ts';

/** A failed step: the errno it returns, down the step's unwind path. */
export const failed = (errno: string): Done => ({ text: errno, flow: { to: 'fail', errno } });

/** A pointer local that is set; a definition error when the model names an unset or non-pointer local. */
export function pointer(ctx: Ctx, name: LocalName, step: Step): Ptr | null {
  const v = ctx.read(name, step.fn);
  if (v === null || typeof v === 'object') return v;
  throw new DefinitionError(`call '${ctx.th.call}', step '${step.fn}': '${name}' holds an id, not a pointer`);
}

/** What KASAN and the kit see when `p` is dereferenced: a report when the memory is freed or reused, or the pointer unprotected. */
export function derefWarnings(ctx: Ctx, local: LocalName, p: Ptr, fn: string): string[] {
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
export function deref(ctx: Ctx, step: Step, local: LocalName): { p: Ptr; warnings: string[] } | { done: Done } {
  const p = pointer(ctx, local, step);
  if (p === null) return { done: oops(ctx, step, local) };
  const warnings = derefWarnings(ctx, local, p, step.fn);
  if (!alive(ctx, p)) return { done: { text: 'UAF', flow: NEXT, warnings } };
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
export function oops(ctx: Ctx, step: Step, local: LocalName): Done {
  const warnings = [`BUG: kernel NULL pointer dereference: ${ctx.who} ${step.fn}: ${local} is NULL`];
  return { text: 'Oops', flow: { to: 'oops' }, warnings };
}

/** Whether `p` still points at the object it was made for. */
const alive = (ctx: Ctx, p: Ptr) => {
  const o = ctx.obj(p);
  return o.gen === p.gen && o.state !== 'free';
};

/** Where a test that does not hold goes: a failure with `errno`, or without one, a branch to the step's `fail` label. */
export const otherwise = (step: Step, errno: string | undefined): Flow => (errno === undefined ? { to: 'label', label: step.fail! } : { to: 'fail', errno });
