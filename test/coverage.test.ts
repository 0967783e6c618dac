/**
 * Coverage: every fired transition is one edge of its machine (the branch
 * xstate took), counted only while a step is applied, and reported per
 * machine in the model's kernel vocabulary, in the JSON report and against
 * `--min-coverage`.
 */
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { test } from '@fast-check/vitest';
import fc from 'fast-check';
import type { AnyStateMachine } from 'xstate';
import {
  checkVariant,
  fire,
  fireUncached,
  initialState,
  UNHANDLED,
  type MachineState,
  type System,
} from 'lifecheck';
import {
  benchSlotMachine,
  compiledSlot,
  ioasid,
  ioasidBench,
  ioasidMachine,
  slotCode,
  type BenchSlotContext,
} from 'lifecheck/models';
import { counted, coverageOf, transitionPercent, type MachineCoverage } from '../src/coverage.ts';
import { edgeTaken, machineEdges, type Edge } from '../src/engine/edges.ts';
import { counting, firing, Hits, recording, refire } from '../src/engine/machine.ts';
import { edgeLabel } from '../src/report/diagram.ts';
import {
  machinesUnderTest,
  quotaSetMachine,
  slotFindGets,
  slotFreeEveryCall,
  slotMachine,
  type QuotaSetEvent,
  type SlotContext,
  type SlotEvent,
} from './helpers/machines.ts';
import { variantOf } from './helpers/variants.ts';

/** An edge as its diagram line reads: `active --> freed: FREE [lastRef] / freed`. */
const drawn = (e: Edge) => `${e.from} --> ${e.to}: ${edgeLabel(e)}`;

/** The index of the edge drawn as `line`. */
function edgeIndex(machine: AnyStateMachine, line: string): number {
  const i = machineEdges(machine).findIndex((e) => drawn(e) === line);
  if (i < 0) throw new Error(`${machine.id} has no edge '${line}'`);
  return i;
}

/** One machine's hits by drawn edge, so failures read as diagram lines. */
function countsOf(hits: Hits, machine: AnyStateMachine): Record<string, number> {
  const edges = machineEdges(machine);
  return Object.fromEntries((hits.of(machine) ?? []).flatMap((n, i) => (n ? [[drawn(edges[i]!), n]] : [])));
}

// The test slot (test/helpers/machines.ts): guards on its refcount and on the caller's set.
const slot = (value: string, refs: number, set: string | null = 's1'): MachineState<SlotContext> => ({
  value,
  context: { refs, set, data: refs > 0 ? 'mm' : null },
});
const FREE_S1: SlotEvent = { type: 'FREE', set: 's1' };
const ALLOC_S1: SlotEvent = { type: 'ALLOC', set: 's1', data: 'mm' };
const GET_S1: SlotEvent = { type: 'GET', set: 's1' };
const FIND_S1: SlotEvent = { type: 'FIND', set: 's1' };

