/**
 * A kit model: a `KitSpec` per variant (kinds, id spaces, locks, calls) made
 * into an engine model, with the stock properties, a presenter that prints
 * each step as the kernel function it stands for, and the refcount machine
 * for diagrams and coverage. A variant's config is its whole spec, so a
 * patch is the base spec with a call changed.
 */
import { defineModel } from '../engine/define.ts';
import type { Bounds, Model, Presenter, Property, Reply, Step as EngineStep, Variant } from '../engine/model.ts';
import { kitChanges } from './changes.ts';
import { moveForms, stockProperties, wordForms } from './properties.ts';
import { callMachine } from './callMachine.ts';
import { refcountMachine } from './refcount.ts';
import { kitSystem } from './schedule.ts';
import { checkSpec } from './validate.ts';
import type { Action, Step } from './calls.ts';
import { actor, callOf, nextStep, objName, type KitSpec, type KitWorld, type Ptr } from './world.ts';

/**
 * What `defineKitModel` takes: names, default bounds, the model's own
 * properties, and its variants, each a `KitSpec` (or a spec of the model's
 * own that extends it, carrying what its properties read).
 */
export interface KitModelSpec<S extends KitSpec = KitSpec> {
  readonly name: string;
  readonly title: string;
  readonly source: string;
  /** Threads, calls per thread (`ops`), and the id range every id space uses. */
  readonly defaults: Bounds;
  /** Why bounds mean nothing for this model (an id it never allocates), as `Model.checkBounds`. */
  readonly checkBounds?: (bounds: Bounds) => string | undefined;
  /** The model's own properties, beside the stock ones. */
  readonly properties?: readonly Property<KitWorld, S>[];
  /** The search `check` runs by default (see `Model.search`). */
  readonly search?: 'random' | 'exhaustive';
  readonly variants: (model: Model<KitWorld, S>) => readonly Variant<S>[];
}

/** The local an action works on: its pointer, or what it allocates or loads into. */
const localOf = (a: Action): string | undefined => ('ptr' in a && a.ptr !== undefined ? a.ptr : 'into' in a ? a.into : undefined);

/** The object a step works on: the pointer its action names (a block's result, or its first step that names one), before or (for an allocation) after it. */
function subjectOf(spec: KitSpec, step: EngineStep, before: KitWorld, after: KitWorld): string | undefined {
  const next = nextStep(spec, before, step);
  const th = before.threads[step.thread]!;
  const c = callOf(spec, th.call ?? step.op);
  const block = next.atomic ? c.items.slice(c.items.indexOf(next)).filter((i): i is Step => 'fn' in i && i.atomic === next.atomic) : [next];
  const local = next.atomic?.result ?? block.map((i) => localOf(i.action)).find((l) => l !== undefined);
  const frameOf = (w: KitWorld) => w.threads[step.thread]!.frame;
  const p = local === undefined ? undefined : ((frameOf(before)[local] ?? frameOf(after)[local]) as Ptr | number | null | undefined);
  return p !== null && typeof p === 'object' ? objName(p.kind, p.slot) : changedObject(before, after);
}

/** The first object a step changed (made, freed, or moved a field, link or phase of): a returning block's subject, its frame gone. */
function changedObject(before: KitWorld, after: KitWorld): string | undefined {
  for (const [kind, slots] of Object.entries(after.objects)) {
    const k = slots.findIndex((o, slot) => o !== before.objects[kind]![slot] && JSON.stringify(o) !== JSON.stringify(before.objects[kind]![slot]));
    if (k >= 0) return objName(kind, k);
  }
  return undefined;
}

function stateOf(world: KitWorld, subject: string): string {
  const [kind, n] = subject.split(' ');
  const o = world.objects[kind!]?.[Number(n) - 1];
  if (!o) return '';
  if (o.state === 'free') return 'freed';
  const links = Object.entries(o.links).flatMap(([f, e]) => (e ? [`${f}=${objName(e.kind, e.slot)}`] : []));
  const fields = [...Object.entries(o.fields).map(([f, v]) => `${f}=${v}`), ...links].join(' ');
  return `${o.state === 'rcu' ? 'kfree_rcu queued' : (o.phase ?? 'live')}${fields ? ` ${fields}` : ''}`;
}

function presenter<S extends KitSpec>(): Presenter<KitWorld, S> {
  return {
    call: (step: EngineStep, reply: Reply, before: KitWorld, spec: S) => {
      const th = before.threads[step.thread]!;
      const ids = step.args.filter((a) => typeof a === 'number');
      const starts = th.call === null ? `${step.op}(${ids.join(',')}): ` : '';
      const next = nextStep(spec, before, step);
      const failing = step.args.some((a) => typeof a === 'string');
      const injected = !failing ? '' : next.action.op === 'wait' ? ' (times out)' : ' (made to fail)';
      return `${starts}${next.atomic?.fn ?? next.fn}${injected} = ${reply.text}`;
    },
    subject: (step, _reply, before, after, spec) => subjectOf(spec, step, before, after),
    state: (world, subject) => stateOf(world, subject),
    thread: (index, init) => actor(init, index),
    changes: (before, after, spec) => kitChanges(spec, before, after),
  };
}

/** A model built with the kit: the stock properties and the engine's own come with it. */
export function defineKitModel<S extends KitSpec = KitSpec>(spec: KitModelSpec<S>): Model<KitWorld, S> {
  return defineModel<KitWorld, S>({
    name: spec.name,
    title: spec.title,
    source: spec.source,
    defaults: spec.defaults,
    properties: [...stockProperties, ...(spec.properties ?? [])],
    ...(spec.search ? { search: spec.search } : {}),
    ...(spec.checkBounds ? { checkBounds: spec.checkBounds } : {}),
    present: presenter(),
    choices: (config) => ({ calls: Object.keys(config.calls) }),
    machines: (config, bounds) => ({
      // Each kind's lifecycle: drawn by the review, its transitions counted by coverage.
      ...Object.fromEntries(
        Object.entries(config.kinds).flatMap(([kind, k]) => (k.machine ? [[kind, { machine: k.machine, object: kind, ...(k.events ? { calls: k.events } : {}) }]] : [])),
      ),
      // refcount_t, where a kind has one.
      ...(Object.values(config.kinds).some((k) => Object.values(k.fields).some((f) => f.type === 'refcount'))
        ? {
            refcount: {
              machine: refcountMachine,
              object: 'refcount_t',
              calls: { SET_ONE: 'refcount_set(.., 1)', INC: 'refcount_inc', INC_NOT_ZERO: 'refcount_inc_not_zero', DEC_AND_TEST: 'refcount_dec_and_test', DEC_IF_ONE: 'refcount_dec_if_one', DEC: 'refcount_dec' },
            },
          }
        : {}),
      // Each call and work as the machine of its steps: drawn by the review, and its unreached steps reported.
      ...Object.fromEntries(
        [
          ...Object.values(config.calls).filter((c) => !bounds?.only?.calls || bounds.only.calls.includes(c.name)),
          ...Object.values(config.works ?? {}),
          ...(config.exit ? [config.exit] : []),
        ].map((c) => [
          c.name,
          { machine: callMachine(c), object: `run of ${c.name}`, calls: { NEXT: 'goes on', FAIL: 'fails', ZERO: 'drops the last reference' }, starvable: true },
        ]),
      ),
    }),
    system: (config, bounds) => {
      checkSpec(config);
      return kitSystem(config, bounds, { forms: { worlds: wordForms, moves: moveForms } });
    },
    variants: spec.variants,
  });
}
