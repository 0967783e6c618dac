/**
 * The IOASID core (drivers/iommu/ioasid.c) as kernel steps, once per design:
 * seed 000's (no refcount: ioasid_free erases at once), upstream v5.11's
 * (void ioasid_get, bool ioasid_put frees at zero), and Jacob Pan's series
 * (seed 001, kernel-semantics A.4: get, put and free with sets, and
 * FREE_PENDING). Each helper is the function's body, in the kernel's order,
 * under `ioasid_allocator_lock`; a refusal unlocks and jumps to the caller's
 * label, as the function's early returns hand back to its caller.
 *
 * Locals: `set` and `private` are what the caller passes (its task's, see
 * calls.ts), `id` the IOASID, `data` the `struct ioasid_data` a lookup finds.
 */
import { jump, label, step, type AnyStateMachine, type FieldSpec, type Item, type KindSpec, type SpaceSpec } from 'lifecheck';
import { ioasidMachine, setMachine } from './lifecycles.ts';

/** A design of the IOASID core. */
export interface Design {
  /** The API: seed 000's, upstream v5.11's (A.2), or the series' (001, A.4). */
  readonly api: 'v1' | 'v5.11' | 'series';
  /** The series' IOASID lifecycle (IDLE, FREE_PENDING); a patch provides another. */
  readonly machine?: AnyStateMachine;
  /** 001 review (Lu Baolu): ioasid_find takes a reference, which its caller drops after use. */
  readonly findTakesRef?: boolean;
  /** A.2: ioasid_find(NULL, id, ..) searches globally; a design whose users find (and put what they found) with the NULL set says so. */
  readonly findWithNull?: boolean;
  /** A.4 (dcp): sets are objects, registered in `ioasid_sets`, with a quota (of 1 here) and ioasid_set_free. */
  readonly setObjects?: boolean;
  /** Design 004 (set mandatory): get, put and find refuse the NULL set (-EINVAL) instead of skipping the ownership check. */
  readonly nullSetRefused?: boolean;
}

/** The default allocator's XArray (A.2: `default_allocator.xa`, the active allocator's). */
export const XA = 'ioasid_xa';
/** A.4 dcp: the registered sets. */
export const SETS = 'ioasid_sets';
/** The private data the callers store (an mm, an aux domain), one per set, made before the scenario. */
export const PRIVATE = 'private_data';
/** A.2: `ioasid_allocator_lock` serialises everything but ioasid_find. */
export const LOCK = 'ioasid_allocator_lock';
/** A.2: ioasid_alloc's failure, which is no errno. */
export const INVALID = 'INVALID_IOASID';
/** A.4 dcp ioasid_set_alloc(token, quota, type): here each set may hold one IOASID at a time. */
export const QUOTA = 1;

/** The private data types callers store (A.5: an SVA user's mm, an aux domain's). */
export type DataType = 'mm' | 'aux_domain';

/** The kinds of a design: the IOASID (`struct ioasid_data`), the set, and the private data types. */
export function ioasidKinds(d: Design, sets: number): Record<string, KindSpec> {
  // A.2: "alloc sets refs to 1"; 000 has no refcount. Three slots: two IOASIDs and one waiting for kfree_rcu.
  const refs: Record<string, FieldSpec> = d.api === 'v1' ? {} : { refs: { type: 'refcount', max: 6 } };
  return {
    ioasid: {
      slots: 3,
      fields: { ...refs, set: { type: 'pointer', kind: 'ioasid_set' }, private: { type: 'pointer', kind: ['mm', 'aux_domain'] } },
      ...(d.api === 'series' ? { machine: d.machine ?? ioasidMachine } : {}),
    },
    // A.4: set->nr_ioasids, counted against the quota.
    ioasid_set: { slots: Math.max(1, sets), fields: { nr_ioasids: { type: 'counter', max: 3 } }, ...(d.setObjects ? { machine: setMachine } : {}) },
    mm: { slots: 2, fields: {} },
    aux_domain: { slots: 2, fields: {} },
  };
}

/**
 * The id spaces: the allocator's XArray, the sets, the private data, and
 * what the core's users keep: `pasids`, each guest's record of the PASIDs it
 * allocated (the allocation's reference), and `bonds`, the devices bound to a
 * PASID (ioasid_get's reference, where the design counts them).
 */
