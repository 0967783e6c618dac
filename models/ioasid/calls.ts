/**
 * What the IOASID core's users do, each call a kernel path over the core's
 * functions (core.ts): a guest allocating and freeing its PASIDs through the
 * virtual command interface (kept in its record, `pasids`), a device bound
 * to a PASID and unbound (`bonds`, under VT-d's `pasid_mutex`), a lookup
 * that uses what it found, a set's owner freeing it, and at the end the
 * guests' exit, which lets go of every record, one release per step.
 *
 * Each thread is a vCPU of a guest: `current` gives its calls the guest's
 * set and private data (an mm, or an aux domain).
 */
import { atomic, call, jump, label, ret, retId, step, type Item, type KitCall, type KitSpec } from 'lifecheck';
import { HOST, idSpace, ioasidAlloc, ioasidFind, ioasidFree, ioasidGet, ioasidPut, ioasidSetFree, PRIVATE, registerAllocator, SETS, unregisterAllocator, type DataType, type Design } from './core.ts';

/** A guest's set (A.4/A.5): its name (null: the NULL set) and the type of the private data its IOASIDs carry. */
export interface SetSpec {
  readonly name: string | null;
  readonly data: DataType;
}

/** A.4 dcp: sets are mm tokens: two guests' address spaces unless a design says otherwise. */
export const guestSets: readonly SetSpec[] = [
  { name: 's1', data: 'mm' },
  { name: 's2', data: 'mm' },
];

/**
 * The set of thread `t`: the last threads take sets[1], sets[2], ... as long
 * as two stay in sets[0], so that two vCPUs always share a guest.
 */
function setIndex(t: number, threads: number, sets: readonly SetSpec[]): number {
  const others = Math.min(sets.length - 1, Math.max(0, threads - 2));
  const k = t - (threads - others);
  return k >= 0 ? k + 1 : 0;
}

/**
 * What `current` gives thread t: its guest's set (registered at id k+1 of ioasid_sets, or NULL) and private data;
 * with custom allocators, also the core's globals and which guest it is (the last thread is the other guest).
 */
export function current(sets: readonly SetSpec[], custom: boolean): NonNullable<KitSpec['current']> {
  return (t, threads) => {
    const k = setIndex(t, threads, sets);
    const own = { set: sets[k]!.name === null ? null : { space: SETS, id: k + 1 }, private: { space: PRIVATE, id: k + 1 } };
    return custom ? { ...own, core: { space: 'globals', id: 1 }, guest: { space: 'guests', id: otherGuest(t) ? 2 : 1 } } : own;
  };
}

/** With custom allocators CPU1 (and CPU4, ...) is the other guest: its role is the second of `customRoles`. */
const otherGuest = (t: number) => t % 3 === 1;

/** The roles with custom allocators: this guest's vCPUs make its calls; the other guest only asks the host for PASIDs and gives them back. */
export function customRoles(calls: Record<string, KitCall>): string[][] {
  const guest = Object.keys(calls).filter((c) => !c.startsWith('other_'));
  return [guest, ['other_vcmd_alloc', 'other_vcmd_free'], guest];
}

/** The vIOMMUs' ops, the core's globals and the guests sharing the host (custom allocators, A.3 and 003). */
const customExist: Item[] = [
  step('ioasid core: active_allocator = &default_allocator', { op: 'alloc', kind: 'ioasid_core', into: 'g' }),
  step('gid = 1', { op: 'let', local: 'gid', to: 1 }),
  step('globals', { op: 'xa_store', space: 'globals', id: 'gid', ptr: 'g' }),
  ...[1, 2].flatMap((n): Item[] => [
    step(`viommu${n - 1}->ops = intel_vcmd_allocator`, { op: 'alloc', kind: 'ops', into: 'o' }),
    step(n === 1 ? 'this guest' : 'another guest', { op: 'alloc', kind: n === 1 ? 'guest' : 'other_guest', into: 'gu' }),
    step(`n = ${n}`, { op: 'let', local: 'n', to: n }),
    step('ops_table[n] = ops', { op: 'xa_store', space: 'ops_table', id: 'n', ptr: 'o' }),
    step('guests[n] = guest', { op: 'xa_store', space: 'guests', id: 'n', ptr: 'gu' }),
  ]),
];