describe('the edge a transition takes', () => {
  describe.each(machinesUnderTest)('%s', (_name, machine, event) => {
    test.prop([fc.array(event, { maxLength: 12 })], { seed: 7, numRuns: 200 })('fire reports the edge fireUncached does, and it is the step xstate took', (sequence) => {
      const edges = machineEdges(machine);
      let from = initialState<object>(machine);
      for (const event of sequence) {
        const memo = fire<object>(machine, from, event);
        const fresh = fireUncached<object>(machine, from, event);
        expect(memo.edge).toBe(fresh.edge);
        const edge = edges[memo.edge];
        if (edge) {
          expect(edge).toMatchObject({ from: from.value, to: memo.state.value, event: event.type });
          if (edge.reply !== undefined) expect(memo.reply.text).toBe(edge.reply);
        } else {
          expect(memo.edge).toBe(-1);
          expect(memo.reply).toEqual(UNHANDLED);
          expect(memo.state).toEqual(from);
        }
        from = memo.state;
      }
    });
  });

  it('FREE on an active slot takes the guarded branch xstate takes', async () => {
    const edgeOf = (from: MachineState<SlotContext>, event: SlotEvent) => drawn(machineEdges(slotMachine)[fire(slotMachine, from, event).edge]!);
    expect(edgeOf(slot('active', 1), FREE_S1)).toBe('active --> freed: FREE [lastRef] / freed');
    expect(edgeOf(slot('active', 2), FREE_S1)).toBe('active --> freePending: FREE / free-pending');
    expect(edgeOf(slot('active', 2, 's2'), FREE_S1)).toBe('active --> active: FREE [notOwner] / refused');
  });

  it('edgeTaken reads the same edge from a snapshot', async () => {
    const snapshot = (s: MachineState<SlotContext>) => slotMachine.resolveState({ value: s.value, context: { ...s.context, reply: UNHANDLED } });
    expect(edgeTaken(slotMachine, snapshot(slot('active', 1)), FREE_S1)).toBe(edgeIndex(slotMachine, 'active --> freed: FREE [lastRef] / freed'));
    expect(edgeTaken(slotMachine, snapshot(slot('active', 2)), FREE_S1)).toBe(edgeIndex(slotMachine, 'active --> freePending: FREE / free-pending'));
  });

  it('follows guards flipped with provide()', async () => {
    expect(fire(slotFindGets, slot('active', 1), FIND_S1).edge).toBe(edgeIndex(slotFindGets, 'active --> active: FIND [findTakesRef] / found'));
    expect(fire(slotMachine, slot('active', 1), FIND_S1).edge).toBe(edgeIndex(slotMachine, 'active --> active: FIND / found'));
    expect(fire(slotFreeEveryCall, slot('freePending', 1), FREE_S1).edge).toBe(
      edgeIndex(slotFreeEveryCall, 'freePending --> freed: FREE [freeDropsEveryCall && lastRef] / freed'),
    );
    // The IOASID lifecycle as the series-free-every-call variant provides it.
    const everyCall = ioasidMachine.provide({ guards: { freeDropsEveryCall: () => true } });
    const pending = { value: 'freePending', context: {} };
    expect(fire(everyCall, pending, { type: 'FREE' }).edge).toBe(edgeIndex(everyCall, 'freePending --> freePending: FREE [freeDropsEveryCall] / FREE_PENDING'));
    expect(fire(ioasidMachine, pending, { type: 'FREE' }).edge).toBe(edgeIndex(ioasidMachine, 'freePending --> freePending: FREE / already FREE_PENDING'));
  });

  it('is -1 for an event the state has no transition for, or whose every guard fails', async () => {
    const freed = initialState<SlotContext>(slotMachine);
    expect(fire(slotMachine, freed, GET_S1)).toEqual({ state: freed, reply: UNHANDLED, edge: -1 });
    expect(edgeTaken(slotMachine, slotMachine.resolveState({ value: 'freed', context: { ...freed.context, reply: UNHANDLED } }), GET_S1)).toBe(-1);
    const set = quotaSetMachine(1);
    const pending = { value: 'freePending', context: { quota: 1 } };
    const reclaimed = (members: number): QuotaSetEvent => ({ type: 'RECLAIMED', members });
    expect(fire(set, pending, reclaimed(1)).edge).toBe(-1);
    expect(fire(set, pending, reclaimed(0)).edge).toBe(edgeIndex(set, 'freePending --> freed: RECLAIMED [noMembers]'));
  });
});

