/**
 * The step cache. A step's outcome (the parts it writes, its reply, the
 * machine transitions coverage counts) is a function of the parts of the
 * world it read, and a step reads only through its `Ctx`, which notes each
 * part as it first reads it. So a step met again in a world whose parts it
 * reads are the same is not run again: its writes are laid on the world, its
 * reply handed back, its transitions counted again. Interleavings make this
 * the common case: a thread's step does the same whatever the other threads'
 * calls are doing.
 *
 * The cache is a tree per step: each node names the part the step reads next
 * (which follows from the parts read before it) and goes on by that part's
 * word, the number the system's codec gives equal parts (a part read alone,
 * a thread's rcu nesting, goes on by its value). So the explorer can take a
 * step on a world's words alone: the words it reads lead to the outcome,
 * whose written parts' words patch them (`WordSteps`). All rests on the step
 * reading the world only through its `Ctx`: a read it did not note shows,
 * and is thrown as the kit's error, where it changes which part the step
 * reads next from the same parts; the tests check on random worlds that a
 * step does the same whatever its unread parts. A step that updates a part
 * it never reads (a thread's count of calls, bumped) is run once, whatever
 * value the part holds: its outcome is filed under that part's word last,
 * and made for a word not met yet from one filed beside it (`Specialising`).
 */
import { recording, refire, type FiredEdges } from '../engine/machine.ts';
import type { Bounds, Move, Property, Reply, Step as EngineStep, Violation, WordOutcome, WordSteps } from '../engine/model.ts';
import type { CollapseCodec } from '../explore/collapse.ts';
import { Ctx } from './context.ts';
import { file, Read } from './filed.ts';
import { withWrites, wordReader, type Layout } from './parts.ts';
import { runStep } from './step.ts';
import { MovePlans, Recorder, Verdicts, WorldVerdicts, type MoveFormOf, type WordForm } from './verdicts.ts';
import type { KitSpec, KitWorld, Obj, Thread } from './world.ts';
import type { Update } from './view.ts';

/** What running a step made: the same for every value of the parts it updated without reading them. */
interface Made {
  /** The parts the step read, in the order read, and the word of each. */
  readonly reads: readonly number[];
  readonly readWords: readonly number[];
  /** Part numbers and their new values in turn (`withWrites`), and the same with their words (a patch). */
  readonly writes: readonly unknown[];
  readonly patch: Int32Array;
  /** The parts it updated unread, and the function of its value each gets. */
  readonly updates: readonly Update[];
  readonly reply: Reply;
  readonly fired: FiredEdges;
  /** The object slots it wrote (`objectsWritten`), and as `Done.slots`: an update is of no object. */
  readonly objects: readonly WrittenObject[];
  readonly slots: Int32Array;
}

/** What a step did, filed under what it read: what it made, with the parts it updated as they are in one world. */
class Outcome implements WordOutcome<KitWorld> {
  /** The parts the step read (and updated), in the order read, and the word of each: where it is filed. */
  readonly reads: readonly number[];
  readonly readWords: readonly number[];
  /** Part numbers and their new values in turn (`withWrites`). */
  readonly writes: readonly unknown[];
  /** Part numbers and their new values' words in turn: the world's words' patch. */
  readonly patch: Int32Array;
  readonly reply: Reply;

  constructor(
    readonly made: Made,
    readonly layout: Layout,
    /** The system codec's parts, and the word of each part where the step is taken (for the parts it updated). */
    parts: CollapseCodec<unknown>,
    wordOf: (n: number) => number,
    recorder: Recorder,
    plans: MovePlans,
  ) {
    const { updates } = made;
    if (updates.length === 0) {
      this.reads = made.reads;
      this.readWords = made.readWords;
      this.writes = made.writes;
      this.patch = made.patch;
      this.reply = made.reply;
    } else {
      const reads = [...made.reads];
      const readWords = [...made.readWords];
      const writes = [...made.writes];
      const patch = [...made.patch];
      for (const [n, update] of updates) {
        const word = wordOf(n);
        const v = frozen(update(parts.value(word)));
        reads.push(n);
        readWords.push(word);
        writes.push(n, v);
        patch.push(n, parts.word(v));
      }
      this.reads = reads;
      this.readWords = readWords;
      this.writes = writes;
      this.patch = Int32Array.from(patch);
      // Its own reply, which leads `objectsWritten` and `threadAfter` to this very outcome.
      this.reply = Object.freeze({ ...made.reply });
    }
    this.verdicts = new Verdicts(recorder, plans, this);
  }

  get fired(): FiredEdges {
    return this.made.fired;
  }

