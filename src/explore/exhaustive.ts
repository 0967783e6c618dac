/**
 * The exhaustive explorer: breadth-first search over every interleaving within
 * the bounds, as TLC and SPIN's BFS do. Each world is stored once, as a 64-bit
 * fingerprint of its encoding (optionally of its canonical form under the
 * model's symmetry), with a parent link and the index of the step that reached
 * it, so the first violation found of each property comes with a shortest
 * trace. The search goes on past violations (like `pan -A`) so every property
 * gets a verdict, until the space is exhausted or a cap stops it.
 */
import type { Codec, Move, Property, Step, System, WordOutcome, WordSteps } from '../engine/model.ts';
import { checkMove, checkWorld, LazyMove, replaySteps, type Trace, type Violation } from '../engine/run.ts';
import { runEnds } from '../engine/run-ends.ts';
import { modelError } from '../engine/thrown.ts';
import { collapseCodec } from './collapse.ts';
import { findCycle } from './loops.ts';
import { liftProperty, preemptionBounded, unwrapTrace } from './preemptions.ts';
import { pauser } from './pause.ts';
import { Column, fingerprint, FingerprintMap, FingerprintSet, finishSums, PairQueue, patchSums, placedFingerprint, wordSums, WorldQueue, Words } from './store.ts';

/** What may stop a search before it has seen every world (`all-broken`: `untilAllBroken`, with nothing left to learn). */
export type Cap = 'max-states' | 'max-memory' | 'timeout' | 'interrupted' | 'all-broken';

/** How the exhaustive search runs: symmetry, its caps (states, memory, time), progress, the Ctrl-C signal. */
export interface ExhaustiveOptions {
  /** Store one world per symmetry class (the system must declare a symmetry). */
  readonly symmetry?: boolean;
  readonly maxStates?: number;
  readonly maxMemoryMB?: number;
  readonly timeoutSeconds?: number;
  /** Called about every `progressEveryMs` with the figures so far. */
  readonly onProgress?: (stats: SearchStats) => void;
  readonly progressEveryMs?: number;
  /** The variant's config, for properties that read it. */
  readonly config?: unknown;
  /** Aborted by Ctrl-C: the search stops as at a cap (`interrupted`). */
  readonly signal?: AbortSignal;
  /** Only runs with at most this many preemptions, searched with the bound rising from 0 (`preemptions.ts`). */
  readonly preemptions?: number;
  /** Stop at the end of the level where every property has been broken (verdicts of the rest are not wanted). */
  readonly untilAllBroken?: boolean;
  /** Part `part` (from 0) of `parts` of a split search (`split.ts`): past the split level, only the worlds its share leads to. */
  readonly split?: { readonly part: number; readonly parts: number };
}

/** An exhaustive search's figures: states, transitions, depth, speed and memory. */
export interface SearchStats {
  /** Distinct worlds stored (canonical ones under symmetry). */
  readonly states: number;
  /** Steps taken from stored worlds, whether or not they led somewhere new. */
  readonly transitions: number;
  /** The deepest BFS level reached: the longest shortest path from the initial world. */
  readonly depth: number;
  /** Worlds found but not expanded yet. */
  readonly queued: number;
  readonly elapsedMs: number;
  readonly statesPerSecond: number;
  /** The process's peak resident memory. */
  readonly peakRssBytes: number;
  /**
   * Memory the search's own tables take, per stored world: fingerprints, parent links and steps, the graph (for
   * run-ends), the queue at its fullest, and a collapse codec's tables (its parts' objects live on the JS heap, in the peak RSS).
   */
  readonly bytesPerState: number;
}

/** The exhaustive explorer's counterexample: a shortest trace (or a loop's), and when the search met it. */
export interface ExhaustiveCounterexample<W> {
  readonly explorer: 'exhaustive';
  readonly trace: Trace<W>;
  readonly violation: Violation;
  /** True for the breadth-first search's finds; a loop is the shortest way into its cycle, then round it, not always the shortest loop. */
  readonly shortest: boolean;
  /** The step indices that lead to it from the initial world, each among the enabled steps of its world (canonical, under symmetry). */
  readonly path: readonly number[];
  /** When the search met it: milliseconds, and states stored so far (not said for a split search's: its parts count their own). */
  readonly afterMs: number;
  readonly afterStates?: number;
  /** In a preemption-bounded search, the preemptions it takes: the fewest any trace of the violation takes. */
  readonly preemptions?: number;
}

