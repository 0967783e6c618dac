/**
 * Properties' verdicts, replayed. A property is a pure function of what it
 * reads, and the kit's worlds are parts, each one word: so a check run once
 * on worlds that note each part read (`Recorder`) has its verdict filed under
 * the words of those parts, in the order read, as the step cache files
 * outcomes, and met again it is a walk of a few words. A step property reads
 * a move: a move the step cache replays is its outcome taken in a world, so
 * its verdicts are filed in the outcome, under the parts the checks read
 * beyond those the step read itself. An invariant reads a world: its
 * verdicts are filed by the words of the world after the step, which the
 * search has without making that world. A check that reads much of the world
 * (a model's property that counts every holder) is run every time; a stock
 * property that would may have a form that reads words (`WordForm`,
 * `MoveForm`).
 */
import type { Finding, InvariantProperty, Property, Reply, Step as EngineStep, Move, Violation } from '../engine/model.ts';
import { checkMove, LazyMove } from '../engine/run.ts';
import { modelError } from '../engine/thrown.ts';
import { threadCheck, type ThreadInvariant } from './each-thread.ts';
import { file, Read } from './filed.ts';
import type { Layout } from './parts.ts';
import type { KitSpec, KitWorld, Obj } from './world.ts';

/** A check's verdicts without where they were met: each broken property and its message. */
type Found = readonly (readonly [property: string, message: string])[];

const NONE: readonly Violation[] = Object.freeze([]);
const NOTHING: Found = Object.freeze([]);

/** Violations as filed: without where they were met. */
const foundIn = (broken: readonly Violation[]): Found => (broken.length === 0 ? NOTHING : broken.map((v) => [v.property, v.message] as const));

/** Filed verdicts as violations met at depth `at` (apart from `Verdicts.check`, whose calls would each make this closure's context). */
const violationsIn = (found: Found, at: number): readonly Violation[] => found.map(([property, message]) => ({ property, at, message }));

/** How many parts a check may read beyond those known (or a quarter of the world's, if more) for its verdict to be filed. */
const WIDE = 4;

/** One filed verdict met again in this many, and one verdict of a form on words, is checked again as it is. */
const SAMPLE = 1024;

/**
 * From how many lookups on a check's verdicts are judged: at this many, and at each power of two after it, a check
 * whose verdicts were found in at most half of the lookups since the last is run every time instead. A check met
 * again often is found more and more as a search goes on (iommufd's process thread: 61% at 1,024, 89% at 16,384);
 * one that reads the whole world seldom is.
 */
const TRIAL = 1024;

/** Verdicts filed under the words of the parts a check read. */
class Filed<T> {
  private filed?: Read<T> | T;
  /**
   * Set once the check read too much of the world for its verdicts to be met again, or they were seldom met
   * again: it is run every time.
   */
  wide = false;
  /** Each part some verdict filed here was found from (1): the parts the walk reads, whatever the world. */
  private ever?: Uint8Array;
  /** Lookups, and those that found nothing. */
  private looked = 0;
  private missed = 0;
  /** Lookups, and those that found nothing, at the last judgement. */
  private lookedBefore = 0;
  private missedBefore = 0;

  /** Starts again (the checks are others). */
  clear(): void {
    this.filed = this.ever = undefined;
    this.wide = false;
    this.looked = this.missed = this.lookedBefore = this.missedBefore = 0;
  }

  /**
   * Whether `patch` (parts and their words in turn) writes a part a filed verdict was found from. Where it writes
   * none, the walk in the patched world reads what it read in the world patched, and ends where it ended.
   */
  touches(patch: Int32Array): boolean {
    const ever = this.ever;
    if (ever === undefined) return true;
    for (let i = 0; i < patch.length; i += 2) if (ever[patch[i]!]) return true;
    return false;
  }

