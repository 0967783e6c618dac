/**
 * The design alternatives of seeds 000, 001, 003 and 004, each a row of the review
 * matrix, with the verdicts it is expected to have (unnamed properties are
 * expected to hold). A user's own variant is written the same way and passed
 * to `ioasid.variant()`.
 */
import type { Variant } from 'lifecheck';
import { registryMachine } from './allocators.ts';
import { seriesMachine, upstreamMachine, v1Machine } from './machines.ts';
import { setMachine } from './sets.ts';
import type { CustomAllocators, IoasidConfig, SetSpec } from './world.ts';

/** The posted series' calls (001): every call takes the caller's set. */
export const seriesCalls: IoasidConfig['calls'] = {
  alloc: { fn: 'ioasid_alloc', set: true },
  free: { fn: 'ioasid_free', set: true },
  find: { fn: 'ioasid_find', set: true },
  get: { fn: 'ioasid_get', set: true },
  put: { fn: 'ioasid_put', set: true },
};

export const v1: Variant<IoasidConfig> = {
  name: 'v1',
  title: 'no refcounts: ioasid_free erases the id at once',
  source: 'seed 000',
  config: {
    machine: v1Machine,
    // 000: ioasid_free(ioasid_t) takes no set; a second user has no reference to take.
    calls: { alloc: seriesCalls.alloc, free: { fn: 'ioasid_free', set: false }, find: seriesCalls.find },
    freeRepeatable: false,
  },
  expect: { 'no-reuse-while-referenced': 'violated', 'no-use-after-free': 'violated' },
};

export const upstreamV511: Variant<IoasidConfig> = {
  name: 'upstream-v5.11',
  title: 'void ioasid_get, bool ioasid_put frees at zero, no pending state',
  source: 'kernel-semantics A.2 (cb4789b0d19f)',
  config: {
    machine: upstreamMachine,
    // A.2: get/put take only the id; the owner frees with ioasid_put.
    calls: {
      alloc: seriesCalls.alloc,
      free: { fn: 'ioasid_put', set: false },
      find: seriesCalls.find,
      get: { fn: 'ioasid_get', set: false },
      put: { fn: 'ioasid_put', set: false },
    },
    freeRepeatable: false,
  },
  expect: { 'no-use-after-free': 'violated', 'set-isolation': 'violated' },
};

export const series: Variant<IoasidConfig> = {
  name: 'series',
  title: 'refcounts with FREE_PENDING as posted; ioasid_find takes no reference',
  source: 'seed 001',
  config: { machine: seriesMachine, calls: seriesCalls, freeRepeatable: true },
  expect: { 'no-use-after-free': 'violated' },
};

/** The series with ioasid_find taking a reference: the design that keeps every seed-001 property. */
const findGetConfig: IoasidConfig = {
  machine: seriesMachine.provide({ guards: { findTakesRef: () => true } }),
  calls: seriesCalls,
  freeRepeatable: true,
};

export const seriesFindGet: Variant<IoasidConfig> = {
  name: 'series-find-get',
  title: 'ioasid_find takes a reference, dropped after use (the reviewer’s question)',
  source: 'seed 001 (review by Lu Baolu)',
  config: findGetConfig,
  expect: {},
};

export const seriesFreeEveryCall: Variant<IoasidConfig> = {
  name: 'series-free-every-call',
  title: 'each ioasid_free call drops a reference (the other reading of 001)',
  source: 'seed 001 ("can be called multiple times without error until all refs are dropped")',
  config: {
    machine: seriesMachine.provide({ guards: { freeDropsEveryCall: () => true } }),
    calls: seriesCalls,
    freeRepeatable: true,
  },
  // It also drops other holders' references below their count
  // (refcount-matches-holders) and loses ids under their holders
  // (find-works-until-last-put), but only 5 to 7 steps deep on one CPU:
  // beyond what random schedules reach at the default bounds.
  expect: { 'no-reuse-while-referenced': 'violated', 'no-use-after-free': 'violated' },
};

// ---------------------------------------------------------------------------
// Custom allocators (003, A.3), on the series-find-get design so that each row
// shows only what the allocator design breaks.

/** 003/A.3: VT-d registers the same vcmd helpers once per vIOMMU, so both share one table. */
const vIommus: CustomAllocators['ops'] = [
  { name: 'viommu0', helpers: 'vcmd' },
  { name: 'viommu1', helpers: 'vcmd' },
];

/** A.3 (upstream intel_vcmd_ioasid_free): "refuses to free when ioasid_find(NULL,id,NULL) is truthy". */
const refusesBound = (bound: boolean) => bound;

