/**
 * What a reviewer of the IOASID allocator asks, beside the kit's stock
 * properties (no use after free or after protection, counts matching their
 * holders, no free while referenced, failed calls changing nothing, type
 * confusion, nothing leaked), each with its source (seeds 000, 001, 004,
 * kernel-semantics A.2-A.5). They read the kit's world: the IOASIDs, their
 * phases and sets, the users' records, and the replies.
 */
import { entryOf, nextStep, objName, sameObject, objectsWritten, threadAfter, type Entry, type KitObject, type KitSpec, type KitWorld, type Move, type Property } from 'lifecheck';
import { CUSTOM_XA, HOST, INVALID, QUOTA, XA, type Design } from './core.ts';
import type { SetSpec } from './calls.ts';

/** A design of the IOASID core as a kit spec, with what its properties read. */
export interface IoasidSpec extends KitSpec {
  readonly design: Design;
  readonly sets: readonly SetSpec[];
}

type IoasidProperty = Property<KitWorld, IoasidSpec>;

/** The users' records: a guest's PASIDs, and the devices bound to one. */
const RECORDS = ['pasids', 'bonds'] as const;

const ioasids = (world: KitWorld) => world.objects.ioasid!.flatMap((o, slot) => (o.state === 'live' ? [{ o, slot }] : []));

/** The set a thread's calls pass: its task's (what `current` gives it), or null for the NULL set. */
const setOf = (world: KitWorld, t: number): Entry | null => world.threads[t]?.task?.set ?? null;

/** Whether an IOASID belongs to `set` (both NULL included). */
const inSet = (o: KitObject, set: Entry | null) => (o.links.set ? sameObject(set, o.links.set) : set === null);

const setName = (e: Entry | null) => (e ? objName(e.kind, e.slot) : 'NULL');

/** The XArray lookups read now: a registered custom allocator's, or the default allocator's (A.3). */
const activeXa = (world: KitWorld) => (world.objects.ioasid_core?.[0]?.links.active ? CUSTOM_XA : XA);

/** The IOASID an id names now, as `ioasid 1#2`, or that it is free. */
function nowAt(world: KitWorld, id: number): string {
  const e = entryOf(world.spaces[activeXa(world)]?.[id - 1]);
  return e ? `reused as ${objName(e.kind, e.slot, e.gen)}` : 'freed';
}

const isLive = (world: KitWorld, e: Entry) => {
  const o = world.objects[e.kind]![e.slot]!;
  return o.state === 'live' && o.gen === e.gen;
};

export const noReuseWhileReferenced: IoasidProperty = {
  id: 'no-reuse-while-referenced',
  title: 'an IOASID returns to the pool only when no user still holds it (no bond or guest record outlives it, nor sees its id handed out again)',
  source: 'seed 001 ("The IOASID will be returned to the pool" only at refcount 0); seed 000',
  kind: 'invariant',
  check(world, spec) {
    for (const table of RECORDS) {
      const holds = spec.spaces[table]!.holds !== undefined;
      for (const [k, s] of (world.spaces[table] ?? []).entries()) {
        const e = entryOf(s);
        // An entry whose reference its holder already dropped is on its way out.
        if (!e || (holds && e.dropped?.length)) continue;
        // The id handed out again while the user still holds the old IOASID under it (an orphan's id, A.3).
        const now = entryOf(world.spaces[activeXa(world)]?.[k]);
        if (isLive(world, e) && (!now || sameObject(now, e))) continue;
        return `${table}[${k + 1}] still holds ${objName(e.kind, e.slot, e.gen)}, which is ${nowAt(world, k + 1)}`;
      }
    }
    return undefined;
  },
};

/** The atomic block (the core function) a step runs, by its name. */
const blockOf = (spec: KitSpec, before: KitWorld, step: Parameters<typeof nextStep>[2]) => nextStep(spec, before, step).atomic?.fn ?? '';

export const getFailsOnFreePending: IoasidProperty = {
  id: 'get-fails-on-free-pending',
  title: 'ioasid_get never takes a reference on a free-pending IOASID',
  source: 'seed 001 ("No new reference can be added"; "After free, ioasid_get() will return error")',
  kind: 'step',
  applies: (spec) => spec.design.api === 'series',
  check(move, spec) {
    const { before, step } = move;
    // Most steps write no IOASID: the block a step runs is looked up only for one that took a reference on a free-pending one.
    for (const { kind, slot, obj: now } of objectsWritten(move)) {
      if (kind !== 'ioasid') continue;
      const o = before.objects.ioasid![slot]!;
      if (o.state === 'live' && o.phase === 'freePending' && now.gen === o.gen && now.fields.refs! > o.fields.refs! && blockOf(spec, before, step).startsWith('ioasid_get')) {
        return `ioasid_get took a reference on free-pending ${objName('ioasid', slot, o.gen)} (refs ${o.fields.refs} -> ${now.fields.refs})`;
      }
    }
    return undefined;
  },
};

