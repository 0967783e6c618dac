/**
 * Step properties' verdicts replayed by what they read (src/kit/verdicts.ts):
 * a search with them finds what one checking every move finds, however a
 * property reads the world (a part by index, the parts of a container by
 * `Object.values` or a spread, a part's descriptor, the whole world as JSON,
 * the world after the step), checks a property that reads nothing beyond the
 * step once per outcome, and stops with a model error on a property that is
 * not a pure function of its move.
 */
import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkVariant, defineKitModel, eachThread, type AnyVariant, type Bounds, type KitSpec, type KitWorld, type Move, type Property, type Trace } from 'lifecheck';
import buffer, { buffers } from '../../examples/buffer.ts';
import file from '../../examples/file.ts';
import { builtInModels } from 'lifecheck/models';
import { rcu } from '../helpers/rcu.ts';
import { moveForms, stockProperties, wordForms } from '../../src/kit/properties.ts';
import { checkMove, checkWorld } from '../../src/engine/run.ts';
import { Words } from '../../src/explore/store.ts';
import { kitSystem } from '../../src/kit/schedule.ts';

type StepCheck = (move: Move<KitWorld>) => string | undefined;
const stepProperty = (id: string, check: StepCheck): Property<KitWorld, KitSpec> => ({ id, kind: 'step', title: id, source: 'test', check });
const invariant = (id: string, check: (world: KitWorld) => string | undefined): Property<KitWorld, KitSpec> => ({ id, kind: 'invariant', title: id, source: 'test', check });

/** Every kit variant's spec, by model and variant. */
const kitSpecs: [string, KitSpec][] = [...builtInModels, buffer, file]
  .flatMap((m) => m.variants.map((v): [string, unknown] => [`${m.name}/${v.name}`, v.config]))
  .filter((e): e is [string, KitSpec] => typeof e[1] === 'object' && e[1] !== null && 'calls' in e[1]);

const live = (slots: readonly { state: string }[]) => slots.filter((o) => o.state === 'live').length;

/** How often `counted` was checked. */
let checks = 0;

const properties = [
  // The other buffers, by the values of a spread world's container: most steps read one buffer or none.
  stepProperty('two-live-before', (m) => (live(Object.values({ ...m.before }.objects.buf!)) >= 2 ? 'two buffers live' : undefined)),
  // A slot read through its descriptor.
  stepProperty('third-slot-used', (m) => (Object.getOwnPropertyDescriptor(m.before.objects.buf, 2)?.value.state === 'live' ? 'slot 3 live' : undefined)),
  // The world after the step, as JSON.
  stepProperty('two-ids-after', (m) => ((JSON.stringify(m.after.spaces).match(/"kind":"buf"/g) ?? []).length >= 2 ? 'two ids' : undefined)),
  // The slots of the world after the step, by index: a step of CPU1's that leaves two buffers live.
  stepProperty('two-live-after', (m) => {
    const slots = m.after.objects.buf!;
    let n = 0;
    for (let k = 0; k < slots.length; k++) if (slots[k]!.state === 'live') n++;
    return n >= 2 && m.step.thread === 1 ? 'two buffers live after a step of CPU1' : undefined;
  }),
  // Another thread, met iterating the threads.
  stepProperty('destroy-while-other-attaches', (m) => {
    if (m.step.op !== 'buf_destroy') return undefined;
    for (const [t, th] of m.before.threads.entries()) if (t !== m.step.thread && th.call === 'buf_attach') return `CPU${t} is attaching`;
    return undefined;
  }),
  // Every part of both worlds: verdicts then are the world's own.
  stepProperty('never', (m) => (JSON.stringify(m.before).length + JSON.stringify(m.after).length < 0 ? 'never' : undefined)),
  // Nothing beyond the step.
  stepProperty('counted', (m) => {
    checks++;
    return m.reply.text.includes('-ENOMEM') && m.reply.text.includes('-EBUSY') ? 'never' : undefined;
  }),
];

