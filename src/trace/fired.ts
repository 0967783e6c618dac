/**
 * Which transitions of which machines each step of a trace fired: the step
 * applied again from the world before it, counting as coverage counts
 * (`counting`), so what a page lights up is what the kernel call ran.
 */
import { counting, type Hits } from '../engine/machine.ts';
import type { MachineInfo, System } from '../engine/model.ts';
import type { Trace } from '../engine/run.ts';

/** A machine's transitions one step fired: its name among the variant's machines, the edges (`machineEdges` indices) in the order first fired. */
export interface FiredEdges {
  readonly machine: string;
  readonly edges: readonly number[];
}

/** For each step of `trace`, the machine transitions it fired, in the order of `machines`. */
export function firedEdges<W>(trace: Trace<W>, system: System<W>, machines: Readonly<Record<string, MachineInfo>>): FiredEdges[][] {
  let before = trace.init;
  return trace.steps.map(({ step, world }) => {
    const hits: Hits = new Map();
    counting(hits, () => system.apply(before, step));
    before = world;
    return Object.entries(machines).flatMap(([machine, info]) => {
      const fired = hits.get(info.machine);
      return fired ? [{ machine, edges: [...fired.keys()] }] : [];
    });
  });
}