/** What an exhaustive search found: its figures, whether it saw every world, and each property's counterexample. */
export interface ExhaustiveResult<W> {
  readonly stats: SearchStats;
  /** True when every reachable world within the bounds was checked. */
  readonly complete: boolean;
  /** The cap that ended an incomplete search. */
  readonly stoppedBy?: Cap;
  /** The symmetry the search reduced by, if any. */
  readonly symmetry?: string;
  /** Probability that a fingerprint collision hid a world (birthday bound). */
  readonly collisionOdds: number;
  /** Each property's shortest counterexample, if it has one. */
  readonly counterexamples: ReadonlyMap<string, ExhaustiveCounterexample<W>>;
  /** The preemption bound the search kept to, if any: "complete" is within it. */
  readonly preemptions?: number;
  /** A part of a split search: every world it stored, by its fingerprint, for `mergeSplit` to count each once. */
  readonly split?: SplitTables;
  /** A split search put back together: how many parts it ran in. */
  readonly parts?: number;
  /** Of a split search put back together, the run properties it could not decide (`SplitTables.undecided`): unknown. */
  readonly undecided?: readonly string[];
}

/** A split search's part (which, of how many), world by world in the order it stored them: fingerprint halves, BFS depth, and steps taken (-1: another part's to expand). */
export interface SplitTables {
  readonly part: number;
  readonly parts: number;
  /**
   * The run properties (`run-ends`) this part cannot decide alone: it found no cycle, but saw a step back into the
   * shared level or above, so a cycle through other parts' worlds there may exist. Without such a step, every cycle
   * lies above the shared level (every part searches it) or below it (the part whose share leads to it finds it).
   */
  readonly undecided?: readonly string[];
  /** With `undecided`, the part's graph (`loops.ts`, in its own numbering), for its threads' merge to decide it whole. */
  readonly edges?: { readonly starts: Int32Array; readonly targets: Int32Array };
  readonly hi: Int32Array;
  readonly lo: Int32Array;
  readonly depth: Int32Array;
  readonly steps: Int32Array;
}

/** Where a violation was met: the stored world it was met at, and the step from it (if a step broke it). */
interface Sighting {
  readonly violation: Violation;
  readonly state: number;
  readonly step?: number;
  readonly afterMs: number;
  readonly afterStates: number;
}

/** Memory and time are looked at every this many expansions. */
const CHECK_EVERY = 1024;

/** The move of a step taken on words: its world after is made when first read. */
const lazyMove = <W>(before: W, step: Step, outcome: WordOutcome<W>): Move<W> => new LazyMove(before, step, outcome.reply, outcome) as unknown as Move<W>;

/** A search on words checks the words of its first step against the codec's, and of one step in so many after it; and likewise the steps it found enabled on words. */
const SAMPLE_WORDS = 1024;

/** A split search shares out the first level with at least this many worlds per part. */
const SPLIT_LEVEL = 32;

