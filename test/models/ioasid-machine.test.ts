/**
 * The IOASID slot machines checked against their sources, transition by
 * transition: seed 001 ("IOASID refcounting rules", ioasid_get_locked,
 * ioasid_put_locked) and kernel-semantics A.4 (ioasid_free) for the series,
 * A.2 for upstream v5.11, seed 000 for v1.
 */
import { describe, expect, it } from 'vitest';
import type { AnyStateMachine } from 'xstate';
import { fire, initialState, UNHANDLED, type Fired, type MachineState } from '../../src/engine/machine.ts';
import {
  seriesMachine,
  upstreamMachine,
  v1Machine,
  type SlotContext,
  type SlotEvent,
} from 'lifecheck/models';
import { runEvents } from '../helpers/machines.ts';

type Call = [SlotEvent['type'], string | null];

/** Fires one call on the slot. */
const step = (machine: AnyStateMachine, from: MachineState<SlotContext>, event: SlotEvent): Fired<SlotContext> =>
  fire<SlotContext>(machine, from, event);

/** Fires `calls` from the machine's initial state; the final state and the last call's reply. */
const run = (machine: AnyStateMachine, ...calls: Call[]): Fired<SlotContext> =>
  runEvents<SlotContext>(machine, calls.map(([type, set]) => ({ type, set })));

const state = (value: string, refs: number, set: string | null) => ({ value, context: { refs, set, data: null } });
const ok = (text: string) => ({ ok: true, text });
const err = (text: string) => ({ ok: false, text });

const freeDropsEveryCall = seriesMachine.provide({ guards: { freeDropsEveryCall: () => true } });
const findTakesRef = seriesMachine.provide({ guards: { findTakesRef: () => true } });

