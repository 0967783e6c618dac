/**
 * Every IOASID property, with a design that breaks it and one that keeps it,
 * each decided by the exhaustive explorer on a scenario narrowed to the
 * calls that matter. Breaking designs are built-in variants where one does,
 * else a user-style patch (fixtures/ioasid-patches.ts).
 */
import { describe, expect, it } from 'vitest';
import { type AnyVariant, type Bounds, type Step, type Trace } from 'lifecheck';
import { ioasid } from 'lifecheck/models';
import { allocIgnoresQuota, freeErasesAtOnce, freeForgetsDoFree, getChecksSetFirst, getIgnoresPending, setFreeIgnoresMembers } from '../fixtures/ioasid-patches.ts';
import { callLines, describeBreaksAndKeepsExhaustively, exhaustiveVerdict, type ExhaustiveCase } from '../helpers/properties.ts';
import { variantOf } from '../helpers/variants.ts';

const variant = (name: string) => variantOf(ioasid, name);

/** Two vCPUs of one guest (`threads` 3 adds a vCPU of the other guest), these calls only, two each. */
const scenario = (calls: readonly string[] | undefined, threads = 2, ops = 2): Bounds => ({ threads, ops, ids: { min: 1, max: 2 }, ...(calls ? { only: { calls } } : {}) });
const ALL = scenario(undefined);


const cases: readonly ExhaustiveCase[] = [
  ['no-reuse-while-referenced', variant('v1'), variant('series'), ALL],
  ['no-use-after-free', variant('series'), variant('series-find-get'), ALL],
  ['no-use-after-protection', variant('series'), variant('series-find-get'), ALL],
  ['no-free-while-referenced', variant('series-free-every-call'), variant('series'), ALL],
  // A find's reference keeps the id free-pending while the same guest's vCPU binds it: three calls on one vCPU.
  ['get-fails-on-free-pending', getIgnoresPending, variant('series-find-get'), scenario(['alloc', 'find', 'free', 'bind'], 2, 3)],
  ['find-works-until-last-put', freeErasesAtOnce, variant('series-find-get'), scenario(['alloc', 'bind', 'free', 'find'])],
  ['set-isolation', variant('upstream-v5.11'), variant('series'), scenario(['alloc', 'bind', 'unbind'], 3)],
  ['set-isolation', variant('null-set-global'), variant('set-mandatory'), scenario(['alloc', 'find'], 3)],
  ['no-type-confusion', variant('null-set-global'), variant('set-mandatory'), scenario(['alloc', 'find'], 3)],
  ['no-warn', variant('upstream-v5.11'), variant('series'), scenario(['alloc', 'bind'])],
  ['failed-call-changes-nothing', variant('set-mandatory'), variant('series-find-get'), ALL],
  ['set-quota-respected', allocIgnoresQuota, variant('set-mandatory'), scenario(['alloc', 'free'])],
  ['set-freed-with-last-member', setFreeIgnoresMembers, variant('set-mandatory'), scenario(['alloc', 'set_free'])],
  ['nothing-leaked-at-quiescence', freeForgetsDoFree, variant('series-find-get'), scenario(['alloc', 'bind', 'free'])],
  // Seed 003: custom allocators. One vCPU of the guest (CPU1, with --threads 2, is the other guest).
  ['allocated-ids-stay-findable', variant('custom-honours-range'), variant('custom-unregister-busy'), scenario(['register', 'alloc', 'unregister'], 1, 3)],
  ['no-lost-host-ids', variant('custom-ignores-range'), variant('custom-unregister-busy'), scenario(['register', 'alloc', 'free'], 1, 3)],
  ['ids-in-range', variant('custom-ignores-range'), variant('custom-honours-range'), scenario(['register', 'alloc', 'other_vcmd_alloc'])],
  ['no-overwritten-entry', variant('custom-honours-range'), variant('custom-unregister-busy'), scenario(['register', 'alloc', 'unregister'], 3)],
  // A.4 dcp: the FREE notifier's subscriber unbinding under ioasid_allocator_lock spins on it for ever.
  ['no-deadlock', variant('series-notify-inline'), variant('series-notify'), scenario(['alloc', 'bind', 'free'])],
  // The other guest's vCPU binds an id a find keeps free-pending: -EBUSY comes before -EACCES (A.4).
  ['documented-replies', getChecksSetFirst, variant('series-find-get'), scenario(['alloc', 'find', 'free', 'bind'], 3)],
];

