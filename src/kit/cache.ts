/**
 * The step cache. A step's outcome (the parts it writes, its reply, the
 * machine transitions coverage counts) is a function of the parts of the
 * world it read, and a step reads only through its `Ctx`, which notes each
 * part as it first reads it. So a step met again in a world whose parts it
 * reads are the same is not run again (memo.ts): its writes are laid on the
 * world, its reply handed back, its transitions counted again.
 * Interleavings make this the common case: a thread's step does the same
 * whatever the other threads' calls are doing. The tests check on random
 * worlds that a step does the same whatever its unread parts.
 */
import { recording, refire, type FiredEdges } from '../engine/machine.ts';
import type { Bounds, Reply, Step as EngineStep } from '../engine/model.ts';
import { Ctx } from './context.ts';
import type { Lineage } from './codec.ts';
import { withWrites, type Layout } from './parts.ts';
import { PartMemo, PartValues } from './memo.ts';
import { runStep } from './step.ts';
import type { KitSpec, KitWorld } from './world.ts';

interface Outcome {
  /** Part numbers and their new values in turn (`withWrites`). */
  readonly writes: readonly unknown[];
  readonly reply: Reply;
  readonly fired: FiredEdges;
}

/** How many outcomes the cache keeps (memo.ts), about 2 KB each: the bound on its memory. */
const LIMIT = 1 << 15;

export class StepCache {
  private readonly memo: PartMemo<Outcome>;

  constructor(
    private readonly spec: KitSpec,
    private readonly bounds: Bounds,
    private readonly layout: Layout,
    /** Where the step cache tells the system's codec what it made last (codec.ts). */
    private readonly lineage: Lineage = {},
    limit = LIMIT,
    values = new PartValues(layout),
  ) {
    this.memo = new PartMemo(values, limit, 'kit step');
  }

  apply(world: KitWorld, step: EngineStep): { world: KitWorld; reply: Reply } {
    const key = step.args.length === 0 ? step.op : `${step.op}\n${step.args.join('\n')}`;
    const filed = this.memo.find(world, step.thread, key);
    if (filed !== undefined) {
      const outcome = filed.value;
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
    const value = Object.freeze({ writes, reply: Object.freeze(reply), fired });
    this.memo.file(world, step.thread, key, Object.freeze({ reads: ctx.reads, value }));
    return { world: this.made(world, writes), reply };
  }

  /** `world` with `writes` laid on it, and the lineage of the world made. */
  private made(from: KitWorld, writes: readonly unknown[]): KitWorld {
    const world = withWrites(this.layout, from, writes);
    this.lineage.made = { world, from, writes };
    return world;
  }
}