/** Before the scenario: each guest's set (DECLARE_IOASID_SET, or dcp's ioasid_set_alloc) and private data. */
export function guestsExist(sets: readonly SetSpec[], custom = false): KitCall {
  return call('guests_start', {}, [
    ...(custom ? customExist : []),
    ...sets.flatMap((s, k): Item[] => [
      ...(s.name === null
        ? []
        : [
            step(`${s.name} = ioasid_set_alloc(mm, quota, type)`, { op: 'alloc', kind: 'ioasid_set', into: 's' }),
            step(`sid = ${k + 1}`, { op: 'let', local: 'sid', to: k + 1 }),
            step(`xa_store(&ioasid_sets, ${s.name}->id, ${s.name})`, { op: 'xa_store', space: SETS, id: 'sid', ptr: 's' }),
          ]),
      step(`private = ${s.data === 'mm' ? 'current->mm' : 'aux domain'}`, { op: 'alloc', kind: s.data, into: 'p' }),
      step(`pid = ${k + 1}`, { op: 'let', local: 'pid', to: k + 1 }),
      step('xa_store(&private_data, pid, private)', { op: 'xa_store', space: PRIVATE, id: 'pid', ptr: 'p' }),
    ]),
  ]);
}

const lock = step('mutex_lock(&pasid_mutex)', { op: 'mutex_lock', lock: 'pasid_mutex' });
const unlock = step('mutex_unlock(&pasid_mutex)', { op: 'mutex_unlock', lock: 'pasid_mutex' });

/** How a design's function reads in a trace: the series' takes the set (`ioasid_put(set, id)`), v5.11's and 000's only the id. */
const fn = (d: Design, name: string, set = 'set') => (d.api === 'series' ? `${name}(${set}, id)` : `${name}(id)`);
/** The owner's free: `ioasid_free`, or v5.11's put (it has no free). */
const freeFn = (d: Design, set?: string) => fn(d, d.api === 'v5.11' ? 'ioasid_put' : 'ioasid_free', set);

/** `local = table[id]`: a record of the core's users, read under pasid_mutex. */
const record = (table: string, local: string) => step(`${local} = ${table}[id]`, { op: 'xa_load', space: table, id: 'id', into: local });

/** The calls of a design, keyed by name. */
export function ioasidCalls(d: Design): Record<string, KitCall> {
  const custom = d.custom ? [register(), unregister(d), otherAlloc(), otherFree()] : [];
  const calls = [alloc(d), free(d), bind(d), unbind(d), find(d), ...(d.setObjects ? [setFree()] : []), ...custom];
  return Object.fromEntries(calls.map((c) => [c.name, c]));
}

/** A guest asks for a PASID (vcmd): ioasid_alloc, and the guest's record keeps the id with the allocation's reference. */
function alloc(d: Design): KitCall {
  return call(
    'alloc',
    {},
    atomic(
      'ioasid_alloc(set, min, max, private)',
      [lock, ...ioasidAlloc(d, 'alloc_failed'), step('pasids[id] = data', { op: 'xa_store', space: 'pasids', id: 'id', ptr: 'data' }), unlock, retId('id', idSpace(d)), label('alloc_failed'), unlock, ret('errno')],
      'data',
    ),
  );
}

/**
 * A guest frees a PASID (vcmd): ioasid_free, dropping its record's
 * reference. The series lets a guest free again (001: "can be called
 * multiple times without error"); where free is a plain put (v5.11) or an
 * erase (000), freeing what the guest does not hold is its own bug, so it
 * frees only what its record holds.
 */