export const findWorksUntilLastPut: IoasidProperty = {
  id: 'find-works-until-last-put',
  title: 'ioasid_find finds an IOASID of its set while a user still holds a reference on it',
  source: 'seed 001 ("ioasid_find() ... will continue to work until the last reference is dropped")',
  kind: 'step',
  applies: (spec) => spec.design.api !== 'v1',
  check(move, spec) {
    const { before, step, reply } = move;
    if (before.threads[step.thread]!.call !== null || step.op !== 'find') return undefined;
    const id = Number(step.args[0]);
    const set = setOf(before, step.thread);
    for (const table of RECORDS) {
      const e = entryOf(before.spaces[table]?.[id - 1]);
      if (!e || e.dropped?.length || !isLive(before, e)) continue;
      if (!spec.design.findWithNull && !inSet(before.objects.ioasid![e.slot]!, set)) continue;
      const found = threadAfter(move, step.thread).frame.found;
      if (found !== null && typeof found === 'object' && sameObject(found, e)) return undefined;
      return `${table}[${id}] holds ${objName(e.kind, e.slot, e.gen)}, but ioasid_find(${setName(set)}, ${id}) gave ${reply.text}`;
    }
    return undefined;
  },
};

/** The first IOASID outside `set` a step touched (its count or phase changed, or it was freed), as it was before. */
function touchedOutside(move: Move<KitWorld>, set: Entry | null): { slot: number; o: KitObject } | undefined {
  for (const { kind, slot, obj: now } of objectsWritten(move)) {
    if (kind !== 'ioasid') continue;
    const o = move.before.objects.ioasid![slot]!;
    if (o.state !== 'live' || inSet(o, set)) continue;
    if (now.gen !== o.gen || now.state !== 'live' || now.phase !== o.phase || now.fields.refs !== o.fields.refs) return { slot, o };
  }
  return undefined;
}

/**
 * The live IOASID outside `set` a thread's next step uses (what a lookup found), when it is still that object (not
 * its memory reused: that is a use after free).
 */
function usedOutside(spec: KitSpec, world: KitWorld, step: Parameters<typeof nextStep>[2], set: Entry | null): { slot: number; o: KitObject } | undefined {
  // A call's first step has nothing in hand yet: an idle thread's frame is empty.
  if (world.threads[step.thread]!.call === null) return undefined;
  const next = nextStep(spec, world, step);
  if (next.action.op !== 'use') return undefined;
  const used = world.threads[step.thread]!.frame[next.action.ptr];
  if (used === null || used === undefined || typeof used !== 'object' || used.kind !== 'ioasid') return undefined;
  const o = world.objects.ioasid![used.slot]!;
  return o.gen === used.gen && o.state === 'live' && !inSet(o, set) ? { slot: used.slot, o } : undefined;
}

export const setIsolation: IoasidProperty = {
  id: 'set-isolation',
  title: 'a call reaches only the IOASIDs of its caller’s set: another set’s are refused and unchanged',
  source: 'seed 004 ("IOASID allocated by one guest can only be used by the same guest"); seed 001 (-EACCES); A.5',
  kind: 'step',
  check(move, spec) {
    const { before, step } = move;
    const th = before.threads[step.thread]!;
    // The guests' exit lets go of each record with the set it belongs to; a kworker runs a driver's work for the set it serves.
    if ((th.call ?? step.op) === spec.exit?.name || th.worker) return undefined;
    const set = setOf(before, step.thread);
    const reached = touchedOutside(move, set) ?? usedOutside(spec, before, step, set);
    if (!reached) return undefined;
    const owner = reached.o.links.set ?? null;
    return `CPU${step.thread} (set ${setName(set)}) reached ${objName('ioasid', reached.slot, reached.o.gen)} of set ${setName(owner)}`;
  },
};

/** The live IOASIDs of a set object. */
const members = (world: KitWorld, set: Entry) => ioasids(world).filter(({ o }) => sameObject(o.links.set, set)).length;