class Search<W, C> {
  private readonly codec: Codec<W>;
  /** How a stored world's words are fingerprinted (see the constructor). */
  private readonly fingerprintOf: (words: Int32Array, length: number, out: Uint32Array) => void;
  private readonly canonical: (world: W) => W;
  /** How steps are taken on words, where the system can (`System.words`; not under symmetry, which needs worlds). */
  private readonly wordSteps?: WordSteps<W>;
  /** The words of the world a step made on words (`patched`). */
  private nextWords = new Int32Array(0);
  /** How many steps were taken on words (some are checked against the codec: `SAMPLE_WORDS`). */
  private wordStepsTaken = 0;
  /** How many worlds had their steps found on words (some are checked against `System.enabled`: `SAMPLE_WORDS`). */
  private expandedOnWords = 0;
  private readonly seen: FingerprintSet | FingerprintMap;
  private readonly parents = new Column((n) => new Int32Array(n));
  private readonly steps = new Column((n) => new Uint16Array(n));
  /** Every step's target world, kept when a run property needs the graph (`loops.ts`): world s's from `starts[s]` on. */
  private readonly edges?: { readonly starts: Column<Int32Array>; readonly targets: Column<Int32Array> };
  /** Whether the world `store` last met was new. */
  private fresh = false;
  /** A split search's shared level (`split.ts`), once the search has reached it. */
  private shared?: { readonly from: number; readonly to: number };
  /** Whether a step went back into the shared level or above from it or below (see `SplitTables.undecided`). */
  private backIntoShared = false;
  /** In a split search, each stored world's fingerprint and how many steps it took here (`SplitTables`). */
  private readonly tables?: { readonly hi: Column<Int32Array>; readonly lo: Column<Int32Array>; readonly steps: Column<Int32Array> };
  private readonly queue = new WorldQueue();
  private readonly words = new Words();
  private readonly hash = new Uint32Array(2);
  /** Whether a world a step makes is fingerprinted from the step's patch (on words, but for a split search's parts). */
  private readonly patches: boolean;
  /** The fingerprint sums (`wordSums`) of the world being expanded on words, and of the world a step made from it. */
  private readonly sums = new Int32Array(2);
  private readonly nextSums = new Int32Array(2);
  /** Where `patches`, the sums of each queued world, queued with it: patched from its parent's, never summed again. */
  private readonly queuedSums = new PairQueue();
  private readonly sightings = new Map<string, Sighting>();
  private readonly started = performance.now();
  private transitions = 0;
  private depth = 0;
  private peakRss = 0;
  private readonly config: C;
  // Each kind where it is checked: invariants on new worlds, step properties on
  // every transition, final ones where nothing is enabled (invariants not again).
  // A property is checked until it is first broken: breadth-first, that is its
  // shortest counterexample, the one kept (and a check that would throw in a
  // world after it is not met: the property has its verdict).
  private invariants: readonly Property<W, C>[];
  private moves: readonly Property<W, C>[];
  private finals: readonly Property<W, C>[];

  constructor(
    private readonly system: System<W>,
    private readonly properties: readonly Property<W, C>[],
    private readonly options: ExhaustiveOptions,
  ) {
    this.config = options.config as C;
    this.invariants = properties.filter((p) => p.kind === 'invariant');
    this.moves = properties.filter((p) => p.kind === 'step');
    this.finals = properties.filter((p) => p.kind === 'final');
    if (properties.some((p) => p.kind === 'run')) this.edges = { starts: new Column((n) => new Int32Array(n)), targets: new Column((n) => new Int32Array(n)) };
    // A seen world's index is wanted only for the graph's edges.
    this.seen = this.edges ? new FingerprintMap() : new FingerprintSet();
    if (options.split) this.tables = { hi: new Column((n) => new Int32Array(n)), lo: new Column((n) => new Int32Array(n)), steps: new Column((n) => new Int32Array(n)) };
    this.codec = system.codec ?? collapseCodec<W>();
    // The parts of a split search count each world once by fingerprint: each part's codec must give the same one.
    if (options.split && !this.codec.fingerprint) {
      throw new Error("a split search needs a codec with a fingerprint of the world's content (Codec.fingerprint): this system's codec has none");
    }
    // One search's words are its codec's own numbering, the same for the same world all through it: hashing them
    // is enough. A split's parts number apart, so they hash what the words stand for (dearer, and only there).
    const symmetry = options.symmetry ? system.symmetry : undefined;
    if (options.symmetry && !symmetry) throw new Error('internal: --symmetry on a system that declares none');
    this.canonical = symmetry ? (w) => symmetry.canonical(w) : (w) => w;
    if (!symmetry && system.codec && system.words) this.wordSteps = system.words;
    // A search on words fingerprints the world a step makes from its patch: the placed fingerprint, which patches.
    this.patches = this.wordSteps !== undefined && !options.split;
    this.fingerprintOf = options.split ? this.codec.fingerprint!.bind(this.codec) : this.patches ? placedFingerprint : fingerprint;
  }