  /** The object slots it wrote (`objectsWritten`), and as `Done.slots`: the run's, as no update is of an object. */
  get objects(): readonly WrittenObject[] {
    return this.made.objects;
  }

  get slots(): Int32Array {
    return this.made.slots;
  }

  /** The step properties' verdicts on it, by what they read of the world it is taken in. */
  private readonly verdicts: Verdicts;

  after(before: KitWorld): KitWorld {
    return withWrites(this.layout, before, this.writes);
  }

  checkMove<C>(properties: readonly Property<KitWorld, C>[], config: C, before: () => KitWorld, step: EngineStep, words: Int32Array, at: number): readonly Violation[] {
    return this.verdicts.check(properties, config, before, step, words, at);
  }
}

/** The properties with a form that reads words (the kit's stock ones: `wordForms`, `moveForms`). */
export interface Forms {
  readonly worlds?: ReadonlyMap<Property<KitWorld, never>, WordForm>;
  readonly moves?: ReadonlyMap<Property<KitWorld, never>, MoveFormOf>;
}

/** The outcome each reply the cache hands back is part of (`objectsWritten`). */
const outcomes = new WeakMap<Reply, Outcome>();

/** An object slot a step wrote, and the object in it after the step. */
export interface WrittenObject {
  readonly kind: string;
  readonly slot: number;
  readonly obj: Obj;
}

/** The object slots `writes` writes, in the layout's order (kinds as the spec has them, then slots). */
function objectsIn(layout: Layout, writes: readonly unknown[]): readonly WrittenObject[] {
  const written: { n: number; w: WrittenObject }[] = [];
  for (let i = 0; i < writes.length; i += 2) {
    const n = writes[i] as number;
    const [field, kind, slot] = layout.places[n]!;
    if (field === 'objects') written.push({ n, w: { kind: kind as string, slot: slot as number, obj: writes[i + 1] as Obj } });
  }
  return written.sort((a, b) => a.n - b.n).map(({ w }) => w);
}

/** `v`, frozen where it is an object: a written part is handed back for every world the outcome is replayed in. */
function frozen<T>(v: T): T {
  return typeof v === 'object' && v !== null ? Object.freeze(v) : v;
}

/** A node of a step's tree that reads a part the step updated: the outcome for a word not met yet is made from what `template`'s run made. */
class Specialising extends Read<Outcome> {
  constructor(
    part: number,
    readonly template: Outcome,
  ) {
    super(part);
  }
}

/** `Done.slots` of the objects a step that read `reads` of `before` wrote. */
function slotsIn(layout: Layout, objects: readonly WrittenObject[], reads: readonly number[], before: KitWorld): Int32Array {
  const liveGen = (o: Obj) => (o.state === 'live' ? o.gen : -1);
  return Int32Array.from(
    objects.flatMap(({ kind, slot, obj }) => [layout.firstSlot[kind]! + slot, liveGen(obj), reads.includes(layout.obj[kind]![slot]!) ? liveGen(before.objects[kind]![slot]!) : -2]),
  );
}

/**
 * The object slots a step wrote, with what each holds after it, kind by kind
 * in the spec's order and slot by slot (every other slot is the very same
 * data after the step; a slot written may hold an equal object, so written
 * is not always changed). The answer goes with the step's reply, as the
 * kit's steps give it. A property that looks only at objects a step changed
 * starts here: for a step the cache replays, the answer needs no world after
 * the step (`move.after`, made when first read).
 */
export function objectsWritten(move: Move<KitWorld>): readonly WrittenObject[] {
  const outcome = outcomes.get(move.reply);
  if (outcome) return outcome.objects;
  const { before, after } = move;
  if (after.objects === before.objects) return [];
  const written: WrittenObject[] = [];
  for (const kind in before.objects) {
    const was = before.objects[kind]!;
    const now = after.objects[kind]!;
    if (now !== was) for (let slot = 0; slot < was.length; slot++) if (now[slot] !== was[slot]) written.push({ kind, slot, obj: now[slot]! });
  }
  return written;
}

/**
 * Thread `t` after a step, without making the world after it for a step the
 * cache replays: what the step wrote into the thread, else the thread as it
 * was (a property reading what a call found, `threadAfter(move, t).frame.found`).
 */
export function threadAfter(move: Move<KitWorld>, t: number): Thread {
  const outcome = outcomes.get(move.reply);
  if (!outcome) return move.after.threads[t]!;
  const part = outcome.layout.thread[t];
  const { writes } = outcome;
  for (let i = 0; i < writes.length; i += 2) if (writes[i] === part) return writes[i + 1] as Thread;
  return move.before.threads[t]!;
}

