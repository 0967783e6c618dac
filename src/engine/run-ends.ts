/** The engine's own property, which every model has: checked by `walk` and the explorers, not by a function of worlds. */
import type { RunProperty } from './model.ts';

/**
 * The engine's own property: every run ends. A run breaks it when a step
 * leads back to a world the run was in before (those steps can repeat for
 * ever: a livelock), or when it is still going at the system's horizon.
 */
export const runEnds: RunProperty = {
  id: 'run-ends',
  kind: 'run',
  title: 'every run ends: no steps that repeat for ever, no run past the bound',
  source: 'lifecheck: a livelock (a call failed and retried for ever, a wait that never ends)',
};
