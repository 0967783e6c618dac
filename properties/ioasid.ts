/**
 * What must always hold of the IOASID allocator, each with the seed or kernel
 * source it comes from. Properties read worlds and steps; they never re-derive
 * the lifecycle rules (those are the machines').
 */
import type { Finding, Move, Property } from 'lifecheck';
import {
  activeSlot,
  activeTable,
  isLive,
  liveInstance,
  liveSlots,
  setName,
  setsWithMembers,
  type Cpu,
  type Hold,
  type IoasidConfig,
  type IoasidWorld,
} from '../models/ioasid/world.ts';

type IoasidProperty = Property<IoasidWorld, IoasidConfig>;

const cpuName = (t: number) => `CPU${t}`;
const refcounted = (config: IoasidConfig) => config.calls.get !== undefined;
const hasFreePending = (config: IoasidConfig) => 'freePending' in config.machine.root.states;

/** A hold that keeps its instance alive: a counted reference, or a second user's context. */
const keepsAlive = (h: Hold) => h.ref || h.kind === 'bind';

/**
 * Whether the world is the same but for thread `t`'s own record (a CPU, or
 * the other guest): a refused call may change only what its caller believes it holds.
 */
function sameButCaller(before: IoasidWorld, after: IoasidWorld, t: number): boolean {
  const others = (w: IoasidWorld) => ({
    ...w,
    cpus: w.cpus.filter((_, i) => i !== t),
    otherGuest: t === w.cpus.length ? undefined : w.otherGuest,
  });
  return JSON.stringify(others(after)) === JSON.stringify(others(before));
}


/** The id a step names, when it names one. */
const stepId = (move: Move<IoasidWorld>): number | undefined =>
  typeof move.step.args[0] === 'number' ? move.step.args[0] : undefined;

export const noReuseWhileReferenced: IoasidProperty = {
  id: 'no-reuse-while-referenced',
  title: 'an id returns to the pool only when no one holds it',
  source: 'seed 001 (refcounting rules: "The IOASID will be returned to the pool" only at refcount 0); seed 000',
  kind: 'invariant',
  check(world) {
    for (const [t, cpu] of world.cpus.entries()) {
      for (const h of cpu.holds.filter(keepsAlive)) {
        if (liveInstance(world, h)) continue;
        const now = world.tables[h.table]?.[h.id];
        const fate = isLive(now) ? `reused as ${h.id}#${now.gen}` : 'freed';
        return `ioasid ${h.id}#${h.gen} ${fate} while ${cpuName(t)} holds it (${h.kind})`;
      }
    }
    return undefined;
  },
};

export const noUseAfterFree: IoasidProperty = {
  id: 'no-use-after-free',
  title: 'a pointer from ioasid_find is used only inside its RCU section or under a reference',
  source: 'seed 001 review ("the ioasid might be freed elsewhere"); seed 000 (kfree_rcu)',
  kind: 'step',
  check({ before, step }) {
    if (step.op !== 'use') return undefined;
    const p = before.cpus[step.thread]?.holds.find((h) => h.kind === 'find' && h.id === step.args[0]);
    if (!p || p.rcu || liveInstance(before, p)) return undefined;
    return `p${p.id} points to ${p.id}#${p.gen}, freed, outside the RCU section that found it`;
  },
};

export const refcountMatchesHolders: IoasidProperty = {
  id: 'refcount-matches-holders',
  title: 'each instance’s refcount equals the references held on it',
  source: 'seed 001 (refcounting rules); kernel-semantics D.8',
  kind: 'invariant',
  applies: refcounted,
  check(world) {
    for (const { table, id, slot } of liveSlots(world)) {
      const mine = (h: Hold) => h.ref && h.table === table && h.id === id && h.gen === slot.gen;
      const held = world.cpus.flatMap((c, t) => c.holds.filter(mine).map((h) => `${cpuName(t)} ${h.kind}`));
      const refs = slot.state.context.refs;
      if (refs !== held.length) {
        return `ioasid ${id}#${slot.gen} refs=${refs} but ${held.length} held${held.length ? ` (${held.join(', ')})` : ''}`;
      }
    }
    return undefined;
  },
};

