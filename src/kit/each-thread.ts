/**
 * Invariants that hold of each thread on its own ("nobody but its creator
 * reaches an object before it is finalized": a check per creator). Checked
 * whole, such an invariant reads every thread, and few worlds share every
 * thread's part: its verdicts could not be met again. Declared per thread,
 * each thread's verdict is filed by what that thread's check read
 * (verdicts.ts), which most worlds share with others.
 */
import type { Finding, InvariantProperty } from '../engine/model.ts';
import type { KitWorld } from './world.ts';

/** What `eachThread` is given: an invariant's names, and its check of thread `t`. */
export interface ThreadInvariant<C> extends Omit<InvariantProperty<KitWorld, C>, 'kind' | 'check'> {
  /** Whether thread `t` keeps it (`undefined`) or how it breaks it; a pure function of the world and the config. */
  check(world: KitWorld, t: number, config: C): Finding;
}

const perThread = new WeakMap<object, ThreadInvariant<never>['check']>();

/** The invariant that every thread keeps `p` (the first thread that breaks it says how): the check of one thread, filed thread by thread. */
export function eachThread<C>(p: ThreadInvariant<C>): InvariantProperty<KitWorld, C> {
  const { check, ...names } = p;
  const property: InvariantProperty<KitWorld, C> = {
    ...names,
    kind: 'invariant',
    check(world, config) {
      for (let t = 0; t < world.threads.length; t++) {
        const found = check(world, t, config);
        if (found !== undefined) return found;
      }
      return undefined;
    },
  };
  perThread.set(property, check as ThreadInvariant<never>['check']);
  return property;
}

/** The check of one thread an invariant made by `eachThread` has, if it was made so. */
export const threadCheck = (p: object): ThreadInvariant<never>['check'] | undefined => perThread.get(p);
