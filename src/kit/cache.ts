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
 * value. Parts are compared by identity: the codec hands back one stored
 * object for equal parts, and a replayed write is the same object every time,
 * so equal parts are mostly the same object (and two equal parts that are not
 * only cost a run). All rests on the step reading the world only through its
 * `Ctx`: a read it did not note shows, and is thrown as the kit's error, where
 * it changes which part the step reads next from the same parts; the tests
 * check on random worlds that a step does the same whatever its unread parts.
 */
import { recording, refire, type FiredEdges } from '../engine/machine.ts';
import type { Bounds, Reply, Step as EngineStep } from '../engine/model.ts';
import { Ctx } from './context.ts';
import type { Lineage } from './codec.ts';
import { withWrites, type Layout } from './parts.ts';
import { runStep } from './step.ts';
import type { KitSpec, KitWorld } from './world.ts';

/** No value yet (a part's value may be undefined). */
const NONE = Symbol('none');

/** A read of one part: where each of its values leads. The first value met is kept inline: most reads meet one. */
class Read {
  private first: unknown = NONE;
  private firstNext?: Read | Outcome;
  private more?: Map<unknown, Read | Outcome>;

  constructor(readonly part: number) {}

  get(value: unknown): Read | Outcome | undefined {
    return value === this.first ? this.firstNext : this.more?.get(value);
  }

  set(value: unknown, next: Read | Outcome): void {
    if (this.first === NONE) {
      this.first = value;
      this.firstNext = next;
    } else (this.more ??= new Map()).set(value, next);
  }
}

interface Outcome {
  /** The parts the step read, in the order read: where it is filed. */
  readonly reads: readonly number[];
  /** Part numbers and their new values in turn (`withWrites`). */
  readonly writes: readonly unknown[];
  readonly reply: Reply;
  readonly fired: FiredEdges;
}

/**
 * How many outcomes the cache keeps, about 2 KB each: the bound on its memory. It keeps them in two generations of
 * half as many: when the young one is full it becomes the old one, and the old one is dropped; an outcome met again
 * in the old one is filed in the young one again. So the outcomes in use stay, whatever the search's length.
 */
const LIMIT = 1 << 15;

/** Per thread, per call and arguments (and failure injected): what the step reads first. */
type Steps = Map<string, Read | Outcome>[];

export class StepCache {
  private young: Steps = [];
  private old: Steps = [];
  /** How many outcomes the young generation has. */
  private outcomes = 0;
  /** Numbers for the queued works, which name the queue by its content. */
  private readonly ids = new WeakMap<object, number>();
  private lastId = 0;

  constructor(
    private readonly spec: KitSpec,
    private readonly bounds: Bounds,
    private readonly layout: Layout,
    /** Where the step cache tells the system's codec what it made last (codec.ts). */
    private readonly lineage: Lineage = {},
    private readonly limit = LIMIT,
  ) {}

  apply(world: KitWorld, step: EngineStep): { world: KitWorld; reply: Reply } {
    const key = step.args.length === 0 ? step.op : `${step.op}\n${step.args.join('\n')}`;
    let outcome = this.find(this.young, step.thread, key, world);
    if (outcome === undefined) {
      outcome = this.find(this.old, step.thread, key, world);
      if (outcome !== undefined) this.keep(step.thread, key, world, outcome);
    }
    if (outcome !== undefined) {
      refire(outcome.fired);
      return { world: this.made(world, outcome.writes), reply: outcome.reply };
    }
    const ctx = new Ctx(this.spec, this.bounds, this.layout, world, step.thread);
    const { result: reply, fired } = recording(() => runStep(ctx, step));
    const writes = ctx.changes();
    // Written parts are handed back for every world the outcome is replayed in: frozen, they are shared safely, and
    // the codec knows them again without reading them.
    for (let i = 1; i < writes.length; i += 2) if (typeof writes[i] === 'object' && writes[i] !== null) Object.freeze(writes[i]);
    if (reply.warnings) Object.freeze(reply.warnings);
    this.keep(step.thread, key, world, Object.freeze({ reads: ctx.reads, writes, reply: Object.freeze(reply), fired }));
    return { world: this.made(world, writes), reply };
  }

  /** `world` with `writes` laid on it, and the lineage of the world made. */
  private made(from: KitWorld, writes: readonly unknown[]): KitWorld {
    const world = withWrites(this.layout, from, writes);
    this.lineage.made = { world, from, writes };
    return world;
  }

  /** The outcome filed in `steps` for this step in `world`, if there is one. */
  private find(steps: Steps, thread: number, key: string, world: KitWorld): Outcome | undefined {
    let at = steps[thread]?.get(key);
    while (at instanceof Read) at = at.get(this.valueOf(at.part, world));
    return at;
  }

  /** What part `n` of `world` is compared by: itself, or for the queue and the lock orders (arrays that a run rebuilds even when equal), their content. */
  private valueOf(n: number, world: KitWorld): unknown {
    const v = this.layout.read[n]!(world);
    if (n === this.layout.queue) return (v as readonly object[]).map((w) => this.idOf(w)).join(',');
    if (n === this.layout.lockOrder) return (v as readonly string[]).join('\n');
    return v;
  }

  private idOf(o: object): number {
    let id = this.ids.get(o);
    if (id === undefined) this.ids.set(o, (id = ++this.lastId));
    return id;
  }

  /** Files `outcome` in the young generation, under the values in `world` of the parts the step read, in the order read. */
  private keep(thread: number, key: string, world: KitWorld, outcome: Outcome): void {
    if (this.outcomes >= this.limit / 2) {
      this.old = this.young;
      this.young = [];
      this.outcomes = 0;
    }
    this.outcomes++;
    const steps = (this.young[thread] ??= new Map());
    let at: Read | undefined;
    let value: unknown;
    for (const part of outcome.reads) {
      const next = at ? at.get(value) : steps.get(key);
      if (next !== undefined && !(next instanceof Read && next.part === part)) this.unstable(key);
      const here = next ?? new Read(part);
      if (next === undefined) (at ? at.set(value, here) : steps.set(key, here));
      at = here;
      value = this.valueOf(part, world);
    }
    // The outcome goes where the lookup found nothing: anything there already was read another way.
    if ((at ? at.get(value) : steps.get(key)) !== undefined) this.unstable(key);
    if (at === undefined) steps.set(key, outcome);
    else at.set(value, outcome);
  }

  private unstable(key: string): never {
    throw new Error(`internal: kit step ${JSON.stringify(key)} read other parts of the world than it did before from the same parts: it read something its Ctx did not note`);
  }
}
