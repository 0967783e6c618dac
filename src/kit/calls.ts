/**
 * Calls written as the kernel writes them: a list of labelled steps, each one
 * atomic action named by the kernel function it stands for, with `goto`-style
 * unwind labels for the steps that can fail. Actions are plain data, so a
 * call is data: a patch is the same call with a step removed, replaced or
 * inserted (`without`, `replace`, `insert`), or an unwind label moved.
 */
import { DefinitionError } from '../engine/define.ts';

/** A frame local holding a pointer, an id, or a counter's value: named like the C local (`b`, `id`). */
export type LocalName = string;

/** One atomic action of a call; the kit's interpreter gives each its kernel meaning. */
export type Action =
  /** `kzalloc` + `refcount_set(.., 1)`: a new object of `kind` in `into`, the creator holding its first reference. */
  | { readonly op: 'alloc'; readonly kind: string; readonly into: LocalName }
  /**
   * `xa_alloc(&space, &id, p)`: the lowest (or, cyclic, the next) free id; the entry takes over the creator's reference
   * when the space holds one. Without `ptr`, `xa_alloc(.., XA_ZERO_ENTRY)`: the id is reserved, and loads find NULL until `xa_store`.
   */
  | {
      readonly op: 'xa_alloc';
      readonly space: string;
      readonly ptr?: LocalName;
      readonly into: LocalName;
      /** `XA_LIMIT(min, max)` of the scenario's ids (`--ids`), in a space that maps more (a host's PASIDs asked for a guest's range). */
      readonly range?: 'scenario';
    }
  /** `xa_insert(&space, id, p)` (or `xa_alloc(.., XA_LIMIT(id, id))`): `p` at that very id; `-EBUSY` when it is taken. */
  | { readonly op: 'xa_insert'; readonly space: string; readonly id: LocalName; readonly ptr: LocalName }
  /** `xa_init(&space)`: the XArray of a new object (an allocator's) starts empty; what an old one held is forgotten there. */
  | { readonly op: 'xa_init'; readonly space: string }
  /** `xa_store(&space, id, p)` into a reserved (or free) id: the object becomes visible (iommufd_object_finalize). */
  | { readonly op: 'xa_store'; readonly space: string; readonly id: LocalName; readonly ptr: LocalName }
  /**
   * `p = xa_load(&space, id)`: a pointer protected by what the thread holds (the space's lock, an RCU section), or by nothing.
   * With `kind`, an entry of another kind reads as NULL (`if (obj->type != type) return -ENOENT`, in a table of several kinds).
   */
  | { readonly op: 'xa_load'; readonly space: string; readonly id: LocalName; readonly into: LocalName; readonly kind?: string }
  /**
   * `xa_load(&space, p->id) == p`: the entry of the object `ptr` points to, into `into`, or NULL when the space maps it
   * no more (a registration check); reading `p->id` dereferences `p`.
   */
  | { readonly op: 'xa_load_of'; readonly space: string; readonly ptr: LocalName; readonly into: LocalName }
  /**
   * `p = xa_erase(&space, id)`: the entry goes, and with it the references it held, now the thread's (in `into`, or
   * in `ptr`'s local). With `ptr` instead of `id`, `__xa_erase(&space, p->id)`: the entry of the object `ptr` points to,
   * and, with `at`, the id it had into that local (a notifier's work, given the object, finding its id).
   */
  | { readonly op: 'xa_erase'; readonly space: string; readonly id?: LocalName; readonly ptr?: LocalName; readonly into?: LocalName; readonly at?: LocalName }
  /**
   * A refcount_t call on `p->field`. The reference taken or dropped is the pointer's; with `for: SPACE`, it is the one
   * that space's entry for the object holds (`refcount_dec_if_one(&obj->users)` dropping the xarray's reference under
   * its lock before the erase; a restore of the xarray's bias), which an erase then no longer hands over.
   */
  | {
      readonly op: 'refcount';
      readonly call: RefcountCall;
      readonly ptr: LocalName;
      readonly field: string;
      readonly for?: string;
      /**
       * The reference taken or dropped is the one local `of` holds on the same object: an API by id (`ioasid_put(set, id)`)
       * dropping the reference its caller's pointer holds, though it works on the pointer its own lookup found.
       */
      readonly of?: LocalName;
      /** The errno a refused `inc_not_zero` (-ENOENT) or `dec_if_one` (-EBUSY) fails with; `null`: a branch to `fail`, no errno (`continue`). */
      readonly errno?: string | null;
    }
  /** `p->field++` or `--`: a counter; a counter that holds references counts as their holders. */
  | { readonly op: 'counter'; readonly delta: 1 | -1; readonly ptr: LocalName; readonly field: string }
  /**
   * `if (!p->field) return errno;` (`nonzero`) or `if (p->field) ...` (`zero`): goes on when `p->field` is as said, else
   * fails with `errno`; without `errno`, it is a branch (`if (!vdev->iommufd_attached) return;`) to the step's `fail` label.
   */
  | { readonly op: 'check'; readonly ptr: LocalName; readonly field: string; readonly is: 'zero' | 'nonzero'; readonly errno?: string }
  /**
   * A dereference that changes nothing the model tracks (reading a field, calling through an ops pointer); with `as`,
   * a use as that kind (`struct mm_struct *mm = priv;`), which is type confusion when the object is of another kind;
   * with `like`, a use as the kind of the object in that local (the caller's own private data, whatever its type).
   */
  | { readonly op: 'use'; readonly ptr: LocalName; readonly as?: string; readonly like?: LocalName }
  /**
   * `if (p->field != q) return errno;` (`ioasid_data->set != set`): goes on when the pointer field points to the object
   * in local `to` (or, with `to: null`, is NULL), else fails with `errno`; without `errno`, a branch to the step's `fail`.
   */
  | { readonly op: 'link_is'; readonly ptr: LocalName; readonly field: string; readonly to: LocalName | null; readonly errno?: string }
  /** `kfree(p)` at once, or `kfree_rcu(p)` once every reader inside an RCU section now has left it. */
  | { readonly op: 'kfree'; readonly ptr: LocalName; readonly rcu?: boolean }
  /** A global lock by name, or, with `ptr`, the lock field of that object (`mutex_lock(&dev->lock)`). */
  | { readonly op: 'mutex_lock' | 'mutex_unlock'; readonly lock: string; readonly ptr?: LocalName }
  /**
   * rw_semaphore: `down_read` waits while a writer holds or waits for it; `down_read_trylock` fails then
   * (default `-EBUSY`); `down_write` queues behind the readers, which keeps new readers out until it gets it.
   */
  | { readonly op: 'down_read' | 'up_read' | 'down_write' | 'up_write'; readonly sem: string; readonly ptr?: LocalName }
  | { readonly op: 'down_read_trylock'; readonly sem: string; readonly errno?: string; readonly ptr?: LocalName }
  /** `if (!mutex_trylock(&lock)) return errno;`: takes a free lock, fails (default `-EBUSY`) on a held one, never waits. */
  | { readonly op: 'mutex_trylock'; readonly lock: string; readonly errno?: string; readonly ptr?: LocalName }
  /**
   * `wait_event(wq, p->field == 0)` (`until: 'zero'`), or `wait_for_completion(&p->done)` (`until: 'nonzero'`):
   * waits until the field is so; with `timeout` (`-ETIMEDOUT`), a bounded wait the explorer may time out while it is not.
   */
  | { readonly op: 'wait'; readonly ptr: LocalName; readonly field: string; readonly until: 'zero' | 'nonzero'; readonly timeout?: string }
  | { readonly op: 'rcu_read_lock' | 'rcu_read_unlock' | 'synchronize_rcu' }
  /** `queue_work(wq, &p->work)`: the work runs later on the kworker, given `p` (and the reference it holds, if any). */
  | { readonly op: 'queue_work'; readonly work: string; readonly ptr: LocalName }
  /** `p->field = to;` (a pointer field; one that holds a reference takes the thread's), or with `to: null`, `p->field = NULL;`. */
  | { readonly op: 'set_link'; readonly ptr: LocalName; readonly field: string; readonly to: LocalName | null }
  /** `into = p->field; p->field = NULL;`, with the reference the field held; or, `get_link`, `into = p->field;` borrowed. */
  | { readonly op: 'take_link' | 'get_link'; readonly ptr: LocalName; readonly field: string; readonly into: LocalName }
  /** `ops->destroy(p)`: every pointer field of `p` that holds a reference gives it back (`refcount_dec(&hwpt->ioas->obj.users)`). */
  | { readonly op: 'put_links'; readonly ptr: LocalName }
  /** `WARN_ON(...)` taken: the kernel prints a warning (the step's name says which) and goes on; with `ptr`, `WARN_ON(p)`: only when `p` is not NULL. */
  | { readonly op: 'warn'; readonly ptr?: LocalName }
  /**
   * `switch (obj->type) { case KIND: ... default: return errno; }`: goes on when `p`'s object is of `kind` (or one of
   * them), else fails with `errno`; without `errno`, it branches to the step's `fail` label (the next `case`).
   */
  | { readonly op: 'is_kind'; readonly ptr: LocalName; readonly kind: string | readonly string[]; readonly errno?: string }
  /** An event to the object's lifecycle machine (`ioasid_free` moving an id to FREE_PENDING): its reply decides the step. */
  | { readonly op: 'send'; readonly ptr: LocalName; readonly event: string }
  /** `rc = errno; goto fail;`: the step always fails with `errno`, down its unwind path (an error a helper's caller replaces). */
  | { readonly op: 'error'; readonly errno: string }
  /** A step the explorer may make fail with `errno` (an allocation, a driver callback), as fail_nth does. */
  | { readonly op: 'fallible'; readonly errno: string }
  /** `if (!p) return errno;`: fails when the local is NULL (a lookup found nothing); without `errno`, a branch to the step's `fail` label. */
  | { readonly op: 'if_null'; readonly ptr: LocalName; readonly errno?: string }
  /** `if (p) return errno;`: fails when the local is not NULL (`if (xa_load(&bonds, id)) return -EBUSY;`); without `errno`, a branch. */
  | { readonly op: 'if_set'; readonly ptr: LocalName; readonly errno?: string }
  /**
   * `p = xa_find(&space, &id, ...)` (from the first id) or, `after`, `xa_find_after`: the next entry, its id into `id`;
   * with none left, `p` is NULL and the step branches to its `fail` label. With a `goto` back to it, `xa_for_each`.
   */
  | { readonly op: 'xa_find'; readonly space: string; readonly id: LocalName; readonly into: LocalName; readonly after?: boolean }
  /** `destroyed = 0;` / `destroyed = 1;`: a local set to a number, or to NULL (a flag `if_null` tests). */
  | { readonly op: 'let'; readonly local: LocalName; readonly to: number | null };

