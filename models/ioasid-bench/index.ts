/**
 * The benchmark model (shared/anchors/README.md, `ioasid.pml`): IOASID
 * refcounting with find's missing reference, kept to exactly SPIN's state
 * vector so `npm run bench` can count and time both on the same space.
 */
import { defineModel, type Presenter, type Variant } from 'lifecheck';
import { benchProperties } from './properties.ts';
import { slotMachine } from './machine.ts';
import { bor, gen, held, pc, rc, slotOf, st, STATE_NAMES, benchSystem, type BenchConfig, type BenchWorld } from './world.ts';

const present: Presenter<BenchWorld, BenchConfig> = {
  call: (step, reply) => `${step.op}(${step.args.join(',')}) = ${reply.text}`,
  subject: (step, reply) => {
    const id = step.op === 'alloc' ? (reply.ok ? reply.text : undefined) : step.args[0];
    return id === undefined ? undefined : `ioasid ${id}`;
  },
  state: (world, subject) => {
    const y = world.layout;
    const i = slotOf(y, Number(subject.replace('ioasid ', '')));
    return `${STATE_NAMES[world.cells[st(y, i)]!]} rc=${world.cells[rc(y, i)]} gen=${world.cells[gen(y, i)]}`;
  },
  thread: (t) => `T${t}`,
  // The anchor's variables by name (shared/anchors/README.md), keyed by id rather than slot index.
  vars: (world) => {
    const y = world.layout;
    const c = world.cells;
    const ids = Array.from({ length: y.k }, (_, i) => y.firstId + i);
    const byId = (cell: (i: number) => number) => Object.fromEntries(ids.map((id, i) => [id, c[cell(i)]!]));
    return {
      slots: Object.fromEntries(ids.map((id, i) => [id, { st: STATE_NAMES[c[st(y, i)]!], rc: c[rc(y, i)], gen: c[gen(y, i)] }])),
      threads: Array.from({ length: y.n }, (_, t) => ({ pc: c[pc(y, t)], held: byId((i) => held(y, t, i)), bor: byId((i) => bor(y, t, i)) })),
    };
  },
};

export const ioasidBench = defineModel<BenchWorld, BenchConfig>({
  name: 'ioasid-bench',
  title: 'IOASID refcounting, the benchmark model run side by side with SPIN (alloc/get/put/free/find/use)',
  source: 'seed 001; shared/anchors/README.md',
  defaults: { threads: 3, ops: 4, ids: { min: 1, max: 2 } },
  properties: benchProperties,
  present,
  system: benchSystem,
  // The anchor's operations, one event each (shared/anchors/README.md).
  machines: () => ({ slot: { machine: slotMachine, object: 'id', calls: { ALLOC: 'alloc', GET: 'get', PUT: 'put', FREE: 'free', FIND: 'find', USE: 'use' } } }),
  variants: (): Variant<BenchConfig>[] => [
    {
      name: 'bench-buggy',
      title: 'ioasid_find() returns the object without taking a reference',
      source: 'seed 001 ("ioasid_find() does not take reference, caller must hold reference")',
      config: { findTakesRef: false },
      expect: { 'no-use-after-free': 'violated' },
    },
    {
      name: 'fixed',
      title: 'find takes a reference and use drops it (find-takes-ref)',
      source: 'shared/anchors/README.md (FIXED)',
      config: { findTakesRef: true },
      expect: {},
    },
  ],
});

export { benchSystem, CAP, layoutOf, type BenchConfig, type BenchWorld, type Layout } from './world.ts';
export { compiledSlot, slotCode, slotMachine as benchSlotMachine, type SlotContext as BenchSlotContext, type SlotEvent as BenchSlotEvent } from './machine.ts';