describe('counting', () => {
  const freed = initialState<SlotContext>(slotMachine);

  it('counts the transitions fired inside fn, memoized or not, and none outside', async () => {
    const hits = new Hits();
    fire(slotMachine, freed, ALLOC_S1);
    const result = counting(hits, () => {
      fire(slotMachine, freed, ALLOC_S1);
      fire(slotMachine, freed, ALLOC_S1);
      fire(slotMachine, slot('active', 1), FREE_S1);
      return 'done';
    });
    fire(slotMachine, slot('active', 1), FREE_S1);
    expect(result).toBe('done');
    expect(hits.machines()).toHaveLength(1);
    expect(countsOf(hits, slotMachine)).toEqual({ 'freed --> active: ALLOC / allocated': 2, 'active --> freed: FREE [lastRef] / freed': 1 });
  });

  it('does not count an event without a transition', async () => {
    const hits = new Hits();
    counting(hits, () => fire(slotMachine, initialState<SlotContext>(slotMachine), GET_S1));
    expect(hits.machines()).toHaveLength(0);
  });

  it('nested, counts into the inner hits and then the outer ones again, even after a throw', async () => {
    const outer = new Hits();
    const inner = new Hits();
    counting(outer, () => {
      fire(slotMachine, freed, ALLOC_S1);
      counting(inner, () => fire(slotMachine, slot('active', 1), GET_S1));
      expect(() =>
        counting(inner, () => {
          fire(slotMachine, slot('active', 2), GET_S1);
          throw new Error('boom');
        }),
      ).toThrow('boom');
      fire(slotMachine, slot('active', 1), FREE_S1);
    });
    fire(slotMachine, freed, ALLOC_S1);
    expect(countsOf(outer, slotMachine)).toEqual({ 'freed --> active: ALLOC / allocated': 1, 'active --> freed: FREE [lastRef] / freed': 1 });
    expect(countsOf(inner, slotMachine)).toEqual({ 'active --> active: GET / 0': 2 });
  });

  it('counts a recording fired again as firing it would, into whichever hits are counting, and logs it where a page asks', async () => {
    const { fired } = recording(() => {
      fire(slotMachine, freed, ALLOC_S1);
      fire(slotMachine, slot('active', 1), GET_S1);
    });
    const first = new Hits();
    const second = new Hits();
    const fresh = (n: number) => ({ 'freed --> active: ALLOC / allocated': n, 'active --> active: GET / 0': n });
    counting(first, () => refire(fired));
    counting(first, () => refire(fired));
    counting(second, () => refire(fired));
    counting(first, () => refire(fired));
    refire(fired);
    expect(countsOf(first, slotMachine)).toEqual(fresh(3));
    expect(countsOf(second, slotMachine)).toEqual(fresh(1));
    // Read once, the counts are settled: more firings add to them.
    counting(second, () => refire(fired));
    expect(countsOf(second, slotMachine)).toEqual(fresh(2));
    expect(countsOf(first, slotMachine)).toEqual(fresh(3));
    expect(firing(() => counting(first, () => refire(fired))).length).toBe(2);
    expect(countsOf(first, slotMachine)).toEqual(fresh(4));
  });

  test.prop([fc.boolean(), fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 8 })], { seed: 11, numRuns: 200 })(
    "a compiled machine counts the edges fire counts for the same events (and its reply lookups count nothing)",
    (findTakesRef, picks) => {
      // 8 events reach at most refcount 8 and generation 8.
      const code = slotCode(8, 8);
      const { events, table } = compiledSlot(findTakesRef, code);
      const viaTable = new Hits();
      const viaFire = new Hits();
      let state = initialState<BenchSlotContext>(benchSlotMachine);
      let c = code.pack(state);
      for (const e of picks) {
        c = counting(viaTable, () => {
          const next = table.next(c, e);
          table.reply(c, e);
          return next;
        });
        state = counting(viaFire, () => fire<BenchSlotContext>(benchSlotMachine, state, events[e]!)).state;
        expect(code.unpack(c)).toEqual(state);
      }
      expect(countsOf(viaTable, benchSlotMachine)).toEqual(countsOf(viaFire, benchSlotMachine));
      expect(viaTable.machines().every((m) => m === benchSlotMachine)).toBe(true);
    },
  );
});

describe('counted', () => {
  const calls: readonly SlotEvent[] = [ALLOC_S1, GET_S1, { type: 'PUT', set: 's1' }, FREE_S1];

  /** One test slot whose `enabled` asks the machine which calls would succeed, by firing it. */
  const probing: System<MachineState<SlotContext>> = {
    init: initialState<SlotContext>(slotMachine),
    horizon: 4,
    enabled: (world) =>
      calls.filter((event) => fire(slotMachine, world, event).reply.ok).map((event) => ({ thread: 0, op: event.type, args: [] })),
    apply: (world, step) => {
      const { state, reply } = fire<SlotContext>(slotMachine, world, calls.find((e) => e.type === step.op)!);
      return { world: state, reply };
    },
  };

  it('counts what apply fires, not what enabled fires to decide', async () => {
    const asked = new Hits();
    counting(asked, () => probing.enabled(probing.init));
    // Deciding fires every call; of a freed slot's, only ALLOC has a transition to count.
    expect(countsOf(asked, slotMachine)).toEqual({ 'freed --> active: ALLOC / allocated': 1 });

    const hits = new Hits();
    const system = counted(probing, hits);
    expect(system.enabled(system.init).map((s) => s.op)).toEqual(['ALLOC']);
    expect(hits.machines()).toHaveLength(0);
    const { world } = system.apply(system.init, { thread: 0, op: 'ALLOC', args: [] });
    expect(system.enabled(world).map((s) => s.op)).toEqual(['GET', 'PUT', 'FREE']);
    system.apply(world, { thread: 0, op: 'FREE', args: [] });
    expect(countsOf(hits, slotMachine)).toEqual({ 'freed --> active: ALLOC / allocated': 1, 'active --> freed: FREE [lastRef] / freed': 1 });
  });

  it('keeps init, horizon, codec and symmetry, and adds none the system lacks', async () => {
    const bench = ioasidBench.system(variantOf(ioasidBench, 'fixed').config, ioasidBench.defaults);
    const wrapped = counted(bench, new Hits());
    expect(wrapped.init).toBe(bench.init);
    expect(wrapped.horizon).toBe(bench.horizon);
    expect(wrapped.codec).toBeDefined();
    expect(wrapped.codec).toBe(bench.codec);
    expect(wrapped.symmetry).toBeDefined();
    expect(wrapped.symmetry).toBe(bench.symmetry);
    const plain = counted(probing, new Hits());
    expect(plain.init).toBe(probing.init);
    expect(plain.horizon).toBe(probing.horizon);
    expect('codec' in plain).toBe(false);
    expect('symmetry' in plain).toBe(false);
  });
});

