/**
 * The iommufd world on scripted schedules (kernel-semantics A.6, seed 002):
 * creation (reserve, finalize, abort), lookups, IOMMU_DESTROY, kernel
 * destroys (unbind), the v6.7 bounded wait and file release. Each script
 * names its steps exactly (CPU, op, argument); a step the world does not
 * enable fails the test at once. The model's own properties run over every
 * scripted trace, so each scenario says which ones the world breaks and where.
 */
import { describe, expect, it } from 'vitest';
import {
  renderTrace,
  walk,
  type Arg,
  type Bounds,
  type BoundVariant,
  type Run,
  type Step,
  type System,
  type Trace,
} from 'lifecheck';
import { byId, iommufd, type IommufdConfig, type IommufdWorld } from 'lifecheck/models';
import { mapLeaksUsers } from '../fixtures/iommufd-patches.ts';
import { variantOf } from '../helpers/variants.ts';

type V = BoundVariant<IommufdWorld, IommufdConfig>;
/** One scripted step: the CPU (the release actor is CPU number `threads`), the op, and its argument. */
type Line = readonly [thread: number, op: string, arg?: Arg];

const variant = (name: string): V => variantOf(iommufd, name);

const v62 = variant('v6.2-rwsem');
const v67 = variant('v6.7-shortterm');

const two: Bounds = { threads: 2, ops: 8, ids: { min: 1, max: 2 } };
/** The release actor's thread number with `two`. */
const CLOSE = two.threads;

const show = (s: Step) => `CPU${s.thread} ${s.op}${s.args.length ? ` ${s.args.join(',')}` : ''}`;

interface Played extends Run<IommufdWorld> {
  readonly system: System<IommufdWorld>;
}

/**
 * Runs `script` on `v` within `bounds`, step by step, checking every
 * property of the model after each step; throws if a step is not enabled.
 */
function play(v: V, script: readonly Line[], bounds: Bounds = two): Played {
  const system = v.model.system(v.config, bounds);
  const run = walk(
    system,
    v.model.properties,
    (enabled, _world, depth) => {
      const line = script[depth];
      if (line === undefined) return undefined;
      const [thread, op, arg] = line;
      const step = enabled.find(
        (s) => s.thread === thread && s.op === op && (arg === undefined ? s.args.length === 0 : s.args[0] === arg),
      );
      if (!step) {
        throw new Error(
          `${v.name} step ${depth + 1}: CPU${thread} ${op}${arg === undefined ? '' : ` ${arg}`} is not enabled; enabled: ${enabled.map(show).join('; ')}`,
        );
      }
      return step;
    },
    { stopAtViolation: false },
  );
  if (run.trace.steps.length !== script.length) {
    throw new Error(`${v.name}: the run stopped after ${run.trace.steps.length} of ${script.length} steps`);
  }
  return { ...run, system };
}

const replies = (trace: Trace<IommufdWorld>) => trace.steps.map((s) => s.reply);
const ok = (text: string) => ({ ok: true, text });
const err = (text: string) => ({ ok: false, text });
/** The world after step `n` (1-based, as violations count). */
const after = (p: Played, n: number) => p.trace.steps[n - 1]!.world;
const last = (p: Played) => after(p, p.trace.steps.length);
/** The violated properties, each with the step that first broke it. */
const broken = (p: Played) => Object.fromEntries(p.violations.map((v) => [v.property, v.at]));
/** The steps a thread may take in a world, as `op` or `op arg`. */
const stepsOf = (p: Played, world: IommufdWorld, thread: number) =>
  p.system
    .enabled(world)
    .filter((s) => s.thread === thread)
    .map((s) => [s.op, ...s.args].join(' '));

/** The object with an id: the one in the xarray, else a removed one, else 'freed'. */
function state(world: IommufdWorld, id: number) {
  const o = byId(world, id) ?? world.objects.find((x) => x.id === id);
  if (!o) return 'freed';
  const { kind, users, short } = o.state.context;
  return { kind, value: o.state.value, users, short };
}

const live = (kind: string, users: number, short: number) => ({ kind, value: 'live', users, short });

