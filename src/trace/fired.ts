/**
 * Which transitions of which machines each step of a trace fired: the step
 * applied again from the world before it, recording what it fires
 * (`firing`), so what a page lights up is what the kernel call ran.
 */
import { firing } from '../engine/machine.ts';
import type { MachineInfo, System } from '../engine/model.ts';
import type { Trace } from '../engine/run.ts';

/**
 * A machine's transitions one step fired: its name among the variant's machines, and the edges (`machineEdges`
 * indices), each once where it last fired, so the last is the one that left the machine where the step ends.
 */
export interface FiredEdges {
  readonly machine: string;
  readonly edges: readonly number[];
}

/** For each step of `trace`, the machine transitions it fired, in the order of `machines`. */
export function firedEdges<W>(trace: Trace<W>, system: System<W>, machines: Readonly<Record<string, MachineInfo>>): FiredEdges[][] {
  let before = trace.init;
  return trace.steps.map(({ step, world }) => {
    const fired = firing(() => system.apply(before, step));
    before = world;
    return Object.entries(machines).flatMap(([machine, info]) => {
      const edges = fired.filter(([m]) => m === info.machine).map(([, e]) => e);
      const last = edges.filter((e, i) => edges.indexOf(e, i + 1) < 0);
      return last.length ? [{ machine, edges: last }] : [];
    });
  });
}