export const setQuotaRespected: IoasidProperty = {
  id: 'set-quota-respected',
  title: 'no set ever holds more IOASIDs than its quota, and nr_ioasids counts them',
  source: 'kernel-semantics A.4 (ioasid_alloc: "set->nr_ioasids >= set->quota" fails); D.8 ("Capacity is conserved")',
  kind: 'invariant',
  applies: (spec) => spec.design.setObjects === true,
  check(world) {
    for (const [slot, o] of world.objects.ioasid_set!.entries()) {
      if (o.state !== 'live') continue;
      const n = members(world, { kind: 'ioasid_set', slot, gen: o.gen });
      if (n > QUOTA || n !== o.fields.nr_ioasids) return `${objName('ioasid_set', slot)} has ${n} IOASIDs (nr_ioasids=${o.fields.nr_ioasids}, quota ${QUOTA})`;
    }
    return undefined;
  },
};

export const setFreedWithLastMember: IoasidProperty = {
  id: 'set-freed-with-last-member',
  title: 'a set is freed exactly when it is free-pending and its last IOASID goes: no IOASID outlives its set',
  source: 'kernel-semantics A.4 (ioasid_set_free: -EBUSY with members, freed when the last IOASID is reclaimed); D.8',
  kind: 'invariant',
  applies: (spec) => spec.design.setObjects === true,
  check(world) {
    for (const { o, slot } of ioasids(world)) {
      const set = o.links.set;
      if (set && !isLive(world, set)) return `${objName('ioasid', slot, o.gen)} outlives its ${objName(set.kind, set.slot, set.gen)}`;
    }
    for (const [slot, o] of world.objects.ioasid_set!.entries()) {
      if (o.state === 'live' && o.phase === 'freePending' && members(world, { kind: 'ioasid_set', slot, gen: o.gen }) === 0) {
        return `${objName('ioasid_set', slot)} is free-pending with no IOASIDs left, and never freed`;
      }
    }
    return undefined;
  },
};

export const nothingLeakedAtQuiescence: IoasidProperty = {
  id: 'nothing-leaked-at-quiescence',
  title: 'once every guest has exited, every IOASID is back in the pool',
  source: 'seed 001 ("The IOASID will be returned to the pool and available for new allocations")',
  kind: 'final',
  check(world) {
    const left = ioasids(world)[0];
    if (!left) return undefined;
    const { o, slot } = left;
    const refs = o.fields.refs === undefined ? '' : ` refs=${o.fields.refs}`;
    return `${objName('ioasid', slot, o.gen)} still ${o.phase ?? 'allocated'}${refs} after every guest exited`;
  },
};

/**
 * What a call returns by the API's documentation, from the world it starts
 * in (the calls are atomic under their locks): A.4's get (-EINVAL unknown,
 * -EBUSY free-pending, -EACCES another set's), A.2's find (-ENOENT,
 * -EACCES), alloc (INVALID_IOASID when refused or full), ioasid_free (void,
 * again on a free-pending IOASID as well: 001), ioasid_set_free (-EINVAL,
 * -EBUSY). Undefined where the design documents nothing to hold it to.
 */
function documented(spec: IoasidSpec, world: KitWorld, t: number, call: string, id: number): string | undefined {
  const d = spec.design;
  const set = setOf(world, t);
  const e = entryOf(world.spaces[activeXa(world)]?.[id - 1]);
  const o = e && world.objects.ioasid![e.slot]!;
  switch (call) {
    case 'bind':
      if (d.api !== 'series' || entryOf(world.spaces.bonds?.[id - 1])) return undefined;
      return !o ? '-EINVAL' : o.phase === 'freePending' ? '-EBUSY' : !set && d.nullSetRefused ? '-EINVAL' : set && !inSet(o, set) ? '-EACCES' : '0';
    case 'find':
      if (!o) return '-ENOENT';
      if (d.findWithNull) return 'found';
      return !set && d.nullSetRefused ? '-EINVAL' : set && !inSet(o, set) ? '-EACCES' : 'found';
    case 'free':
      return d.api === 'series' ? '0' : undefined;
    case 'set_free': {
      if (!set || !isLive(world, set)) return '-EINVAL';
      return world.objects.ioasid_set![set.slot]!.fields.nr_ioasids! > 0 ? '-EBUSY' : '0';
    }
    case 'alloc': {
      // A custom allocator's ids are the host's to give (003): no documented id to expect.
      if (activeXa(world) !== XA) return undefined;
      const full = world.spaces[XA]!.every((s) => s !== null);
      const refused = d.setObjects && (!set || !isLive(world, set) || world.objects.ioasid_set![set.slot]!.fields.nr_ioasids! >= QUOTA);
      return refused || full ? INVALID : String(world.spaces[XA]!.findIndex((s) => s === null) + 1);
    }
    default:
      return undefined;
  }
}