/** IOMMU_IOAS_ALLOC by one CPU, all three stages. */
const ioasAlloc = (t: number): Line[] => [
  [t, 'ioas_alloc'],
  [t, 'fallible'],
  [t, 'finalize'],
];

/** IOMMU_DESTROY(id) in v6.2, every stage. */
const destroy62 = (t: number, id: number): Line[] => [
  [t, 'destroy', id],
  [t, 'ref_to_users'],
  [t, 'down_write'],
  [t, 'remove'],
  [t, 'free'],
];

/** iommufd_device_bind by one CPU. */
const bind = (t: number): Line[] => [
  [t, 'bind'],
  [t, 'own'],
  [t, 'finalize'],
];

describe('v6.2: creation and lookup (A.6 RESERVED, seed 002)', () => {
  it('IOMMU_IOAS_ALLOC: reserve, respond, finalize gives ioas 1 live with users=1', () => {
    // A.6 _iommufd_object_alloc: users=1, XA_FLAGS_ALLOC1 (ids from 1); v6.2 has no short-term bias.
    const p = play(v62, ioasAlloc(0));
    expect(replies(p.trace)).toEqual([ok('1'), ok('0'), ok('published')]);
    expect(state(after(p, 1), 1)).toEqual({ kind: 'ioas', value: 'reserved', users: 1, short: 0 });
    expect(state(last(p), 1)).toEqual(live('ioas', 1, 0));
    expect(last(p).threads[0]!.run).toBeUndefined();
    expect(p.violations).toEqual([]);
  });

  it('a lookup or IOMMU_DESTROY of a reserved object is -ENOENT, while its creator is between reserve and finalize', () => {
    // A.6 RESERVED: "xa_load turns zero entries into NULL, so iommufd_get_object and IOMMU_DESTROY return ENOENT".
    const p = play(v62, [
      [0, 'ioas_alloc'],
      [1, 'use', 1],
      [1, 'destroy', 1],
      [0, 'fallible'],
      [1, 'use', 1],
      [0, 'finalize'],
      [1, 'use', 1],
      [1, 'put_users'],
      [1, 'put_short'],
    ]);
    expect(replies(p.trace)).toEqual([
      ok('1'),
      err('-ENOENT'),
      err('-ENOENT'),
      ok('0'),
      err('-ENOENT'),
      ok('published'),
      ok('locked'),
      ok('users--'),
      ok('up_read'),
    ]);
    // The failed lookups left nothing: the reserved object is untouched, CPU1 holds nothing and is idle.
    for (const n of [2, 3, 5]) {
      expect(state(after(p, n), 1)).toEqual({ kind: 'ioas', value: 'reserved', users: 1, short: 0 });
      expect(after(p, n).threads[1]!).toMatchObject({ holds: [] });
      expect(after(p, n).threads[1]!.run).toBeUndefined();
    }
    // Once finalized, the lookup takes users and the destroy_rwsem read side, and the put gives both back.
    expect(state(after(p, 7), 1)).toEqual(live('ioas', 2, 1));
    expect(after(p, 7).threads[1]!.holds).toEqual([{ serial: 1, users: true, short: true }]);
    expect(state(last(p), 1)).toEqual(live('ioas', 1, 0));
    expect(last(p).threads[1]!.holds).toEqual([]);
    expect(p.violations).toEqual([]);
  });

  it('ids are the lowest free from 1, reused at once after a destroy; a full range is -EBUSY from reserve', () => {
    // A.6: "xa_alloc always takes the lowest free ID, so an ID is reused immediately after a destroy";
    // _iommufd_object_alloc returns "-EBUSY when the ID range is full".
    const p = play(v62, [
      ...ioasAlloc(0),
      ...ioasAlloc(1),
      [0, 'ioas_alloc'], // 7: ids 1..2 are both taken
      ...destroy62(1, 1), // 8-12
      [0, 'ioas_alloc'], // 13: id 1 again
      [0, 'fallible'],
      [0, 'finalize'],
    ]);
    const r = replies(p.trace);
    expect([r[0], r[3]]).toEqual([ok('1'), ok('2')]);
    expect(r[6]).toEqual(err('-EBUSY'));
    // The failed alloc reserved nothing and left CPU0 idle.
    expect(after(p, 7).objects.map((o) => o.id)).toEqual([1, 2]);
    expect(after(p, 7).threads[0]!.run).toBeUndefined();
    expect(r.slice(7, 12)).toEqual([ok('locked'), ok('up_read, users kept'), ok('acquired'), ok('erased'), ok('0')]);
    expect(state(after(p, 12), 1)).toBe('freed');
    expect(r[12]).toEqual(ok('1'));
    const w = last(p);
    expect(state(w, 1)).toEqual(live('ioas', 1, 0));
    expect(state(w, 2)).toEqual(live('ioas', 1, 0));
    // The reused id is a new object (a new serial), not the old one.
    expect(byId(w, 1)!.serial).toBe(3);
    expect(p.violations).toEqual([]);
  });
});

