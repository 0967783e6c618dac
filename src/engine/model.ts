/**
 * The engine's interface: what a model gives the explorers. Nothing here knows
 * about IOASIDs or iommufd; a model is initial world, enabled steps, next world
 * (like TLA+'s Init/Next or Stateright's `Model`), plus its properties and the
 * design variants it can be checked as.
 */
import type { AnyStateMachine } from 'xstate';

/** An argument of a step: an id, a set name, a fault to inject. */
export type Arg = number | string;

/** One atomic action of one thread, as the kernel would run it under one lock. */
export interface Step {
  readonly thread: number;
  readonly op: string;
  readonly args: readonly Arg[];
}

/** What a call returned: `ok` is false for any refusal or error. */
export interface Reply {
  readonly ok: boolean;
  readonly text: string;
  /** What the kernel would have printed (`refcount_t: underflow; use-after-free.`, a KASAN report), for properties to read. */
  readonly warnings?: readonly string[];
}

/** The result of applying a step: the next world and the call's reply. */
export interface Outcome<W> {
  readonly world: W;
  readonly reply: Reply;
}

/** A scenario's narrowing: for each choice a model offers (see `Model.choices`), the names to keep. */
export type Only = Readonly<Record<string, readonly string[]>>;

/** The bounds of a run. `ids` is an inclusive range of object ids. */
export interface Bounds {
  readonly threads: number;
  readonly ops: number;
  readonly ids: { readonly min: number; readonly max: number };
  readonly only?: Only;
}

/**
 * The transition system of one variant within one set of bounds. Both
 * functions are pure and deterministic: `enabled` lists steps in a fixed order
 * (the explorers' replay tokens are indices into it).
 */
export interface System<W> {
  readonly init: W;
  /**
   * No run of a sound design is longer than this many steps: how long a
   * random schedule is worth drawing, and where a run still going is cut and
   * reported as breaking `run-ends` (a livelock, or a horizon set too short).
   */
  readonly horizon: number;
  enabled(world: W): readonly Step[];
  apply(world: W, step: Step): Outcome<W>;
  /** How the exhaustive explorer stores worlds; plain-data worlds need none. */
  readonly codec?: Codec<W>;
  /** Worlds that behave alike (`--symmetry`); absent when the model declares none. */
  readonly symmetry?: Symmetry<W>;
  /** How to take steps on the codec's words, for a codec whose worlds all encode to as many words (the kit's). */
  readonly words?: WordSteps<W>;
}

/**
 * Steps taken on a world's codec words: the exhaustive explorer stores the
 * world a step makes without making it, and makes it only where a property
 * reads it. The kit's steps are filed by the parts of the world they read,
 * each one word, so a step met again is a patch of the words. Each hook is
 * given the world as `world()`, which decodes it the first time it is called:
 * a world whose steps and checks all go on words is never made.
 */
export interface WordSteps<W> {
  /**
   * The steps enabled in the world whose words are `words`: what
   * `System.enabled` gives for `world()`, in the same order. Without it the
   * explorer asks `System.enabled`. The explorer reads the list before it
   * asks again, so a system may fill one list again at every call.
   */
  enabled?(words: Int32Array, world: () => W): readonly Step[];
  /**
   * Takes `step` in `world()`, whose words are `words`: its reply, the words
   * of the world it makes as a patch of `words`, and how to make that world.
   */
  apply(world: () => W, words: Int32Array, step: Step): WordOutcome<W>;
  /**
   * The invariants broken by the world whose words are `words`: what
   * `checkWorld` finds in `world()`, which makes that world. A system that
   * reads its words may check without making the world, or give the verdict
   * it found before for a world whose words the check read are the same (the
   * kit's do): an invariant is a pure function of the world and the config.
   * The explorer checks every world it stores here, the first one too; a
   * world a step made comes with the step's `patch` of the world it was made
   * from, which keeps every one of `properties` (a property once broken is
   * checked no more): a check that read none of the parts the patch writes
   * keeps it too.
   */
  checkWorld?<C>(properties: readonly Property<W, C>[], config: C, words: Int32Array, world: () => W, at: number, patch?: Int32Array): readonly Violation[];
}