const model = defineKitModel({
  name: 'verdicts',
  title: 'step properties reading the world in every way',
  source: 'test',
  defaults: { threads: 2, ops: 2, ids: { min: 1, max: 2 } },
  properties,
  variants: (m) => [m.variant({ name: 'buffers', title: 'buffers', source: 'test', expect: {}, config: buffers })],
});

const variant = { ...model.variants[0]!, model } as AnyVariant;
const uncached = { ...variant, model: { ...model, system: (config: KitSpec, b: Bounds) => kitSystem(config, b, { cache: false }) } } as AnyVariant;
const ids = properties.map((p) => p.id);
const bounds: Bounds = { threads: 2, ops: 2, ids: { min: 1, max: 2 } };

const found = (r: Awaited<ReturnType<typeof checkVariant>>) => ({
  states: r.search!.stats.states,
  transitions: r.search!.stats.transitions,
  verdicts: JSON.parse(JSON.stringify(r.verdicts, (k, x) => (k === 'afterMs' ? undefined : x))),
});

/** Properties broken by every move, each saying what it read: a verdict replayed where it should not be says another thing. */
const telling = [
  stepProperty('values', (m) => JSON.stringify(Object.values(m.before.objects.buf!).map((o) => o.state))),
  stepProperty('index', (m) => `${m.before.objects.buf![1]!.state} ${m.before.objects.buf![2]!.fields.ref}`),
  stepProperty('descriptor', (m) => String(Object.getOwnPropertyDescriptor(m.before.objects.buf, 2)?.value.state)),
  stepProperty('kind-descriptor', (m) => JSON.stringify(Object.getOwnPropertyDescriptor(m.before.objects, 'buf')!.value.map((o: { state: string }) => o.state))),
  stepProperty('after', (m) => `${m.after.objects.buf![1]!.state} ${m.after.objects.buf![2]!.fields.ref} ${m.after.threads[0]!.pc}`),
  stepProperty('after-json', (m) => JSON.stringify(m.after.spaces)),
  stepProperty('threads', (m) => [...m.before.threads].map((th) => th.call).join(',')),
  stepProperty('locks', (m) => JSON.stringify({ ...m.before.locks })),
  // Too much to be worth filing: checked on every move.
  stepProperty('whole', (m) => JSON.stringify([m.before, m.after])),
  // structuredClone refuses a recording world: checked on every move.
  stepProperty('cloned', (m) => JSON.stringify(structuredClone(m.before.objects))),
];

/** Properties broken by every move of any model, each saying what it read. */
const anyModel = [
  stepProperty('all-objects', (m) => JSON.stringify(Object.values(m.before.objects).map((slots) => slots.map((o) => `${o.state} ${o.gen}`)))),
  stepProperty('descriptors', (m) => (Object.create(Object.prototype, Object.getOwnPropertyDescriptors(m.before)) as KitWorld).threads.map((t) => `${t.call} ${t.rcu}`).join()),
  stepProperty('container-descriptor', (m) => JSON.stringify(Object.values(Object.getOwnPropertyDescriptor(m.after, 'spaces')!.value as KitWorld['spaces']))),
];

/** Invariants broken in every world, each saying what it read. */
const tellingWorlds = [
  invariant('values', (w) => JSON.stringify(Object.values(w.objects.buf!).map((o) => o.state))),
  invariant('index', (w) => `${w.objects.buf![1]!.state} ${w.objects.buf![2]!.fields.ref}`),
  invariant('entries', (w) => JSON.stringify(w.spaces)),
  invariant('threads', (w) => [...w.threads].map((th) => `${th.call} ${th.pc}`).join(',')),
  invariant('whole', (w) => JSON.stringify(w)),
  invariant('cloned', (w) => JSON.stringify(structuredClone(w.spaces))),
];

