/**
 * Every iommufd property, with a design that breaks it and one that keeps
 * it, both found by the random explorer itself (fixed seeds). Breaking
 * designs are built-in variants where one does, else a user-style patch
 * (fixtures/iommufd-patches.ts).
 */
import { describe, expect, it } from 'vitest';
import { replay } from 'lifecheck';
import { iommufd } from 'lifecheck/models';
import { describeBreaksAndKeeps, verdict, type PropertyCase } from '../helpers/properties.ts';
import { busyKeepsCallerRef, destroyForgetsCallerRef, mapLeaksUsers, publishAtReserve } from '../fixtures/iommufd-patches.ts';
import { variantOf } from '../helpers/variants.ts';

const variant = (name: string) => variantOf(iommufd, name);
const bounds = iommufd.defaults;

const cases: PropertyCase[] = [
  ['invisible-until-finalized', publishAtReserve, bounds, variant('v6.2-rwsem')],
  ['finalize-xor-abort', variant('finalize-before-fail'), bounds, variant('v6.2-rwsem')],
  ['abort-leaves-nothing', variant('finalize-before-fail'), bounds, variant('v6.2-rwsem')],
  ['no-free-while-held', variant('finalize-before-fail'), bounds, variant('v6.2-rwsem')],
  ['ebusy-iff-other-users', destroyForgetsCallerRef, bounds, variant('v6.2-rwsem')],
  ['kernel-destroy-completes', variant('v6.2-rwsem'), bounds, variant('v6.7-shortterm')],
  ['kernel-destroy-completes', variant('v6.2-rwsem'), bounds, variant('destroy-without-ref-to-users')],
  ['no-deadlock', variant('destroy-without-ref-to-users'), bounds, variant('v6.2-rwsem')],
  ['release-destroys-all', mapLeaksUsers, bounds, variant('v6.2-rwsem')],
  ['failed-op-changes-nothing', busyKeepsCallerRef, bounds, variant('v6.2-rwsem')],
  ['users-match-holders', busyKeepsCallerRef, bounds, variant('v6.7-shortterm')],
  ['ioctl-errno-order', variant('posted-ioctl-eopnotsupp'), bounds, variant('v6.2-rwsem')],
];

describeBreaksAndKeeps(cases);

describe('the findings of seed 002', () => {
  it('destroy without ref_to_users waits for its own read side for ever', async () => {
    const cx = (await verdict(variant('destroy-without-ref-to-users'), 'no-deadlock')).counterexample!;
    expect(cx.violation.message).toMatch(/^CPU\d waits for ever in its destroy of \w+ \d+, which (CPU\d) holds short-term/);
    const [, waiter] = /^(CPU\d)/.exec(cx.violation.message)!;
    expect(cx.violation.message).toContain(`which ${waiter} holds`);
  });

  it('v6.2: IOMMU_DESTROY racing a kernel destroy makes it fail (99f98a7c0d69, found by syzkaller)', async () => {
    const cx = (await verdict(variant('v6.2-rwsem'), 'kernel-destroy-completes')).counterexample!;
    expect(cx.violation.message).toMatch(/= WARN: -EBUSY: CPU\d's lookup holds a users ref/);
    expect(cx.trace.steps.some((s) => s.step.op === 'ref_to_users')).toBe(true);
  });

  it('finalize before a failing step frees an object another thread holds', async () => {
    const cx = (await verdict(variant('finalize-before-fail'), 'no-free-while-held')).counterexample!;
    expect(cx.trace.steps.map((s) => s.step.op)).toContain('abort');
    expect(cx.violation.message).toMatch(/freed \w+ \d+ while CPU\d/);
  });
});

describe('no-free-while-held and the creator', () => {
  // v6.2: CPU0 creates hwpt 2 and publishes it; CPU1 destroys it while CPU0 still drops its refs on ioas 1.
  const at = (thread: number, op: string, ...args: number[]) => ({ thread, op, args });
  const steps = [
    at(0, 'ioas_alloc'), at(0, 'fallible'), at(0, 'finalize'),
    at(0, 'hwpt_alloc', 1), at(0, 'reserve'), at(0, 'fallible'), at(0, 'link'), at(0, 'finalize'),
    at(1, 'destroy', 2), at(1, 'ref_to_users'), at(1, 'down_write'), at(1, 'remove'), at(1, 'free'),
  ];

  it('no longer counts the creator once it has finalized the object (002: then "another thread can see the object pointer")', async () => {
    const r = replay(variant('v6.2-rwsem'), iommufd.defaults, steps, 'no-free-while-held');
    expect(r.stuck).toBeUndefined();
    expect(r.trace.steps.at(-1)!.reply.text).toBe('0');
    expect(r.violation).toBeUndefined();
  });
});