describe('coverageOf', () => {
  const benchBounds = { threads: 2, ops: 3, ids: { min: 1, max: 2 } };
  const benchCoverage = async (name: string) =>
    (await checkVariant(variantOf(ioasidBench, name), { bounds: benchBounds, runs: 2000, seed: 42, exhaustive: {} })).coverage!;
  let buggy: readonly MachineCoverage[];
  let fixed: readonly MachineCoverage[];
  beforeAll(async () => {
    buggy = await benchCoverage('bench-buggy');
    fixed = await benchCoverage('fixed');
  });
  const hitsOf = (coverage: readonly MachineCoverage[]) => Object.fromEntries(coverage[0]!.edges.map((e) => [drawn(e), e.hits]));

  it("reports the bench model's slot machine: ALLOC fired, every state reached", async () => {
    expect(buggy.map((m) => m.machine)).toEqual(['slot']);
    const [slotCoverage] = buggy;
    const allocs = slotCoverage!.edges.filter((e) => e.event === 'ALLOC');
    expect(allocs.length).toBeGreaterThan(0);
    for (const e of allocs) expect(e.hits).toBeGreaterThan(0);
    expect(slotCoverage!.states.map((s) => [s.state, s.reached])).toEqual([
      ['free', true],
      ['active', true],
      ['freePending', true],
    ]);
    expect(slotCoverage!.edges.map(drawn)).toEqual(machineEdges(benchSlotMachine).map(drawn));
    expect(slotCoverage!.edgesReached).toBe(slotCoverage!.edges.filter((e) => e.hits > 0).length);
    for (const s of slotCoverage!.states) {
      const into = slotCoverage!.edges.filter((e) => e.to === s.state && e.from !== s.state);
      expect(s.entered).toBe(into.reduce((n, e) => n + e.hits, 0));
    }
  });

  it('shows what each design reaches that the other cannot', async () => {
    const b = hitsOf(buggy);
    const f = hitsOf(fixed);
    // Only the fixed design's find takes a reference.
    for (const line of ['active --> active: FIND [takesRef] / found', 'freePending --> freePending: FIND [takesRef] / found']) {
      expect(f[line]).toBeGreaterThan(0);
      expect(b[line]).toBe(0);
    }
    // Only the buggy design's find leaves a pointer that outlives its id: a use after free.
    expect(b['free --> free: USE / used']).toBeGreaterThan(0);
    expect(f['free --> free: USE / used']).toBe(0);
    expect(b['active --> active: FIND / found']).toBeGreaterThan(0);
    expect(f['active --> active: FIND / found']).toBe(0);

    expect(buggy[0]!.never).toContain('`find` on an active id never took the [takesRef] branch');
    expect(fixed[0]!.never).toContain('`use` never met a free id');
    expect(fixed[0]!.never).toContain('`find` on an active id never took its unguarded branch');
  });

  it("says what never happened in the model's kernel terms", async () => {
    const r = await checkVariant(variantOf(ioasid, 'series'), { bounds: ioasid.defaults, runs: 50, seed: 42 });
    // The kit's refcount_t machine names each event's kernel function and its object.
    const refcount = r.coverage!.find((m) => m.machine === 'refcount')!.never;
    expect(refcount.length).toBeGreaterThan(0);
    for (const line of refcount) {
      expect(line).toMatch(/^`refcount_(set\(\.\., 1\)|inc|inc_not_zero|dec_and_test|dec_if_one|dec)` (never met|on) a (zero|live) refcount_t\b/);
    }
    // An IOASID's phases are spoken as the kernel's comments spell them.
    const lifecycle = r.coverage!.find((m) => m.machine === 'ioasid')!.never;
    expect(lifecycle.some((line) => /\ba free-pending ioasid\b/.test(line))).toBe(true);
    for (const line of [...refcount, ...lifecycle]) expect(line).not.toMatch(/freePending/);
  });

  it('names a state no run reached, and says nothing of the edges out of it', async () => {
    // Without set_free no set is ever free-pending; the last member's release finds its set live.
    const bounds = { threads: 2, ops: 2, ids: { min: 1, max: 2 }, only: { calls: ['alloc', 'free'] } };
    const r = await checkVariant(variantOf(ioasid, 'set-mandatory'), { bounds, runs: 0, seed: 42, exhaustive: {} });
    expect(r.coverage!.map((m) => m.machine)).not.toContain('set_free');
    const sets = r.coverage!.find((m) => m.machine === 'ioasid_set')!;
    expect(sets.states).toEqual([
      { state: 'live', entered: 0, reached: true },
      { state: 'freePending', entered: 0, reached: false },
    ]);
    // The only edge fired: the last member's release asking a live set whether it may go.
    expect(sets.edges.filter((e) => e.hits > 0).map(drawn)).toEqual(['live --> live: RECLAIMED / not free_pending']);
    expect(sets.edgesReached).toBe(1);
    expect(sets.never).toEqual(['no ioasid_set was ever free-pending', '`ioasid_set_free` never met a live ioasid_set']);
  });

  it('counts no state reached, not even the initial one, when a machine never fired', async () => {
    const coverage = coverageOf(ioasid.machines!(variantOf(ioasid, 'series').config), new Hits());
    for (const c of coverage) {
      expect(c.edgesReached).toBe(0);
      expect(c.states.every((s) => !s.reached)).toBe(true);
    }
    expect(coverage.find((c) => c.machine === 'ioasid')!.never).toEqual(['no ioasid was ever idle', 'no ioasid was ever free-pending']);
  });

  it('transitionPercent is the share of edges reached over all machines, 100 with none', async () => {
    expect(transitionPercent([])).toBe(100);
    const none: MachineCoverage = { machine: 'empty', states: [], edges: [], edgesReached: 0, never: [] };
    expect(transitionPercent([none])).toBe(100);
    const [b, f] = [buggy[0]!, fixed[0]!];
    expect(transitionPercent([b])).toBe((100 * b.edgesReached) / b.edges.length);
    expect(transitionPercent([b, f, none])).toBe((100 * (b.edgesReached + f.edgesReached)) / (b.edges.length + f.edges.length));
  });

  describe('in the JSON report and --min-coverage', () => {
    const bin = new URL('../bin/lifecheck.js', import.meta.url).pathname;
    const check = (...extra: string[]) => {
      const args = ['check', 'ioasid-bench', '--variant', 'fixed', '--exhaustive', '--threads', '2', '--ops', '3', '--json', ...extra];
      const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      return { code: r.status, out: r.stdout, err: r.stderr };
    };

    it('the JSON report carries each result’s coverage, the same as checkVariant’s', async () => {
      const r = check();
      expect(r.code).toBe(0);
      const [result] = JSON.parse(r.out).results as { coverage: MachineCoverage[] }[];
      const [c] = result!.coverage;
      expect(Object.keys(c!).sort()).toEqual(['edges', 'edgesReached', 'machine', 'never', 'states']);
      expect(c!.machine).toBe('slot');
      expect(c!.edges.every((e) => Number.isInteger(e.hits))).toBe(true);
      expect(result!.coverage).toEqual(JSON.parse(JSON.stringify(fixed)));
    });

    it('--min-coverage 100 exits 1 naming the variant, 0 passes, 150 is a usage error', async () => {
      const short = check('--min-coverage', '100');
      expect(short.code).toBe(1);
      const pct = transitionPercent(fixed).toFixed(1);
      expect(short.err).toContain(`lifecheck: ioasid-bench --variant fixed: transition coverage ${pct}% is below --min-coverage 100\n`);

      const any = check('--min-coverage', '0');
      expect(any.code).toBe(0);
      expect(any.err).not.toContain('lifecheck:');

      const wrong = check('--min-coverage', '150');
      expect(wrong.code).toBe(2);
      expect(wrong.err).toMatch(/^lifecheck: --min-coverage 150 .*0 to 100/);
    });
  });
});