describe('seriesMachine against seed 001 and kernel-semantics A.4', () => {
  it('starts freed with no refs', () => {
    // 000/001: an id not in the xarray is in the pool.
    expect(initialState(seriesMachine)).toEqual(state('freed', 0, null));
  });

  // --- ioasid_alloc ---
  it('ioasid_alloc() sets initial refcount to 1 (active)', () => {
    // 001: "- ioasid_alloc() set initial refcount to 1"
    const r = run(seriesMachine, ['ALLOC', 's1']);
    expect(r.state).toEqual(state('active', 1, 's1'));
    expect(r.reply).toEqual(ok('allocated'));
  });

  // --- ioasid_free ---
  it('ioasid_free() with refs > 1 marks FREE_PENDING and drops one ref', () => {
    // 001: "If recount is non-zero, mark IOASID as IOASID_STATE_FREE_PENDING."
    const r = run(seriesMachine, ['ALLOC', 's1'], ['GET', 's1'], ['FREE', 's1']);
    expect(r.state).toEqual(state('freePending', 1, 's1'));
    expect(r.reply).toEqual(ok('free-pending'));
  });

  it('ioasid_free() at the last ref frees the id', () => {
    // 001: "- ioasid_free() decrement and test refcount. If refcount is 0, ioasid will be freed."
    const r = run(seriesMachine, ['ALLOC', 's1'], ['FREE', 's1']);
    expect(r.state).toEqual(state('freed', 0, null));
    expect(r.reply).toEqual(ok('freed'));
  });

  it('a second ioasid_free() on FREE_PENDING is a no-op', () => {
    // A.4: "Already FREE_PENDING: return. A second free is a no-op; it does not drop another reference."
    const before = run(seriesMachine, ['ALLOC', 's1'], ['GET', 's1'], ['GET', 's1'], ['FREE', 's1']);
    expect(before.state).toEqual(state('freePending', 2, 's1'));
    const r = step(seriesMachine, before.state, { type: 'FREE', set: 's1' });
    expect(r.state).toEqual(before.state);
    expect(r.reply).toEqual(ok('no-op'));
  });

  it('ioasid_free() can be called multiple times until all refs are dropped (freeDropsEveryCall)', () => {
    // 001: "ioasid_free() can be called multiple times without error until all refs are dropped."
    const twice = run(freeDropsEveryCall, ['ALLOC', 's1'], ['GET', 's1'], ['GET', 's1'], ['FREE', 's1'], ['FREE', 's1']);
    expect(twice.state).toEqual(state('freePending', 1, 's1'));
    expect(twice.reply).toEqual(ok('free-pending'));
    const thrice = step(freeDropsEveryCall, twice.state, { type: 'FREE', set: 's1' });
    expect(thrice.state).toEqual(state('freed', 0, null));
    expect(thrice.reply).toEqual(ok('freed'));
  });

  it('ioasid_free() with a different set is refused and nothing changes', () => {
    // A.4: "data->set != set ... warns 'Cannot free IOASID ... due to set ownership' and returns."
    const before = run(seriesMachine, ['ALLOC', 's1'], ['GET', 's1']);
    const r = step(seriesMachine, before.state, { type: 'FREE', set: 's2' });
    expect(r.state).toEqual(before.state);
    expect(r.reply).toEqual(err('refused'));
  });

  it('ioasid_free() with the NULL set is refused (strict compare, NULL is no wildcard)', () => {
    // A.4: "(a strict compare, so NULL is *not* a wildcard here, unlike get/put)"
    for (const calls of [
      [['ALLOC', 's1']],
      [['ALLOC', 's1'], ['GET', 's1']],
    ] as Call[][]) {
      const before = run(seriesMachine, ...calls);
      const r = step(seriesMachine, before.state, { type: 'FREE', set: null });
      expect(r.state).toEqual(before.state);
      expect(r.reply).toEqual(err('refused'));
    }
  });

  it('ioasid_free() with a wrong or NULL set on FREE_PENDING is refused too', () => {
    // A.4: the ownership check comes before "Already FREE_PENDING: return".
    const before = run(seriesMachine, ['ALLOC', 's1'], ['GET', 's1'], ['FREE', 's1']);
    for (const set of ['s2', null]) {
      const r = step(seriesMachine, before.state, { type: 'FREE', set });
      expect(r.state).toEqual(before.state);
      expect(r.reply).toEqual(err('refused'));
    }
  });

  it('ioasid_free() on an unknown id does nothing', () => {
    // A.4: "Unknown ID: a rate-limited error and nothing else."
    const r = run(seriesMachine, ['FREE', 's1']);
    expect(r.state).toEqual(state('freed', 0, null));
    expect(r.reply).toEqual(err('unknown'));
  });

  // --- ioasid_get ---
  it('ioasid_get() on an active id takes a reference and returns 0', () => {
    // 001: "- ioasid_get() get a reference on an active IOASID" ... "refcount_inc(&data->users); return 0;"
    const r = run(seriesMachine, ['ALLOC', 's1'], ['GET', 's1']);
    expect(r.state).toEqual(state('active', 2, 's1'));
    expect(r.reply).toEqual(ok('0'));
  });

  it('ioasid_get() on FREE_PENDING returns -EBUSY and nothing changes', () => {
    // 001: "if (data->state == IOASID_STATE_FREE_PENDING) { ... return -EBUSY; }"
    const before = run(seriesMachine, ['ALLOC', 's1'], ['GET', 's1'], ['FREE', 's1']);
    const r = step(seriesMachine, before.state, { type: 'GET', set: 's1' });
    expect(r.state).toEqual(before.state);
    expect(r.reply).toEqual(err('-EBUSY'));
  });

  it('ioasid_get() checks FREE_PENDING before the set: wrong or NULL set is still -EBUSY', () => {
    // A.4: "The checks run in that order." (-EINVAL, -EBUSY, then -EACCES)
    const before = run(seriesMachine, ['ALLOC', 's1'], ['GET', 's1'], ['FREE', 's1']);
    for (const set of ['s2', null]) {
      const r = step(seriesMachine, before.state, { type: 'GET', set });
      expect(r.state).toEqual(before.state);
      expect(r.reply).toEqual(err('-EBUSY'));
    }
  });

  it('ioasid_get() with a mismatched set returns -EACCES and nothing changes', () => {
    // 001: "if (set && data->set != set) { ... return -EACCES; }"
    const before = run(seriesMachine, ['ALLOC', 's1']);
    const r = step(seriesMachine, before.state, { type: 'GET', set: 's2' });
    expect(r.state).toEqual(before.state);
    expect(r.reply).toEqual(err('-EACCES'));
  });

  it('ioasid_get() with the NULL set skips the set check', () => {
    // 001 ioasid_get: "Check set ownership if @set is non-null."
    const r = run(seriesMachine, ['ALLOC', 's1'], ['GET', null]);
    expect(r.state).toEqual(state('active', 2, 's1'));
    expect(r.reply).toEqual(ok('0'));
  });

  it('ioasid_get() on an unknown id returns -EINVAL', () => {
    // 001: "pr_err("Trying to get unknown IOASID %u\n", ioasid); return -EINVAL;"
    for (const calls of [[], [['ALLOC', 's1'], ['FREE', 's1']]] as Call[][]) {
      const before = run(seriesMachine, ...calls);
      const r = step(seriesMachine, before.state, { type: 'GET', set: 's1' });
      expect(r.state).toEqual(state('freed', 0, null));
      expect(r.reply).toEqual(err('-EINVAL'));
    }
  });

  // --- ioasid_put ---
  it('ioasid_put() decrements the refcount and does nothing else while non-zero', () => {
    // 001: "- ioasid_put() decrement and test refcount of the IOASID. ... Do nothing if refcount is non-zero."
    const r = run(seriesMachine, ['ALLOC', 's1'], ['GET', 's1'], ['PUT', 's1']);
    expect(r.state).toEqual(state('active', 1, 's1'));
    // The call succeeds and, as A.4's bool ioasid_put, returns false (nothing freed).
    expect(r.reply).toEqual(ok('false'));
  });

  it('ioasid_put() at zero frees the id even if free was never called', () => {
    // 001: "If refcount is 0, ioasid will be freed." / A.4: "A put at 0 frees even if nobody ever called free."
    const r = run(seriesMachine, ['ALLOC', 's1'], ['PUT', 's1']);
    expect(r.state).toEqual(state('freed', 0, null));
    expect(r.reply).toEqual(ok('true'));
  });

  it('ioasid_put() drops the last reference of a FREE_PENDING id and frees it', () => {
    // 001: "continue to work until the last reference is dropped"
    const r = run(seriesMachine, ['ALLOC', 's1'], ['GET', 's1'], ['FREE', 's1'], ['PUT', 's1']);
    expect(r.state).toEqual(state('freed', 0, null));
    expect(r.reply).toEqual(ok('true'));
  });

  it('ioasid_put() with the NULL set skips the set check', () => {
    // 001 ioasid_put: "Check set ownership if @set is non-null."
    const r = run(seriesMachine, ['ALLOC', 's1'], ['GET', 's1'], ['PUT', null]);
    expect(r.state).toEqual(state('active', 1, 's1'));
  });

  it('ioasid_put() with a wrong set is refused and nothing changes', () => {
    // 001: "if (set && data->set != set) { pr_err("Trying to drop IOASID not in the set %u\n", ioasid); return; }"
    for (const calls of [
      [['ALLOC', 's1']],
      [['ALLOC', 's1'], ['GET', 's1'], ['FREE', 's1']],
    ] as Call[][]) {
      const before = run(seriesMachine, ...calls);
      const r = step(seriesMachine, before.state, { type: 'PUT', set: 's2' });
      expect(r.state).toEqual(before.state);
      expect(r.reply.ok).toBe(false);
    }
  });

  it('ioasid_put() on an unknown id is refused and nothing changes', () => {
    // 001: "pr_err("Trying to put unknown IOASID %u\n", ioasid); return;"
    const r = run(seriesMachine, ['PUT', 's1']);
    expect(r.state).toEqual(state('freed', 0, null));
    expect(r.reply.ok).toBe(false);
  });

  // --- ioasid_find ---
  it('ioasid_find() works on an active id and takes no reference', () => {
    // 001: "- ioasid_find() does not take reference, caller must hold reference"
    const before = run(seriesMachine, ['ALLOC', 's1']);
    const r = step(seriesMachine, before.state, { type: 'FIND', set: 's1' });
    expect(r.state).toEqual(before.state);
    expect(r.reply).toEqual(ok('found'));
  });

  it('ioasid_find() keeps working in FREE_PENDING until the last reference is dropped', () => {
    // 001: "ioasid_find() and other non refcount adding APIs will continue to work until the last reference is dropped"
    const before = run(seriesMachine, ['ALLOC', 's1'], ['GET', 's1'], ['FREE', 's1']);
    const r = step(seriesMachine, before.state, { type: 'FIND', set: 's1' });
    expect(r.state).toEqual(before.state);
    expect(r.reply).toEqual(ok('found'));
  });

  it('ioasid_find() with a mismatched set returns -EACCES', () => {
    // 000 ioasid_find: "data found but does not belong to the set" -> ERR_PTR(-EACCES)
    for (const calls of [
      [['ALLOC', 's1']],
      [['ALLOC', 's1'], ['GET', 's1'], ['FREE', 's1']],
    ] as Call[][]) {
      const before = run(seriesMachine, ...calls);
      const r = step(seriesMachine, before.state, { type: 'FIND', set: 's2' });
      expect(r.state).toEqual(before.state);
      expect(r.reply).toEqual(err('-EACCES'));
    }
  });

  it('ioasid_find() on a freed id returns -ENOENT', () => {
    // A.4 / 000: ioasid_find on an id not in the xarray -> ERR_PTR(-ENOENT)
    const r = run(seriesMachine, ['ALLOC', 's1'], ['FREE', 's1'], ['FIND', 's1']);
    expect(r.state).toEqual(state('freed', 0, null));
    expect(r.reply).toEqual(err('-ENOENT'));
  });

  it('ioasid_find() takes a reference when findTakesRef is flipped (Lu Baolu review)', () => {
    // 001 review: "Do you need to increase the refcount of the found ioasid and ask the caller to drop it after use?"
    const active = run(findTakesRef, ['ALLOC', 's1'], ['FIND', 's1']);
    expect(active.state).toEqual(state('active', 2, 's1'));
    expect(active.reply).toEqual(ok('found'));
    const pending = run(findTakesRef, ['ALLOC', 's1'], ['GET', 's1'], ['FREE', 's1'], ['FIND', 's1']);
    expect(pending.state).toEqual(state('freePending', 2, 's1'));
    expect(pending.reply).toEqual(ok('found'));
    const mismatch = run(findTakesRef, ['ALLOC', 's1'], ['FIND', 's2']);
    expect(mismatch.state).toEqual(state('active', 1, 's1'));
    expect(mismatch.reply).toEqual(err('-EACCES'));
  });

  it('a freed id can be allocated again (returned to the pool)', () => {
    // 001: "The IOASID will be returned to the pool and available for new allocations."
    const r = run(seriesMachine, ['ALLOC', 's1'], ['FREE', 's1'], ['ALLOC', 's2']);
    expect(r.state).toEqual(state('active', 1, 's2'));
    expect(r.reply).toEqual(ok('allocated'));
  });

  it('a FREE_PENDING id is not returned to the pool for reuse', () => {
    // 001: "The IOASID is not returned to the pool for reuse."
    const before = run(seriesMachine, ['ALLOC', 's1'], ['GET', 's1'], ['FREE', 's1']);
    const r = step(seriesMachine, before.state, { type: 'ALLOC', set: 's2' });
    expect(r.state).toEqual(before.state);
    expect(r.reply).toEqual(UNHANDLED);
  });
});