  /** The verdict filed for the world whose words are `words`, if there is one. */
  find(words: Int32Array): T | undefined {
    let at = this.filed;
    while (at instanceof Read) at = at.get(words[at.part]!);
    this.looked++;
    if (at === undefined) this.missed++;
    // Judged at TRIAL lookups and each power of two after: half the lookups since the last judgement missed.
    if (this.looked >= TRIAL && (this.looked & (this.looked - 1)) === 0) {
      if ((this.missed - this.missedBefore) * 2 >= this.looked - this.lookedBefore) {
        this.filed = undefined;
        this.wide = true;
      }
      this.lookedBefore = this.looked;
      this.missedBefore = this.missed;
    }
    return at;
  }

  /**
   * The verdict `filed` (`find`'s, met again and sampled), checked again as it is (`plain`); or, where none was
   * filed, `record`'s. Where the two differ the check read the world in a way a recording world cannot see
   * (`util.inspect` and `console.log` read past its proxies), or is not a pure function.
   */
  verdict(filed: T | undefined, recorder: Recorder, words: Int32Array, known: Uint8Array | undefined, recorded: () => T, plain: () => T, what: () => string): T {
    if (filed === undefined) return this.record(recorder, words, known, recorded, plain, what);
    if (JSON.stringify(plain()) !== JSON.stringify(filed)) {
      throw new Error(
        `${what()} gave a verdict other than the one filed for the same parts of the world: a property must read the world through its properties (util.inspect and console.log read past them) and be a pure function of what it checks`,
      );
    }
    return filed;
  }

  /**
   * Runs `recorded`, the check on recording worlds, with each part of the world it reads noted (but those `known`,
   * whose words are fixed already), and files its verdict under their words in `words`, unless it read too much:
   * the verdict. A check that cannot run on a recording world (`structuredClone` refuses a proxy) is run as it is
   * (`plain`), every time.
   */
  record(recorder: Recorder, words: Int32Array, known: Uint8Array | undefined, recorded: () => T, plain: () => T, what: () => string): T {
    const layout = recorder.layout;
    const reads: number[] = [];
    const seen = new Uint8Array(layout.stored);
    const note = (n: number) => {
      if (known?.[n] || seen[n]) return;
      seen[n] = 1;
      reads.push(n);
    };
    let verdict: T;
    try {
      verdict = recorder.noting(note, recorded);
    } catch {
      this.filed = undefined;
      this.wide = true;
      return plain();
    }
    if (this.wide) return verdict;
    if (reads.length > Math.max(WIDE, layout.stored / 4)) {
      this.filed = undefined;
      this.wide = true;
    } else {
      const ever = (this.ever ??= new Uint8Array(recorder.layout.stored));
      for (const n of reads) ever[n] = 1;
      this.filed = file(this.filed, reads, (i) => words[reads[i]!]!, verdict, () => {
        throw new Error(
          `${what()} read other parts of the world than they did before from the same parts: a property must be a pure function of what it checks (keeping nothing between checks, drawing nothing at random)`,
        );
      });
    }
    return verdict;
  }
}

/** What a step did that its verdicts depend on, besides the world: its reply, the parts it read and wrote. */
export interface Done {
  readonly reply: Reply;
  readonly reads: readonly number[];
  /** Part numbers and their new values in turn. */
  readonly writes: readonly unknown[];
  /** Part numbers and their new values' words in turn. */
  readonly patch: Int32Array;
  /** The object slots it wrote, and what each holds after it (`objectsWritten`). */
  readonly objects: readonly { readonly kind: string; readonly slot: number; readonly obj: Obj }[];
  /**
   * The same as numbers, three for each: the slot's number among all object slots (kinds in the layout's order,
   * slots in turn); the generation of the object in it after the step if that is live, else -1; and before the
   * step, the same where the step read the slot (so it is the same wherever the step is replayed), else -2.
   */
  readonly slots: Int32Array;
  /** The world it makes from `before`. */
  after(before: KitWorld): KitWorld;
}