/** Invariants of each thread on its own (filed thread by thread), broken by some threads in some worlds. */
const byThread = [
  eachThread<KitSpec>({ id: 'busy', title: 'busy', source: 'test', check: (w, t) => (w.threads[t]!.call ? `CPU${t} in ${w.threads[t]!.call} at ${w.threads[t]!.pc}` : undefined) }),
  eachThread<KitSpec>({
    id: 'busy-together',
    title: 'busy together',
    source: 'test',
    check: (w, t) => (w.threads[t]!.call && w.threads.some((u, k) => k !== t && u.call) ? `CPU${t} and another: ${JSON.stringify(w.objects.buf)}` : undefined),
  }),
];

/** Random walks of `system`, each world as the explorer has it (decoded from its words), with its words. */
function walks(spec: KitSpec, visit: (world: KitWorld, words: Int32Array, system: ReturnType<typeof kitSystem>) => void, b = bounds) {
  const system = kitSystem(spec, b, { forms: { worlds: wordForms, moves: moveForms } });
  const codec = system.codec!;
  fc.assert(
    fc.property(fc.array(fc.nat(), { minLength: 1, maxLength: 25 }), (choices) => {
      let world = system.init;
      for (const c of choices) {
        const sink = new Words();
        codec.encode(world, sink);
        const words = sink.view().slice();
        world = codec.decode(words);
        visit(world, words, system);
        const steps = system.enabled(world);
        if (steps.length === 0) break;
        world = system.apply(world, steps[c % steps.length]!).world;
      }
    }),
    { seed: 42, numRuns: 150 },
  );
}

/** A design whose guests exit (the world then has `exited`), and properties that ask for its keys. */
const rcuReaders = rcu.variants[0]!.config as KitSpec;
const guests = builtInModels.find((m) => m.name === 'ioasid')!.variants.find((v) => v.name === 'series')!.config as KitSpec;
const keyed = [
  invariant('keys', (w) => Object.keys(w).join()),
  invariant('in', (w) => String('exited' in w)),
  invariant('json', (w) => String(JSON.stringify(w).length)),
];

