/**
 * What a step changed, in the kernel's terms: objects allocated and freed,
 * their phases, counts and pointer fields, who holds their references, id
 * entries, locks, RCU read-side sections, queued work. A thread's program
 * counter and locals are left out: the trace's call column says what it did.
 */
import { heldText, holders, refcountFields } from './properties.ts';
import { actor, blank, entryOf, objName, type Entry, type KitSpec, type KitWorld, type Obj, type Rwsem, type Slot } from './world.ts';

/** An object by name and generation (`ioas 1#2`), so that a stale pointer never reads as the live object. */
const refName = (e: Entry | null | undefined) => (e ? objName(e.kind, e.slot, e.gen) : 'NULL');
/** An id's entry: its object, and the references dropped on its behalf. */
const slotName = (s: Slot | undefined) => {
  if (s === 'reserved') return 'reserved';
  const e = entryOf(s ?? null);
  if (!e) return 'NULL';
  return `${refName(e)}${e.dropped?.length ? ` (${e.dropped.join(', ')} dropped)` : ''}`;
};
const change = (what: string, was: string, now: string) => (was === now ? [] : [`${what}: ${was} → ${now}`]);

/** An object's lifetime as a reader names it: freed, waiting for RCU (and for whom), or its phase (`live` for a kind without a machine). */
function lifeOf(world: KitWorld, o: Obj): string {
  if (o.state === 'free') return 'free';
  if (o.state === 'rcu') return `kfree_rcu queued${o.readers.length ? `, waiting for ${o.readers.map((t) => actor(world, t)).join(', ')}` : ''}`;
  return o.phase ?? 'live';
}

/** Who holds `o.field`'s references in `world`: `objects[0], CPU1's ioas`, or `nobody`. */
const holdersText = (spec: KitSpec, world: KitWorld, kind: string, slot: number, o: Obj, field: string) => heldText(holders(spec, world, kind, slot, o, field));

function objectChanges(spec: KitSpec, kind: string, slot: number, was: Obj, now: Obj, before: KitWorld, after: KitWorld): string[] {
  const name = objName(kind, slot);
  const reused = was.gen !== now.gen;
  // A slot's earlier object by its generation (none before its first allocation).
  const old = was.gen === 0 ? lifeOf(before, was) : `${objName(kind, slot, was.gen)} ${lifeOf(before, was)}`;
  const life = reused ? [`${name}: ${old} → ${objName(kind, slot, now.gen)} ${lifeOf(after, now)}`] : change(name, lifeOf(before, was), lifeOf(after, now));
  // A slot free after the step shows only that (allocated and freed in one step, its counts mean nothing).
  if (now.state === 'free' && reused) return life;
  // A new object starts from a blank one, whatever the freed one in its memory left.
  const from = reused ? { ...was, ...blank(spec.kinds[kind]!) } : was;
  const fields = Object.keys(now.fields).flatMap((f) => change(`${name} ${f}`, String(from.fields[f]), String(now.fields[f])));
  // A freed object's pointer fields are gone with it, not set to NULL.
  const links = now.state === 'free' ? [] : Object.keys(now.links).flatMap((f) => change(`${name}->${f}`, refName(from.links[f]), refName(now.links[f])));
  // Who holds the refcounts of the object the step leaves (or, freed here, of the one it freed): the same object before and after.
  const subject = now.state === 'free' ? was : now;
  const then = reused || was.state === 'free' ? undefined : was;
  const held = subject.state === 'free' ? [] : refcountFields(spec, kind).flatMap((f) => change(`${name} ${f} held by`, then ? holdersText(spec, before, kind, slot, then, f) : 'nobody', holdersText(spec, after, kind, slot, subject, f)));
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
  const queue = (w: KitWorld) => w.queue.map((q) => `${q.work}(${refName(q.ptr)})`).join(', ') || 'empty';
  // RCU read-side sections: what keeps an object a reader looked up alive.
  const rcu = after.threads.flatMap((th, t) => change(`${actor(after, t)} rcu_read_lock depth`, String(before.threads[t]!.rcu), String(th.rcu)));
  return [...objects, ...entries, ...locks, ...sems, ...rcu, ...change('work queue', queue(before), queue(after))];
}