describe('v6.2: IOMMU_DESTROY and users (seed 002 "With users protection ... -EBUSY")', () => {
  it('destroying an ioas a hwpt depends on is -EBUSY and keeps it live; after the hwpt goes, it succeeds', () => {
    // A.6 LIVE: each dependent object holds users (hwpt->ioas), so IOMMU_DESTROY of an in-use object returns EBUSY.
    const p = play(v62, [
      ...ioasAlloc(0), // 1-3
      [0, 'hwpt_alloc', 1], // 4: lookup of ioas 1
      [0, 'reserve'],
      [0, 'fallible'],
      [0, 'link'],
      [0, 'finalize'],
      [0, 'put_users'],
      [0, 'put_short'], // 10
      [1, 'destroy', 1], // 11
      [1, 'ref_to_users'],
      [1, 'down_write'],
      [1, 'remove'], // 14: -EBUSY
      ...destroy62(1, 2), // 15-19: the hwpt
      ...destroy62(1, 1), // 20-24: now the ioas
    ]);
    const r = replies(p.trace);
    expect(r[4]).toEqual(ok('2'));
    const built = after(p, 10);
    expect(state(built, 1)).toEqual(live('ioas', 2, 0));
    expect(state(built, 2)).toEqual(live('hwpt', 1, 0));
    expect(built.objects.find((o) => o.id === 2)!.parent).toBe(1);

    // The destroy's own lookup counts while it runs ...
    expect(state(after(p, 13), 1)).toMatchObject({ users: 3, short: 0 });
    expect(byId(after(p, 13), 1)!.state.context.locked).toBe(true);
    // ... and is all that the refused remove gives up: users back to 2, write lock released, CPU1 holds nothing.
    expect(r[13]).toEqual(err('-EBUSY'));
    const busy = after(p, 14);
    expect(state(busy, 1)).toEqual(live('ioas', 2, 0));
    expect(byId(busy, 1)!.state.context.locked).toBe(false);
    expect(busy.threads[1]).toMatchObject({ holds: [] });
    expect(busy.threads[1]!.run).toBeUndefined();
    expect(state(busy, 2)).toEqual(live('hwpt', 1, 0));

    // Destroying the hwpt drops its users ref on the ioas (ops->destroy).
    expect(r[17]).toEqual(ok('erased'));
    expect(r[18]).toEqual(ok('0'));
    expect(state(after(p, 19), 2)).toBe('freed');
    expect(state(after(p, 19), 1)).toEqual(live('ioas', 1, 0));

    expect(r[22]).toEqual(ok('erased'));
    expect(r[23]).toEqual(ok('0'));
    expect(last(p).objects).toEqual([]);
    expect(p.violations).toEqual([]);
  });

  it("IOMMU_DESTROY's down_write waits for a reader's second touch in iommufd_put_object (up_read)", () => {
    // A.6 v6.2 put_object: "users--, then up_read"; D.2: no kfree while a thread is between get_object and the last touch.
    const p = play(v62, [
      ...ioasAlloc(0),
      [1, 'use', 1], // 4
      [1, 'put_users'], // 5: users back to 1, the read side still held
      [0, 'destroy', 1], // 6
      [0, 'ref_to_users'], // 7
      [0, 'down_write'], // 8: queues behind CPU1's read side
      [1, 'put_short'], // 9: up_read
      [0, 'down_write'], // 10
      [0, 'remove'],
      [0, 'free'],
    ]);
    const r = replies(p.trace);
    expect(state(after(p, 5), 1)).toEqual(live('ioas', 1, 1));
    expect(r[7]).toEqual(ok('waits'));
    expect(stepsOf(p, after(p, 8), 0)).toEqual([]);
    expect(byId(after(p, 8), 1)!.state.context).toMatchObject({ users: 2, short: 1, waiting: 1, locked: false });
    expect(r[8]).toEqual(ok('up_read'));
    expect(stepsOf(p, after(p, 9), 0)).toEqual(['down_write']);
    expect(r.slice(9)).toEqual([ok('acquired'), ok('erased'), ok('0')]);
    expect(last(p).objects).toEqual([]);
    expect(p.violations).toEqual([]);
  });

  it('the syzkaller race (99f98a7c0d69): IOMMU_DESTROY kept as users makes unbind WARN; the destroy then frees the device', () => {
    // 99f98a7c0d69: "Racing IOMMUFD_DESTROY with iommufd_object_destroy_user() will cause spurious failures".
    const p = play(v62, [
      ...bind(0), // 1-3: device 1, users=2 (xarray, driver)
      [1, 'destroy', 1], // 4: iommufd_get_object(ANY)
      [1, 'ref_to_users'], // 5: up_read, users kept
      [0, 'unbind'], // 6: down_write: no reader left, acquired
      [0, 'remove'], // 7: users 3 - 1 (driver) != 1: -EBUSY, WARN_ON(!destroyed)
      [1, 'down_write'],
      [1, 'remove'],
      [1, 'free'],
    ]);
    const r = replies(p.trace);
    expect(r.slice(0, 3)).toEqual([ok('1'), ok('users++'), ok('published')]);
    expect(state(after(p, 3), 1)).toEqual(live('device', 2, 0));
    expect(last(p).threads[0]!.owns).toEqual([]);
    expect(state(after(p, 5), 1)).toEqual(live('device', 3, 0));
    expect(r[5]).toEqual(ok('acquired'));
    expect(r[6]).toEqual(err('WARN: -EBUSY'));
    // The driver's ref went with the failed destroy; the device lives on, held by CPU1's destroy alone.
    const warned = after(p, 7);
    expect(state(warned, 1)).toEqual(live('device', 2, 0));
    expect(warned.threads[0]).toMatchObject({ owns: [] });
    expect(warned.threads[0]!.run).toBeUndefined();
    expect(r.slice(7)).toEqual([ok('acquired'), ok('erased'), ok('0')]);
    expect(state(last(p), 1)).toBe('freed');
    expect(last(p).objects).toEqual([]);

    expect(broken(p)).toEqual({ 'kernel-destroy-completes': 7 });
    expect(p.violations[0]!.message).toBe("iommufd_device_unbind(device 1) = WARN: -EBUSY: CPU1's lookup holds a users ref");
  });

  it('the same interleaving in v6.7: IOMMU_DESTROY takes no reference, so unbind waits out nothing and destroys', () => {
    // A.6 v6.5-rc4+: IOMMU_DESTROY is iommufd_object_remove(ictx, NULL, id, 0): "No refcount increment on this path".
    const p = play(v67, [
      ...bind(0), // device 1 users=2 short=1 (the xarray's bias)
      [1, 'destroy', 1], // remove: users 2 != 1: -EBUSY at once
      [0, 'unbind'], // drop_bias
      [0, 'wait'],
      [0, 'remove'],
      [0, 'free'],
    ]);
    expect(replies(p.trace).slice(3)).toEqual([err('-EBUSY'), ok('bias dropped'), ok('woken'), ok('erased'), ok('0')]);
    expect(state(after(p, 4), 1)).toEqual(live('device', 2, 1));
    expect(last(p).objects).toEqual([]);
    expect(p.violations).toEqual([]);
  });
});

