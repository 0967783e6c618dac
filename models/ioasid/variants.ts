/**
 * The design alternatives of seeds 000, 001 and 004, each a kit spec and a
 * row of the review matrix, with the verdicts the exhaustive search finds at
 * the default bounds (unnamed properties hold). A user's variant is written
 * the same way: `ioasidSpec({ ...design, ... })`, or a spec with a call changed.
 */
import { atomic, call, ret, type KitWorld, type Model, type Variant } from 'lifecheck';
import { current, customRoles, guestSets, guestsExist, guestsExit, ioasidCalls, type SetSpec } from './calls.ts';
import { ioasidKinds, ioasidSpaces, LOCK, notifyFreeWork, type Custom, type Design } from './core.ts';
import { ioasidMachine } from './lifecycles.ts';
import type { IoasidSpec } from './properties.ts';

/** A design of the core, used by guests with `sets` (two mm guests by default). */
export function ioasidSpec(design: Design, sets: readonly SetSpec[] = guestSets): IoasidSpec {
  return {
    kinds: ioasidKinds(design, sets.filter((s) => s.name !== null).length),
    spaces: ioasidSpaces(design),
    locks: [LOCK, 'pasid_mutex'],
    setup: guestsExist(sets, design.custom !== undefined),
    calls: ioasidCalls(design),
    ...(design.custom ? { roles: customRoles(ioasidCalls(design)) } : {}),
    exit: guestsExit(design),
    ...(design.notify === 'deferred' ? { works: { ioasid_notify_free: call('ioasid_notify_free', {}, atomic('the driver unbinds on IOASID_NOTIFY_FREE', [...notifyFreeWork(design), ret(0)])) } } : {}),
    current: current(sets, design.custom !== undefined),
    // A guest's vCPUs share its PASIDs: one freeing what another allocated, and the id handed out again, is the
    // guest's own business. An id reused under a user that still holds it is no-reuse-while-referenced's.
    off: ['no-stale-id'],
    design,
    sets,
  };
}

/** Seed 001 as posted, and with ioasid_find taking a reference: the designs patches start from. */
export const seriesDesign: Design = { api: 'series', machine: ioasidMachine };
export const findGetDesign: Design = { ...seriesDesign, findTakesRef: true };

export const ioasidVariants = (model: Model<KitWorld, IoasidSpec>): readonly Variant<IoasidSpec>[] => [
  model.variant({
    name: 'v1',
    title: 'no refcounts: ioasid_free erases the id at once',
    source: 'seed 000',
    config: ioasidSpec({ api: 'v1' }),
    expect: {
      // 000: the id goes back to the pool under a device still bound to it, and a lookup's pointer outlives it.
      'no-reuse-while-referenced': 'violated',
      'no-use-after-free': 'violated',
      'no-use-after-protection': 'violated',
    },
  }),
  model.variant({
    name: 'upstream-v5.11',
    title: 'void ioasid_get, bool ioasid_put frees at zero, no pending state, no set checks',
    source: 'kernel-semantics A.2 (cb4789b0d19f)',
    config: ioasidSpec({ api: 'v5.11' }),
    expect: {
      // A.2: "the IOASID may be freed once ioasid_find() returns" (JPB): its caller's use is unprotected.
      'no-use-after-free': 'violated',
      'no-use-after-protection': 'violated',
      // A.2: get and put take no set, and JPB's get expects a caller "already holding" a reference. The host serves
      // its guests' requests, and a guest names the PASID it binds: another guest's is reached, an unknown one hits
      // WARN_ON(1) (a guest-triggered WARN).
      'set-isolation': 'violated',
      'no-warn': 'violated',
    },
  }),
  model.variant({
    name: 'series',
    title: 'refcounts with FREE_PENDING as posted; ioasid_find takes no reference',
    source: 'seed 001',
    config: ioasidSpec(seriesDesign),
    expect: {
      // 001 review: "Do you need to increase the refcount of the found ioasid ...? Otherwise, the ioasid might be freed elsewhere."
      'no-use-after-free': 'violated',
      'no-use-after-protection': 'violated',
    },
  }),
  model.variant({
    name: 'series-find-get',
    title: 'ioasid_find takes a reference, dropped after use (the reviewer’s question)',
    source: 'seed 001 (review by Lu Baolu)',
    config: ioasidSpec(findGetDesign),
    expect: {},
  }),
  model.variant({
    name: 'series-free-every-call',
    title: 'each ioasid_free call drops a reference (the other reading of 001)',
    source: 'seed 001 ("can be called multiple times without error until all refs are dropped")',
    config: ioasidSpec({ ...findGetDesign, machine: ioasidMachine.provide({ guards: { freeDropsEveryCall: () => true } }) }),
    expect: {
      // A second ioasid_free drops a reference its caller no longer has: the bond's, and the IOASID goes under it.
      'no-free-while-referenced': 'violated',
      'no-reuse-while-referenced': 'violated',
      'no-use-after-protection': 'violated',
      'no-use-after-free': 'violated',
    },
  }),
  model.variant({
    name: 'null-set-global',
    title: 'the NULL set is allowed: a global pool for aux domains and a global ioasid_find',
    source: 'design.md (seed 004); kernel-semantics A.5 (yiliu1765: NULL set means the global pool)',
    config: ioasidSpec({ ...findGetDesign, findWithNull: true }, [
      { name: 's1', data: 'mm' },
      { name: null, data: 'aux_domain' },
    ]),
    expect: {
      // 004: "a global (NULL-set) search can hand back private data of an unexpected type".
      'no-type-confusion': 'violated',
      'set-isolation': 'violated',
    },
  }),
  model.variant({
    name: 'set-mandatory',
    title: 'every call names a set (one per private-data type, quota 1, freed with its last id)',
    source: 'design.md (seed 004); kernel-semantics A.4 (dcp: set must be non-NULL, quota, ioasid_set_free)',
    config: ioasidSpec({ ...findGetDesign, setObjects: true, nullSetRefused: true }, [
      { name: 's1', data: 'mm' },
      { name: 'aux', data: 'aux_domain' },
    ]),
    expect: {
      // A.4 ioasid_set_free returns -EBUSY *and* marks the set free-pending: a caller that reads -EBUSY as
      // "nothing happened" is wrong about its set.
      'failed-call-changes-nothing': 'violated',
      // A guest's vCPU still passes the set another freed: ioasid_alloc's "registered" check reads set->id first.
      'no-use-after-free': 'violated',
    },
  }),
  model.variant({
    name: 'series-notify',
    title: 'ioasid_free with references left notifies the set’s subscribers; the bound driver unbinds from a work item',
    source: 'kernel-semantics A.4 (dcp: IOASID_NOTIFY_FREE to set subscribers); seed 001 ("the IOASID will be returned to the pool" at the last put)',
    config: ioasidSpec({ ...findGetDesign, notify: 'deferred' }),
    expect: {},
  }),
  model.variant({
    name: 'series-notify-inline',
    title: 'the bound driver unbinds from the FREE notifier itself, under ioasid_allocator_lock',
    source: 'kernel-semantics A.4 (dcp: atomic notifier chain called under the spinlock)',
    config: ioasidSpec({ ...findGetDesign, notify: 'inline' }),
    // Its ioasid_put takes ioasid_allocator_lock, which ioasid_free holds around the notifier: the CPU spins for ever.
    expect: { 'no-deadlock': 'violated', 'nothing-leaked-at-quiescence': 'violated' },
  }),
  ...customVariants(model),
];