/** The refcount_t calls a step may make. */
export type RefcountCall =
  | 'refcount_inc'
  | 'refcount_inc_not_zero'
  | 'refcount_dec'
  | 'refcount_dec_and_test'
  | 'refcount_dec_if_one'
  /** `refcount_set(.., 1)`. */
  | 'refcount_set';

/** A step: the kernel function it stands for, its action, and where it goes when it fails (`goto fail`). */
export interface Step {
  readonly fn: string;
  readonly action: Action;
  /** The unwind label a failure jumps to; without one, a failure returns its errno at once. */
  readonly fail?: string;
  /** Where `refcount_dec_and_test` goes when it dropped the last reference (`if (..) goto free`). */
  readonly zero?: string;
  /** The block this step belongs to, run as one step (see `atomic`). */
  readonly atomic?: Atomic;
}

/** A block of steps run as one: a helper called under a spinlock (`iommufd_get_object`), traced by its name; each `atomic()` makes its own, however named. */
export interface Atomic {
  readonly fn: string;
  /** The local the block's result is in: the trace shows its object (or the errno the block failed with). */
  readonly result?: LocalName;
}

/** What a call returns: a number, the errno a failed step left, or the id in a local (which the caller keeps). */
export type Return = number | 'errno' | { readonly id: LocalName; readonly space: string; readonly value?: number };