describe('destroy-without-ref-to-users (seed 002 "See iommufd_ref_to_users")', () => {
  it("IOMMU_DESTROY queues in down_write behind its own read hold: it never moves again, and no-deadlock is violated", () => {
    // Seed 002: destroy_user "will wait for it [destroy_rwsem] to become unlocked" -- here the waiter is the reader.
    const v = variant('destroy-without-ref-to-users');
    const p = play(v, [
      ...ioasAlloc(0),
      [0, 'destroy', 1], // 4: down_read_trylock
      [0, 'down_write'], // 5: queues behind its own read side
      [1, 'use', 1], // 6: a writer waits: down_read_trylock fails
      [1, 'exit'], // 7
    ]);
    const r = replies(p.trace);
    expect(r[3]).toEqual(ok('locked'));
    expect(r[4]).toEqual(ok('waits'));
    expect(r[5]).toEqual(err('-ENOENT'));
    const queued = after(p, 5);
    expect(queued.threads[0]!.run).toMatchObject({ op: 'destroy', queued: true });
    expect(byId(queued, 1)!.state.context).toMatchObject({ users: 2, short: 1, waiting: 1, locked: false });
    // Nothing CPU0 can do, before and after CPU1 goes.
    expect(stepsOf(p, queued, 0)).toEqual([]);
    expect(stepsOf(p, after(p, 6), 0)).toEqual([]);
    expect(p.system.enabled(last(p))).toEqual([]);
    expect(p.quiescent).toBe(true);
    // No release either: CPU0 never exits.
    expect(last(p).released).toBe(false);

    expect(broken(p)).toEqual({ 'no-deadlock': 7 });
    expect(p.violations[0]!.message).toBe(
      'CPU0 waits for ever in its destroy of ioas 1, which CPU0 holds short-term (destroy_rwsem read side / shortterm_users)',
    );
  });
});

