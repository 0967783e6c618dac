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
import { jump, label, step, type AnyStateMachine, type Bounds, type FieldSpec, type Item, type KindSpec, type SpaceSpec } from 'lifecheck';
import { allocatorMachine, ioasidMachine, setMachine } from './lifecycles.ts';

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
  /** A.3, seed 003: the guest's vIOMMUs register VT-d's virtual-command helpers as a custom allocator. */
  readonly custom?: Custom;
  /**
   * A.4 (dcp): an ioasid_free that leaves references sends IOASID_NOTIFY_FREE to the set's subscribers; the bound
   * driver lets go of its bond from a work item (`deferred`), or at once from the notifier (`inline`), which runs
   * under ioasid_allocator_lock.
   */
  readonly notify?: 'deferred' | 'inline';
}

/** A custom allocator (A.3) whose ids come from the host by virtual command (003). */
export interface Custom {
  /** 003 review, "How does this honor min/max?": the host allocates within the guest's [min,max]. */
  readonly honoursRange: boolean;
  /**
   * Which ids intel_vcmd_ioasid_free keeps on the host: `bound` ones (A.3 upstream: "refuses to free when
   * ioasid_find(NULL,id,NULL) is truthy"), or `unbound` ones (003 as posted: "Freeing unbond IOASID", -EBUSY).
   */
  readonly refusesFree: 'bound' | 'unbound';
  /** A.3 rule 3 read strictly: unregistering the last sharer with live ids fails with -EBUSY (merged: WARN_ON, orphaned). */
  readonly unregisterBusy?: boolean;
}

/** The custom allocator's XArray (A.3: `ioasid_allocator_data.xa`, shared by the vIOMMUs' identical helpers). */
export const CUSTOM_XA = 'vcmd_xa';
/** 003: the host's system-wide PASID namespace, which other guests share. */
export const HOST = 'host_pasids';

/** 003: the host's namespace is system-wide, shared with another guest: twice the guest's range here. */
const hostRange = ({ ids }: Bounds) => ({ min: ids.min, max: ids.max + (ids.max - ids.min + 1) });

/** The space a design's lookups read by default: the default allocator's, or with custom allocators, the ids the host hands out. */
export const idSpace = (d: Design) => (d.custom ? CUSTOM_XA : XA);

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
      ...(d.api === 'series' ? { machine: d.machine ?? ioasidMachine, events: { GET: 'ioasid_get', FREE: 'ioasid_free' } } : {}),
    },
    // A.4: set->nr_ioasids, counted against the quota.
    ioasid_set: {
      slots: Math.max(1, sets),
      fields: { nr_ioasids: { type: 'counter', max: 3 } },
      ...(d.setObjects ? { machine: setMachine, events: { SET_FREE: 'ioasid_set_free', RECLAIMED: 'ioasid_do_free_locked' } } : {}),
    },
    mm: { slots: 2, fields: {} },
    aux_domain: { slots: 2, fields: {} },
    ...(d.custom ? customKinds : {}),
  };
}

/** A.3: the allocators' registry: each `ioasid_allocator_data` (sharers: its slist), the vIOMMUs' ops, the core's globals, the guests. */
const customKinds: Record<string, KindSpec> = {
  allocator: { slots: 2, fields: { sharers: { type: 'counter', max: 2 } }, machine: allocatorMachine, events: { UNREGISTER: 'ioasid_unregister_allocator' } },
  // Which registered allocator an ops structure is on the slist of.
  ops: { slots: 2, fields: { entry: { type: 'pointer', kind: 'allocator' } } },
  // A.2 `active_allocator`: NULL stands for `&default_allocator`, which is never registered (A.3 rule 1).
  ioasid_core: { slots: 1, fields: { active: { type: 'pointer', kind: 'allocator' } } },
  guest: { slots: 1, fields: {} },
  other_guest: { slots: 1, fields: {} },
};

/**
 * The id spaces: the allocator's XArray, the sets, the private data, and
 * what the core's users keep: `pasids`, each guest's record of the PASIDs it
 * allocated (the allocation's reference), and `bonds`, the devices bound to a
 * PASID (ioasid_get's reference, where the design counts them).
 */