/** A step taken on words: its reply, and the world it makes. */
export interface WordOutcome<W> {
  readonly reply: Reply;
  /**
   * The words the step writes, each word's index (once) and its new word in turn:
   * the world it makes has the words it was taken in with these laid over
   * them, the codec's words for that world (which the explorer checks now and
   * then, stopping with an error where they differ). A search fingerprints
   * that world from the patch, and copies the words only of a world it keeps.
   */
  readonly patch: Int32Array;
  /** The world the step makes from `before`, the world it was taken in. */
  after(before: W): W;
  /**
   * The step properties this step breaks taken in `before()`, whose words are
   * `words`: what `checkMove` finds for its move. A system that knows which
   * words of the world a check read may give the verdicts it found before
   * where those words are the same (the kit's do): a step property is a pure
   * function of its move and the config, so the verdicts are the same.
   */
  checkMove?<C>(properties: readonly Property<W, C>[], config: C, before: () => W, step: Step, words: Int32Array, at: number): readonly Violation[];
}

/** Where a codec writes a world's 32-bit words. */
export interface WordSink {
  push(word: number): void;
}

/** A world as 32-bit words and back: equal worlds give equal words, and decoding gives an equal world. */
export interface Codec<W> {
  encode(world: W, out: WordSink): void;
  decode(words: Int32Array): W;
  /**
   * A 64-bit fingerprint of an encoding (two halves into `out`) that does not depend on what this codec numbered in
   * the order it met it (strings, shapes, parts): the parts of a split search, each with its own codec, must agree
   * on it. A split search needs it; one search hashes the words themselves, its codec's numbering being one all through.
   */
  fingerprint?(words: Int32Array, length: number, out: Uint32Array): void;
}

/**
 * A symmetry of a system, e.g. renaming threads: worlds related by it have
 * related futures and the same verdicts, so the explorer keeps one of each.
 * `canonical` picks that one (e.g. threads sorted by their state). Only
 * declare what holds: ids are not interchangeable under a lowest-free
 * allocator, since which id an alloc returns depends on which are free.
 */
export interface Symmetry<W> {
  /** What is permuted, for reports: `threads`. */
  readonly name: string;
  canonical(world: W): W;
}

/** Where a run broke a property, and how. */
export interface Violation {
  readonly property: string;
  /** 1-based index of the breaking step; 0 when the initial world breaks it. */
  readonly at: number;
  readonly message: string;
}

/** A violation message, or `undefined` when the property holds here. */
export type Finding = string | undefined;

/** A step as a property sees it: the world before, the step, its reply, the world after. */
export interface Move<W> {
  readonly before: W;
  readonly step: Step;
  readonly reply: Reply;
  /** The world after the step: a search on words (`System.words`) makes it when it is first read. */
  readonly after: W;
}

interface PropertyBase<C> {
  /** Stable kebab-case name, used on the command line and in reports. */
  readonly id: string;
  readonly title: string;
  /** The seed file or kernel source the property comes from. */
  readonly source: string;
  /** False when the property means nothing for a variant (e.g. refcounts in a design without them). */
  readonly applies?: (config: C) => boolean;
}

/**
 * Holds in every reachable world. Its check is a pure function of the world
 * and the config, as a step property's is: a system may give the verdict it
 * found before for a world whose words the check read are the same
 * (`WordSteps.checkWorld`).
 */
export interface InvariantProperty<W, C = unknown> extends PropertyBase<C> {
  readonly kind: 'invariant';
  /** `config` is the variant's, for rules that depend on the design (e.g. whether a lookup takes a reference). */
  check(world: W, config: C): Finding;
}

/**
 * Holds of every step: reply codes, what a call may change. Its check is a
 * pure function of the move and the config (it reads the worlds through
 * their properties, keeps nothing, draws nothing at random): a system may
 * give the verdict it found before for a move whose words the check read are
 * the same (`WordOutcome.checkMove`). The kit sees those reads through
 * proxies, which `util.inspect` and `console.log` read past: a check must
 * not decide on what they print.
 */
export interface StepProperty<W, C = unknown> extends PropertyBase<C> {
  readonly kind: 'step';
  check(move: Move<W>, config: C): Finding;
}

/** Holds in every world where no step is enabled (quiescence). */
export interface FinalProperty<W, C = unknown> extends PropertyBase<C> {
  readonly kind: 'final';
  check(world: W, config: C): Finding;
}

/**
 * Holds of whole runs; the explorers check it themselves. The engine's one is
 * `run-ends` (see `runEnds`), which every model defined with `defineModel` has.
 */
export interface RunProperty<C = unknown> extends PropertyBase<C> {
  readonly kind: 'run';
}

/** A named promise a model checks: of every world, of every step, at quiescence, or of whole runs. */
export type Property<W, C = unknown> =
  | InvariantProperty<W, C>
  | StepProperty<W, C>
  | FinalProperty<W, C>
  | RunProperty<C>;