function free(d: Design): KitCall {
  const ownRecord: Item[] =
    d.api === 'series'
      ? []
      : [
          record('pasids', 'rec'),
          step('if (!rec', { op: 'if_null', ptr: 'rec', errno: '-EINVAL' }, { fail: 'not_mine' }),
          step('|| rec->set != set) return -EINVAL', { op: 'link_is', ptr: 'rec', field: 'set', to: 'set', errno: '-EINVAL' }, { fail: 'not_mine' }),
        ];
  return call(
    'free',
    { id: idSpace(d) },
    atomic(freeFn(d), [
      lock,
      ...ownRecord,
      ...ioasidFree(d, { for: 'pasids' }, 'free_out'),
      step('pasids[id] = NULL', { op: 'xa_erase', space: 'pasids', id: 'id', into: 'rec' }),
      label('free_out'),
      unlock,
      // ioasid_free is void (ioasid_put's false tells its caller nothing it must act on).
      ret(0),
      label('not_mine'),
      unlock,
      ret('errno'),
    ]),
  );
}

/** A device is bound to a PASID (intel_svm_bind_gpasid): ioasid_get, its reference kept in the bond; 000 only finds it. */
function bind(d: Design): KitCall {
  const store = step('bonds[id] = data', { op: 'xa_store', space: 'bonds', id: 'id', ptr: d.api === 'v1' ? 'found' : 'data' });
  const body = d.api === 'v1' ? ioasidFind(d, 'bind_out', [store]) : [...ioasidGet(d, 'bind_out'), store];
  return call(
    'bind',
    { id: idSpace(d) },
    atomic(d.api === 'v1' ? 'ioasid_find(set, id, NULL)' : fn(d, 'ioasid_get'), [
      lock,
      record('bonds', 'bond'),
      step('if (bond) return -EBUSY', { op: 'if_set', ptr: 'bond', errno: '-EBUSY' }, { fail: 'bind_out' }),
      ...body,
      unlock,
      ret(0),
      label('bind_out'),
      unlock,
      ret('errno'),
    ]),
  );
}

/**
 * The device is unbound, then ioasid_put drops the reference its bond held (the last put frees the IOASID):
 * 001's order, where a device lets go before the put. Only the bond's own guest unbinds it.
 */
function unbind(d: Design): KitCall {
  const owner = d.api === 'series' ? [step('if (bond->set != set) return -EINVAL', { op: 'link_is', ptr: 'bond', field: 'set', to: 'set', errno: '-EINVAL' }, { fail: 'unbind_out' })] : [];
  return call(
    'unbind',
    { id: idSpace(d) },
    atomic(d.api === 'v1' ? 'bonds[id] = NULL' : fn(d, 'ioasid_put'), [
      lock,
      record('bonds', 'bond'),
      step('if (!bond) return -EINVAL', { op: 'if_null', ptr: 'bond', errno: '-EINVAL' }, { fail: 'unbind_out' }),
      ...owner,
      step('bonds[id] = NULL', { op: 'xa_erase', space: 'bonds', id: 'id', into: 'bond' }),
      ...(d.api === 'v1' ? [] : ioasidPut(d, { of: 'bond' }, 'unbind_out')),
      label('unbind_out'),
      unlock,
      ret('errno'),
    ]),
  );
}

/**
 * A lookup (a page request's PASID): ioasid_find, then the caller uses the
 * IOASID and its private data as its own type; where find takes a
 * reference, the caller puts it after use (001 review).
 */
function find(d: Design): KitCall {
  // A.2: "A NULL set means no ownership check (global search)"; what it found, it puts with the same NULL set.
  const global = d.findWithNull ? [step('set = NULL', { op: 'let', local: 'set', to: null })] : [];
  return call('find', { id: idSpace(d) }, [
    ...atomic(d.findWithNull ? 'ioasid_find(NULL, id, NULL)' : 'ioasid_find(set, id, NULL)', [...global, ...ioasidFind(d, 'find_out')], 'found'),
    ...atomic('use(found, priv)', [
      // 001 review: "Otherwise, the ioasid might be freed elsewhere."
      step('use(found)', { op: 'use', ptr: 'found' }),
      // A.5: the caller takes the private data for its own type (an mm for SVA).
      step('use(priv)', { op: 'use', ptr: 'priv', like: 'private' }),
    ]),
    ...(d.findTakesRef ? atomic(d.findWithNull ? 'ioasid_put(NULL, id)' : 'ioasid_put(set, id)', ioasidPut(d, { of: 'found' }, 'find_put')) : []),
    label('find_put'),
    ret(0),
    label('find_out'),
    ret('errno'),
  ]);
}