describeBreaksAndKeepsExhaustively(cases);

/** Each step of a trace as it prints, with its CPU: `CPU1 free(1): ioasid_free(set, id) = ok; returns 0`. */
const lines = (v: AnyVariant, trace: Trace<unknown>) => callLines(v, trace).map((l, k) => `CPU${trace.steps[k]!.step.thread} ${l}`);

/** Runs `steps` from the start (a call's atomic block is one step); each step as the trace prints it. */
function run(v: AnyVariant, bounds: Bounds, steps: readonly Step[]): string[] {
  const sys = v.model.system(v.config, bounds);
  let world = sys.init;
  return steps.map((st) => {
    expect(sys.enabled(world)).toContainEqual(st);
    const o = sys.apply(world, st);
    const line = v.model.present.call(st, o.reply, world, v.config);
    world = o.world;
    return line;
  });
}

const t = (thread: number, op: string, ...args: number[]): Step => ({ thread, op, args });

describe('the IOASID model', () => {
  it("finds seed 001's use after free on its own, the free a step of its own", async () => {
    const v = await exhaustiveVerdict(variant('series'), 'no-use-after-free', ALL);
    expect(lines(variant('series'), v.counterexample!.trace as Trace<unknown>)).toEqual([
      'CPU0 alloc(): ioasid_alloc(set, min, max, private) = ioasid 1#1; returns 1',
      'CPU0 find(1): ioasid_find(set, id, NULL) = ioasid 1#1',
      'CPU1 free(1): ioasid_free(set, id) = ok; returns 0',
      'CPU0 use(found, priv) = ok; returns 0',
    ]);
  });

  it('lets a guest free an id again while it is free-pending, without error (001)', () => {
    const replies = run(variant('series'), ALL, [t(0, 'alloc'), t(1, 'bind', 1), t(0, 'free', 1), t(1, 'free', 1)]);
    expect(replies.map((r) => r.replace(/.*; /, ''))).toEqual(['returns 1', 'returns 0', 'returns 0', 'returns 0']);
  });

  it("notifies a free's subscriber, whose work unbinds the device and puts the last reference (dcp IOASID_NOTIFY_FREE)", () => {
    const notify = variant('series-notify');
    const kworker = ALL.threads;
    const trace = run(notify, ALL, [t(0, 'alloc'), t(0, 'bind', 1), t(1, 'free', 1), t(kworker, 'ioasid_notify_free')]);
    expect(trace).toEqual([
      'alloc(): ioasid_alloc(set, min, max, private) = ioasid 1#1; returns 1',
      'bind(1): ioasid_get(set, id) = ok; returns 0',
      'free(1): ioasid_free(set, id) = ok; returns 0',
      'ioasid_notify_free(): the driver unbinds on IOASID_NOTIFY_FREE = ok; returns 0',
    ]);
  });

  it("lets go of what the guests hold at their exit one release at a time, each the core's own call", () => {
    const calls = [t(0, 'alloc'), t(0, 'bind', 1), t(1, 'find', 2), t(1, 'find', 2)];
    const exit = Array.from({ length: 8 }, () => t(1, 'guests_exit'));
    const trace = run(variant('series'), ALL, [...calls, ...exit]).slice(calls.length);
    expect(trace).toEqual([
      'guests_exit(): mutex_lock(&pasid_mutex) = locked',
      'bond = xa_find(&bonds, &id) = ioasid 1#1',
      'ioasid_put(bond->set, id) = ok',
      'bond = xa_find(&bonds, &id) = NULL',
      'rec = xa_find(&pasids, &id) = ioasid 1#1',
      'ioasid_free(rec->set, id) = ok',
      'rec = xa_find(&pasids, &id) = NULL',
      'mutex_unlock(&pasid_mutex) = unlocked; returns 0',
    ]);
  });
});