describe('finalize-before-fail (seed 002 "only call iommufd_object_finalize() once object creation cannot fail")', () => {
  it('the creator finalizes, another CPU looks the ioas up, the creator fails and aborts: freed while held', () => {
    const v = variant('finalize-before-fail');
    expect(v.config.programs.ioas_alloc.stages).toEqual(['reserve', 'finalize', 'fallible']);
    const p = play(v, [
      [0, 'ioas_alloc'],
      [0, 'finalize'],
      [1, 'use', 1], // 3: the object is published: the lookup succeeds
      [0, 'fallible', 'fault'], // 4: iommufd_ucmd_respond fails
      [0, 'abort'], // 5: abort_and_destroy of a published, held object
      [1, 'put_users'],
      [1, 'put_short'],
    ]);
    const r = replies(p.trace);
    expect(r.slice(0, 5)).toEqual([ok('1'), ok('published'), ok('locked'), err('-EFAULT'), err('-EFAULT (WARN_ON(old))')]);
    expect(state(after(p, 3), 1)).toEqual(live('ioas', 2, 1));
    // After the fault the only step CPU0 has is the error path's abort.
    expect(stepsOf(p, after(p, 4), 0)).toEqual(['abort']);
    // The abort freed ioas 1 while CPU1 holds it; CPU1's put then touches freed memory.
    expect(state(after(p, 5), 1)).toBe('freed');
    expect(after(p, 5).threads[1]!.holds).toEqual([{ serial: 1, users: true, short: true }]);
    expect(r[5]!.text).toBe('use after free');

    expect(broken(p)).toEqual({ 'finalize-xor-abort': 5, 'abort-leaves-nothing': 5, 'no-free-while-held': 5 });
    const messages = Object.fromEntries(p.violations.map((x) => [x.property, x.message]));
    expect(messages['finalize-xor-abort']).toBe('CPU0 aborts ioas 1, already finalized');
    expect(messages['abort-leaves-nothing']).toMatch(/^ioas 1 aborted, but CPU1 .* still refers to it$/);
    expect(messages['no-free-while-held']).toMatch(/^CPU0 freed ioas 1 while CPU1 .* still refers to it$/);
  });

  it('as merged (v6.2), the same fault comes before finalize: the abort frees an object no one could see', () => {
    const p = play(v62, [
      [0, 'ioas_alloc'],
      [1, 'use', 1],
      [0, 'fallible', 'fault'],
      [0, 'abort'],
    ]);
    expect(replies(p.trace)).toEqual([ok('1'), err('-ENOENT'), err('-EFAULT'), err('-EFAULT')]);
    expect(last(p).objects).toEqual([]);
    expect(p.violations).toEqual([]);
  });
});