export function ioasidSpaces(d: Design): Record<string, SpaceSpec> {
  const holds = d.api === 'v1' ? {} : { holds: 'refs' };
  // A custom allocator's ids are the host's, which need not lie in the guest's range (003).
  const ids = d.custom ? { ids: hostRange } : {};
  // What exists before the scenario sits at ids of its own: the guests' sets and private data, the vIOMMUs' ops.
  const two = { ids: () => ({ min: 1, max: 2 }) };
  return {
    [XA]: { kind: 'ioasid', lock: LOCK },
    [SETS]: { kind: 'ioasid_set', lock: LOCK, ...two },
    [PRIVATE]: { kind: ['mm', 'aux_domain'], ...two },
    pasids: { kind: 'ioasid', lock: 'pasid_mutex', ...holds, ...ids },
    bonds: { kind: 'ioasid', lock: 'pasid_mutex', ...holds, ...ids },
    ...(d.custom
      ? {
          [CUSTOM_XA]: { kind: 'ioasid', lock: LOCK, ids: hostRange },
          [HOST]: { kind: ['guest', 'other_guest'], ids: hostRange },
          ops_table: { kind: 'ops', lock: LOCK, ...two },
          globals: { kind: 'ioasid_core', ids: () => ({ min: 1, max: 1 }) },
          guests: { kind: ['guest', 'other_guest'], ...two },
        }
      : {}),
  };
}

const lock = step('spin_lock(&ioasid_allocator_lock)', { op: 'mutex_lock', lock: LOCK });
const unlock = step('spin_unlock(&ioasid_allocator_lock)', { op: 'mutex_unlock', lock: LOCK });

/**
 * `data = xa_load(&active_allocator->xa, id)` (A.3: "Every lookup uses only the currently active allocator's
 * XArray"), and what the function does when it finds nothing; `into` the local, `tag` names the labels.
 */
const lookup = (d: Design, tag: string, fail: string, errno?: string, into = 'data'): Item[] => [
  ...onActive(d, tag, [step(`${into} = xa_load(&active_allocator->xa, id)`, { op: 'xa_load', space: CUSTOM_XA, id: 'id', into })], [
    step(`${into} = xa_load(&active_allocator->xa, id)`, { op: 'xa_load', space: XA, id: 'id', into }),
  ]),
  step(`if (!${into})`, { op: 'if_null', ptr: into, ...(errno ? { errno } : {}) }, { fail }),
];

/** Steps on the active allocator: `custom` while one is registered and active, else `fallback`, the default's. */
function onActive(d: Design, tag: string, custom: readonly Item[], fallback: readonly Item[]): Item[] {
  if (!d.custom) return [...fallback];
  return [
    step('a = rcu_dereference(active_allocator)', { op: 'get_link', ptr: 'core', field: 'active', into: 'a' }),
    step('if (a != &default_allocator)', { op: 'if_null', ptr: 'a' }, { fail: `${tag}_default` }),
    ...custom,
    jump(`${tag}_active`),
    label(`${tag}_default`),
    ...fallback,
    label(`${tag}_active`),
  ];
}

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
    // A.2: "active_allocator->ops->free(id, pdata)": a custom allocator's callback runs before the entry leaves the
    // XArray ("for a custom allocator, the core then also calls xa_erase + kfree_rcu"); the default's erases it.
    ...onActive(d, `${tag}_free`, d.custom ? [...vcmdFree(d.custom, `${tag}_vcmd`), step('xa_erase(&active_allocator->xa, data->id)', { op: 'xa_erase', space: CUSTOM_XA, ptr: 'data' })] : [], [
      step('xa_erase(&default_allocator.xa, data->id)', { op: 'xa_erase', space: XA, ptr: 'data' }),
    ]),
    ...reclaim,
    step('kfree_rcu(data, rcu)', { op: 'kfree', ptr: 'data', rcu: true }),
  ];
}

/**
 * A custom allocator's `id = ops->alloc(min, max, pdata)`: VT-d asks the host by virtual command (003), within
 * [min,max] only where the design passes them on; then `xa_alloc(XA_LIMIT(id, id))` into its XArray (A.2).
 */
function customAlloc(c: Custom): Item[] {
  return [
    step('id = vcmd_alloc_pasid(iommu)', { op: 'xa_alloc', space: HOST, ptr: 'guest', into: 'id', ...(c.honoursRange ? { range: 'scenario' as const } : {}) }, { fail: 'exit_free' }),
    step('xa_alloc(&active_allocator->xa, &id, data, XA_LIMIT(id, id))', { op: 'xa_insert', space: CUSTOM_XA, id: 'id', ptr: 'data' }, { fail: 'alloc_taken' }),
  ];
}

