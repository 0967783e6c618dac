/**
 * The custom IOASID allocator registry checked against kernel-semantics A.3
 * ("Custom allocator registration and switching", ioasid_register_allocator /
 * ioasid_unregister_allocator), transition by transition, plus a property
 * test of the memo and the registry's invariant on random call sequences.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AnyStateMachine } from 'xstate';
import { fire, fireUncached, initialState, type Fired, type MachineState } from '../../src/engine/machine.ts';
import {
  registryMachine,
  type AllocatorEntry,
  type RegistryContext,
  type RegistryEvent,
} from 'lifecheck/models';
import { runEvents } from '../helpers/machines.ts';

/** Fires one call on the registry. */
const step = (machine: AnyStateMachine, from: MachineState<RegistryContext>, event: RegistryEvent) =>
  fire<RegistryContext>(machine, from, event);

/** Fires `events` from the machine's initial state; the final state and the last call's reply. */
const run = (machine: AnyStateMachine, ...events: RegistryEvent[]): Fired<RegistryContext> =>
  runEvents<RegistryContext>(machine, events);

const register = (ops: string, helpers: string, defaultLive = false): RegistryEvent => ({
  type: 'REGISTER',
  ops,
  helpers,
  defaultLive,
});
const unregister = (ops: string, helpers: string, live = false): RegistryEvent => ({
  type: 'UNREGISTER',
  ops,
  helpers,
  live,
});

const entry = (helpers: string, ops: string[], table: string): AllocatorEntry => ({ helpers, ops, table });
const ok = (text: string) => ({ ok: true, text });
const err = (text: string) => ({ ok: false, text });

/** The variant where unregister fails (-EBUSY) rather than orphan live ids. */
const refusesLiveIds = registryMachine.provide({ guards: { refusesLiveIds: () => true } });