/**
 * How many outcomes the cache keeps, about 2 KB each: the bound on its memory. It keeps them in two generations of
 * half as many: when the young one is full it becomes the old one, and the old one is dropped; an outcome met again
 * in the old one is filed in the young one again. So the outcomes in use stay, whatever the search's length.
 */
const LIMIT = 1 << 15;

/** Per thread, per call and arguments (and failure injected): what the step reads first. */
type Steps = Map<string, Read<Outcome> | Outcome>[];

/** Each step's key, kept with the step: the steps found on words are the same objects from world to world. */
const keys = new WeakMap<EngineStep, string>();

/** The cache's key for a step: its call and arguments. */
function keyOf(step: EngineStep): string {
  if (step.args.length === 0) return step.op;
  let key = keys.get(step);
  if (key === undefined) keys.set(step, (key = `${step.op}\n${step.args.join('\n')}`));
  return key;
}

export class StepCache implements WordSteps<KitWorld> {
  private young: Steps = [];
  private old: Steps = [];
  /** How many outcomes the young generation has. */
  private outcomes = 0;
  /** Part `n`'s word in a world whose words are `words`. */
  private readonly wordFromWords: (n: number, words: Int32Array) => number;
  private readonly recorder: Recorder;

  constructor(
    private readonly spec: KitSpec,
    private readonly bounds: Bounds,
    private readonly layout: Layout,
    /** The system codec's parts: a part's word is the number equal parts share. */
    private readonly parts: CollapseCodec<unknown>,
    /** The properties with a form that reads words: invariants, and step properties. */
    forms: Forms = {},
    private readonly limit = LIMIT,
  ) {
    const value = (word: number) => parts.value(word);
    this.wordFromWords = wordReader(layout, value);
    this.recorder = new Recorder(layout);
    const worlds = new Map([...(forms.worlds ?? [])].map(([p, form]) => [p, form(spec, layout, value)]));
    this.worlds = new WorldVerdicts(this.recorder, (p) => worlds.get(p));
    const moves = new Map([...(forms.moves ?? [])].map(([p, form]) => [p, form(spec, layout, value)]));
    this.plans = new MovePlans((p) => moves.get(p));
  }

  /** How each list of step properties is checked (shared by every outcome's verdicts). */
  private readonly plans: MovePlans;

  private readonly worlds: WorldVerdicts;

  checkWorld<C>(properties: readonly Property<KitWorld, C>[], config: C, words: Int32Array, world: () => KitWorld, at: number, patch?: Int32Array): readonly Violation[] {
    return this.worlds.check(properties, config, words, world, at, patch);
  }

  /** The words `apply` was last given, which `wordInWords` reads (a closure per step would be garbage). */
  private words: Int32Array = new Int32Array(0);
  private readonly wordInWords = (n: number) => this.wordFromWords(n, this.words);

  /** `step` taken in `world()`, whose words (the kit codec's, a word per part) are `words`. */
  apply(world: () => KitWorld, words: Int32Array, step: EngineStep): Outcome {
    const key = keyOf(step);
    this.words = words;
    const found = this.findOnWords(this.young[step.thread]?.get(key), words);
    return found === undefined ? this.fromOld(world, step, key, this.wordInWords) : this.met(found, step, key, this.wordInWords);
  }

  /**
   * What a walk found for `step` (its `key`) where its parts' words are as `wordOf` says, filed in the young
   * generation: an outcome, or the one a `Specialising` node makes for these words (filed then). Counted again.
   */
  private met(found: Outcome | Specialising, step: EngineStep, key: string, wordOf: (n: number) => number): Outcome {
    let outcome = found;
    if (outcome instanceof Specialising) {
      outcome = this.outcome(outcome.template.made, wordOf);
      this.keep(step.thread, key, outcome);
    }
    refire(outcome.fired);
    return outcome;
  }

  /**
   * `find` from `at` where the world's words are `words`, a stored part's word read in place (most reads are of
   * those): apart from `find`, as no closure is made here.
   */
  private findOnWords(at: Read<Outcome> | Outcome | undefined, words: Int32Array): Outcome | Specialising | undefined {
    const stored = this.layout.stored;
    let node: Read<Outcome> | undefined;
    while (at instanceof Read) {
      node = at;
      at = at.get(at.part < stored ? words[at.part]! : this.wordFromWords(at.part, words));
    }
    return at ?? (node instanceof Specialising ? node : undefined);
  }

  /** The outcome of what a run `made`, with the parts it updated as `wordOf` says. */
  private outcome(made: Made, wordOf: (n: number) => number): Outcome {
    const outcome = new Outcome(made, this.layout, this.parts, wordOf, this.recorder, this.plans);
    Object.freeze(outcome);
    outcomes.set(outcome.reply, outcome);
    return outcome;
  }