export function ioasidSpaces(d: Design): Record<string, SpaceSpec> {
  const holds = d.api === 'v1' ? {} : { holds: 'refs' };
  return {
    [XA]: { kind: 'ioasid', lock: LOCK },
    [SETS]: { kind: 'ioasid_set', lock: LOCK },
    [PRIVATE]: { kind: ['mm', 'aux_domain'] },
    pasids: { kind: 'ioasid', lock: 'pasid_mutex', ...holds },
    bonds: { kind: 'ioasid', lock: 'pasid_mutex', ...holds },
  };
}

const lock = step('spin_lock(&ioasid_allocator_lock)', { op: 'mutex_lock', lock: LOCK });
const unlock = step('spin_unlock(&ioasid_allocator_lock)', { op: 'mutex_unlock', lock: LOCK });

/** `data = xa_load(&active_allocator->xa, id)`, and what the function does when it finds nothing. */
const lookup = (fail: string, errno?: string): Item[] => [
  step('data = xa_load(&active_allocator->xa, id)', { op: 'xa_load', space: XA, id: 'id', into: 'data' }),
  step('if (!data)', { op: 'if_null', ptr: 'data', ...(errno ? { errno } : {}) }, { fail }),
];

/**
 * A.4 get/put, A.2 find: "set non-NULL and not equal to data->set" fails (a
 * NULL set skips the ownership check, unless the design refuses it).
 */
const setMatches = (d: Design, tag: string, ptr: string, fail: string, errno?: string): Item[] => [
  d.nullSetRefused
    ? step('if (!set) return -EINVAL', { op: 'if_null', ptr: 'set', errno: '-EINVAL' }, { fail })
    : step('if (set', { op: 'if_null', ptr: 'set' }, { fail: `${tag}_any_set` }),
  step(`&& ${ptr}->set != set)`, { op: 'link_is', ptr, field: 'set', to: 'set', ...(errno ? { errno } : {}) }, { fail }),
  label(`${tag}_any_set`),
];

/** Whose reference a put drops: a caller's record's (`for` its space) or the caller's own pointer's (`of` its local). */
export type Holder = { readonly for: string } | { readonly of: string };

/** A.4 ioasid_do_free_locked(data), with the set's reclaim where sets are objects; `tag` names its labels. */
function doFree(d: Design, tag: string): Item[] {
  const reclaim = d.setObjects
    ? [
        step('set = data->set', { op: 'get_link', ptr: 'data', field: 'set', into: 'owner' }),
        step('set->nr_ioasids--', { op: 'counter', delta: -1, ptr: 'owner', field: 'nr_ioasids' }),
        // A.4: "If set->free_pending and the count reaches 0, free the set".
        step('if (!set->nr_ioasids', { op: 'check', ptr: 'owner', field: 'nr_ioasids', is: 'zero' }, { fail: `${tag}_set_kept` }),
        step('&& set->free_pending)', { op: 'send', ptr: 'owner', event: 'RECLAIMED' }, { fail: `${tag}_set_kept` }),
        step('xa_erase(&ioasid_sets, set->id)', { op: 'xa_erase', space: SETS, ptr: 'owner' }),
        step('kfree_rcu(set, rcu)', { op: 'kfree', ptr: 'owner', rcu: true }),
        label(`${tag}_set_kept`),
      ]
    : [];
  return [
    // A.2: "active_allocator->ops->free(id, pdata)": the default allocator's erases the entry.
    step('xa_erase(&default_allocator.xa, data->id)', { op: 'xa_erase', space: XA, ptr: 'data' }),
    ...reclaim,
    step('kfree_rcu(data, rcu)', { op: 'kfree', ptr: 'data', rcu: true }),
  ];
}

/**
 * `ioasid_alloc(set, min, max, private)` (000, A.2; dcp's set checks, A.4):
 * the new IOASID's id in `id`, its data in `data` holding the first
 * reference; on failure INVALID_IOASID, to the caller's `fail`.
 */
