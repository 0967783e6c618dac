/**
 * Every iommufd property, with a design that breaks it and one that keeps it,
 * each decided by the exhaustive explorer on a scenario narrowed to the calls
 * that matter (the default scenario's full search is minutes long: see
 * `lifecheck check iommufd`). Breaking designs are built-in variants where
 * one does, else a user-style patch (fixtures/iommufd-patches.ts).
 */
import { describe, expect, it } from 'vitest';
import { checkVariant, starved, type Bounds } from 'lifecheck';
import { iommufd } from 'lifecheck/models';
import { destroyIgnoresUsers, mapLeaksUsers, publishAtReserve } from '../fixtures/iommufd-patches.ts';
import { callLines, describeBreaksAndKeepsExhaustively, exhaustiveVerdict, type ExhaustiveCase } from '../helpers/properties.ts';
import { variantOf } from '../helpers/variants.ts';

const variant = (name: string) => variantOf(iommufd, name);

/** A scenario: these calls only, `threads` threads (a driver, then processes), `ops` calls each. */
const scenario = (calls: readonly string[], threads = 2, ops = 2): Bounds => ({ threads, ops, ids: { min: 1, max: 2 }, only: { calls } });

const scenario3 = (calls: readonly string[]): Bounds => ({ threads: 2, ops: 3, ids: { min: 1, max: 3 }, only: { calls } });

/** The 99f98a7c0d69 race: a driver binds and unbinds while a process destroys by id. */
const RACE = scenario(['iommufd_device_bind', 'iommufd_device_unbind', 'IOMMU_DESTROY']);
/** Two processes creating, using and destroying an IOAS. */
const IOAS = scenario(['IOMMU_IOAS_ALLOC', 'IOMMU_IOAS_MAP', 'IOMMU_DESTROY'], 3);



const cases: readonly ExhaustiveCase[] = [
  ['kernel-destroy-completes', variant('v6.2-rwsem'), variant('v6.7-shortterm'), RACE],
  ['destroy-busy-iff-held', destroyIgnoresUsers, variant('v6.7-shortterm'), IOAS],
  ['finalize-xor-abort', variant('finalize-before-fail'), variant('v6.2-rwsem'), IOAS],
  ['invisible-until-finalized', publishAtReserve, variant('v6.2-rwsem'), IOAS],
  ['no-deadlock', variant('destroy-without-ref-to-users'), variant('v6.2-rwsem'), IOAS],
  ['release-destroys-all', mapLeaksUsers, variant('v6.2-rwsem'), IOAS],
  ['ioctl-errno-order', variant('posted-ioctl-eopnotsupp'), variant('v6.2-rwsem'), RACE],
];

describeBreaksAndKeepsExhaustively(cases);

describe('the file release', () => {
  it('destroys leaves first: a hwpt, then the IOAS it held, then nothing is left', async () => {
    const scenario = scenario3(['IOMMU_IOAS_ALLOC', 'IOMMU_HWPT_ALLOC', 'iommufd_device_bind']);
    const r = await checkVariant(variant('v6.7-shortterm'), { bounds: scenario, runs: 0, seed: 42, exhaustive: {} });
    expect(r.verdicts.filter((v) => v.actual === 'violated').map((v) => v.property)).toEqual([]);
  });

  it('leaks what a missing put left, with the WARN of a pass that destroys nothing', async () => {
    const v = await exhaustiveVerdict(mapLeaksUsers, 'release-destroys-all', IOAS);
    expect(v.counterexample!.violation.message).toBe('ioas 1#1 is left after iommufd_fops_release (users=2)');
    const lines = callLines(mapLeaksUsers, v.counterexample!.trace);
    expect(lines.slice(-3)).toEqual(['if (WARN_ON(!destroyed)) break = NULL', 'WARN_ON(!destroyed) = WARN', 'kfree(ictx) = freed; returns 0']);
  });
});

describe('attach to an IOAS (the auto domain)', () => {
  it.each(['v6.2-rwsem', 'v6.7-shortterm'])('%s: makes a hwpt for the device, and detach destroys it, breaking nothing', async (name) => {
    const bounds = scenario3(['iommufd_device_bind', 'iommufd_device_attach', 'iommufd_device_detach', 'IOMMU_IOAS_ALLOC']);
    const r = await checkVariant(variant(name), { bounds, runs: 0, seed: 42, exhaustive: {} });
    expect(r.verdicts.filter((v) => v.actual === 'violated').map((v) => v.property)).toEqual([]);
    const never = starved(r.coverage ?? []);
    for (const reached of ['iommufd_device_attach: hwpt_paging->auto_domain = true', 'iommufd_device_detach: if (hwpt_paging->auto_domain)', 'iommufd_device_detach: kfree(hwpt)']) {
      expect(never, reached).not.toContain(reached);
    }
    // The machines name every step: a step no run reached would be listed.
    expect(never).toContain('iommufd_fops_release: WARN_ON(!destroyed)');
  });
});

describe('the findings of seed 002, each on its own', () => {
  it('v6.2: IOMMU_DESTROY racing a kernel destroy makes it fail (99f98a7c0d69, found by syzkaller)', async () => {
    const v = await exhaustiveVerdict(variant('v6.2-rwsem'), 'kernel-destroy-completes', RACE);
    const cx = v.counterexample!;
    expect(cx.violation.message).toMatch(/^iommufd_device_unbind could not destroy device 1#1 \(-EBUSY\): CPU1's obj holds a users reference$/);
    const lines = callLines(variant('v6.2-rwsem'), cx.trace);
    expect(lines.some((c) => c.startsWith('iommufd_ref_to_users(obj) = '))).toBe(true);
    expect(lines.at(-1)).toBe('iommufd_object_destroy_user(ictx, idev): under xa_lock = -EBUSY');
  });

  it('destroy without ref_to_users waits for its own read side for ever', async () => {
    const v = await exhaustiveVerdict(variant('destroy-without-ref-to-users'), 'no-deadlock', IOAS);
    expect(v.counterexample!.violation.message).toMatch(/^(CPU\d) waits for ever in IOMMU_DESTROY: down_write\(&ioas 1\.destroy_rwsem\), queued behind \1$/);
  });

  it('finalize before a failing step aborts an object already published', async () => {
    const v = await exhaustiveVerdict(variant('finalize-before-fail'), 'finalize-xor-abort', IOAS);
    expect(v.counterexample!.violation.message).toMatch(/^CPU\d aborts id 1, already finalized as ioas 1#1$/);
    expect(callLines(variant('finalize-before-fail'), v.counterexample!.trace).at(-2)).toBe('iommufd_ucmd_respond(ucmd, sizeof(*cmd)) (made to fail) = -EFAULT');
  });

  it('v6.7 keeps the race of 99f98a7c0d69 away: IOMMU_DESTROY takes no reference', async () => {
    const r = await checkVariant(variant('v6.7-shortterm'), { bounds: RACE, runs: 0, seed: 42, exhaustive: {} });
    expect(r.verdicts.filter((v) => v.actual === 'violated').map((v) => v.property)).toEqual([]);
  });
});