export const getFailsOnFreePending: IoasidProperty = {
  id: 'get-fails-on-free-pending',
  title: 'ioasid_get never succeeds on a free-pending id',
  source: 'seed 001 ("No new reference can be added"; "After free, ioasid_get() will return error")',
  kind: 'step',
  applies: (config) => refcounted(config) && hasFreePending(config),
  check({ before, step, reply, after }) {
    const id = step.args[0];
    if (!(step.op === 'get' || step.op === 'bind') || typeof id !== 'number') return undefined;
    const was = activeSlot(before, id);
    if (was?.state.value !== 'freePending') return undefined;
    const refs = after.tables[activeTable(before)]?.[id]?.state.context.refs ?? 0;
    if (reply.ok || refs > was.state.context.refs) {
      return `ioasid_get on free-pending ${id}#${was.gen} returned ${reply.text}, refs ${was.state.context.refs}->${refs}`;
    }
    return undefined;
  },
};

/** A reference `cpu` holds on `id` other than a find pointer, if any. */
const ownReference = (cpu: Cpu, id: number) => cpu.holds.find((h) => h.ref && h.id === id && h.kind !== 'find');

export const findWorksUntilLastPut: IoasidProperty = {
  id: 'find-works-until-last-put',
  title: 'ioasid_find finds an id for a holder of a reference until the last put',
  source: 'seed 001 ("ioasid_find() ... will continue to work until the last reference is dropped")',
  kind: 'step',
  applies: refcounted,
  check({ before, step, reply, after }) {
    const id = step.args[0];
    const cpu = before.cpus[step.thread];
    if (step.op !== 'find' || typeof id !== 'number' || !cpu) return undefined;
    const mine = ownReference(cpu, id);
    // Only the owner set may find it (other sets' -EACCES is set-isolation's
    // business), and only in the active table (allocated-ids-stay-findable's).
    if (!mine || mine.table !== activeTable(before)) return undefined;
    const owner = liveInstance(before, mine)?.state.context.set;
    if (owner !== undefined && owner !== cpu.set) return undefined;
    const found = after.cpus[step.thread]?.holds.find((h) => h.kind === 'find' && h.id === id);
    if (reply.ok && found?.gen === mine.gen && found.table === mine.table) return undefined;
    const got = reply.ok ? `${id}#${found?.gen}` : reply.text;
    return `${cpuName(step.thread)} holds ${id}#${mine.gen} (${mine.kind}) but ioasid_find gave ${got}`;
  },
};

export const idsInRange: IoasidProperty = {
  id: 'ids-in-range',
  title: 'every allocated id lies in [min,max]',
  source: 'seed 000 (ioasid_alloc: "Allocate an ID between @min and @max"); seed 003',
  kind: 'invariant',
  check(world) {
    const { min, max } = world.range;
    const out = liveSlots(world).find(({ id }) => id < min || id > max);
    return out && `ioasid ${out.id} allocated outside [${min},${max}]`;
  },
};

const SET_CALLS = new Set(['get', 'put', 'free', 'find', 'bind', 'unbind']);

export const setIsolation: IoasidProperty = {
  id: 'set-isolation',
  title: 'a call on an id of another set is refused and changes nothing',
  source: 'seed 004 ("IOASID allocated by one guest can only be used by the same guest"); seed 001 (-EACCES)',
  kind: 'step',
  check(move) {
    const id = stepId(move);
    const cpu = move.before.cpus[move.step.thread];
    if (!SET_CALLS.has(move.step.op) || id === undefined || !cpu) return undefined;
    const slot = activeSlot(move.before, id);
    if (!isLive(slot) || slot.state.context.set === cpu.set) return undefined;
    // Dropping what the caller already held is its own business; gaining a
    // hold on the instance, or changing it, is reaching into another set.
    const gained = move.reply.ok && ['get', 'find', 'bind'].includes(move.step.op);
    const touched = JSON.stringify(activeSlot(move.after, id)) !== JSON.stringify(slot);
    if (!gained && !touched) return undefined;
    const owner = setName(slot.state.context.set);
    return `${cpuName(move.step.thread)} (set ${setName(cpu.set)}) reached ${id}#${slot.gen} of set ${owner}`;
  },
};

export const noTypeConfusion: IoasidProperty = {
  id: 'no-type-confusion',
  title: 'ioasid_find never hands a caller private data of a type it did not expect',
  source: 'design.md, seed 004 ("a global (NULL-set) search can hand back private data of an unexpected type"); A.5',
  kind: 'step',
  check({ before, step, reply }) {
    const id = step.args[0];
    const cpu = before.cpus[step.thread];
    if (step.op !== 'find' || !reply.ok || typeof id !== 'number' || !cpu) return undefined;
    const slot = activeSlot(before, id);
    const data = slot?.state.context.data;
    if (!slot || data === null || data === undefined || data === cpu.data) return undefined;
    return `${cpuName(step.thread)} expects ${cpu.data} but ioasid_find gave ${id}#${slot.gen}'s ${data} (set ${setName(slot.state.context.set)})`;
  },
};