/** A label in a call's list (`out_unlock:`), and the call's returns. */
export type Item = Step | { readonly label: string } | { readonly ret: Return } | { readonly goto: string };

/** A call as the kernel writes it: its name, the ids it is given, and its steps, labels and returns. */
export interface Call {
  readonly name: string;
  /** What the call is given, each an id of an id space: `{ id: 'bufs' }`. */
  readonly args: Readonly<Record<LocalName, string>>;
  readonly items: readonly Item[];
}

/** A step of a call: the kernel function it stands for, its action, and its unwind (`fail`) and last-put (`zero`) labels. */
export const step = (fn: string, action: Action, to: { fail?: string; zero?: string } = {}): Step => ({ fn, action, ...to });
/** A label in a call's list (`out_unlock:`), where unwind paths jump. */
export const label = (name: string): Item => ({ label: name });
/** `goto name;`: on at a later label (the success path of a helper jumping over its error labels), or back to an `xa_find` (`xa_for_each`). */
export const jump = (name: string): Item => ({ goto: name });
/**
 * Steps run as one step of the search, traced as `fn` with the object in
 * `result`: a helper whose body runs under a spinlock no other step of
 * interest interleaves with (SPIN's d_step). A step of it that must wait
 * (a held lock) ends the block there; the rest runs when it can.
 */