describe('invariants checked on words', () => {
  it.each(keyed.map((p) => [p.id, [p]] as const))('%s: gives what checking the world gives, once guests have exited too', (_, checked) => {
    let exited = 0;
    walks(guests, (world, words, system) => {
      exited += world.exited ? 1 : 0;
      expect(system.words!.checkWorld!(checked, guests, words, () => world, 1)).toEqual(checkWorld(checked, guests, world, false, 1));
    });
    expect(exited).toBeGreaterThan(0);
  });

  it.each(tellingWorlds.map((p) => [p.id, [p]] as const))('%s: gives what checking the world gives, on random walks', (_, checked) => {
    walks(buffers, (world, words, system) => {
      expect(system.words!.checkWorld!(checked, buffers, words, () => world, 1)).toEqual(checkWorld(checked, buffers, world, false, 1));
    });
  });

  it.each(byThread.map((p) => [p.id, [p]] as const))('%s: each thread on its own gives what the whole check gives, on random walks', (_, checked) => {
    let broken = 0;
    walks(buffers, (world, words, system) => {
      const want = checkWorld(checked, buffers, world, false, 1);
      broken += want.length;
      expect(system.words!.checkWorld!(checked, buffers, words, () => world, 1)).toEqual(want);
    });
    expect(broken).toBeGreaterThan(0);
  });

  const refcounts = stockProperties.find((p) => p.id === 'refcount-matches-holders')!;
  let broken = 0;
  it.each(kitSpecs)('%s: refcount-matches-holders read from the words finds what it finds in the world', (_, spec) => {
    walks(spec, (world, words, system) => {
      const want = checkWorld([refcounts], spec, world, false, 1);
      broken += want.length;
      expect(system.words!.checkWorld!([refcounts], spec, words, () => world, 1)).toEqual(want);
    });
  });
  it('met worlds that break refcount-matches-holders on those walks', () => expect(broken).toBeGreaterThan(0));

  // Invariants that hold in most worlds and break in some, each reading its own parts: a world a step made from one
  // that keeps them is checked with the step's patch, and where the patch writes nothing their verdicts were found
  // from, they keep them unchecked (what the search does from the second level on).
  const seldom = [
    invariant('three-live', (w) => (live(w.objects.buf!) >= 3 ? 'three buffers live' : undefined)),
    invariant('both-ids', (w) => (w.spaces.bufs!.every((e) => e !== null) ? 'both ids taken' : undefined)),
    eachThread<KitSpec>({ id: 'attaching', title: 'attaching', source: 'test', check: (w, t) => (w.threads[t]!.call === 'buf_attach' && w.threads[t]!.pc > 1 ? `CPU${t} deep in attach` : undefined) }),
  ];
  it.each(seldom.map((p) => [p.id, p] as const))('%s: checked with the patch from a world that keeps it, gives what checking the world gives', (_, p) => {
    const system = kitSystem(buffers, bounds, { forms: { worlds: wordForms, moves: moveForms } });
    const codec = system.codec!;
    let kept = 0;
    let broken = 0;
    fc.assert(
      fc.property(fc.array(fc.nat(), { minLength: 1, maxLength: 25 }), (choices) => {
        let world = system.init;
        const sink = new Words();
        codec.encode(world, sink);
        let words = sink.view().slice();
        // The first world is checked on its words, as every world the search stores after its first.
        let keeps = system.words!.checkWorld!([p], buffers, words, () => world, 1).length === 0;
        for (const c of choices) {
          const steps = system.enabled(world);
          if (steps.length === 0 || !keeps) break;
          const before = world;
          const outcome = system.words!.apply(() => before, words, steps[c % steps.length]!);
          world = outcome.after(before);
          const next = words.slice();
          for (let i = 0; i < outcome.patch.length; i += 2) next[outcome.patch[i]!] = outcome.patch[i + 1]!;
          words = next;
          const want = checkWorld([p], buffers, world, false, 1);
          expect(system.words!.checkWorld!([p], buffers, words, () => world, 1, outcome.patch)).toEqual(want);
          keeps = want.length === 0;
          kept += keeps ? 1 : 0;
          broken += keeps ? 0 : 1;
        }
      }),
      { seed: 7, numRuns: 200 },
    );
    expect([kept > 0, broken > 0]).toEqual([true, true]);
  });

  it('stops where an invariant reads past the recording worlds (util.inspect), where one of the worlds it is kept in unchecked is checked as it is', () => {
    // It seems to read nothing, so every step's patch writes nothing it read: each world after the first keeps it unchecked.
    const inspected = [invariant('inspected', (w) => (inspect(w.objects, { depth: 9 }).includes("'live'") ? 'a buffer is live' : undefined))];
    const system = kitSystem(buffers, bounds);
    const codec = system.codec!;
    const sink = new Words();
    codec.encode(system.init, sink);
    const first = sink.view().slice();
    expect(() => {
      // One long walk, starting again where it ends.
      let world = system.init;
      let words = first;
      for (let n = 0; n < 20_000; n++) {
        const steps = system.enabled(world);
        const step = steps[(n * 7919) % Math.max(steps.length, 1)];
        if (!step || n === 0) {
          world = system.init;
          words = first;
          system.words!.checkWorld!(inspected, buffers, words, () => system.init, 0);
          if (!step) continue;
        }
        const before = world;
        const outcome = system.words!.apply(() => before, words, step);
        world = outcome.after(before);
        words = words.slice();
        for (let i = 0; i < outcome.patch.length; i += 2) words[outcome.patch[i]!] = outcome.patch[i + 1]!;
        const now = world;
        system.words!.checkWorld!(inspected, buffers, words, () => now, 1, outcome.patch);
      }
    }).toThrow(/util.inspect/);
  });
});