/** A form of a step property that reads words: whether the step `done` by `thread`, in the world whose words are `words`, keeps it. */
export type MoveForm = (words: Int32Array, done: Done, thread: number) => boolean;

/** A step property's `MoveForm` for a system of `spec` with `layout` (`value` gives what a word stands for). */
export type MoveFormOf = (spec: KitSpec, layout: Layout, value: (word: number) => unknown) => MoveForm;

/**
 * How a list of step properties is checked, made once per list (a search keeps one until a property breaks): those
 * with a form on words, each read from the words, and the others, their verdicts filed together.
 */
export class MovePlans {
  private last?: { readonly properties: readonly unknown[]; readonly plan: MovePlan<never> };

  constructor(private readonly formOf: (p: Property<KitWorld, never>) => MoveForm | undefined) {}

  planFor<C>(properties: readonly Property<KitWorld, C>[]): MovePlan<C> {
    if (this.last?.properties !== properties) this.last = { properties, plan: movePlan(properties, this.formOf) as unknown as MovePlan<never> };
    return this.last.plan as MovePlan<C>;
  }
}

/** How `properties` are checked (apart from `planFor`, whose every call would make its closures' context). */
function movePlan<C>(properties: readonly Property<KitWorld, C>[], formOf: (p: Property<KitWorld, never>) => MoveForm | undefined): MovePlan<C> {
  const forms = properties.map((p) => formOf(p as unknown as Property<KitWorld, never>));
  return {
    forms: forms.filter((f) => f !== undefined),
    formed: properties.filter((_, i) => forms[i] !== undefined),
    filed: properties.filter((_, i) => forms[i] === undefined),
  };
}

interface MovePlan<C = unknown> {
  readonly forms: readonly MoveForm[];
  /** The properties the forms are of, in turn. */
  readonly formed: readonly Property<KitWorld, C>[];
  readonly filed: readonly Property<KitWorld, C>[];
}

/** One step's verdicts, by the words of the parts of the world before it that its checks read. */
export class Verdicts {
  private properties?: readonly unknown[];
  private config?: unknown;
  private readonly filed = new Filed<Found>();
  /** The parts whose words the step's own reads fix (made at the first check run). */
  private known?: Uint8Array;

  constructor(
    private readonly recorder: Recorder,
    private readonly plans: MovePlans,
    private readonly done: Done,
  ) {}

  check<C>(properties: readonly Property<KitWorld, C>[], config: C, before: () => KitWorld, step: EngineStep, words: Int32Array, at: number): readonly Violation[] {
    const plan = this.plans.planFor(properties);
    if (plan.forms.length > 0) {
      // A property read from the words that breaks: every check as it is, for the violations in the list's order.
      const { forms } = plan;
      for (let i = 0; i < forms.length; i++) if (!forms[i]!(words, this.done, step.thread)) return this.plain(properties, config, before(), step, at);
      if (this.recorder.sampled()) this.confirm(plan.formed, config, before(), step, at);
      if (plan.filed.length === 0) return NONE;
    }
    return this.filedCheck(plan.filed, config, before, step, words, at);
  }

  /** The verdicts of `properties` (with no form on words), filed by what they read. */
  private filedCheck<C>(properties: readonly Property<KitWorld, C>[], config: C, before: () => KitWorld, step: EngineStep, words: Int32Array, at: number): readonly Violation[] {
    if (properties !== this.properties || config !== this.config) {
      // Other properties (one broken is checked no more), or another variant's: verdicts start again.
      this.properties = properties;
      this.config = config;
      this.filed.clear();
    }
    // Recorded from the first meeting: nearly every step the cache files is met again (96% in IOASID's search).
    if (this.filed.wide) return this.plain(properties, config, before(), step, at);
    let found = this.filed.find(words);
    if (found === undefined || this.recorder.sampled()) found = this.recheck(found, properties, config, before, step, words, at);
    return found.length === 0 ? NONE : violationsIn(found, at);
  }