/**
 * VT-d's `intel_vcmd_ioasid_free(id, iommu)` (A.3, 003): the host's PASID goes back by virtual command, unless the
 * helper keeps it: while a device is still bound to it (upstream), or while none is (as posted, "Freeing unbond
 * IOASID").
 */
function vcmdFree(c: Custom, tag: string): Item[] {
  // VT-d's private data is the bond's svm: find(NULL, id) is truthy while a device is bound. A bond holds a reference,
  // so the last put (ops->free's only caller) never meets one: upstream's refusal cannot fire; the posted one always does.
  const bound = step('svm = ioasid_find(NULL, id, NULL)', { op: 'xa_load', space: 'bonds', id: 'id', into: 'svm' });
  const keeps =
    c.refusesFree === 'bound'
      ? step('if (svm) return', { op: 'if_set', ptr: 'svm' }, { fail: `${tag}_kept` })
      : step('if (!svm) return -EBUSY', { op: 'if_null', ptr: 'svm' }, { fail: `${tag}_kept` });
  return [bound, keeps, step('vcmd_free_pasid(iommu, id)', { op: 'xa_erase', space: HOST, id: 'id', into: 'host' }), label(`${tag}_kept`)];
}

/**
 * `ioasid_alloc(set, min, max, private)` (000, A.2; dcp's set checks, A.4):
 * the new IOASID's id in `id`, its data in `data` holding the first
 * reference; on failure INVALID_IOASID, to the caller's `fail`.
 */