describe('step properties checked on words', () => {
  const freed = stockProperties.find((p) => p.id === 'no-free-while-referenced')!;
  let broken = 0;
  it.each(kitSpecs)('%s: no-free-while-referenced read from the words finds what it finds in the move, with the others', (_, spec) => {
    // Alone, and with a property filed by what it reads: the form's verdict joins the filed ones in the list's order.
    const lists = [[freed], [stockProperties.find((p) => p.id === 'no-warn')!, freed]];
    walks(spec, (world, words, system) => {
      for (const step of system.enabled(world)) {
        const outcome = system.words!.apply(() => world, words, step);
        for (const checked of lists) {
          const want = checkMove(checked, spec, { before: world, step, reply: outcome.reply, after: outcome.after(world) }, 1);
          if (checked.length === 1) broken += want.length;
          expect(outcome.checkMove!(checked, spec, () => world, step, words, 1)).toEqual(want);
        }
      }
    });
  });
  // Random walks seldom free a buffer someone still holds: the shortest counterexamples do, step by step.
  it.each(
    [...builtInModels, buffer].flatMap((m) =>
      m.variants.filter((v) => (v.expect as Record<string, string>)[freed.id] === 'violated').map((v) => [`${m.name}/${v.name}`, m, v] as const),
    ),
  )('%s: read from the words, breaks where its shortest counterexample breaks it, and nowhere before', async (_, m, v) => {
    const r = await checkVariant(v as AnyVariant, { bounds: m.defaults, runs: 0, seed: 1, exhaustive: {}, properties: [freed.id] });
    const trace = r.verdicts[0]!.counterexample!.trace as Trace<KitWorld>;
    const spec = v.config as KitSpec;
    const system = kitSystem(spec, m.defaults, { forms: { worlds: wordForms, moves: moveForms } });
    const codec = system.codec!;
    let world = trace.init;
    const verdicts = trace.steps.map(({ step }) => {
      const sink = new Words();
      codec.encode(world, sink);
      const words = sink.view().slice();
      world = codec.decode(words);
      const outcome = system.words!.apply(() => world, words, step);
      const found = outcome.checkMove!([freed], spec, () => world, step, words, 1);
      expect(found).toEqual(checkMove([freed], spec, { before: world, step, reply: outcome.reply, after: outcome.after(world) }, 1));
      world = outcome.after(world);
      broken += found.length;
      return found.length;
    });
    expect(verdicts.indexOf(1)).toBe(verdicts.length - 1);
  });
  it('met steps that break no-free-while-referenced', () => expect(broken).toBeGreaterThan(0));

  it('stop with an error where a form on words says a broken property holds, one check in 1,024 being made as it is too', async () => {
    const v = buffer.variants.find((x) => x.name === 'attach-forgets-ref')!;
    const spec = v.config as KitSpec;
    const r = await checkVariant(v as AnyVariant, { bounds, runs: 0, seed: 1, exhaustive: {}, properties: [freed.id] });
    const trace = r.verdicts[0]!.counterexample!.trace as Trace<KitWorld>;
    // Forms that always say the property holds: the step property's, and refcount-matches-holders'.
    const refcounts = stockProperties.find((p) => p.id === 'refcount-matches-holders')!;
    const lying = { worlds: new Map([[refcounts as never, () => () => true]]), moves: new Map([[freed as never, () => () => true]]) };
    const system = kitSystem(spec, bounds, { forms: lying });
    const codec = system.codec!;
    let world = trace.init;
    for (const { step } of trace.steps.slice(0, -1)) world = system.apply(world, step).world;
    const sink = new Words();
    codec.encode(world, sink);
    const words = sink.view().slice();
    world = codec.decode(words);
    const last = trace.steps.at(-1)!.step;
    const outcome = system.words!.apply(() => world, words, last);
    expect(() => {
      for (let n = 0; n < 1024; n++) outcome.checkMove!([freed], spec, () => world, last, words, 1);
    }).toThrow(/no-free-while-referenced read from the words holds, but not on the move/);
    // The last world of refcount-matches-holders' own counterexample breaks it.
    const miscounted = await checkVariant(v as AnyVariant, { bounds, runs: 0, seed: 1, exhaustive: {}, properties: [refcounts.id] });
    const broken = (miscounted.verdicts[0]!.counterexample!.trace as Trace<KitWorld>).steps.at(-1)!.world;
    const brokenWords = new Words();
    codec.encode(broken, brokenWords);
    expect(checkWorld([refcounts], spec, broken, false, 1)).toHaveLength(1);
    expect(() => {
      for (let n = 0; n < 1024; n++) system.words!.checkWorld!([refcounts], spec, brokenWords.view().slice(), () => broken, 1);
    }).toThrow(/refcount-matches-holders read from the words holds, but not in the world/);
  });
});