  private readonly pause = pauser();

  async run(): Promise<ExhaustiveResult<W>> {
    const stoppedBy = await this.breadthFirst();
    // A run that never ends goes round a cycle of the graph, once every world is known to be finite in number.
    const loop = !stoppedBy && this.edges ? this.loopChoices() : undefined;
    return {
      stats: this.stats(),
      complete: stoppedBy === undefined,
      ...(stoppedBy ? { stoppedBy } : {}),
      ...(this.options.symmetry ? { symmetry: this.system.symmetry!.name } : {}),
      collisionOdds: this.seen.collisionOdds(),
      counterexamples: this.counterexamples(loop),
      ...(this.tables ? { split: this.splitTables(loop !== undefined) } : {}),
    };
  }

  /** The part's worlds for `mergeSplit`: their fingerprints, depths (from the parent links) and steps taken here. */
  private splitTables(loopFound: boolean): SplitTables {
    const n = this.parents.length;
    const depth = new Int32Array(n);
    for (let i = 1; i < n; i++) depth[i] = depth[this.parents.get(i)]! + 1;
    const { hi, lo, steps } = this.tables!;
    const loops = loopFound ? [] : this.properties.filter((p) => p.kind === 'run').map((p) => p.id);
    const undecided = this.backIntoShared && loops.length > 0 ? { undecided: loops, edges: { starts: this.edges!.starts.toArray(), targets: this.edges!.targets.toArray() } } : {};
    // A search cut short expanded only some: the rest count as another part's (-1 steps).
    return { ...this.options.split!, ...undecided, hi: hi.toArray(), lo: lo.toArray(), depth, steps: steps.toArray(n, -1) };
  }

  /** Visits every world level by level; the cap that stopped it early, if one did. */
  private async breadthFirst(): Promise<Cap | undefined> {
    const init = this.system.init;
    this.store(this.canonical(init), -1, 0);
    // On words where the system checks there, as every world after it (`checkNewWorld`): each is then checked alike.
    const checkWords = this.wordSteps?.checkWorld?.bind(this.wordSteps);
    this.note(checkWords ? checkWords(this.invariants, this.config, this.words.view(), () => init, 0) : checkWorld(this.invariants, this.config, init, false, 0), 0);
    let stoppedBy: Cap | undefined;
    let levelEnd = 1;
    let lastProgress = this.started;
    for (let state = 0; this.queue.size > 0; state++) {
      if (state === levelEnd) {
        // A level's worlds may still break a final property at its own depth, so only now is the shortest known.
        if (this.options.untilAllBroken && this.sightings.size === this.properties.length) {
          stoppedBy = 'all-broken';
          break;
        }
        this.depth++;
        // A split search's shared level: each part expands every parts-th of its worlds (and all it reaches from them).
        if (this.options.split && !this.shared && this.parents.length - levelEnd >= SPLIT_LEVEL * this.options.split.parts) this.shared = { from: levelEnd, to: this.parents.length };
        levelEnd = this.parents.length;
      }
      const shared = this.shared;
      if (shared && state >= shared.from && state < shared.to && (state - shared.from) % this.options.split!.parts !== this.options.split!.part) this.skip();
      else this.expand(state);
      if (this.parents.length >= (this.options.maxStates ?? Infinity)) {
        stoppedBy = 'max-states';
        break;
      }
      if (state % CHECK_EVERY === 0) {
        await this.pause();
        stoppedBy = this.capReached();
        if (stoppedBy) break;
        const now = performance.now();
        if (this.options.onProgress && now - lastProgress >= (this.options.progressEveryMs ?? 500)) {
          lastProgress = now;
          this.options.onProgress(this.stats());
        }
      }
    }
    return stoppedBy;
  }

