/**
 * The design alternatives of seeds 000 and 001, each a row of the review
 * matrix, with the verdicts it is expected to have (unnamed properties are
 * expected to hold). A user's own variant is written the same way and passed
 * to `ioasid.variant()`.
 */
import type { Variant } from '../../src/engine/model.ts';
import { seriesMachine, upstreamMachine, v1Machine } from './machines.ts';
import type { IoasidConfig } from './world.ts';

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

export const seriesFindGet: Variant<IoasidConfig> = {
  name: 'series-find-get',
  title: 'ioasid_find takes a reference, dropped after use (the reviewer’s question)',
  source: 'seed 001 (review by Lu Baolu)',
  config: {
    machine: seriesMachine.provide({ guards: { findTakesRef: () => true } }),
    calls: seriesCalls,
    freeRepeatable: true,
  },
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

export const ioasidVariants = [v1, upstreamV511, series, seriesFindGet, seriesFreeEveryCall];