describe('step properties replayed by what they read', () => {
  it.each([
    ...telling.map((p) => ['buffers', buffers, p] as const),
    ...anyModel.flatMap((p) => [['guests', guests, p] as const, ['rcu readers', rcuReaders, p] as const]),
  ])('%s: %s gives what checking the move gives, every step of random walks', (_, spec, p) => {
    // One list all through: verdicts are filed for the properties checked, and start again for others.
    const checked = [p];
    walks(spec, (world, words, system) => {
      for (const step of system.enabled(world)) {
        const outcome = system.words!.apply(() => world, words, step);
        const want = checkMove(checked, spec, { before: world, step, reply: outcome.reply, after: outcome.after(world) }, 1);
        expect(outcome.checkMove!(checked, spec, () => world, step, words, 1)).toEqual(want);
      }
    });
  });

  it('stops the search where a check reads past the recording worlds (util.inspect), where one of its verdicts met again is checked as it is', () => {
    const inspected = [stepProperty('inspected', (m) => inspect(m.before, { depth: 9 }))];
    const system = kitSystem(buffers, bounds);
    const codec = system.codec!;
    expect(() => {
      // One long walk, starting again where it ends.
      let world = system.init;
      for (let n = 0; n < 20_000; n++) {
        const sink = new Words();
        codec.encode(world, sink);
        const words = sink.view().slice();
        world = codec.decode(words);
        const steps = system.enabled(world);
        const step = steps[(n * 7919) % Math.max(steps.length, 1)];
        if (!step) {
          world = system.init;
          continue;
        }
        const outcome = system.words!.apply(() => world, words, step);
        outcome.checkMove!(inspected, buffers, () => world, step, words, 1);
        world = outcome.after(world);
      }
    }    ).toThrow(/util.inspect/);
  });

  it.each(properties.map((p) => p.id))('%s: finds what checking every move finds, however it reads the world', async (id) => {
    const options = { bounds, runs: 0, seed: 42, exhaustive: {}, properties: [id] };
    const replayed = await checkVariant(variant, options);
    expect(found(replayed)).toEqual(found(await checkVariant(uncached, options)));
    expect(replayed.verdicts[0]!.actual).toBe(['never', 'counted'].includes(id) ? 'holds' : 'violated');
  });

  it('find together what each finds alone', async () => {
    const options = { bounds, runs: 0, seed: 42, exhaustive: {}, properties: ids };
    expect(found(await checkVariant(variant, options))).toEqual(found(await checkVariant(uncached, options)));
  });

  it('check a property that reads nothing beyond the step once per step the cache files (recording what it reads), not once per move', async () => {
    checks = 0;
    const r = await checkVariant(variant, { bounds, runs: 0, seed: 42, exhaustive: {}, properties: ['counted'] });
    const transitions = r.search!.stats.transitions;
    expect(checks).toBeGreaterThan(0);
    expect(checks * 5).toBeLessThan(transitions);
  });

  it('stop with a model error where a property reads other parts from the same parts', async () => {
    let n = 0;
    const flipping = stepProperty('flipping', (m) => (m.before.objects.buf![n++ % 2]!.gen < 0 ? 'never' : undefined));
    const impure = defineKitModel({ ...model, name: 'impure', properties: [flipping], variants: (m) => [m.variant({ name: 'buffers', title: 'buffers', source: 'test', expect: {}, config: buffers })] });
    await expect(checkVariant({ ...impure.variants[0]!, model: impure } as AnyVariant, { bounds, runs: 0, seed: 42, exhaustive: {}, properties: ['flipping'] })).rejects.toThrow(
      /must be a pure function of what it checks/,
    );
  });
});