  /** The steps from the initial world into a cycle, then once round it; undefined when every run ends. */
  private loopChoices(): number[] | undefined {
    const { starts, targets } = this.edges!;
    starts.push(targets.length);
    const cycle = findCycle({ states: this.parents.length, starts, targets });
    return cycle && [...this.pathTo(cycle.states[0]!), ...cycle.steps];
  }

  /** Passes over the next queued world, another part's: it has no steps here. */
  private skip(): void {
    this.queue.shift();
    if (this.patches) this.queuedSums.shift(this.sums);
    this.edges?.starts.push(this.edges.targets.length);
    this.tables?.steps.push(-1);
  }

  /** Takes every enabled step from the next queued world; a throw from the model is a ModelError. */
  private expand(state: number): void {
    let step: Step | undefined;
    try {
      const words = this.queue.shift();
      if (this.patches) this.queuedSums.shift(this.sums);
      this.expanding = words;
      this.decoded = undefined;
      const world = this.world;
      const enabled = this.wordSteps?.enabled ? this.wordSteps.enabled(words, world) : this.system.enabled(world());
      if (this.wordSteps?.enabled && this.expandedOnWords++ % SAMPLE_WORDS === 0) this.sampleEnabled(enabled, world());
      this.edges?.starts.push(this.edges.targets.length);
      this.tables?.steps.push(enabled.length);
      if (enabled.length === 0 && this.finals.length > 0) this.note(checkWorld(this.finals, this.config, world(), true, this.depth), state);
      for (let k = 0; k < enabled.length; k++) {
        step = enabled[k]!;
        this.transitions++;
        const next = this.wordSteps ? this.stepOnWords(this.wordSteps, world, words, step, state, k) : this.stepOnWorld(world(), step, state, k);
        this.edges?.targets.push(next);
        // A step back into the shared level or above, from it or below: a cycle there may run through other parts' worlds.
        if (this.edges && this.shared && state >= this.shared.from && next < this.shared.to) this.backIntoShared = true;
      }
    } catch (e) {
      throw modelError(e, step ? { at: this.depth + 1, step } : { at: this.depth, part: 'enabled' });
    }
  }

  /** Takes `step`, the `k`th step of world `state`, checks it and stores the world it makes: that world's index. */
  private stepOnWorld(world: W, step: Step, state: number, k: number): number {
    const { world: after, reply } = this.system.apply(world, step);
    this.check({ before: world, step, reply, after }, state, k);
    const next = this.store(this.canonical(after), state, k);
    if (this.fresh && this.invariants.length > 0) this.note(checkWorld(this.invariants, this.config, after, false, this.depth + 1), next);
    return next;
  }

  /**
   * `stepOnWorld` on words: the next world's are the step's patch of these, copied only for a world kept, and the
   * world itself is made only where a property reads it. Where the system gives the step properties' verdicts
   * itself (`WordOutcome.checkMove`), no move is made at all.
   */
  private stepOnWords(steps: WordSteps<W>, world: () => W, words: Int32Array, step: Step, state: number, k: number): number {
    const outcome = steps.apply(world, words, step);
    let move: Move<W> | undefined;
    if (this.moves.length > 0) {
      if (outcome.checkMove) this.noteMove(outcome.checkMove(this.moves, this.config, world, step, words, this.depth + 1), state, k);
      else this.check((move = lazyMove(world(), step, outcome)), state, k);
    }
    if (this.wordStepsTaken++ % SAMPLE_WORDS === 0) this.sampleWords((move ??= lazyMove(world(), step, outcome)), this.patched(words, outcome.patch));
    const next = this.storePatch(words, outcome.patch, state, k);
    if (this.fresh && this.invariants.length > 0) this.checkNewWorld(steps, step, outcome, move, next);
    return next;
  }

  /** The words `words` patched by `patch`, in `nextWords` (the world a step made on words). */
  private patched(words: Int32Array, patch: Int32Array): Int32Array {
    if (this.nextWords.length !== words.length) this.nextWords = new Int32Array(words.length);
    const next = this.nextWords;
    next.set(words);
    for (let i = 0; i < patch.length; i += 2) next[patch[i]!] = patch[i + 1]!;
    return next;
  }