/** What a variant expects of a property: that it holds, or that the checker finds it violated. */
export type Expectation = 'holds' | 'violated';

/**
 * A design alternative: the model's configuration (machines, rules) for it,
 * and the verdicts it is expected to have. Properties not named in `expect`
 * are expected to hold.
 */
export interface Variant<C> {
  readonly name: string;
  readonly title: string;
  /** The seed file or kernel source the variant comes from. */
  readonly source: string;
  readonly config: C;
  readonly expect: Readonly<Record<string, Expectation>>;
  /** Properties of this design alone, checked beside the model's (a patch's own promise). */
  readonly properties?: readonly Property<any, C>[];
}

/** How a model renders its steps and state for traces. */
export interface Presenter<W, C> {
  /** The kernel call of a step with its reply, e.g. `ioasid_get(s1,1) = -EBUSY`. */
  call(step: Step, reply: Reply, before: W, config: C): string;
  /** The object a step touches, e.g. `ioasid 1`, or undefined; `before` and `after` are the worlds around it. */
  subject(step: Step, reply: Reply, before: W, after: W, config: C): string | undefined;
  /** The state of that object after the step, e.g. `active refs=2`. */
  state(world: W, subject: string, config: C): string;
  /** A thread's column heading, e.g. `CPU0`; `init` is the trace's first world. */
  thread(index: number, init: W): string;
  /** The world's variables for trace files (ITF `vars`), by name; the world itself when absent. */
  vars?(world: W): Readonly<Record<string, unknown>>;
  /** What a step changed in the kernel's terms, a line each (`ioas 1 users: 1 → 2`); the changed `vars` when absent. */
  changes?(before: W, after: W, config: C): readonly string[];
}

/** A machine a variant runs, for its state diagram and its coverage. */
export interface MachineInfo {
  readonly machine: AnyStateMachine;
  /** What one instance of it is, for sentences: `id`, `object`. */
  readonly object: string;
  /** The kernel function behind each event (`GET`: `ioasid_get`); events not named read as themselves. */
  readonly calls?: Readonly<Record<string, string>>;
  /** Every state is meant to be reached (a call's steps): the report names those a check never reached. */
  readonly starvable?: boolean;
}

/** A model: one lifecycle area with its variants and properties. */
export interface Model<W, C> {
  readonly name: string;
  readonly title: string;
  readonly source: string;
  readonly defaults: Bounds;
  readonly variants: readonly BoundVariant<W, C>[];
  readonly properties: readonly Property<W, C>[];
  readonly present: Presenter<W, C>;
  /** What a scenario may narrow, by name (`--only calls=alloc,free`): the calls, ... a variant has. */
  choices?(config: C): Only;
  /** Why `bounds` mean nothing for this model (e.g. an id it never allocates), or undefined when they are fine. */
  checkBounds?(bounds: Bounds): string | undefined;
  /**
   * The xstate machines a variant runs, by name (`slot`, `registry`): for diagrams and coverage. Given the
   * scenario's bounds, only those it can run (a call `--only calls=` leaves out has no coverage to report).
   */
  machines?(config: C, bounds?: Bounds): Readonly<Record<string, MachineInfo>>;
  /**
   * The search `check` and `review` run when none is asked for: `exhaustive`
   * for a model whose default bounds a full search covers in seconds (the
   * random explorer's schedules may miss a deep interleaving); `random` when absent.
   */
  readonly search?: 'random' | 'exhaustive';
  /** Build the transition system of a variant within bounds. */
  system(config: C, bounds: Bounds): System<W>;
  /** A variant of this model; the same helper built-ins and users call. */
  variant(v: Variant<C>): BoundVariant<W, C>;
}

/** A variant together with the model it belongs to (what a user module exports). */
export interface BoundVariant<W, C> extends Variant<C> {
  readonly model: Model<W, C>;
}

/** The properties a variant is checked against: its model's, then its own. */
export const propertiesOf = <W, C>(v: BoundVariant<W, C>): readonly Property<W, C>[] => [...v.model.properties, ...(v.properties ?? [])];

// Models are stored side by side in registries; the world and config types
// are private to each model, so collections hold them erased.
/** A model of any world and config, as registries hold them side by side. */
export type AnyModel = Model<any, any>;
/** A variant of any model, as registries and reports hold them. */
export type AnyVariant = BoundVariant<any, any>;