describe('v6.7-shortterm: the bounded wait (6f9c4d8c468c) and IOMMU_DESTROY by id', () => {
  // CPU1 binds device 2 and attaches it to pt id 1, which is CPU0's device: iommufd_get_object(ANY) takes
  // device 1, then "default: rc = -EINVAL" and iommufd_put_object; CPU0's unbind waits inside that window.
  const prologue: Line[] = [
    ...bind(0), // 1-3: device 1 users=2 short=1
    ...bind(1), // 4-6: device 2
    [1, 'attach', 1], // 7: lookup: device 1 users=3 short=2
    [0, 'unbind'], // 8: drop_bias: short=1
  ];

  it('unbind waits while a lookup holds the device; the timeout is offered only until the holder puts users', () => {
    const p = play(v67, [
      ...prologue,
      [1, 'check_pt'], // 9: -EINVAL: the error path puts
      [1, 'put_users'], // 10
      [1, 'put_short'], // 11: shortterm_users 0, wake_up
      [0, 'wait'], // 12
      [0, 'remove'],
      [0, 'free'],
    ]);
    const r = replies(p.trace);
    expect(r[6]).toEqual(ok('locked'));
    expect(r[7]).toEqual(ok('bias dropped'));
    expect(state(after(p, 8), 1)).toEqual(live('device', 3, 1));
    // Held (users and short-term): the wait cannot proceed; only its timeout can happen.
    expect(stepsOf(p, after(p, 8), 0)).toEqual(['wait timeout']);
    expect(stepsOf(p, after(p, 9), 0)).toEqual(['wait timeout']);
    // The holder is inside iommufd_put_object (users already put): it finishes at once, no timeout.
    expect(state(after(p, 10), 1)).toEqual(live('device', 2, 1));
    expect(stepsOf(p, after(p, 10), 0)).toEqual([]);
    expect(r[10]).toEqual(err('-EINVAL'));
    expect(stepsOf(p, after(p, 11), 0)).toEqual(['wait']);
    expect(r.slice(11)).toEqual([ok('woken'), ok('erased'), ok('0')]);
    expect(state(last(p), 1)).toBe('freed');
    expect(last(p).threads[0]!.owns).toEqual([]);
    expect(p.violations).toEqual([]);
  });

  it('the timeout returns -EBUSY (WARN) with the device intact for close; release then destroys everything', () => {
    // A.6 v6.7: "On timeout: pr_crit, restore the bias, users-- (the caller's), return -EBUSY. The object then
    // lives until fd close"; iommufd_object_destroy_user WARN_ON(ret).
    const p = play(v67, [
      ...prologue,
      [0, 'wait', 'timeout'], // 9
      [1, 'check_pt'],
      [1, 'put_users'],
      [1, 'put_short'], // 12
      [0, 'exit'],
      [1, 'unbind'], // 14: device 2: drop_bias
      [1, 'wait'],
      [1, 'remove'],
      [1, 'free'],
      [1, 'exit'],
      [CLOSE, 'release'], // 19
    ]);
    const r = replies(p.trace);
    expect(r[8]).toEqual(err('WARN: -EBUSY'));
    // Intact: still live, the bias restored, the driver's ref put; CPU1's lookup still counts.
    expect(state(after(p, 9), 1)).toEqual(live('device', 2, 2));
    expect(after(p, 9).threads[0]).toMatchObject({ owns: [] });
    expect(after(p, 9).threads[0]!.run).toBeUndefined();
    expect(r[11]).toEqual(err('-EINVAL'));
    expect(state(after(p, 12), 1)).toEqual(live('device', 1, 1));
    expect(state(after(p, 17), 2)).toBe('freed');
    // Release is offered only once every thread has exited.
    expect(p.system.enabled(after(p, 17)).map(show)).not.toContain('CPU2 release');
    expect(p.system.enabled(after(p, 18)).map(show)).toEqual(['CPU2 release']);
    expect(r[18]).toEqual(ok('every object destroyed'));
    expect(last(p)).toMatchObject({ released: true, objects: [] });
    expect(p.quiescent).toBe(true);
    // kernel-destroy-completes and release-destroys-all hold, with every other property.
    expect(p.violations).toEqual([]);
  });

  it('IOMMU_DESTROY of an ioas another CPU is using is -EBUSY: users counts the in-flight lookup', () => {
    // A.6 v6.7 iommufd_object_remove without to_destroy: refcount_dec_if_one(users) fails: -EBUSY.
    const p = play(v67, [
      ...ioasAlloc(0),
      [1, 'use', 1], // 4
      [0, 'destroy', 1], // 5: remove
      [1, 'put_users'],
      [1, 'put_short'],
      [0, 'destroy', 1], // 8: remove: erased
      [0, 'drop_bias'],
      [0, 'wait'],
      [0, 'free'],
    ]);
    const r = replies(p.trace);
    expect(state(after(p, 3), 1)).toEqual(live('ioas', 1, 1));
    expect(state(after(p, 4), 1)).toEqual(live('ioas', 2, 2));
    expect(r[4]).toEqual(err('-EBUSY'));
    expect(state(after(p, 5), 1)).toEqual(live('ioas', 2, 2));
    expect(after(p, 5).threads[0]).toMatchObject({ holds: [] });
    expect(after(p, 5).threads[0]!.run).toBeUndefined();
    expect(r.slice(7)).toEqual([ok('erased'), ok('bias dropped'), ok('woken'), ok('0')]);
    expect(last(p).objects).toEqual([]);
    expect(p.violations).toEqual([]);
  });

  it('IOMMU_DESTROY erases at once, then waits for a holder racing inside iommufd_put_object', () => {
    // A.6 iommufd_object_remove step 5: "Any remaining holder must be a thread racing inside iommufd_put_object".
    const p = play(v67, [
      ...ioasAlloc(0),
      [1, 'use', 1],
      [1, 'put_users'], // 5: users back to 1, shortterm still held
      [0, 'destroy', 1], // 6: erased
      [0, 'drop_bias'], // 7
      [1, 'put_short'], // 8
      [0, 'wait'],
      [0, 'free'],
    ]);
    const r = replies(p.trace);
    expect(r[5]).toEqual(ok('erased'));
    expect(state(after(p, 6), 1)).toEqual({ kind: 'ioas', value: 'removed', users: 0, short: 2 });
    expect(stepsOf(p, after(p, 7), 0)).toEqual([]);
    expect(r[7]).toEqual(ok('shortterm--'));
    expect(stepsOf(p, after(p, 8), 0)).toEqual(['wait']);
    expect(last(p).objects).toEqual([]);
    expect(p.violations).toEqual([]);
  });
});

