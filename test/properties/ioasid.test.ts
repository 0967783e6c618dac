/**
 * Every property, with a design that breaks it and one that keeps it, both
 * found by the random explorer itself (fixed seeds). Breaking designs are the
 * built-in variants where one does, else a user-style patch (fixtures).
 */
import { describe, expect, it } from 'vitest';
import { checkVariant, walk, type AnyVariant } from 'lifecheck';
import { ioasid } from 'lifecheck/models';
import { describeBreaksAndKeeps, verdict, type PropertyCase } from '../helpers/properties.ts';
import {
  allocIgnoresMax,
  eexistStillLinks,
  getIgnoresPending,
  getIncBeforeCheck,
  pendingPutLeaks,
  quotaOffByOne,
  registerIgnoresLiveIds,
  setFreeIgnoresMembers,
} from '../fixtures/patches.ts';
import { variantOf } from '../helpers/variants.ts';

const variant = (name: string) => variantOf(ioasid, name);
const defaults = ioasid.defaults;

const cases: PropertyCase[] = [
  ['no-reuse-while-referenced', variant('v1'), defaults, variant('series')],
  ['no-use-after-free', variant('series'), defaults, variant('series-find-get')],
  ['refcount-matches-holders', getIncBeforeCheck, defaults, variant('series')],
  ['get-fails-on-free-pending', getIgnoresPending, defaults, variant('series')],
  ['ids-in-range', allocIgnoresMax, defaults, variant('series')],
  ['set-isolation', variant('upstream-v5.11'), defaults, variant('series')],
  ['rejected-call-changes-nothing', getIncBeforeCheck, defaults, variant('series')],
  ['nothing-leaked-at-quiescence', pendingPutLeaks, defaults, variant('series')],
  // Seeds 003 and 004: allocators and sets.
  ['ids-in-range', variant('custom-ignores-range'), defaults, variant('custom-honours-range')],
  ['no-lost-host-ids', variant('custom-ignores-range'), defaults, variant('custom-honours-range')],
  ['allocated-ids-stay-findable', variant('custom-honours-range'), defaults, variant('custom-unregister-busy')],
  ['allocated-ids-stay-findable', registerIgnoresLiveIds, defaults, variant('custom-unregister-busy')],
  ['rejected-call-changes-nothing', eexistStillLinks, defaults, variant('custom-unregister-busy')],
  ['no-type-confusion', variant('null-set-global'), defaults, variant('set-mandatory')],
  ['set-isolation', variant('null-set-global'), defaults, variant('set-mandatory')],
  ['set-quota-respected', quotaOffByOne, defaults, variant('set-mandatory')],
  ['set-freed-with-last-member', setFreeIgnoresMembers, defaults, variant('set-mandatory')],
  // A.4: ioasid_set_free's -EBUSY marks the set free-pending.
  ['rejected-call-changes-nothing', variant('set-mandatory'), defaults, variant('series-find-get')],
  // Deeper on one CPU: alloc, get, get, free, free leaves refs=1 with two references held.
  ['refcount-matches-holders', variant('series-free-every-call'), { ...defaults, threads: 2, ops: 5, ids: { min: 1, max: 1 } }, variant('series')],
];

describeBreaksAndKeeps(cases);

describe('find-works-until-last-put', () => {
  // Five steps on one CPU, deeper than random schedules reach at these bounds:
  // the trace is scripted, the verdict is the property's own.
  const script = ['alloc', 'get', 'free', 'free', 'find'];
  const run = (v: AnyVariant) =>
    walk(
      v.model.system(v.config, { threads: 1, ops: 5, ids: { min: 1, max: 1 } }),
      ioasid.properties.filter((p) => p.id === 'find-works-until-last-put'),
      (enabled, _w, depth) => enabled.find((s) => s.op === script[depth] && s.args[0] !== 'ENOMEM'),
      { stopAtViolation: false },
    );

  it('is broken by series-free-every-call: the second free loses the id under its holder', async () => {
    const r = run(variant('series-free-every-call'));
    expect(r.trace.steps.map((s) => s.reply.text)).toEqual(['1', '0', 'free-pending', 'freed', '-ENOENT']);
    expect(r.violations).toEqual([
      { property: 'find-works-until-last-put', at: 5, message: 'CPU0 holds 1#1 (get) but ioasid_find gave -ENOENT' },
    ]);
  });

  it('is kept by series on the same script (the second free is a no-op)', async () => {
    const r = run(variant('series'));
    expect(r.trace.steps.map((s) => s.reply.text)).toEqual(['1', '0', 'free-pending', 'no-op', 'found']);
    expect(r.violations).toEqual([]);
  });

  it('is kept by series at random', async () => {
    expect((await verdict(variant('series'), 'find-works-until-last-put', defaults, 3_000)).actual).toBe('holds');
  });
});

describe('not applicable', () => {
  it('leaves refcount and custom-allocator properties out of designs without them', async () => {
    const report = await checkVariant(variant('v1'), { bounds: defaults, runs: 100, seed: 1 });
    const na = report.verdicts.filter((v) => v.actual === 'n/a').map((v) => v.property);
    expect(na).toEqual([
      'refcount-matches-holders',
      'get-fails-on-free-pending',
      'find-works-until-last-put',
      'allocated-ids-stay-findable',
      'no-lost-host-ids',
      'set-quota-respected',
      'set-freed-with-last-member',
    ]);
  });
});