export function atomic(fn: string, items: readonly Item[], result?: LocalName): Item[] {
  const block: Atomic = result === undefined ? { fn } : { fn, result };
  return items.map((i) => ('fn' in i ? { ...i, atomic: block } : i));
}
/** `return value;`, or `return err;` with the errno a failed step left. */
export const ret = (value: number | 'errno'): Item => ({ ret: value });
/**
 * `return id;`: the caller keeps the id, and a later call of its with that id is checked for staleness. With `value`,
 * the call returns that (an ioctl's `return rc;`, 0) and hands the id out beside it (`cmd->out_ioas_id = id`), or,
 * when a step failed on the way (error paths sharing the cleanup labels), that step's errno and no id.
 */
export const retId = (local: LocalName, space: string, value?: number): Item => ({ ret: value === undefined ? { id: local, space } : { id: local, space, value } });

/** A call, checked: every label it jumps to exists once, every step is named. */
export function call(name: string, args: Readonly<Record<LocalName, string>>, items: readonly Item[]): Call {
  if (!items.some((i) => 'fn' in i)) throw new DefinitionError(`call '${name}' has no step; give it at least one step(...)`);
  const labels = items.flatMap((i) => ('label' in i ? [i.label] : []));
  const twice = labels.find((l, k) => labels.indexOf(l) !== k);
  if (twice) throw new DefinitionError(`call '${name}': label '${twice}' is defined twice`);
  const labelAt = (l: string) => items.findIndex((j) => 'label' in j && j.label === l);
  items.forEach((i) => {
    if (!('goto' in i)) return;
    if (labelAt(i.goto) < 0) throw new DefinitionError(`call '${name}': goto '${i.goto}', which the call does not have; add label('${i.goto}')`);
  });
  // A jump back must start a round of a loop over a table (an xa_find), whose rounds end with its entries.
  items.forEach((i, k) => {
    const targets = 'goto' in i ? [i.goto] : 'fn' in i ? [i.fail, i.zero] : [];
    for (const t of targets) {
      const at = t === undefined ? -1 : labelAt(t);
      if (at < 0 || at > k) continue;
      const next = items.slice(at).find((j) => 'fn' in j || 'ret' in j || 'goto' in j);
      if (!(next && 'fn' in next && next.action.op === 'xa_find')) {
        throw new DefinitionError(`call '${name}': '${t}' is behind the step that jumps to it; a call jumps back only to an xa_find (a loop over a table), so that every run ends`);
      }
    }
  });
  for (const i of items) {
    if (!('fn' in i)) continue;
    const targets = [i.fail, i.zero];
    const missing = targets.find((t) => t !== undefined && !labels.includes(t));
    if (missing) throw new DefinitionError(`call '${name}': step '${i.fn}' goes to label '${missing}', which the call does not have; add label('${missing}')`);
  }
  return { name, args, items };
}

const stepNamed = (c: Call, fn: string): number => {
  const at = c.items.findIndex((i) => 'fn' in i && i.fn === fn);
  if (at < 0) {
    const known = c.items.flatMap((i) => ('fn' in i ? [i.fn] : []));
    throw new DefinitionError(`call '${c.name}' has no step '${fn}'; its steps: ${known.join(', ')}`);
  }
  return at;
};

/** The call without its step `fn` (a patch that drops a `refcount_inc`). */
export const without = (c: Call, fn: string): Call => call(c.name, c.args, c.items.filter((_, k) => k !== stepNamed(c, fn)));

/** The call with step `fn` replaced by `by`. */
export const replace = (c: Call, fn: string, by: Item): Call => call(c.name, c.args, c.items.map((i, k) => (k === stepNamed(c, fn) ? by : i)));

/** The call with `items` inserted before (or after) step `fn`. */
export function insert(c: Call, where: { before: string } | { after: string }, ...items: Item[]): Call {
  const at = 'before' in where ? stepNamed(c, where.before) : stepNamed(c, where.after) + 1;
  return call(c.name, c.args, [...c.items.slice(0, at), ...items, ...c.items.slice(at)]);
}

/** The call with step `fn`'s failure sent to another unwind label (or none: return the errno at once). */
export function unwindTo(c: Call, fn: string, to: string | undefined): Call {
  return call(
    c.name,
    c.args,
    c.items.map((i, k) => {
      if (k !== stepNamed(c, fn) || !('fn' in i)) return i;
      const { fail: _, ...rest } = i;
      return to === undefined ? rest : { ...rest, fail: to };
    }),
  );
}