  /** The verdict filed (`found`), checked again as it is, or recorded. Apart from `filedCheck`: its closures are made only here. */
  private recheck<C>(found: Found | undefined, properties: readonly Property<KitWorld, C>[], config: C, before: () => KitWorld, step: EngineStep, words: Int32Array, at: number): Found {
    return this.filed.verdict(
      found,
      this.recorder,
      words,
      (this.known ??= this.knownParts()),
      () => foundIn(checkMove(properties, config, this.recorder.move(before(), step, this.done), at)),
      () => foundIn(this.plain(properties, config, before(), step, at)),
      () => `the step properties ${properties.map((p) => p.id).join(', ')}`,
    );
  }

  /** Stops the search where `properties`, which their forms on words found kept, are broken on the move as it is. */
  private confirm<C>(properties: readonly Property<KitWorld, C>[], config: C, before: KitWorld, step: EngineStep, at: number): void {
    const broken = this.plain(properties, config, before, step, at);
    if (broken.length > 0) throw new Error(`internal: ${broken[0]!.property} read from the words holds, but not on the move: ${broken[0]!.message}`);
  }

  /** The checks on the move as it is. */
  private plain<C>(properties: readonly Property<KitWorld, C>[], config: C, before: KitWorld, step: EngineStep, at: number): readonly Violation[] {
    return checkMove(properties, config, new LazyMove(before, step, this.done.reply, this.done) as unknown as Move<KitWorld>, at);
  }

  /** The parts the step read: their words are the outcome's. */
  private knownParts(): Uint8Array {
    const known = new Uint8Array(this.recorder.layout.stored);
    for (const n of this.done.reads) if (n < known.length) known[n] = 1;
    return known;
  }
}

/** A form of an invariant that reads a world's words, for a system of `spec` with `layout`: whether the world keeps it. */
export type WordForm = (spec: KitSpec, layout: Layout, value: (word: number) => unknown) => (words: Int32Array) => boolean;

/** A verdict as filed: a message, or that the property holds. */
const HOLDS = Symbol('holds');
const filedAs = (f: Finding): string | typeof HOLDS => (f === undefined ? HOLDS : f);

/**
 * The invariants' verdicts on the worlds a search stores, each property's by
 * the words of the parts it read (an invariant made by `eachThread`, each
 * thread's by what its check read). A property may have a form that reads
 * the words themselves (`fast`): it says whether the world breaks it, and
 * the property says how.
 */
export class WorldVerdicts {
  /** Each property's verdicts (one filing, or one per thread), for the config they were found in. */
  private readonly filed = new Map<Property<KitWorld, never>, Filed<string | typeof HOLDS>[]>();
  private config?: unknown;
  /** How the last list of properties is checked, made once per list (the search keeps one until a property breaks). */
  private plan?: { readonly properties: readonly unknown[]; readonly checks: readonly Planned[] };

  constructor(
    private readonly recorder: Recorder,
    private readonly fast: (p: Property<KitWorld, never>) => ((words: Int32Array) => boolean) | undefined,
  ) {}

  /** `WordSteps.checkWorld`: `patch`, where given, made this world from the one expanded, which keeps `properties`. */
  check<C>(properties: readonly Property<KitWorld, C>[], config: C, words: Int32Array, world: () => KitWorld, at: number, patch?: Int32Array): readonly Violation[] {
    let found: Violation[] | undefined;
    for (const x of this.planFor(properties, config)) {
      let message: Finding;
      try {
        message = x.each ? this.eachThread(x, config, words, world, patch) : this.verdict(x, config, words, world, patch);
      } catch (e) {
        throw modelError(e, { property: x.p.id, at });
      }
      if (message !== undefined) (found ??= []).push({ property: x.p.id, at, message });
    }
    return found ?? NONE;
  }