/** A vIOMMU registers its ops (A.3: VT-d in a guest, once per vIOMMU, the same helpers). */
function register(): KitCall {
  return call('register', { o: 'ops_table' }, atomic('ioasid_register_allocator(ops)', [...registerAllocator(), ret('errno')]));
}

/** A vIOMMU unregisters its ops (A.3). */
function unregister(d: Design): KitCall {
  return call('unregister', { o: 'ops_table' }, atomic('ioasid_unregister_allocator(ops)', [...unregisterAllocator(d.custom!), ret('errno')]));
}

/** 003: "several guests share the host's system-wide namespace": another guest asks the host for a PASID. */
function otherAlloc(): KitCall {
  return call('other_vcmd_alloc', {}, atomic('vcmd_alloc_pasid()', [step('host: xa_alloc(&host_pasids, &id, guest)', { op: 'xa_alloc', space: HOST, ptr: 'guest', into: 'id' }), retId('id', HOST)]));
}

/** The other guest gives one of its PASIDs back. */
function otherFree(): KitCall {
  return call(
    'other_vcmd_free',
    { id: HOST },
    atomic('vcmd_free_pasid(id)', [
      // The host hands back only the guest's own PASIDs.
      step('if (host_pasids[id] != guest) return -EINVAL', { op: 'xa_load', space: HOST, id: 'id', into: 'g', kind: 'other_guest' }),
      step('if (!g)', { op: 'if_null', ptr: 'g', errno: '-EINVAL' }),
      step('xa_erase(&host_pasids, id)', { op: 'xa_erase', space: HOST, id: 'id', into: 'g' }),
      ret(0),
    ]),
  );
}

/** A guest's owner frees its set (A.4 dcp ioasid_set_free). */
function setFree(): KitCall {
  return call('set_free', {}, atomic('ioasid_set_free(set)', [...ioasidSetFree(), ret('errno')]));
}

/**
 * The guests exit: every bond is unbound and every PASID freed, each with
 * the set it belongs to, one release per step (the teardown of each guest's
 * devices and address space).
 */
export function guestsExit(d: Design): KitCall {
  return call('guests_exit', {}, [
    lock,
    label('next_bond'),
    step('bond = xa_find(&bonds, &id)', { op: 'xa_find', space: 'bonds', id: 'id', into: 'bond' }, { fail: 'next_pasid' }),
    ...atomic(d.api === 'v1' ? 'bonds[id] = NULL' : fn(d, 'ioasid_put', 'bond->set'), [
      step('set = bond->set', { op: 'get_link', ptr: 'bond', field: 'set', into: 'set' }),
      step('bonds[id] = NULL', { op: 'xa_erase', space: 'bonds', id: 'id', into: 'bond' }),
      ...(d.api === 'v1' ? [] : ioasidPut(d, { of: 'bond' }, 'bond_gone', 'exit_put')),
      label('bond_gone'),
    ]),
    jump('next_bond'),
    label('next_pasid'),
    step('rec = xa_find(&pasids, &id)', { op: 'xa_find', space: 'pasids', id: 'id', into: 'rec' }, { fail: 'exited' }),
    ...atomic(freeFn(d, 'rec->set'), [
      step('set = rec->set', { op: 'get_link', ptr: 'rec', field: 'set', into: 'set' }),
      ...ioasidFree(d, { for: 'pasids' }, 'pasid_gone'),
      label('pasid_gone'),
      step('pasids[id] = NULL', { op: 'xa_erase', space: 'pasids', id: 'id', into: 'rec' }),
    ]),
    jump('next_pasid'),
    label('exited'),
    unlock,
    ret(0),
  ]);
}