export function ioasidAlloc(d: Design, fail: string): Item[] {
  const setChecks = d.setObjects
    ? [
        // A.4: "set must be non-NULL and registered (xa_load(&ioasid_sets, set->id) == set)".
        step('if (!set || xa_load(&ioasid_sets, set->id) != set)', { op: 'if_null', ptr: 'set', errno: INVALID }, { fail: 'exit_free' }),
        step('if (set->nr_ioasids >= set->quota)', { op: 'check', ptr: 'set', field: 'nr_ioasids', is: 'zero', errno: INVALID }, { fail: 'exit_free' }),
      ]
    : [];
  return [
    // 000: "data = kzalloc(sizeof(*data), GFP_ATOMIC); if (!data) return INVALID_IOASID".
    step('data = kzalloc(sizeof(*data), GFP_ATOMIC)', { op: 'alloc', kind: 'ioasid', into: 'data' }, { fail: 'alloc_nomem' }),
    // A.4: "refs = 1, state IDLE".
    step('data->set = set', { op: 'set_link', ptr: 'data', field: 'set', to: 'set' }),
    step('data->private = private', { op: 'set_link', ptr: 'data', field: 'private', to: 'private' }),
    lock,
    ...setChecks,
    // A.2: "xa_alloc(XA_LIMIT(min,max)) ... returns the lowest free index >= min".
    step('xa_alloc(&active_allocator->xa, &id, data, XA_LIMIT(min, max))', { op: 'xa_alloc', space: XA, ptr: 'data', into: 'id' }, { fail: 'exit_free' }),
    ...(d.setObjects ? [step('set->nr_ioasids++', { op: 'counter', delta: 1, ptr: 'set', field: 'nr_ioasids' })] : []),
    unlock,
    jump('alloc_done'),
    label('exit_free'),
    unlock,
    step('kfree(data)', { op: 'kfree', ptr: 'data' }),
    label('alloc_nomem'),
    step('return INVALID_IOASID', { op: 'error', errno: INVALID }, { fail }),
    label('alloc_done'),
  ];
}

/**
 * `ioasid_get(set, id)` (A.4: -EINVAL unknown, -EBUSY free-pending, -EACCES
 * another set's, in that order), or v5.11's `void ioasid_get(id)`: the
 * reference is `data`'s. A refusal goes to `refused` with its errno.
 */
export function ioasidGet(d: Design, refused: string): Item[] {
  if (d.api === 'v5.11') {
    return [
      lock,
      ...lookup('get_unknown'),
      step('refcount_inc(&data->refs)', { op: 'refcount', call: 'refcount_inc', ptr: 'data', field: 'refs' }),
      unlock,
      jump('get_done'),
      // A.2: "An unknown ID hits WARN_ON(1)".
      label('get_unknown'),
      step('WARN_ON(1)', { op: 'warn' }),
      unlock,
      step('return', { op: 'error', errno: 'void' }, { fail: refused }),
      label('get_done'),
    ];
  }
  return [
    lock,
    ...lookup('get_refused', '-EINVAL'),
    step('if (data->state == IOASID_STATE_FREE_PENDING) return -EBUSY', { op: 'send', ptr: 'data', event: 'GET' }, { fail: 'get_refused' }),
    ...setMatches(d, 'get', 'data', 'get_refused', '-EACCES'),
    step('refcount_inc(&data->refs)', { op: 'refcount', call: 'refcount_inc', ptr: 'data', field: 'refs' }),
    unlock,
    jump('get_done'),
    label('get_refused'),
    unlock,
    jump(refused),
    label('get_done'),
  ];
}

/**
 * `ioasid_put(set, id)` (A.4: unknown or another set's: false, nothing
 * changes), or v5.11's `ioasid_put(id)`: drops `holder`'s reference, and
 * the last frees the IOASID. A refusal goes to `refused`.
 */
export function ioasidPut(d: Design, holder: Holder, refused: string, tag = 'put'): Item[] {
  return [
    lock,
    // A.4: "Unknown ID: false, with a log".
    ...lookup(`${tag}_refused`),
    ...(d.api === 'series' ? setMatches(d, tag, 'data', `${tag}_refused`) : []),
    step('if (refcount_dec_and_test(&data->refs))', { op: 'refcount', call: 'refcount_dec_and_test', ptr: 'data', field: 'refs', ...holder }, { zero: `${tag}_last` }),
    jump(`${tag}_unlock`),
    label(`${tag}_last`),
    ...doFree(d, tag),
    label(`${tag}_unlock`),
    unlock,
    jump(`${tag}_done`),
    label(`${tag}_refused`),
    unlock,
    jump(refused),
    label(`${tag}_done`),
  ];
}

/**
 * `ioasid_free(set, id)`: the series' (A.4: strict set compare, FREE_PENDING
 * then refs--, a second free a no-op), or 000's (erase at once, whoever
 * still uses it); v5.11 has none (its owner puts). A refusal goes to `refused`.
 */