describe('iommufd_fops_release (A.6: "Leaves are destroyed first")', () => {
  const hwptOnIoas = (t: number): Line[] => [
    ...ioasAlloc(t),
    [t, 'hwpt_alloc', 1],
    [t, 'reserve'],
    [t, 'fallible'],
    [t, 'link'],
    [t, 'finalize'],
    [t, 'put_users'],
    [t, 'put_short'],
  ];

  it('destroys the hwpt, then the ioas it held, in one step, and leaves nothing', () => {
    const p = play(v62, [...hwptOnIoas(0), [0, 'exit'], [1, 'exit'], [CLOSE, 'release']]);
    const before = after(p, 12);
    // The ioas comes first in the xarray but cannot go first: the hwpt holds users on it.
    expect(before.objects.map((o) => [o.id, o.state.context.kind])).toEqual([
      [1, 'ioas'],
      [2, 'hwpt'],
    ]);
    expect(state(before, 1)).toEqual(live('ioas', 2, 0));
    expect(stepsOf(p, after(p, 11), CLOSE)).toEqual([]);
    expect(p.system.enabled(before)).toEqual([{ thread: CLOSE, op: 'release', args: [] }]);
    expect(p.trace.steps[12]!.reply).toEqual(ok('every object destroyed'));
    expect(last(p)).toMatchObject({ released: true, objects: [], releaseReply: ok('every object destroyed') });
    expect(p.quiescent).toBe(true);
    expect(p.violations).toEqual([]);
  });

  it('a leaked users ref (map-leaks-users) makes release WARN, the ioas leaks and release-destroys-all is violated', () => {
    // A.6 iommufd_fops_release: "If a full pass destroys nothing, WARN_ON and stop (a refcount bug; the remaining
    // objects leak)"; seed 002: the refcount "must be unheld internally in the kernel when the fd is released".
    const p = play(mapLeaksUsers, [
      ...ioasAlloc(0),
      [0, 'use', 1], // 4
      [0, 'put_short'], // 5: up_read, but no users--
      [0, 'exit'],
      [1, 'exit'],
      [CLOSE, 'release'],
    ]);
    expect(state(after(p, 5), 1)).toEqual(live('ioas', 2, 0));
    expect(after(p, 5).threads[0]!.holds).toEqual([{ serial: 1, users: true, short: false }]);
    const warn = err('WARN_ON(!destroyed): ioas 1 users=2 leak');
    expect(p.trace.steps[7]!.reply).toEqual(warn);
    expect(last(p)).toMatchObject({ released: true, releaseReply: warn });
    expect(state(last(p), 1)).toEqual(live('ioas', 2, 0));
    expect(p.quiescent).toBe(true);
    expect(broken(p)).toEqual({ 'release-destroys-all': 8 });
    expect(p.violations[0]!.message).toBe('iommufd_fops_release: WARN_ON(!destroyed): ioas 1 users=2 leak');
  });
});