/**
 * Unregistering with live ids orphans them: they stay live with their refs,
 * and their holders' puts miss them. Their frees also land on whatever the
 * new table holds under the same id (no-reuse-while-referenced), but 5 to 6
 * steps deep among four actors: random schedules need 10k to 30k runs for it.
 */
const orphaning = {
  'allocated-ids-stay-findable': 'violated',
  'refcount-matches-holders': 'violated',
  'nothing-leaked-at-quiescence': 'violated',
} as const;

export const customHonoursRange: Variant<IoasidConfig> = {
  name: 'custom-honours-range',
  title: 'guest vcmd allocator asks the host for an id within [min,max]; unregister with live ids warns',
  source: 'seed 003 (the reviewer’s "How does this honor min/max?"); kernel-semantics A.3',
  config: {
    ...findGetConfig,
    custom: { ops: vIommus, registry: registryMachine, vcmd: { honoursRange: true, refusesFree: refusesBound } },
  },
  expect: orphaning,
};

export const customIgnoresRange: Variant<IoasidConfig> = {
  name: 'custom-ignores-range',
  title: 'guest vcmd allocator as posted: any host id, whatever [min,max]; its free refuses unbound ids',
  source: 'seed 003 (intel_ioasid_alloc ignores min/max; intel_ioasid_free: "Freeing unbond IOASID" -EBUSY)',
  config: {
    ...findGetConfig,
    custom: {
      ops: vIommus,
      registry: registryMachine,
      // 003: "svm = ioasid_find(NULL, ioasid, NULL); if (!svm) ... return -EBUSY".
      vcmd: { honoursRange: false, refusesFree: (bound) => !bound },
    },
  },
  expect: { ...orphaning, 'ids-in-range': 'violated', 'no-lost-host-ids': 'violated' },
};

export const customUnregisterBusy: Variant<IoasidConfig> = {
  name: 'custom-unregister-busy',
  title: 'unregistering an allocator whose table has live ids fails with -EBUSY instead of orphaning them',
  source: 'kernel-semantics A.3 (rule 3: "all its outstanding IDs must already have been freed")',
  config: {
    ...findGetConfig,
    custom: {
      ops: vIommus,
      registry: registryMachine.provide({ guards: { refusesLiveIds: () => true } }),
      vcmd: { honoursRange: true, refusesFree: refusesBound },
    },
  },
  expect: {},
};

// ---------------------------------------------------------------------------
// Sets (004, A.4, A.5): an SVA user whose ids carry an mm, and an aux-domain
// user whose ids carry a domain.

export const nullSetGlobal: Variant<IoasidConfig> = {
  name: 'null-set-global',
  title: 'the NULL set is allowed: a global pool for aux domains and a global ioasid_find',
  source: 'design.md (seed 004); kernel-semantics A.5 (yiliu1765: NULL set means the global pool)',
  config: {
    ...findGetConfig,
    sets: [
      { name: 's1', data: 'mm' },
      { name: null, data: 'aux-domain' },
    ],
    // A.2: ioasid_find(NULL, id, getter): "A NULL set means no ownership check (global search)".
    calls: { ...seriesCalls, find: { fn: 'ioasid_find', set: 'NULL' } },
  },
  expect: { 'no-type-confusion': 'violated', 'set-isolation': 'violated' },
};

/** 004: a set per private-data type, so a caller only ever finds its own type. */
const typedSets: readonly SetSpec[] = [
  { name: 's1', data: 'mm' },
  { name: 'aux', data: 'aux-domain' },
];

export const setMandatory: Variant<IoasidConfig> = {
  name: 'set-mandatory',
  title: 'every call names a set (one per private-data type, quota 1, freed with its last id); NULL is refused',
  source: 'design.md (seed 004); kernel-semantics A.4 (dcp: set must be non-NULL, quota, ioasid_set_free)',
  config: {
    ...findGetConfig,
    machine: seriesMachine.provide({
      guards: { findTakesRef: () => true, nullSetRefused: ({ event }) => event.set === null },
    }),
    sets: typedSets,
    // A.4 ioasid_set_alloc(token, quota, type): here each set may hold one id.
    setLifecycle: setMachine(1),
  },
  // A.4 ioasid_set_free returns -EBUSY *and* marks the set free-pending: a
  // caller that reads -EBUSY as "nothing happened" is wrong about its set.
  expect: { 'rejected-call-changes-nothing': 'violated' },
};

export const ioasidVariants = [
  v1,
  upstreamV511,
  series,
  seriesFindGet,
  seriesFreeEveryCall,
  customHonoursRange,
  customIgnoresRange,
  customUnregisterBusy,
  nullSetGlobal,
  setMandatory,
];