export const allocatedIdsStayFindable: IoasidProperty = {
  id: 'allocated-ids-stay-findable',
  title: 'every live id stays in the table lookups read: switching allocators orphans none',
  source: 'kernel-semantics A.3 (rule 5: "Switching between custom and default requires that all IDs be freed"); D.7',
  kind: 'invariant',
  applies: (config) => config.custom !== undefined,
  check(world) {
    const active = activeTable(world);
    const orphan = liveSlots(world).find(({ table }) => table !== active);
    if (!orphan) return undefined;
    const { table, id, slot } = orphan;
    return `ioasid ${id}#${slot.gen} of table ${table} is live but lookups read the ${active} table`;
  },
};

export const noLostHostIds: IoasidProperty = {
  id: 'no-lost-host-ids',
  title: 'every host id handed to the guest goes back to the host when the guest frees it',
  source: 'seed 003 (intel_ioasid_free: "Freeing unbond IOASID" returns -EBUSY; vcmd_free_pasid); A.2 (ops->free)',
  kind: 'invariant',
  applies: (config) => config.custom !== undefined,
  check(world) {
    const held = new Set(liveSlots(world).map(({ id }) => id));
    const lost = world.host?.find((id) => !held.has(id));
    return lost === undefined ? undefined : `host id ${lost} is still allocated to the guest, which has freed it`;
  },
};

export const setQuotaRespected: IoasidProperty = {
  id: 'set-quota-respected',
  title: 'no set ever holds more ids than its quota',
  source: 'kernel-semantics A.4 (ioasid_alloc: "set->nr_ioasids >= set->quota" fails); D.8 ("Capacity is conserved")',
  kind: 'invariant',
  applies: (config) => config.setLifecycle !== undefined,
  check(world) {
    const over = setsWithMembers(world).find(({ state, members }) => members > state.context.quota);
    return over && `set ${over.set} holds ${over.members} ids, over its quota of ${over.state.context.quota}`;
  },
};

export const setFreedWithLastMember: IoasidProperty = {
  id: 'set-freed-with-last-member',
  title: 'a set is freed exactly when it is free-pending and its last id goes: no id outlives its set',
  source: 'kernel-semantics A.4 (ioasid_set_free: -EBUSY with members, freed when the last IOASID is reclaimed); D.8',
  kind: 'invariant',
  applies: (config) => config.setLifecycle !== undefined,
  check(world) {
    for (const { set, state, members } of setsWithMembers(world)) {
      if (state.value === 'freed' && members > 0) return `set ${set} is freed but ${members} of its ids are live`;
      if (state.value === 'freePending' && members === 0) return `set ${set} is free-pending with no ids left, never freed`;
    }
    return undefined;
  },
};

export const rejectedCallChangesNothing: IoasidProperty = {
  id: 'rejected-call-changes-nothing',
  title: 'a call that fails leaves every instance and holder as it was',
  source: 'seed 001 (error returns of ioasid_get/ioasid_put); kernel-semantics A.4',
  kind: 'step',
  check({ before, step, reply, after }): Finding {
    if (reply.ok || sameButCaller(before, after, step.thread)) return undefined;
    return `${step.op} failed (${reply.text}) but changed the world`;
  },
};

export const nothingLeakedAtQuiescence: IoasidProperty = {
  id: 'nothing-leaked-at-quiescence',
  title: 'once every CPU has released what it held, every id is back in the pool',
  source: 'seed 001 ("The IOASID will be returned to the pool and available for new allocations")',
  kind: 'final',
  check(world) {
    const left = liveSlots(world)[0];
    if (!left) return undefined;
    const { value, context } = left.slot.state;
    return `ioasid ${left.id}#${left.slot.gen} still ${value} (refs=${context.refs}) after every CPU released all it held`;
  },
};

export const ioasidProperties: readonly IoasidProperty[] = [
  noReuseWhileReferenced,
  noUseAfterFree,
  refcountMatchesHolders,
  getFailsOnFreePending,
  findWorksUntilLastPut,
  idsInRange,
  setIsolation,
  noTypeConfusion,
  allocatedIdsStayFindable,
  noLostHostIds,
  setQuotaRespected,
  setFreedWithLastMember,
  rejectedCallChangesNothing,
  nothingLeakedAtQuiescence,
];