  /**
   * `storeWords` for the world whose words are `words` patched by `patch`: fingerprinted from the sums of `words`
   * (`expand` made them), its words copied only where it is new. A split search's fingerprint is of the words'
   * content (see the constructor): the words are made first.
   */
  private storePatch(words: Int32Array, patch: Int32Array, parent: number, step: number): number {
    if (!this.patches) return this.storeWords(this.patched(words, patch), words.length, parent, step);
    patchSums(this.sums, words, patch, this.nextSums);
    finishSums(this.nextSums, words.length, this.hash);
    const seen = this.add();
    return this.fresh ? this.keep(this.patched(words, patch), words.length, parent, step) : seen;
  }

  /**
   * Checks the invariants on the new world `next`, which `step` made from `world()` on words (`made`, its move, if
   * made): read through `newWorld`, so no closure is made per world.
   */
  private checkNewWorld(steps: WordSteps<W>, step: Step, outcome: WordOutcome<W>, made: Move<W> | undefined, next: number): void {
    this.newStep = step;
    this.newOutcome = outcome;
    this.newMove = made;
    const at = this.depth + 1;
    const after = this.newWorld;
    const checked = steps.checkWorld ? steps.checkWorld(this.invariants, this.config, this.nextWords, after, at, outcome.patch) : checkWorld(this.invariants, this.config, after(), false, at);
    this.note(checked, next);
  }

  /** The world being expanded (`expanding`, its words), decoded where something reads it: on words, most worlds need not be. */
  private expanding: Int32Array = new Int32Array(0);
  private decoded?: W;
  private readonly world = () => (this.decoded ??= this.codec.decode(this.expanding));

  /** The world a step made on words that `checkNewWorld` checks (`newStep` taken from `world()`), made where an invariant reads it. */
  private newStep?: Step;
  private newOutcome?: WordOutcome<W>;
  private newMove?: Move<W>;
  private readonly newWorld = () => (this.newMove ??= lazyMove(this.world(), this.newStep!, this.newOutcome!)).after;

  /** Checks the step properties on `move`, the `k`th step of world `state`. */
  private check(move: Move<W>, state: number, k: number): void {
    this.noteMove(checkMove(this.moves, this.config, move, this.depth + 1), state, k);
  }

  private noteMove(broken: readonly Violation[], state: number, k: number): void {
    if (broken.length > 0) this.note(broken, state, k);
  }

  /** Stops the search where the words a step wrote are not the codec's for the world after it (`WordSteps`' promise). */
  private sampleWords(move: Move<W>, got: Int32Array): void {
    this.words.clear();
    this.codec.encode(move.after, this.words);
    if (this.words.length === got.length && this.words.view().every((w, i) => w === got[i])) return;
    throw new Error(
      `the system's words for the world after ${move.step.op} are not its codec's (${got.length} words where the codec writes ${this.words.length}, or others): System.words must write the codec's words, as many for every world`,
    );
  }

  /** Stops the search where the steps found on a world's words are not those `System.enabled` gives (`WordSteps.enabled`'s promise). */
  private sampleEnabled(found: readonly Step[], world: W): void {
    const want = this.system.enabled(world);
    if (JSON.stringify(found) === JSON.stringify(want)) return;
    throw new Error(
      `the steps the system's words enable are not those System.enabled gives (${found.length} where it gives ${want.length}, or others): WordSteps.enabled must give System.enabled's steps, in its order (a system that narrows enabled must narrow words.enabled alike, or leave it out)`,
    );
  }

  /** Stores a world if it is new (then `fresh` is set); its index, new or seen before (a seen one's only where the graph keeps indices, else 0). */
  private store(world: W, parent: number, step: number): number {
    this.words.clear();
    this.codec.encode(world, this.words);
    // The initial world's sums, as `keep` queues them; a step's world has its sums patched (`storePatch`).
    if (this.patches) wordSums(this.words.buffer, this.words.length, this.nextSums);
    return this.storeWords(this.words.buffer, this.words.length, parent, step);
  }

