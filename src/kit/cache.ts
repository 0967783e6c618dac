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
 * value. Parts are compared by identity: the explorer's codec hands back one
 * stored object for equal parts, and a replayed write is the same object every
 * time, so equal parts are mostly the same object (and two equal parts that
 * are not only cost a run). A step that reads another part where it read
 * this one before, from the same parts, read something its `Ctx` did not see:
 * that is an error of the kit's, and is thrown as one.
 */
import { recording, refire, type FiredEdges } from '../engine/machine.ts';
import type { Bounds, Reply, Step as EngineStep } from '../engine/model.ts';
import { Ctx } from './context.ts';
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
  /** Part numbers and their new values in turn (`withWrites`). */
  readonly writes: readonly unknown[];
  readonly reply: Reply;
  readonly fired: FiredEdges;
}

/** How many outcomes the cache keeps before it starts again empty: a bound on its memory (about 1 KB each). */
const LIMIT = 1 << 15;

export class StepCache {
  /** Per thread, per call and arguments (and failure injected), what the step reads first. */
  private readonly steps: Map<string, Read | Outcome>[] = [];
  private outcomes = 0;
  /** Numbers for the queued works, which the queue's key names (the queue itself is rebuilt by every decode). */
  private readonly ids = new WeakMap<object, number>();
  private lastId = 0;
  hits = 0;
  runs = 0;

  constructor(
    private readonly spec: KitSpec,
    private readonly bounds: Bounds,
    private readonly layout: Layout,
  ) {}

  apply(world: KitWorld, step: EngineStep): { world: KitWorld; reply: Reply } {
    const steps = (this.steps[step.thread] ??= new Map());
    const key = step.args.length === 0 ? step.op : `${step.op}\n${step.args.join('\n')}`;
    let at = steps.get(key);
    while (at instanceof Read) at = at.get(this.valueOf(at.part, world));
    if (at !== undefined) {
      this.hits++;
      refire(at.fired);
      return { world: withWrites(this.layout, world, at.writes), reply: at.reply };
    }
    this.runs++;
    const ctx = new Ctx(this.spec, this.bounds, this.layout, world, step.thread);
    const { result: reply, fired } = recording(() => runStep(ctx, step));
    const writes = ctx.changes();
    // Written parts are handed back for every world the outcome is replayed in: frozen, they are shared safely, and
    // the codec knows them again without reading them.
    for (let i = 1; i < writes.length; i += 2) if (typeof writes[i] === 'object' && writes[i] !== null) Object.freeze(writes[i]);
    this.keep(steps, key, world, ctx.reads, { writes, reply, fired });
    return { world: withWrites(this.layout, world, writes), reply };
  }

  /** What part `n` of `world` is compared by: itself, or for the queue and the lock orders (rebuilt by each decode), their content. */
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

  /** Files `outcome` under the parts the step read, in the order read. */
  private keep(steps: Map<string, Read | Outcome>, key: string, world: KitWorld, reads: readonly number[], outcome: Outcome): void {
    if (this.outcomes >= LIMIT) {
      for (const s of this.steps) s?.clear();
      this.outcomes = 0;
    }
    this.outcomes++;
    let at: Read | undefined;
    for (const part of reads) {
      const next = at ? at.get(this.valueOf(at.part, world)) : steps.get(key);
      if (next !== undefined && !(next instanceof Read && next.part === part)) this.unstable(key);
      const here = next ?? new Read(part);
      if (next === undefined) (at ? at.set(this.valueOf(at.part, world), here) : steps.set(key, here));
      at = here;
    }
    if (at === undefined) steps.set(key, outcome);
    else at.set(this.valueOf(at.part, world), outcome);
  }

  private unstable(key: string): never {
    throw new Error(`internal: kit step ${JSON.stringify(key)} read other parts of the world than it did before from the same parts: it read something its Ctx did not note`);
  }
}