describe('registryMachine against kernel-semantics A.3', () => {
  it('rule 1: starts with the default allocator alone (no entries, active null)', () => {
    // A.3 rule 1: "The default allocator always exists and is never registered dynamically."
    expect(initialState(registryMachine)).toEqual({
      value: 'defaultActive',
      context: { entries: [], active: null, made: 0 },
    });
  });

  // --- ioasid_register_allocator ---
  it('register, first custom allocator, default XArray empty: becomes active, returns 0', () => {
    // A.3: "Default XArray empty: the new allocator becomes active (rcu_assign_pointer) and joins the list. Returns 0."
    const r = run(registryMachine, register('v0', 'vcmd'));
    expect(r.state.value).toBe('customActive');
    expect(r.state.context.entries).toEqual([entry('vcmd', ['v0'], 'vcmd.1')]);
    expect(r.state.context.active).toBe('vcmd.1');
    expect(r.reply).toEqual(ok('0'));
  });

  it('register, first custom allocator, default XArray not empty: -EAGAIN, not registered', () => {
    // A.3: "Default XArray not empty: returns -EAGAIN, and the new allocator is not registered." (rule 5)
    const before = initialState<RegistryContext>(registryMachine);
    const r = step(registryMachine, before, register('v0', 'vcmd', true));
    expect(r.state).toEqual(before);
    expect(r.reply).toEqual(err('-EAGAIN'));
  });

  it('register, same ops pointer: -EEXIST, nothing changes', () => {
    // A.3: "Same ops pointer: -EEXIST."
    const before = run(registryMachine, register('v0', 'vcmd'));
    const r = step(registryMachine, before.state, register('v0', 'vcmd'));
    expect(r.state).toEqual(before.state);
    expect(r.reply).toEqual(err('-EEXIST'));
  });

  it('register, same ops pointer of a second sharer: -EEXIST too', () => {
    // A.3: "Same ops pointer: -EEXIST." (any ops already on the list, here one in an entry's slist)
    const before = run(registryMachine, register('v0', 'vcmd'), register('v1', 'vcmd'));
    const r = step(registryMachine, before.state, register('v1', 'vcmd'));
    expect(r.state).toEqual(before.state);
    expect(r.reply).toEqual(err('-EEXIST'));
  });

  it('register, same helper pair, different ops: joins the slist, shares the XArray, active unchanged', () => {
    // A.3: "Same function pair (use_same_ops) but different ops: added to the existing entry's slist, which
    // shares its XArray. Returns 0 and does not change the active allocator." (rule 4)
    const before = run(registryMachine, register('v0', 'vcmd'));
    const r = step(registryMachine, before.state, register('v1', 'vcmd'));
    expect(r.state.value).toBe('customActive');
    expect(r.state.context.entries).toEqual([entry('vcmd', ['v0', 'v1'], 'vcmd.1')]);
    expect(r.state.context.active).toBe('vcmd.1');
    expect(r.state.context.made).toBe(1);
    expect(r.reply).toEqual(ok('0'));
  });

  it('register, different helper pair: appended as an inactive standby with its own XArray', () => {
    // A.3: "Otherwise: appended to allocators_list as an inactive standby. Returns 0."
    const before = run(registryMachine, register('v0', 'vcmd'));
    const r = step(registryMachine, before.state, register('o0', 'other'));
    expect(r.state.value).toBe('customActive');
    expect(r.state.context.entries).toEqual([entry('vcmd', ['v0'], 'vcmd.1'), entry('other', ['o0'], 'other.2')]);
    expect(r.state.context.active).toBe('vcmd.1');
    expect(r.reply).toEqual(ok('0'));
  });

  it('register, further allocator: the default XArray is not consulted (no -EAGAIN)', () => {
    // A.3: the -EAGAIN check is for the "first custom allocator" only; further ones walk the list.
    const r = run(registryMachine, register('v0', 'vcmd'), register('o0', 'other', true));
    expect(r.state.context.entries.map((e) => e.helpers)).toEqual(['vcmd', 'other']);
    expect(r.reply).toEqual(ok('0'));
  });

  // --- ioasid_unregister_allocator ---
  it('unregister with no custom allocators: "No custom IOASID allocators active!", nothing changes', () => {
    // A.2 table / A.3: with no custom allocators it logs "No custom IOASID allocators active!".
    const before = initialState<RegistryContext>(registryMachine);
    for (const live of [false, true]) {
      const r = step(registryMachine, before, unregister('v0', 'vcmd', live));
      expect(r.state).toEqual(before);
      expect(r.reply).toEqual(err('none active'));
    }
  });

  it('unregister, no entry with a matching helper pair: nothing changes', () => {
    // A.3: "Find the entry whose helper pair matches." None matches: the walk does nothing.
    const before = run(registryMachine, register('v0', 'vcmd'));
    const r = step(registryMachine, before.state, unregister('o0', 'other'));
    expect(r.state).toEqual(before.state);
    expect(r.reply.ok).toBe(false);
    expect(r.reply).toEqual(err('not registered'));
  });

  it('unregister, others share the helpers: unlink this ops from slist, keep the IDs and the active allocator', () => {
    // A.3: "If others share the helpers: unlink this ops from slist and keep the IDs." (rule 4)
    const before = run(registryMachine, register('v0', 'vcmd'), register('v1', 'vcmd'));
    for (const live of [false, true]) {
      const r = step(registryMachine, before.state, unregister('v0', 'vcmd', live));
      expect(r.state.value).toBe('customActive');
      expect(r.state.context.entries).toEqual([entry('vcmd', ['v1'], 'vcmd.1')]);
      expect(r.state.context.active).toBe('vcmd.1');
      expect(r.reply).toEqual(ok('void'));
    }
  });

  it('unregister, last sharer of the only entry, live ids: removed, WARN_ON, ids orphaned, back to default', () => {
    // A.3: "If it is the only sharer: remove it and WARN_ON if its XArray is not empty. The IDs are orphaned,
    // not freed." / "If the list is now empty, the active allocator becomes default_allocator." (rule 3)
    const before = run(registryMachine, register('v0', 'vcmd'));
    const r = step(registryMachine, before.state, unregister('v0', 'vcmd', true));
    expect(r.state).toEqual({ value: 'defaultActive', context: { entries: [], active: null, made: 1 } });
    expect(r.reply).toEqual(ok('WARN: ids orphaned'));
  });

  it('unregister, last sharer of the only entry, no live ids: removed, back to default, void', () => {
    // A.3: "If the list is now empty, the active allocator becomes default_allocator." (rule 5)
    const before = run(registryMachine, register('v0', 'vcmd'));
    const r = step(registryMachine, before.state, unregister('v0', 'vcmd', false));
    expect(r.state).toEqual({ value: 'defaultActive', context: { entries: [], active: null, made: 1 } });
    expect(r.reply).toEqual(ok('void'));
  });

  it('unregister, last of two sharers: the entry goes once both are gone', () => {
    // A.3: slist unlink first, then "list_is_singular(slist)": remove it; the list is empty, so default.
    const r = run(
      registryMachine,
      register('v0', 'vcmd'),
      register('v1', 'vcmd'),
      unregister('v1', 'vcmd'),
      unregister('v0', 'vcmd'),
    );
    expect(r.state).toEqual({ value: 'defaultActive', context: { entries: [], active: null, made: 1 } });
    expect(r.reply).toEqual(ok('void'));
  });

  it('unregister the active entry while a standby exists: the first remaining entry becomes active', () => {
    // A.3: "Else, if the removed entry was active, the first remaining entry becomes active."
    const before = run(registryMachine, register('v0', 'vcmd'), register('o0', 'other'), register('p0', 'third'));
    for (const live of [false, true]) {
      const r = step(registryMachine, before.state, unregister('v0', 'vcmd', live));
      expect(r.state.value).toBe('customActive');
      expect(r.state.context.entries).toEqual([entry('other', ['o0'], 'other.2'), entry('third', ['p0'], 'third.3')]);
      expect(r.state.context.active).toBe('other.2');
      expect(r.reply).toEqual(ok(live ? 'WARN: ids orphaned' : 'void'));
    }
  });

  it('unregister a standby: removed, the active allocator is unchanged', () => {
    // A.3: the active allocator changes only "if the removed entry was active".
    const before = run(registryMachine, register('v0', 'vcmd'), register('o0', 'other'));
    const r = step(registryMachine, before.state, unregister('o0', 'other', true));
    expect(r.state.value).toBe('customActive');
    expect(r.state.context.entries).toEqual([entry('vcmd', ['v0'], 'vcmd.1')]);
    expect(r.state.context.active).toBe('vcmd.1');
    expect(r.reply).toEqual(ok('WARN: ids orphaned'));
  });

  it('re-registering the same helpers after unregister gets a fresh XArray: orphaned ids stay unreachable', () => {
    // A.3: "The IDs are orphaned, not freed" / "kfree_rcu": the old XArray is gone; "IDs allocated from the
    // previous one become invisible ... never returned to their allocator."
    const r = run(registryMachine, register('v0', 'vcmd'), unregister('v0', 'vcmd', true), register('v0', 'vcmd'));
    expect(r.state.value).toBe('customActive');
    expect(r.state.context.entries).toEqual([entry('vcmd', ['v0'], 'vcmd.2')]);
    expect(r.state.context.active).toBe('vcmd.2');
    expect(r.state.context.active).not.toBe('vcmd.1');
    expect(r.reply).toEqual(ok('0'));
  });

  // --- the refusesLiveIds variant (unregister fails instead of orphaning) ---
  it('refusesLiveIds: unregister of the last sharer with live ids is -EBUSY and nothing changes', () => {
    // A.3 rule 3 read strictly ("all its outstanding IDs must already have been freed"), the variant that
    // JPB's review rejected ("unregister should not fail").
    const before = run(refusesLiveIds, register('v0', 'vcmd'));
    const r = step(refusesLiveIds, before.state, unregister('v0', 'vcmd', true));
    expect(r.state).toEqual(before.state);
    expect(r.reply).toEqual(err('-EBUSY'));
  });

  it('refusesLiveIds: unregister of the last sharer with no live ids still removes it', () => {
    // A.3: "If the list is now empty, the active allocator becomes default_allocator."
    const before = run(refusesLiveIds, register('v0', 'vcmd'));
    const r = step(refusesLiveIds, before.state, unregister('v0', 'vcmd', false));
    expect(r.state).toEqual({ value: 'defaultActive', context: { entries: [], active: null, made: 1 } });
    expect(r.reply).toEqual(ok('void'));
  });

  it('refusesLiveIds: a sharer that is not the last is still unlinked with live ids', () => {
    // A.3: "If others share the helpers: unlink this ops from slist and keep the IDs." No ids are lost.
    const before = run(refusesLiveIds, register('v0', 'vcmd'), register('v1', 'vcmd'));
    const r = step(refusesLiveIds, before.state, unregister('v0', 'vcmd', true));
    expect(r.state.context.entries).toEqual([entry('vcmd', ['v1'], 'vcmd.1')]);
    expect(r.reply).toEqual(ok('void'));
  });

  // --- property ---
  it('on random REGISTER/UNREGISTER sequences: the memo agrees with xstate, and the registry invariant holds', () => {
    // machine.ts: fire is fireUncached memoized; A.3 rules 1-2: default iff no custom allocator, a custom one
    // is always the active one; "Same ops pointer: -EEXIST" keeps each ops on one entry.
    const helpersOf: Record<string, string> = { a0: 'a', a1: 'a', b0: 'b' };
    const opsArb = fc.constantFrom('a0', 'a1', 'b0');
    const eventArb: fc.Arbitrary<RegistryEvent> = fc.oneof(
      fc.record({ ops: opsArb, flag: fc.boolean() }).map(
        ({ ops, flag }): RegistryEvent => ({ type: 'REGISTER', ops, helpers: helpersOf[ops]!, defaultLive: flag }),
      ),
      fc.record({ ops: opsArb, flag: fc.boolean() }).map(
        ({ ops, flag }): RegistryEvent => ({ type: 'UNREGISTER', ops, helpers: helpersOf[ops]!, live: flag }),
      ),
    );
    const invariant = (state: MachineState<RegistryContext>) => {
      const { entries, active } = state.context;
      expect(state.value === 'defaultActive').toBe(entries.length === 0);
      if (entries.length === 0) expect(active).toBeNull();
      else expect(entries.map((e) => e.table)).toContain(active);
      const ops = entries.flatMap((e) => e.ops);
      expect(new Set(ops).size).toBe(ops.length);
    };
    for (const machine of [registryMachine, refusesLiveIds]) {
      fc.assert(
        fc.property(fc.array(eventArb, { maxLength: 30 }), (events) => {
          let state = initialState<RegistryContext>(machine);
          invariant(state);
          for (const event of events) {
            const cached = fire<RegistryContext>(machine, state, event);
            const uncached = fireUncached<RegistryContext>(machine, state, event);
            expect(cached).toEqual(uncached);
            state = cached.state;
            invariant(state);
          }
        }),
        { seed: 42, numRuns: 200 },
      );
    }
  });
});