  /** `step` taken in `world`: the world it makes, and its reply. */
  step(world: KitWorld, step: EngineStep): { world: KitWorld; reply: Reply } {
    const key = keyOf(step);
    const wordOf = (n: number) => this.wordFromWorld(n, world);
    const found = this.find(this.young, step.thread, key, wordOf);
    const outcome = found === undefined ? this.fromOld(() => world, step, key, wordOf) : this.met(found, step, key, wordOf);
    return { world: outcome.after(world), reply: outcome.reply };
  }

  /**
   * What `step` (its `key`) does in `world()`, whose parts' words `wordOf` gives, where the young generation has
   * nothing filed for it: replayed from the old one (and filed in the young one again), or run and filed.
   */
  private fromOld(world: () => KitWorld, step: EngineStep, key: string, wordOf: (n: number) => number): Outcome {
    const found = this.find(this.old, step.thread, key, wordOf);
    if (found === undefined) return this.run(world(), step, key, wordOf);
    // An outcome met is filed again; one a node makes is filed as it is made.
    if (!(found instanceof Specialising)) this.keep(step.thread, key, found);
    return this.met(found, step, key, wordOf);
  }

  /** Runs `step` in `world`, and files what it did under the words (`wordOf`) of the parts it read. */
  private run(world: KitWorld, step: EngineStep, key: string, wordOf: (n: number) => number): Outcome {
    const ctx = new Ctx(this.spec, this.bounds, this.layout, world, step.thread);
    const { result: reply, fired } = recording(() => runStep(ctx, step));
    const writes = ctx.changes();
    const patch = new Int32Array(writes.length);
    // Written parts are handed back for every world the outcome is replayed in: frozen, they are shared safely, and
    // the codec knows them again without reading them.
    for (let i = 0; i < writes.length; i += 2) {
      patch[i] = writes[i] as number;
      patch[i + 1] = this.parts.word(frozen(writes[i + 1]));
    }
    const updates = ctx.updated();
    // An update is made for each word of a stored part, and of no object (`Made.objects` and `slots` are the run's).
    for (const [n] of updates) if (n >= this.layout.stored || this.layout.places[n]![0] === 'objects') throw new Error(`internal: a kit step updates part ${n} unread`);
    if (reply.warnings) Object.freeze(reply.warnings);
    const objects = objectsIn(this.layout, writes);
    const slots = slotsIn(this.layout, objects, ctx.reads, world);
    const made: Made = { reads: ctx.reads, readWords: ctx.reads.map(wordOf), writes, patch, updates, reply: Object.freeze(reply), fired, objects, slots };
    const outcome = this.outcome(made, wordOf);
    this.keep(step.thread, key, outcome);
    return outcome;
  }

  /**
   * What is filed in `steps` for this step in the world whose parts' words `wordOf` gives: an outcome, a node that
   * makes the outcome for the words of the parts the step updated (`Specialising`), or nothing.
   */
  private find(steps: Steps, thread: number, key: string, wordOf: (n: number) => number): Outcome | Specialising | undefined {
    let at = steps[thread]?.get(key);
    let node: Read<Outcome> | undefined;
    while (at instanceof Read) {
      node = at;
      at = at.get(wordOf(at.part));
    }
    return at ?? (node instanceof Specialising ? node : undefined);
  }

  /** Part `n`'s word in `world`, as `wordFromWords` has it. */
  private wordFromWorld(n: number, world: KitWorld): number {
    const v = this.layout.read[n]!(world);
    return n < this.layout.stored ? this.parts.word(v) : (v as number);
  }

  /** Files `outcome` in the young generation, under the words of the parts the step read, in the order read. */
  private keep(thread: number, key: string, outcome: Outcome): void {
    if (this.outcomes >= this.limit / 2) {
      this.old = this.young;
      this.young = [];
      this.outcomes = 0;
    }
    this.outcomes++;
    const steps = (this.young[thread] ??= new Map());
    // The parts it updated are read last, each by a node that makes the outcome for a word it has not met.
    const ran = outcome.made.reads.length;
    const node = (i: number, part: number) => (i < ran ? new Read<Outcome>(part) : new Specialising(part, outcome));
    steps.set(key, file(steps.get(key), outcome.reads, (i) => outcome.readWords[i]!, outcome, () => this.unstable(key), node));
  }

  private unstable(key: string): never {
    throw new Error(`internal: kit step ${JSON.stringify(key)} read other parts of the world than it did before from the same parts: it read something its Ctx did not note`);
  }
}