/**
 * Unregistering the last sharer with live ids orphans them (A.3: WARN_ON, "The IDs are orphaned, not freed"): they
 * stay live with their references, lookups and puts miss them, their holders' records hold an id the default
 * allocator hands out again, re-registering starts an empty XArray (kmemleak), and their host PASIDs never go back.
 */
const orphaning = {
  'no-warn': 'violated',
  'allocated-ids-stay-findable': 'violated',
  'find-works-until-last-put': 'violated',
  'no-overwritten-entry': 'violated',
  'refcount-matches-holders': 'violated',
  'no-lost-host-ids': 'violated',
  'nothing-leaked': 'violated',
  'nothing-leaked-at-quiescence': 'violated',
} as const;

/** 003/A.3: custom allocators on the design that keeps every seed-001 property, so each row shows only what the allocator breaks; one guest (two vCPUs) beside another guest sharing the host's PASIDs. */
const customSpec = (custom: Custom) => ioasidSpec({ ...findGetDesign, custom }, [{ name: 's1', data: 'mm' }]);

const customVariants = (model: Model<KitWorld, IoasidSpec>): Variant<IoasidSpec>[] => [
  model.variant({
    name: 'custom-honours-range',
    title: 'guest vcmd allocator asks the host for an id within [min,max]; unregister with live ids warns',
    source: 'seed 003 (the reviewer’s "How does this honor min/max?"); kernel-semantics A.3',
    config: customSpec({ honoursRange: true, refusesFree: 'bound' }),
    expect: orphaning,
  }),
  model.variant({
    name: 'custom-ignores-range',
    title: 'guest vcmd allocator as posted: any host id, whatever [min,max]; its free refuses unbound ids',
    source: 'seed 003 (intel_ioasid_alloc ignores min/max; intel_ioasid_free: "Freeing unbond IOASID" -EBUSY)',
    config: customSpec({ honoursRange: false, refusesFree: 'unbound' }),
    // 003: the host hands out ids past max, and the posted free keeps every id no device is bound to.
    expect: { ...orphaning, 'ids-in-range': 'violated' },
  }),
  model.variant({
    name: 'custom-unregister-busy',
    title: 'unregistering an allocator whose table has live ids fails with -EBUSY instead of orphaning them',
    source: 'kernel-semantics A.3 (rule 3: "all its outstanding IDs must already have been freed")',
    config: customSpec({ honoursRange: true, refusesFree: 'bound', unregisterBusy: true }),
    expect: {},
  }),
];