describe('upstreamMachine (v5.11, kernel-semantics A.2)', () => {
  it('void ioasid_get() takes a reference with no set check', () => {
    // A.2: "void ioasid_get(ioasid_t): refs++, no set check, no failure."
    const r = run(upstreamMachine, ['ALLOC', 's1'], ['GET', 's2']);
    expect(r.state).toEqual(state('active', 2, 's1'));
    expect(r.reply).toEqual(ok('void'));
  });

  it('bool ioasid_put() returns true only when it frees', () => {
    // A.2: "bool ioasid_put(ioasid_t): refs--, freed at zero, true if freed."
    const first = run(upstreamMachine, ['ALLOC', 's1'], ['GET', null], ['PUT', null]);
    expect(first.state).toEqual(state('active', 1, 's1'));
    expect(first.reply).toEqual(ok('false'));
    const last = step(upstreamMachine, first.state, { type: 'PUT', set: null });
    expect(last.state).toEqual(state('freed', 0, null));
    expect(last.reply).toEqual(ok('true'));
  });

  it('has no FREE_PENDING state: a free with refs left just drops one', () => {
    // v5.11 has no ioasid_free: the owner drops its reference with ioasid_put.
    expect('freePending' in upstreamMachine.root.states).toBe(false);
    const r = run(upstreamMachine, ['ALLOC', 's1'], ['GET', null], ['FREE', 's1'], ['GET', null]);
    expect(r.state).toEqual(state('active', 2, 's1'));
    expect(r.reply).toEqual(ok('void'));
  });

  it('ioasid_get() on an unknown id hits WARN_ON', () => {
    // A.2: "ioasid_get on an unknown id hits WARN_ON(1)."
    const r = run(upstreamMachine, ['GET', null]);
    expect(r.state).toEqual(state('freed', 0, null));
    expect(r.reply).toEqual(err('WARN'));
  });
});