  /** `store` for a world's words. */
  private storeWords(words: Int32Array, length: number, parent: number, step: number): number {
    this.fingerprintOf(words, length, this.hash);
    const seen = this.add();
    return this.fresh ? this.keep(words, length, parent, step) : seen;
  }

  /** Adds the fingerprint in `hash` to those seen, setting `fresh`: the index of the world seen with it before (where kept). */
  private add(): number {
    const seen = this.seen.add(this.hash[0]!, this.hash[1]!);
    this.fresh = seen < 0;
    return seen;
  }

  /** Keeps a new world, whose fingerprint is in `hash`, and queues its words: its index. */
  private keep(words: Int32Array, length: number, parent: number, step: number): number {
    if (step > 0xffff) throw new Error(`a world has more than ${0xffff} enabled steps; narrow the bounds`);
    this.parents.push(parent);
    this.steps.push(step);
    this.tables?.hi.push(this.hash[0]!);
    this.tables?.lo.push(this.hash[1]!);
    this.queue.push(words, length);
    if (this.patches) this.queuedSums.push(this.nextSums[0]!, this.nextSums[1]!);
    return this.parents.length - 1;
  }

  private note(violations: readonly Violation[], state: number, step?: number): void {
    // Asked at every new world, which mostly breaks nothing: an index, not an iterator made each time.
    for (let i = 0; i < violations.length; i++) {
      const violation = violations[i]!;
      if (this.sightings.has(violation.property)) continue;
      const unbroken = (p: Property<W, C>) => p.id !== violation.property;
      this.invariants = this.invariants.filter(unbroken);
      this.moves = this.moves.filter(unbroken);
      this.finals = this.finals.filter(unbroken);
      const afterMs = performance.now() - this.started;
      this.sightings.set(violation.property, {
        violation,
        state,
        ...(step !== undefined ? { step } : {}),
        afterMs,
        afterStates: this.parents.length,
      });
    }
  }

  private capReached(): Cap | undefined {
    const { maxMemoryMB, timeoutSeconds, signal } = this.options;
    if (signal?.aborted) return 'interrupted';
    const rss = process.memoryUsage.rss();
    this.peakRss = Math.max(this.peakRss, rss);
    if (maxMemoryMB !== undefined && rss + this.seen.growthBytes > maxMemoryMB * 2 ** 20) return 'max-memory';
    if (timeoutSeconds !== undefined && performance.now() - this.started > timeoutSeconds * 1000) return 'timeout';
    return undefined;
  }

  private stats(): SearchStats {
    const elapsedMs = performance.now() - this.started;
    const states = this.parents.length;
    const parts = 'bytes' in this.codec ? (this.codec.bytes as number) : 0;
    const graph = this.edges ? this.edges.starts.bytes + this.edges.targets.bytes : 0;
    const held = this.seen.bytes + this.parents.bytes + this.steps.bytes + this.queue.peakBytes + this.queuedSums.peakBytes + parts + graph;
    return {
      states,
      transitions: this.transitions,
      depth: this.depth,
      queued: this.queue.size,
      elapsedMs: Math.round(elapsedMs),
      statesPerSecond: Math.round(states / Math.max(elapsedMs / 1000, 1e-3)),
      peakRssBytes: Math.max(this.peakRss, process.resourceUsage().maxRSS * 1024),
      bytesPerState: Math.round(held / states),
    };
  }

  /** The step indices from the initial world to a stored one. */
  private pathTo(state: number): number[] {
    const path: number[] = [];
    for (let s = state; this.parents.get(s) >= 0; s = this.parents.get(s)) path.push(this.steps.get(s));
    return path.reverse();
  }