export function ioasidAlloc(d: Design, fail: string): Item[] {
  const setChecks = d.setObjects
    ? [
        // A.4: "set must be non-NULL and registered (xa_load(&ioasid_sets, set->id) == set)": reading set->id of a set
        // its owner freed is a use after free before the check can say no.
        step('if (!set', { op: 'if_null', ptr: 'set', errno: INVALID }, { fail: 'exit_free' }),
        step('|| xa_load(&ioasid_sets, set->id) != set)', { op: 'xa_load_of', space: SETS, ptr: 'set', into: 'registered' }),
        step('goto exit_free', { op: 'if_null', ptr: 'registered', errno: INVALID }, { fail: 'exit_free' }),
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
    ...onActive(d, 'alloc', d.custom ? customAlloc(d.custom) : [], [
      // A.2: "xa_alloc(XA_LIMIT(min,max)) ... returns the lowest free index >= min".
      step('xa_alloc(&active_allocator->xa, &id, data, XA_LIMIT(min, max))', { op: 'xa_alloc', space: XA, ptr: 'data', into: 'id' }, { fail: 'exit_free' }),
    ]),
    ...(d.setObjects ? [step('set->nr_ioasids++', { op: 'counter', delta: 1, ptr: 'set', field: 'nr_ioasids' })] : []),
    unlock,
    jump('alloc_done'),
    // A.2: "If that second step fails (the slot is already taken), call ops->free(id,pdata) and fail".
    ...(d.custom ? [label('alloc_taken'), ...vcmdFree(d.custom, 'alloc_taken')] : []),
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
      ...lookup(d, 'get', 'get_unknown'),
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
    ...lookup(d, 'get', 'get_refused', '-EINVAL'),
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
    ...lookup(d, tag, `${tag}_refused`),
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
  if (d.api === 'v1') return [lock, ...lookup(d, 'free', 'free_refused'), ...doFree(d, 'free'), unlock, jump('free_done'), label('free_refused'), unlock, jump(refused), label('free_done')];
  return [
    lock,
    // A.4: "Unknown ID: a rate-limited error and nothing else".
    ...lookup(d, 'free', 'free_refused'),
    // A.4: "data->set != set (a strict compare, so NULL is not a wildcard here)": "Cannot free IOASID ... due to set ownership".
    step('if (data->set != set)', { op: 'link_is', ptr: 'data', field: 'set', to: 'set' }, { fail: 'free_refused' }),
    step('if (data->state == IOASID_STATE_FREE_PENDING) return; data->state = IOASID_STATE_FREE_PENDING', { op: 'send', ptr: 'data', event: 'FREE' }, { fail: 'free_refused' }),
    step('if (refcount_dec_and_test(&data->refs))', { op: 'refcount', call: 'refcount_dec_and_test', ptr: 'data', field: 'refs', ...holder }, { zero: 'free_last' }),
    ...notifyFree(d),
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
 * A.4 (dcp) ioasid_free: "If refs is not zero: send IOASID_NOTIFY_FREE to set and global subscribers and return".
 * The subscriber is the driver a device is bound through: its atomic notifier runs here, under the spinlock.
 */
function notifyFree(d: Design): Item[] {
  if (d.notify === 'deferred') return [step('atomic_notifier_call_chain(&set->nh, IOASID_NOTIFY_FREE, data): schedule_work()', { op: 'queue_work', work: 'ioasid_notify_free', ptr: 'data' })];
  if (d.notify !== 'inline') return [];
  // The handler unbinds at once: its ioasid_put takes ioasid_allocator_lock, which ioasid_free holds.
  return [
    step('atomic_notifier_call_chain(&set->nh, IOASID_NOTIFY_FREE, data): bond = bonds[id]', { op: 'xa_erase', space: 'bonds', id: 'id', into: 'bond' }),
    step('if (!bond)', { op: 'if_null', ptr: 'bond' }, { fail: 'notified' }),
    ...ioasidPut(d, { of: 'bond' }, 'notified', 'notify_put'),
    label('notified'),
  ];
}

/** The bound driver's work on IOASID_NOTIFY_FREE: it unbinds the device from the id going away (as unbind does). */
export function notifyFreeWork(d: Design): Item[] {
  return [
    step('mutex_lock(&pasid_mutex)', { op: 'mutex_lock', lock: 'pasid_mutex' }),
    step('bond = the bond of data->id; bonds[id] = NULL', { op: 'xa_erase', space: 'bonds', ptr: 'data', into: 'bond', at: 'id' }),
    step('if (!bond)', { op: 'if_null', ptr: 'bond' }, { fail: 'unbound' }),
    step('set = bond->set', { op: 'get_link', ptr: 'bond', field: 'set', into: 'set' }),
    ...ioasidPut(d, { of: 'bond' }, 'unbound', 'notify_put'),
    label('unbound'),
    step('mutex_unlock(&pasid_mutex)', { op: 'mutex_unlock', lock: 'pasid_mutex' }),
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
    // A.2: "It reads whichever allocator is active now".
    ...lookup(d, 'find', 'find_unlock', '-ENOENT', 'found'),
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
    // A.4: "Set not registered: -EINVAL" (set->id read first).
    step('registered = xa_load(&ioasid_sets, set->id)', { op: 'xa_load_of', space: SETS, ptr: 'set', into: 'registered' }),
    step('if (registered != set) return -EINVAL', { op: 'if_null', ptr: 'registered', errno: '-EINVAL' }, { fail: 'set_free_out' }),
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

/**
 * `ioasid_register_allocator(ops)` (A.3): -EEXIST for ops already on the entry's slist; the same helper pair joins
 * it and shares its XArray; the first custom allocator needs the default XArray empty (-EAGAIN) and is published as
 * the active one at once. `o` names the vIOMMU's ops. Every vIOMMU registers the same helpers (A.3 VT-d use), so the
 * entry with them, if any, is the active one; an ops is on its slist while `ops->entry` is that entry. (The kernel
 * returns -EEXIST only for the entry's first ops; another sharer registered twice corrupts the slist.)
 */
export function registerAllocator(): Item[] {
  return [
    lock,
    step('ops = &viommu[o]->ops', { op: 'xa_load', space: 'ops_table', id: 'o', into: 'ops' }),
    step('pallocator = the entry with the same helpers', { op: 'get_link', ptr: 'core', field: 'active', into: 'e' }),
    step('if (pallocator)', { op: 'if_null', ptr: 'e' }, { fail: 'reg_new' }),
    // A.3: "Same ops pointer: -EEXIST".
    step('if (ops is on pallocator->slist) return -EEXIST', { op: 'link_is', ptr: 'ops', field: 'entry', to: 'e' }, { fail: 'reg_share' }),
    step('return -EEXIST', { op: 'error', errno: '-EEXIST' }, { fail: 'reg_out' }),
    label('reg_share'),
    // A.3: "Same function pair ...: the ops are added to the existing entry's slist, which shares its XArray".
    step('list_add_tail(&ops->list, &pallocator->slist)', { op: 'set_link', ptr: 'ops', field: 'entry', to: 'e' }),
    step('pallocator->slist gains one', { op: 'counter', delta: 1, ptr: 'e', field: 'sharers' }),
    jump('reg_done'),
    label('reg_new'),
    step('if (!xa_empty(&default_allocator.xa))', { op: 'xa_find', space: XA, id: 'any', into: 'busy' }, { fail: 'reg_empty' }),
    step('return -EAGAIN', { op: 'error', errno: '-EAGAIN' }, { fail: 'reg_out' }),
    label('reg_empty'),
    step('ia_data = kzalloc(sizeof(*ia_data), GFP_ATOMIC)', { op: 'alloc', kind: 'allocator', into: 'ia' }, { fail: 'reg_out' }),
    step('xa_init_flags(&ia_data->xa, XA_FLAGS_ALLOC)', { op: 'xa_init', space: CUSTOM_XA }),
    step('list_add(&ops->list, &ia_data->slist)', { op: 'set_link', ptr: 'ops', field: 'entry', to: 'ia' }),
    step('ia_data->slist gains one', { op: 'counter', delta: 1, ptr: 'ia', field: 'sharers' }),
    step('rcu_assign_pointer(active_allocator, ia_data)', { op: 'set_link', ptr: 'core', field: 'active', to: 'ia' }),
    label('reg_done'),
    label('reg_out'),
    unlock,
  ];
}

/**
 * `ioasid_unregister_allocator(ops)` (A.3): the entry is found by helper pair. The last sharer (a singular slist)
 * removes it, whichever ops asks: WARN_ON its XArray not empty ("The IDs are orphaned, not freed"; or -EBUSY where
 * the design refuses), the default allocator is active again, and the entry goes after a grace period. Otherwise
 * this ops, if it is on the slist, leaves it and the ids stay.
 */
export function unregisterAllocator(c: Custom): Item[] {
  const live = (then: string) => step('if (!xa_empty(&pallocator->xa))', { op: 'xa_find', space: CUSTOM_XA, id: 'any', into: 'left' }, { fail: then });
  const check = c.unregisterBusy
    ? [live('unreg_empty'), step('pallocator->sharers + 1', { op: 'counter', delta: 1, ptr: 'e', field: 'sharers' }), step('return -EBUSY', { op: 'error', errno: '-EBUSY' }, { fail: 'unreg_out' })]
    : [live('unreg_empty'), step('WARN_ON(!xa_empty(&pallocator->xa))', { op: 'warn' })];
  return [
    lock,
    step('ops = &viommu[o]->ops', { op: 'xa_load', space: 'ops_table', id: 'o', into: 'ops' }),
    step('pallocator = the entry with the same helpers', { op: 'get_link', ptr: 'core', field: 'active', into: 'e' }),
    // A.2: "With no custom allocators it logs \"No custom IOASID allocators active!\"".
    step('if (!pallocator) return', { op: 'if_null', ptr: 'e' }, { fail: 'unreg_out' }),
    step('pallocator->sharers - 1', { op: 'counter', delta: -1, ptr: 'e', field: 'sharers' }),
    step('if (!list_is_singular(&pallocator->slist))', { op: 'check', ptr: 'e', field: 'sharers', is: 'zero' }, { fail: 'unreg_shared' }),
    ...check,
    label('unreg_empty'),
    step('list_del(&pallocator->list)', { op: 'send', ptr: 'e', event: 'UNREGISTER' }),
    // Queued before the pointer is switched here (the model's pointer to it is borrowed from active_allocator): the
    // same grace period as the kernel's switch, then kfree_rcu.
    step('kfree_rcu(pallocator, rcu)', { op: 'kfree', ptr: 'e', rcu: true }),
    step('rcu_assign_pointer(active_allocator, &default_allocator)', { op: 'set_link', ptr: 'core', field: 'active', to: null }),
    step('ops off the slist', { op: 'set_link', ptr: 'ops', field: 'entry', to: null }),
    jump('unreg_out'),
    label('unreg_shared'),
    step('pallocator->sharers + 1', { op: 'counter', delta: 1, ptr: 'e', field: 'sharers' }),
    // A.3: "Find the custom allocator with matching ops": only an ops on the slist leaves it.
    step('if (ops is on pallocator->slist)', { op: 'link_is', ptr: 'ops', field: 'entry', to: 'e' }, { fail: 'unreg_out' }),
    step('list_del(&sallocator->list)', { op: 'set_link', ptr: 'ops', field: 'entry', to: null }),
    step('pallocator->slist loses one', { op: 'counter', delta: -1, ptr: 'e', field: 'sharers' }),
    label('unreg_out'),
    unlock,
  ];
}
