/**
 * The step cache changes nothing but speed: on random walks through every
 * built-in kit variant and the examples, a cached step gives the world, the
 * reply and the machine transitions that running it gives (also from a cache
 * small enough to turn its generations over at every few steps; and taken on
 * the world's words, which it patches as the world after it encodes, by both
 * caches), and
 * says what objects it wrote as the worlds around it show; a step does
 * the same in a world whose parts it did not read are another world's (what
 * the cache rests on); a step that starts a call is run once whatever the
 * count of calls before it (the count is updated, not read); and an exhaustive
 * check with the cache (on words) explores the same states and transitions,
 * with the same verdicts and coverage, as one without it (on worlds), with
 * preemptions bounded or not.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkVariant, objectsWritten, threadAfter, type AnyVariant, type Bounds, type KitSpec, type KitWorld, type Step, type WordOutcome, type WordSteps, type Codec } from 'lifecheck';
import { builtInModels } from 'lifecheck/models';
import buffer from '../../examples/buffer.ts';
import { rcu } from '../helpers/rcu.ts';
import file from '../../examples/file.ts';
import { firing, recording } from '../../src/engine/machine.ts';
import { collapseCodec } from '../../src/explore/collapse.ts';
import { Words } from '../../src/explore/store.ts';
import { StepCache } from '../../src/kit/cache.ts';
import { Ctx } from '../../src/kit/context.ts';
import { layoutOf, withWrites } from '../../src/kit/parts.ts';
import { runStep } from '../../src/kit/step.ts';
import { kitCodec } from '../../src/kit/codec.ts';
import { kitSystem } from '../../src/kit/schedule.ts';

const kitVariants: [string, AnyVariant][] = [...builtInModels, buffer, file, rcu]
  .flatMap((m) => m.variants.map((v): [string, AnyVariant] => [`${m.name}/${v.name}`, { ...v, model: m } as AnyVariant]))
  .filter(([, v]) => 'calls' in (v.config as object));

const bounds: Bounds = { threads: 3, ops: 2, ids: { min: 1, max: 2 } };

describe('the step cache', () => {
  it.each(kitVariants)('%s: a cached step is the step run, on random walks', (_, v) => {
    const spec = v.config as KitSpec;
    const cached = kitSystem(spec, bounds);
    const plain = kitSystem(spec, bounds, { cache: false });
    // A cache of 8 outcomes turns its generations over all the time: outcomes refiled from the old one, and dropped.
    const layout = layoutOf(plain.init);
    const smallParts = collapseCodec(1);
    const small = new StepCache(spec, bounds, layout, smallParts, undefined, 8);
    const smallCodec = kitCodec(layout, smallParts);
    // Worlds go through the system's codec between steps, as in a search: equal parts are the same stored objects.
    const codec = cached.codec!;
    const encodedBy = (by: Codec<KitWorld>, w: KitWorld) => {
      const words = new Words();
      by.encode(w, words);
      return words.view().slice();
    };
    const encoded = (w: KitWorld) => encodedBy(codec, w);
    const stored = (w: KitWorld) => {
      const words = encoded(w);
      expect(words).toEqual(encoded({ ...w }));
      return codec.decode(words);
    };
    const run = (system: Pick<typeof plain, 'apply'>, world: KitWorld, step: Step) => {
      let out: ReturnType<typeof plain.apply> | undefined;
      const fired = firing(() => (out = system.apply(world, step)));
      return { ...out!, fired };
    };
    // The step taken on the world's words, as the exhaustive explorer takes it: the next world's words, and the world.
    const onWords = (steps: WordSteps<KitWorld>, by: Codec<KitWorld>, world: KitWorld, step: Step) => {
      const words = encodedBy(by, world);
      let made: WordOutcome<KitWorld> | undefined;
      const fired = firing(() => (made = steps.apply(() => world, words, step)));
      const out = words.slice();
      for (let i = 0; i < made!.patch.length; i += 2) out[made!.patch[i]!] = made!.patch[i + 1]!;
      return { world: made!.after(world), reply: made!.reply, fired, words: out };
    };
    fc.assert(
      fc.property(fc.array(fc.nat(), { minLength: 1, maxLength: 30 }), (choices) => {
        let world = stored(cached.init);
        for (const c of choices) {
          const steps = cached.enabled(world);
          // The steps found on the world's words, filed by what finding them read: the same, in the same order.
          expect(cached.words!.enabled!(encoded(world), () => world)).toEqual(steps);
          if (steps.length === 0) break;
          const step = steps[c % steps.length]!;
          const got = run(cached, world, step);
          const want = run(plain, world, step);
          expect(got).toEqual(want);
          // The same words too: key order and undefined keys, which toEqual passes over, are the codec's.
          expect(encoded(got.world)).toEqual(encoded(want.world));
          expect(run({ apply: (w, s) => small.step(w, s) }, world, step)).toEqual(want);
          for (const [steps, by] of [[cached.words!, codec], [small, smallCodec]] as const) {
            const { words, ...taken } = onWords(steps, by, world, step);
            expect(taken).toEqual(want);
            expect(words).toEqual(encodedBy(by, want.world));
          }
          // What the step wrote, as the cache's outcome says it and as the worlds around the step show it.
          const written = (o: typeof got) => objectsWritten({ before: world, step, reply: o.reply, after: o.world });
          expect(written(got)).toEqual(written(want));
          // Each thread after the step, as the outcome gives it without the world and as the world after it has it.
          for (let t = 0; t < world.threads.length; t++) {
            expect(threadAfter({ before: world, step, reply: got.reply, after: got.world }, t)).toEqual(want.world.threads[t]);
            expect(threadAfter({ before: world, step, reply: want.reply, after: want.world }, t)).toBe(want.world.threads[t]);
          }
          world = stored(got.world);
        }
      }),
      { seed: 42, numRuns: 60 },
    );
  });

  it.each(kitVariants)('%s: a step does the same whatever the parts it did not read', (_, v) => {
    const spec = v.config as KitSpec;
    const system = kitSystem(spec, bounds, { cache: false });
    const layout = layoutOf(system.init);
    const walk = (choices: readonly number[]) => {
      let world = system.init;
      for (const c of choices) {
        const steps = system.enabled(world);
        if (steps.length === 0) break;
        world = system.apply(world, steps[c % steps.length]!).world;
      }
      return world;
    };
    const outcome = (world: KitWorld, step: Step) => {
      const ctx = new Ctx(spec, bounds, layout, world, step.thread);
      const { result, fired } = recording(() => runStep(ctx, step));
      // A part updated unread (a count of calls) takes a function of its value: the same one, given the same value.
      const updated = ctx.updated().map(([n, update]) => [n, update(layout.read[n]!(system.init))]);
      return { reads: ctx.reads, writes: ctx.changes(), updated, reply: result, fired };
    };
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 25 }), fc.array(fc.nat(), { maxLength: 25 }), fc.nat(), (here, there, pick) => {
        const world = walk(here);
        const steps = system.enabled(world);
        if (steps.length === 0) return;
        const step = steps[pick % steps.length]!;
        const before = outcome(world, step);
        // Every part of the world the step did not read taken from another world; one it read a number of alone (a
        // thread's rcu nesting, whether a slot is free), where that number is the same there.
        const other = walk(there);
        const read = new Set(before.reads);
        const alike = (n: number, v: unknown) => layout.alone.every((a, i) => a.of !== n || !read.has(layout.stored + i) || a.value(v) === a.value(layout.read[n]!(world)));
        const unread = layout.read.slice(0, layout.stored).flatMap((get, n) => (read.has(n) || !alike(n, get(other)) ? [] : [n, get(other)]));
        expect(outcome(withWrites(layout, world, unread), step)).toEqual(before);
      }),
      { seed: 42, numRuns: 150 },
    );
  });

  it('runs a step that starts a call once for every count of calls before it (the count is updated, not read)', () => {
    const spec = buffer.variants[0]!.config as KitSpec;
    const system = kitSystem(spec, bounds, { cache: false });
    const layout = layoutOf(system.init);
    const parts = collapseCodec(1);
    const cache = new StepCache(spec, bounds, layout, parts);
    const codec = kitCodec(layout, parts);
    const start = system.enabled(system.init).find((s) => s.thread === 0)!;
    const counted = (n: number) => withWrites(layout, system.init, [layout.calls[0]!, n]);
    const taken = [0, 1].map((n) => {
      const world = counted(n);
      const words = new Words();
      codec.encode(world, words);
      return { world, outcome: cache.apply(() => world, words.view().slice(), start) };
    });
    const [first, second] = taken.map((t) => t.outcome as unknown as { made: object; reads: number[]; writes: unknown[] });
    // One run, made into an outcome for each count: filed under the count last, and writing one more.
    expect(second!.made).toBe(first!.made);
    expect(second!.reads.at(-1)).toBe(layout.calls[0]);
    taken.forEach(({ world, outcome }, n) => expect(outcome.after(world)).toEqual(system.apply(world, start).world));
    expect(taken.map(({ world, outcome }) => outcome.after(world).calls[0])).toEqual([1, 2]);
  });

  it('makes an updated part that the step then reads a read and a write', () => {
    const spec = buffer.variants[0]!.config as KitSpec;
    const system = kitSystem(spec, bounds, { cache: false });
    const layout = layoutOf(system.init);
    const world = withWrites(layout, system.init, [layout.calls[1]!, 1]);
    const ctx = new Ctx(spec, bounds, layout, world, 1);
    ctx.countCall(1);
    ctx.countCall(1);
    expect([ctx.reads, ctx.changes(), ctx.updated().map(([n]) => n)]).toEqual([[], [], [layout.calls[1]]]);
    expect(ctx.after().calls).toEqual([0, 3, 0]);
    expect(ctx.callsOf(1)).toBe(3);
    expect([ctx.reads, ctx.changes(), ctx.updated()]).toEqual([[layout.calls[1]], [layout.calls[1], 3], []]);
  });

  it.each(kitVariants.filter(([name]) => /series-find-get|finalize-before-fail|v6\.7|series-notify$|buffer|file|rcu\//.test(name)))(
    '%s: an exhaustive check finds the same with and without it',
    async (_, v) => {
      const small: Bounds = { threads: 2, ops: 2, ids: { min: 1, max: 2 } };
      const uncached = { ...v, model: { ...v.model, system: (config: KitSpec, b: Bounds) => kitSystem(config, b, { cache: false }) } } as AnyVariant;
      const [a, b, c, d] = await Promise.all(
        [{}, { preemptions: 1 }].flatMap((exhaustive) => [v, uncached].map((x) => checkVariant(x, { bounds: small, runs: 0, seed: 42, exhaustive }))),
      );
      const same = (r: typeof a) => ({
        states: r!.search!.stats.states,
        transitions: r!.search!.stats.transitions,
        // Less when each was found, which is no part of what was found.
        verdicts: JSON.parse(JSON.stringify(r!.verdicts, (k, x) => (k === 'afterMs' ? undefined : x))),
        coverage: r!.coverage,
      });
      expect(a!.search?.complete).toBe(true);
      expect(same(a)).toEqual(same(b));
      // Bounded preemptions too: its steps on words are the system's own after a header.
      expect(same(c)).toEqual(same(d));
    },
  );
});