export function ioasidFree(d: Design, holder: Holder, refused: string): Item[] {
  if (d.api === 'v5.11') return ioasidPut(d, holder, refused, 'free');
  if (d.api === 'v1') return [lock, ...lookup('free_refused'), ...doFree(d, 'free'), unlock, jump('free_done'), label('free_refused'), unlock, jump(refused), label('free_done')];
  return [
    lock,
    // A.4: "Unknown ID: a rate-limited error and nothing else".
    ...lookup('free_refused'),
    // A.4: "data->set != set (a strict compare, so NULL is not a wildcard here)": "Cannot free IOASID ... due to set ownership".
    step('if (data->set != set)', { op: 'link_is', ptr: 'data', field: 'set', to: 'set' }, { fail: 'free_refused' }),
    step('if (data->state == IOASID_STATE_FREE_PENDING) return; data->state = IOASID_STATE_FREE_PENDING', { op: 'send', ptr: 'data', event: 'FREE' }, { fail: 'free_refused' }),
    step('if (refcount_dec_and_test(&data->refs))', { op: 'refcount', call: 'refcount_dec_and_test', ptr: 'data', field: 'refs', ...holder }, { zero: 'free_last' }),
    jump('free_unlock'),
    label('free_last'),
    ...doFree(d, 'free'),
    label('free_unlock'),
    unlock,
    jump('free_done'),
    label('free_refused'),
    unlock,
    jump(refused),
    label('free_done'),
  ];
}

/**
 * `ioasid_find(set, id, NULL)` (000, A.2): under RCU only; -ENOENT when not
 * found, -EACCES when another set's (a NULL set searches globally); the
 * private data into `priv`. No reference is taken, unless the design takes
 * one (`refcount_inc_not_zero`: the id may already be on its way out).
 */
export function ioasidFind(d: Design, refused: string, within: readonly Item[] = []): Item[] {
  return [
    step('rcu_read_lock()', { op: 'rcu_read_lock' }),
    step('found = xa_load(&rcu_dereference(active_allocator)->xa, id)', { op: 'xa_load', space: XA, id: 'id', into: 'found' }),
    step('if (!found) return ERR_PTR(-ENOENT)', { op: 'if_null', ptr: 'found', errno: '-ENOENT' }, { fail: 'find_unlock' }),
    ...setMatches(d, 'find', 'found', 'find_unlock', '-EACCES'),
    ...(d.findTakesRef ? [step('if (!refcount_inc_not_zero(&found->refs)) return ERR_PTR(-ENOENT)', { op: 'refcount', call: 'refcount_inc_not_zero', ptr: 'found', field: 'refs' }, { fail: 'find_unlock' })] : []),
    step('priv = rcu_dereference(found->private)', { op: 'get_link', ptr: 'found', field: 'private', into: 'priv' }),
    ...within,
    step('rcu_read_unlock()', { op: 'rcu_read_unlock' }),
    jump('find_found'),
    label('find_unlock'),
    step('rcu_read_unlock()', { op: 'rcu_read_unlock' }),
    jump(refused),
    label('find_found'),
  ];
}

/** `ioasid_set_free(set)` (A.4 dcp): -EINVAL unregistered, -EBUSY (and free_pending) with IOASIDs left, else freed. */
export function ioasidSetFree(): Item[] {
  return [
    lock,
    step('if (xa_load(&ioasid_sets, set->id) != set) return -EINVAL', { op: 'if_null', ptr: 'set', errno: '-EINVAL' }, { fail: 'set_free_out' }),
    step('if (set->nr_ioasids)', { op: 'check', ptr: 'set', field: 'nr_ioasids', is: 'zero' }, { fail: 'set_busy' }),
    step('xa_erase(&ioasid_sets, set->id)', { op: 'xa_erase', space: SETS, ptr: 'set' }),
    step('kfree_rcu(set, rcu)', { op: 'kfree', ptr: 'set', rcu: true }),
    unlock,
    jump('set_free_done'),
    label('set_busy'),
    step('set->free_pending = true; return -EBUSY', { op: 'send', ptr: 'set', event: 'SET_FREE' }, { fail: 'set_free_out' }),
    label('set_free_out'),
    unlock,
    label('set_free_done'),
  ];
}