  /** Each property's counterexample, rebuilt from the stored links (and `loop`, a cycle's choices) and replayed. */
  private counterexamples(loop: readonly number[] | undefined): Map<string, ExhaustiveCounterexample<W>> {
    const found = new Map<string, ExhaustiveCounterexample<W>>();
    if (loop) found.set(runEnds.id, this.loopCounterexample(loop));
    for (const [id, s] of this.sightings) {
      const choices = [...this.pathTo(s.state), ...(s.step !== undefined ? [s.step] : [])];
      const property = this.properties.find((p) => p.id === id)!;
      const run = replaySteps(this.system, [property], choices, this.stepOfIndex, this.config);
      const violation = run.violations[0];
      if (!violation || run.trace.steps.length !== choices.length) {
        const why = this.options.symmetry ? ': is the declared symmetry one the model really has?' : '';
        throw new Error(`the shortest counterexample of ${id} does not replay${why}`);
      }
      found.set(id, { explorer: 'exhaustive', trace: run.trace, violation, shortest: true, path: choices, afterMs: Math.round(s.afterMs), afterStates: s.afterStates });
    }
    return found;
  }

  /** The run that goes round a cycle of the stored graph, replayed on real worlds. */
  private loopCounterexample(choices: readonly number[]): ExhaustiveCounterexample<W> {
    const run = replaySteps(this.system, [runEnds], choices, this.stepOfIndex);
    const violation = run.violations[0];
    if (!violation) throw new Error(`internal: the loop the search found does not replay`);
    return { explorer: 'exhaustive', trace: run.trace, violation, shortest: false, path: choices, afterMs: Math.round(performance.now() - this.started), afterStates: this.parents.length };
  }

  /**
   * Finds a stored step index among the steps of a real world. Without
   * symmetry the real world is the stored one, so the index is the step. Under
   * symmetry the index was taken in the canonical world: the real step is the
   * one that does the same call (op, arguments, reply) and leads to the same
   * canonical world.
   */
  private readonly stepOfIndex = (k: number, enabled: readonly Step[], world: W): Step | undefined => {
    if (!this.options.symmetry) return enabled[k];
    const canonical = this.canonical(world);
    const step = this.system.enabled(canonical)[k]!;
    const outcome = this.system.apply(canonical, step);
    const target = this.key(outcome.world);
    return enabled.find((s) => {
      if (s.op !== step.op || s.args.join() !== step.args.join()) return false;
      const o = this.system.apply(world, s);
      return o.reply.text === outcome.reply.text && this.key(o.world) === target;
    });
  };

  private key(world: W): string {
    this.words.clear();
    this.codec.encode(this.canonical(world), this.words);
    return this.words.view().join(',');
  }
}

/** Explores every world of `system` reachable within its bounds and finds each property's shortest counterexample. */
export async function exploreExhaustive<W, C>(
  system: System<W>,
  properties: readonly Property<W, C>[],
  options: ExhaustiveOptions = {},
): Promise<ExhaustiveResult<W>> {
  if (options.split && options.preemptions !== undefined) throw new Error('a split search is one breadth-first search, and --preemptions runs several: give one');
  if (options.preemptions !== undefined) return preemptionRounds(system, properties, options.preemptions, options);
  return new Search(system, properties, options).run();
}

/**
 * The search with at most 0, 1, 2, ... `bound` preemptions per run: each property's counterexample comes from the
 * first round that breaks it, so it takes the fewest preemptions (and is the shortest such trace). The figures are
 * the last round's, which holds every run the earlier rounds did; its bound is the one reported.
 */
async function preemptionRounds<W, C>(system: System<W>, properties: readonly Property<W, C>[], bound: number, options: ExhaustiveOptions): Promise<ExhaustiveResult<W>> {
  const found = new Map<string, ExhaustiveCounterexample<W>>();
  const { preemptions: _, ...each } = options;
  for (let k = 0; ; k++) {
    const left = properties.filter((p) => !found.has(p.id));
    const round = await new Search(preemptionBounded(system, k), left.map(liftProperty), each).run();
    for (const [id, cx] of round.counterexamples) found.set(id, { ...cx, trace: unwrapTrace(cx.trace), preemptions: k });
    if (k === bound || !round.complete || found.size === properties.length) {
      const { counterexamples: __, symmetry: ___, ...rest } = round;
      // The bound the search kept to: below `bound` when every property broke sooner.
      return { ...rest, counterexamples: found, preemptions: k };
    }
  }
}