export const documentedReplies: IoasidProperty = {
  id: 'documented-replies',
  title: 'every call returns what the API documents for its situation (errno, INVALID_IOASID, void)',
  source: 'kernel-semantics A.2 (find: -ENOENT, -EACCES), A.4 (get: -EINVAL, -EBUSY, -EACCES in that order; set_free); seed 001',
  kind: 'step',
  check({ before, step, reply }, spec) {
    const th = before.threads[step.thread]!;
    if (th.call !== null || th.worker || step.op === spec.exit?.name) return undefined;
    // A call that has not returned (find's lookup, which its caller goes on to use; a call left waiting) is judged by
    // what it found, if anything.
    const got = /returns (\S+)/.exec(reply.text)?.[1] ?? (step.op === 'find' ? 'found' : undefined);
    if (got === undefined) return undefined;
    const want = documented(spec, before, step.thread, step.op, Number(step.args[0]));
    if (want === undefined) return undefined;
    return got === want ? undefined : `${step.op}(${step.args.join(',')}) by CPU${step.thread} returned ${got}; documented: ${want}`;
  },
};

/** The ids of a space's entries that map to live IOASIDs, with the IOASID. */
function liveIn(world: KitWorld, space: string, base: number): { id: number; e: Entry }[] {
  return (world.spaces[space] ?? []).flatMap((s, k) => {
    const e = entryOf(s);
    return e && isLive(world, e) ? [{ id: base + k, e }] : [];
  });
}

const custom = (spec: IoasidSpec) => spec.design.custom !== undefined;

export const allocatedIdsStayFindable: IoasidProperty = {
  id: 'allocated-ids-stay-findable',
  title: 'every live IOASID stays in the XArray lookups read: switching allocators orphans none',
  source: 'kernel-semantics A.3 (rule 5: "Switching between custom and default requires that all IDs be freed"); D.7',
  kind: 'invariant',
  applies: custom,
  check(world) {
    const active = activeXa(world);
    const findable = new Set(liveIn(world, active, 1).map(({ e }) => `${e.slot}/${e.gen}`));
    const orphan = ioasids(world).find(({ o, slot }) => !findable.has(`${slot}/${o.gen}`));
    if (!orphan) return undefined;
    const who = active === XA ? 'the default allocator' : 'the custom allocator';
    return `${objName('ioasid', orphan.slot, orphan.o.gen)} is live, but lookups read ${who}'s XArray, which does not have it`;
  },
};

export const noLostHostIds: IoasidProperty = {
  id: 'no-lost-host-ids',
  title: 'every host PASID handed to the guest goes back to the host when the guest frees it',
  source: 'seed 003 (intel_ioasid_free: "Freeing unbond IOASID" returns -EBUSY; vcmd_free_pasid); A.2 (ops->free)',
  kind: 'invariant',
  applies: custom,
  check(world) {
    const held = new Set([CUSTOM_XA, 'pasids', 'bonds'].flatMap((space) => liveIn(world, space, 1).map(({ id }) => id)));
    const lost = (world.spaces[HOST] ?? []).findIndex((s, k) => entryOf(s)?.kind === 'guest' && !held.has(k + 1));
    return lost < 0 ? undefined : `host PASID ${lost + 1} is still the guest's, which holds no IOASID ${lost + 1}`;
  },
};

export const idsInRange: IoasidProperty = {
  id: 'ids-in-range',
  title: 'every IOASID a guest is given lies in the [min,max] it asked for',
  source: 'seed 000 (ioasid_alloc: "Allocate an ID between @min and @max"); seed 003 ("How does this honor min/max?")',
  kind: 'invariant',
  applies: custom,
  check(world) {
    // The guest asks for the scenario's ids: those of the default allocator's XArray.
    const max = world.spaces[XA]!.length;
    const out = liveIn(world, CUSTOM_XA, 1).find(({ id }) => id > max);
    return out && `IOASID ${out.id} is allocated outside [1,${max}]`;
  },
};

export const ioasidProperties: readonly IoasidProperty[] = [
  noReuseWhileReferenced,
  getFailsOnFreePending,
  findWorksUntilLastPut,
  setIsolation,
  setQuotaRespected,
  setFreedWithLastMember,
  nothingLeakedAtQuiescence,
  documentedReplies,
  allocatedIdsStayFindable,
  noLostHostIds,
  idsInRange,
];
