/**
 * What a step changed, in the kernel's terms: objects allocated and freed,
 * their phases, counts and pointer fields, who holds their references, id
 * entries, locks, queued work. A thread's program counter and frame are left
 * out: the trace's call column says what the thread did.
 */
import { holders } from './properties.ts';
import { actor, entryOf, objName, type Entry, type KitSpec, type KitWorld, type Obj, type Rwsem, type Slot } from './world.ts';

const refName = (e: Entry | null | undefined) => (e ? objName(e.kind, e.slot) : 'NULL');
const slotName = (s: Slot | undefined) => (s === 'reserved' ? 'reserved' : refName(entryOf(s ?? null)));
const change = (what: string, was: string, now: string) => (was === now ? [] : [`${what}: ${was} → ${now}`]);

/** An object's lifetime as a reader names it: freed, waiting for RCU, or its phase (`live` for a kind without a machine). */
const lifeOf = (o: Obj) => (o.state === 'free' ? 'free' : o.state === 'rcu' ? 'kfree_rcu queued' : (o.phase ?? 'live'));

/** Who holds `o.field`'s references in `world`: `objects[0], CPU1's ioas`, or `nobody`. */
function holdersText(spec: KitSpec, world: KitWorld, kind: string, slot: number, o: Obj, field: string): string {
  const held = [...holders(spec, world, kind, slot, o, field)].map(([who, n]) => (n === 1 ? who : `${who} ×${n}`));
  return held.length ? held.join(', ') : 'nobody';
}

function objectChanges(spec: KitSpec, kind: string, slot: number, was: Obj, now: Obj, before: KitWorld, after: KitWorld): string[] {
  const name = objName(kind, slot);
  const life = was.gen !== now.gen ? [`${name}: ${lifeOf(was)} → ${objName(kind, slot, now.gen)} ${lifeOf(now)}`] : change(name, lifeOf(was), lifeOf(now));
  const fields = Object.keys(now.fields).flatMap((f) => change(`${name} ${f}`, String(was.fields[f]), String(now.fields[f])));
  const links = Object.keys(now.links).flatMap((f) => change(`${name}->${f}`, refName(was.links[f]), refName(now.links[f])));
  // Holders of a live object's (or, freed here, the freed one's) refcounts.
  const counted = Object.keys(spec.kinds[kind]!.fields).filter((f) => spec.kinds[kind]!.fields[f]!.type === 'refcount');
  const subject = now.state === 'free' ? was : now;
  const held = subject.state === 'free' ? [] : counted.flatMap((f) => change(`${name} ${f} held by`, holdersText(spec, before, kind, slot, subject, f), holdersText(spec, after, kind, slot, subject, f)));
  return [...life, ...fields, ...links, ...held];
}

const owner = (world: KitWorld, t: number) => (t < 0 ? 'free' : actor(world, t));
const semText = (world: KitWorld, s: Rwsem) =>
  [s.writer >= 0 ? `written by ${actor(world, s.writer)}` : '', s.readers.length ? `read by ${s.readers.map((t) => actor(world, t)).join(', ')}` : '', s.queued.length ? `${s.queued.map((t) => actor(world, t)).join(', ')} queued` : '']
    .filter(Boolean)
    .join('; ') || 'free';

/** What the step from `before` to `after` changed, a line each (`ioas 1 users: 1 → 2`). */
export function kitChanges(spec: KitSpec, before: KitWorld, after: KitWorld): string[] {
  const objects = Object.entries(after.objects).flatMap(([kind, slots]) =>
    // Every slot, even one the step left as it was: its references may change hands outside it.
    slots.flatMap((now, slot) => objectChanges(spec, kind, slot, before.objects[kind]![slot]!, now, before, after)),
  );
  // Entries by index from the space's first id, as holders name them (`objects[0]`).
  const entries = Object.entries(after.spaces).flatMap(([space, list]) =>
    list.flatMap((s, k) => (s === before.spaces[space]![k] ? [] : change(`${space}[${k}]`, slotName(before.spaces[space]![k]), slotName(s)))),
  );
  const locks = Object.entries(after.locks).flatMap(([l, t]) => change(`lock ${l}`, owner(before, before.locks[l]!), owner(after, t)));
  const sems = Object.entries(after.rwsems).flatMap(([l, s]) => (s === before.rwsems[l] ? [] : change(`rwsem ${l}`, semText(before, before.rwsems[l]!), semText(after, s))));
  const queue = (w: KitWorld) => w.queue.map((q) => `${q.work}(${objName(q.ptr.kind, q.ptr.slot)})`).join(', ') || 'empty';
  return [...objects, ...entries, ...locks, ...sems, ...change('work queue', queue(before), queue(after))];
}