  private planFor<C>(properties: readonly Property<KitWorld, C>[], config: C): readonly Planned[] {
    if (config !== this.config) {
      this.config = config;
      this.filed.clear();
      this.plan = undefined;
    }
    if (this.plan?.properties === properties) return this.plan.checks;
    return this.planned(properties);
  }

  /** The plan for `properties` (apart from `planFor`, whose every call would make its closures' context). */
  private planned<C>(properties: readonly Property<KitWorld, C>[]): readonly Planned[] {
    const checks = properties.flatMap((q): Planned[] => {
      if (q.kind !== 'invariant') return [];
      const p = q as InvariantProperty<KitWorld, never>;
      let filed = this.filed.get(p);
      if (!filed) this.filed.set(p, (filed = []));
      return [{ p, each: threadCheck(p), fast: this.fast(p), filed }];
    });
    this.plan = { properties, checks };
    return checks;
  }

  /** The first thread's verdict that breaks it, in thread order, as the whole check gives it. */
  private eachThread(x: Planned, config: unknown, words: Int32Array, world: () => KitWorld, patch: Int32Array | undefined): Finding {
    for (let t = 0; t < this.recorder.layout.thread.length; t++) {
      const found = this.fromFiled(x, t, config, words, world, patch);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  private verdict(x: Planned, config: unknown, words: Int32Array, world: () => KitWorld, patch: Int32Array | undefined): Finding {
    if (!x.fast) return this.fromFiled(x, -1, config, words, world, patch);
    if (x.fast(words)) {
      // One in `SAMPLE` is checked on the world as well: a form that misread the words stops the search.
      const missed = this.recorder.sampled() ? x.p.check(world(), config as never) : undefined;
      if (missed !== undefined) throw new Error(`internal: ${x.p.id} read from the words holds, but not in the world: ${missed}`);
      return undefined;
    }
    const message = x.p.check(world(), config as never);
    if (message === undefined) throw new Error(`internal: ${x.p.id} read from the words is broken, but not in the world`);
    return message;
  }

  /**
   * The verdict of `x`'s check of thread `t` (of the whole world: -1), met again or recorded; or, where `patch` made
   * this world from one that keeps it and writes no part its verdicts were found from, that it keeps it.
   */
  private fromFiled(x: Planned, t: number, config: unknown, words: Int32Array, world: () => KitWorld, patch: Int32Array | undefined): Finding {
    const filed = (x.filed[t + 1] ??= new Filed());
    if (filed.wide) return checkOf(x, t, world(), config);
    if (patch !== undefined && !filed.touches(patch)) {
      // As a filed verdict met again: one in `SAMPLE` is checked on the world as well.
      if (this.recorder.sampled()) this.confirmKept(x, t, config, world);
      return undefined;
    }
    let verdict = filed.find(words);
    if (verdict === undefined || this.recorder.sampled()) verdict = this.recheck(filed, verdict, x, t, config, words, world);
    return verdict === HOLDS ? undefined : verdict;
  }

  /** Stops the search where `x`'s check of thread `t` (of the whole world: -1), kept as the step wrote none of what it reads, is broken. */
  private confirmKept(x: Planned, t: number, config: unknown, world: () => KitWorld): void {
    const broken = checkOf(x, t, world(), config);
    if (broken === undefined) return;
    throw new Error(
      `the invariant ${x.p.id}${t < 0 ? '' : ` (of thread ${t})`} is broken in a world whose step wrote nothing it read before (${broken}): a property must read the world through its properties (util.inspect and console.log read past them) and be a pure function of what it checks`,
    );
  }

  /** The verdict filed (`found`), checked again as it is, or recorded. Apart from `fromFiled`: its closures are made only here. */
  private recheck(filed: Filed<string | typeof HOLDS>, found: string | typeof HOLDS | undefined, x: Planned, t: number, config: unknown, words: Int32Array, world: () => KitWorld) {
    return filed.verdict(
      found,
      this.recorder,
      words,
      undefined,
      () => filedAs(checkOf(x, t, this.recorder.world(world()), config)),
      () => filedAs(checkOf(x, t, world(), config)),
      () => `the invariant ${x.p.id}${t < 0 ? '' : ` (of thread ${t})`}`,
    );
  }
}

/** `x`'s check of thread `t` in `w` (of the whole world: -1). */
const checkOf = (x: Planned, t: number, w: KitWorld, config: unknown): Finding => (t < 0 ? x.p.check(w, config as never) : x.each!(w, t, config as never));

/** An invariant as `WorldVerdicts` checks it: its check of each thread (`eachThread`), or its form on words, and its filings. */
interface Planned {
  readonly p: InvariantProperty<KitWorld, never>;
  readonly each?: ThreadInvariant<never>['check'];
  readonly fast?: (words: Int32Array) => boolean;
  /** The whole check's verdicts, then each thread's. */
  readonly filed: Filed<string | typeof HOLDS>[];
}

/** Where a world's parts are below a key: a part itself, a container of parts by key, or a record of such containers. */
type Below = { readonly part: number } | { readonly parts: ReadonlyMap<string, number> } | { readonly containers: ReadonlyMap<string, ReadonlyMap<string, number>> };

/**
 * Worlds that note each part read (while `noting`): the very worlds, seen
 * through proxies that note a part as it is read and hand it back as it is
 * (a part's insides are read as they are: the part is one word).
 */
export class Recorder {
  private note?: (n: number) => void;
  /** Each top-level key of a world: what is below it. */
  private readonly top: ReadonlyMap<string, Below>;
  /** The world the proxies below were made for, and a proxy for each container met, by the container. */
  private last?: KitWorld;
  private proxies = new Map<object, object>();

  constructor(readonly layout: Layout) {
    const top = new Map<string, Below>();
    layout.places.slice(0, layout.stored).forEach(([a, b, c], n) => {
      const key = String(a);
      if (b === undefined) top.set(key, { part: n });
      else if (c === undefined) {
        const below = (top.get(key) ?? top.set(key, { parts: new Map() }).get(key)!) as { parts: Map<string, number> };
        below.parts.set(String(b), n);
      } else {
        const below = (top.get(key) ?? top.set(key, { containers: new Map() }).get(key)!) as { containers: Map<string, Map<string, number>> };
        const parts = below.containers.get(String(b)) ?? below.containers.set(String(b), new Map()).get(String(b))!;
        parts.set(String(c), n);
      }
    });
    this.top = top;
  }

  /** How many filed verdicts were met again. */
  private met = 0;

  /** Whether to check the filed verdict met again now as it is (one in `SAMPLE`). */
  sampled(): boolean {
    return ++this.met % SAMPLE === 0;
  }

  /** Runs `fn` with every part read from a recording world noted by `note`. */
  noting<T>(note: (n: number) => void, fn: () => T): T {
    const outer = this.note;
    this.note = note;
    try {
      return fn();
    } finally {
      this.note = outer;
    }
  }

  /** A move that notes what is read of `before` and of the world after `done` in it. */
  move(before: KitWorld, step: EngineStep, done: Done): Move<KitWorld> {
    if (before !== this.last) {
      this.last = before;
      this.proxies = new Map();
    }
    const recorder = this;
    let recordedAfter: KitWorld | undefined;
    return {
      before: this.recording(before, undefined),
      step,
      reply: done.reply,
      get after() {
        // A written part's value is the step's: reading it says nothing of the world the step was taken in.
        return (recordedAfter ??= recorder.recording(done.after(before), new Set(done.writes.filter((_, i) => i % 2 === 0) as number[])));
      },
    };
  }

  /** `world` noting its parts as read: alone, not one of a move's. */
  world(world: KitWorld): KitWorld {
    this.last = undefined;
    this.proxies = new Map();
    return this.recording(world, undefined);
  }

  /**
   * `world` noting its parts as read, but those in `written`. A container shared by two worlds (a step leaves
   * all but the containers of what it wrote as they were) has one proxy, so worlds compare as the real ones do.
   */
  private recording(world: KitWorld, written: ReadonlySet<number> | undefined): KitWorld {
    return this.proxy(world, this.top, written) as KitWorld;
  }

  /** `target` noting the parts `below` its keys as read (but those `written`), its containers proxies too. */
  private proxy(target: object, below: ReadonlyMap<string, Below>, written: ReadonlySet<number> | undefined): object {
    let proxy = this.proxies.get(target);
    if (!proxy) {
      // A world's own containers (nothing written) share their handlers, made once per place: a check's recording
      // makes a proxy for each container it reads.
      let handler = written === undefined ? this.handlers.get(below) : undefined;
      if (!handler) {
        handler = this.handler(below, written);
        if (written === undefined) this.handlers.set(below, handler);
      }
      this.proxies.set(target, (proxy = new Proxy(target, handler)));
    }
    return proxy;
  }

  /** Handlers made for containers with the parts `below` their keys, each noted as read but those `written`. */
  private readonly handlers = new Map<ReadonlyMap<string, Below>, ProxyHandler<object>>();

  /** The handler of a proxy noting the parts `below` its target's keys as read (but those `written`). */
  private handler(below: ReadonlyMap<string, Below>, written: ReadonlySet<number> | undefined): ProxyHandler<object> {
    /** What is at `key`, value `v`: a part, noted as read; a container, seen through its proxy. */
    const seen = (key: string | symbol, v: unknown): unknown => {
      const b = typeof key === 'string' ? below.get(key) : undefined;
      if (b === undefined) return v;
      if ('part' in b) {
        if (!written?.has(b.part)) this.note?.(b.part);
        return v;
      }
      return this.proxy(v as object, 'parts' in b ? partsBelow(b.parts) : containersBelow(b.containers), written);
    };
    const get = (t: object, key: string | symbol): unknown => seen(key, Reflect.get(t, key));
    // What is read through a descriptor is read too (a container's, through its proxy: containers are not frozen).
    const getOwnPropertyDescriptor = (t: object, key: string | symbol) => {
      const d = Reflect.getOwnPropertyDescriptor(t, key);
      return d && 'value' in d ? { ...d, value: seen(key, d.value) } : d;
    };
    // Whether a world has exited shows in its keys too (`exited` is one only when true): asking for them reads it.
    const exited = below.get('exited');
    if (!exited || !('part' in exited)) return { get, getOwnPropertyDescriptor };
    return {
      get,
      getOwnPropertyDescriptor,
      has: (t: object, key: string | symbol) => {
        if (key === 'exited' && !written?.has(exited.part)) this.note?.(exited.part);
        return Reflect.has(t, key);
      },
      ownKeys: (t: object) => {
        if (!written?.has(exited.part)) this.note?.(exited.part);
        return Reflect.ownKeys(t);
      },
    };
  }
}

const asParts = new WeakMap<ReadonlyMap<string, number>, ReadonlyMap<string, Below>>();
const asContainers = new WeakMap<ReadonlyMap<string, ReadonlyMap<string, number>>, ReadonlyMap<string, Below>>();

/** A container's keys, each a part. */
function partsBelow(parts: ReadonlyMap<string, number>): ReadonlyMap<string, Below> {
  let below = asParts.get(parts);
  if (!below) asParts.set(parts, (below = new Map([...parts].map(([key, part]) => [key, { part }]))));
  return below;
}

/** A record's keys, each a container of parts. */
function containersBelow(containers: ReadonlyMap<string, ReadonlyMap<string, number>>): ReadonlyMap<string, Below> {
  let below = asContainers.get(containers);
  if (!below) asContainers.set(containers, (below = new Map([...containers].map(([key, parts]) => [key, { parts }]))));
  return below;
}