describe('the trace as a mailing-list reply', () => {
  it('renders the syzkaller race in CPU columns with the kernel names, the breaking step marked', () => {
    const p = play(v62, [
      ...bind(0),
      [1, 'destroy', 1],
      [1, 'ref_to_users'],
      [0, 'unbind'],
      [0, 'remove'],
      [1, 'down_write'],
      [1, 'remove'],
      [1, 'free'],
      [0, 'exit'],
      [1, 'exit'],
      [CLOSE, 'release'],
    ]);
    const violation = p.violations[0]!;
    expect(violation).toMatchObject({ property: 'kernel-destroy-completes', at: 7 });
    const text = renderTrace(p.trace, iommufd.present, v62.config, violation);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^\s+CPU0\s+CPU1\s+release\s+device 1$/);
    // Calls longer than their column wrap within it; each starts on its step's line.
    for (const call of [
      'iommufd_device_bind: iommufd_object_alloc(device)',
      'IOMMU_DESTROY(1): iommufd_get_object(1) =',
      'iommufd_ref_to_users(device 1) = up_read,',
      'iommufd_device_unbind: down_write(&device',
      'refcount_dec_if_one(&device 1->users) = WARN:',
      'destroy, kfree(device 1) = 0',
      'iommufd_fops_release: every object destroyed',
    ]) {
      expect(lines.some((l) => /^\d+ /.test(l) && l.includes(call))).toBe(true);
    }
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
    // Step 7 is CPU0's and is marked (on a line of its own when its row is full); the object column shows the device after it.
    const row7 = lines.findIndex((l) => l.startsWith('7 '));
    const row8 = lines.findIndex((l) => l.startsWith('8 '));
    expect(lines[row7]).toMatch(/refcount_dec_if_one\(&device 1->users\) = WARN:.*\s+live users=2 short=0$/);
    expect(lines[row7]!.indexOf('refcount_dec_if_one')).toBeLessThan(lines[0]!.indexOf('CPU1'));
    expect(lines.slice(row7, row8).filter((l) => l.endsWith('<-- kernel-destroy-completes'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('<--'))).toHaveLength(1);
    expect(text.replace(/\n/g, ' ')).toContain(`kernel-destroy-completes at step 7: ${violation.message}`);
  });
});