describe('v1Machine (seed 000, v5.5)', () => {
  it('ioasid_free() erases the id at once, whoever else uses it', () => {
    // 000 ioasid_free(ioasid): xa_erase + kfree_rcu, no refcount.
    const allocated = run(v1Machine, ['ALLOC', 's1']);
    expect(allocated.state).toEqual(state('active', 0, 's1'));
    const r = step(v1Machine, allocated.state, { type: 'FREE', set: null });
    expect(r.state).toEqual(state('freed', 0, null));
    expect(r.reply).toEqual(ok('void'));
    expect(step(v1Machine, r.state, { type: 'FIND', set: 's1' }).reply).toEqual(err('-ENOENT'));
  });

  it('has no ioasid_get/ioasid_put: GET and PUT are not supported', () => {
    // 000 has no refcount API; machine.ts: UNHANDLED = { ok: false, text: 'not supported' }.
    const allocated = run(v1Machine, ['ALLOC', 's1']);
    for (const from of [initialState<SlotContext>(v1Machine), allocated.state]) {
      for (const type of ['GET', 'PUT'] as const) {
        const r = step(v1Machine, from, { type, set: 's1' });
        expect(r.state).toEqual(from);
        expect(r.reply).toEqual(UNHANDLED);
        expect(r.reply).toEqual({ ok: false, text: 'not supported' });
      }
    }
  });

  it('ioasid_find() checks the set and takes no reference', () => {
    // 000 ioasid_find: "data found but does not belong to the set" -> ERR_PTR(-EACCES)
    const allocated = run(v1Machine, ['ALLOC', 's1']);
    expect(step(v1Machine, allocated.state, { type: 'FIND', set: 's1' })).toMatchObject({
      state: allocated.state,
      reply: ok('found'),
    });
    expect(step(v1Machine, allocated.state, { type: 'FIND', set: 's2' }).reply).toEqual(err('-EACCES'));
  });
});
