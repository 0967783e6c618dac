/**
 * Traces in the Informal Trace Format (ITF, Apalache ADR-015), the JSON that
 * Apalache and Quint write and the ITF viewers read: `vars`, one state per
 * step with every var, values tagged (`#bigint`, `#map`, `#set`, `#tup`).
 * lifecheck's own facts ride in `#meta`: the trace's origin at the top, and
 * in each state the step that led to it, which is what replay re-executes.
 */
import type { Arg, Bounds, Presenter, Reply } from '../engine/model.ts';
import type { Trace, Violation } from '../engine/run.ts';
import type { Scheduler } from '../explore/schedulers.ts';
import { worldVars } from './changes.ts';
import { encode, typeName, typeOf, unify, type ItfType, type ItfValue } from './itf-types.ts';

export type { ItfValue } from './itf-types.ts';
import { traceRows } from './text.ts';

export const ITF_SPEC = 'https://apalache-mc.org/docs/adr/015adr-trace.html';

const INTEGER_KEY = /^(0|-?[1-9]\d*)$/;

/**
 * A plain value as ITF: integers as `#bigint`, arrays as lists, `Map` and
 * objects keyed by integers (an id table, also when empty) as `#map`, `Set`
 * as `#set`, other objects as records. Absent fields are left out; `null`
 * and non-integer numbers have no ITF form (`#unserializable`).
 */
export function itfValue(x: unknown): ItfValue {
  if (typeof x === 'number') {
    // ITF has integers only: a fraction, NaN or Infinity is no ITF value.
    return Number.isInteger(x) ? { '#bigint': BigInt(x).toString() } : { '#unserializable': String(x) };
  }
  if (typeof x === 'string' || typeof x === 'boolean') return x;
  if (typeof x === 'bigint') return { '#bigint': String(x) };
  if (x === null || x === undefined || typeof x !== 'object') return { '#unserializable': String(x) };
  if (Array.isArray(x) || ArrayBuffer.isView(x)) return Array.from(x as ArrayLike<unknown>, itfValue);
  if (x instanceof Set) return { '#set': [...x].map(itfValue) };
  if (x instanceof Map) return { '#map': [...x].map(([k, v]) => [itfValue(k), itfValue(v)] as const) };
  const entries = Object.entries(x).filter(([, v]) => v !== undefined);
  // An empty object is an empty id table (a record with no fields has no use in a world), so one type per var.
  if (entries.every(([k]) => INTEGER_KEY.test(k))) {
    return { '#map': entries.map(([k, v]) => [itfValue(Number(k)), itfValue(v)] as const) };
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, itfValue(v)]));
}

/** Where a trace came from: what `lifecheck replay` needs to run it again. */
export interface TraceOrigin {
  readonly version: string;
  readonly model: string;
  readonly variant: string;
  readonly property: string;
  /** The user's module that defines the variant, relative to the trace file's folder. */
  readonly module?: string;
  readonly bounds: Bounds;
  readonly explorer: 'random' | 'exhaustive';
  /** The random explorer's replay: `--seed`, `--path`, and `--scheduler` (with `--pct-depth`) where not the default. */
  readonly seed?: number;
  readonly path?: string;
  readonly scheduler?: Scheduler;
  readonly depth?: number;
  /** The exhaustive explorer's path: each step's index among the steps enabled before it. */
  readonly actions?: readonly number[];
  readonly symmetry?: boolean;
  readonly violation: Violation;
}

/** A step as a trace file records it in its state's `#meta`. */
export interface StepMeta {
  readonly index: number;
  readonly thread: number;
  readonly actor: string;
  readonly op: string;
  readonly args: readonly Arg[];
  readonly function: string;
  readonly call: string;
  readonly reply: Reply;
  readonly subject?: string;
  readonly state?: string;
}

/** A trace in the Informal Trace Format (Apalache ADR-015), as `check --out` writes it. */
export interface ItfTrace {
  readonly '#meta': Record<string, unknown>;
  readonly vars: readonly string[];
  readonly states: readonly Record<string, unknown>[];
}

/**
 * Worlds' vars as ITF states with one type per var (`itf-types.ts`), inferred over all of them: the vars, each
 * var's type as Apalache spells it, and each world's values. A var some world lacks is an option.
 */
export function typedStates(worlds: readonly Readonly<Record<string, unknown>>[]): {
  vars: string[];
  varTypes: Record<string, string>;
  states: Record<string, ItfValue>[];
} {
  const vars = [...new Set(worlds.flatMap((w) => Object.keys(w).filter((k) => w[k] !== undefined)))];
  const types = new Map<string, ItfType>(vars.map((v) => [v, worlds.map((w) => typeOf(w[v] ?? null)).reduce(unify)]));
  return {
    vars,
    varTypes: Object.fromEntries(vars.map((v) => [v, typeName(types.get(v))])),
    states: worlds.map((w) => Object.fromEntries(vars.map((v) => [v, encode(w[v] ?? null, types.get(v)!)]))),
  };
}

/** The kernel function a rendered call names (its first `name(`), else the step's operation. */
const functionOf = (call: string, op: string) => {
  // A kit call's first line starts with the call it begins (`alloc(): ioasid_alloc(set, ...)`): the kernel function is the step's.
  const step = call.startsWith(`${op}(`) ? call.replace(/^[^:]*\): /, '') : call;
  return /([A-Za-z_]\w*)\(/.exec(step)?.[1] ?? op;
};

/** The ITF form of a counterexample: every state has every var, each var of one type (`#meta.varTypes`). */
export function toItf<W, C>(trace: Trace<W>, present: Presenter<W, C>, config: C, origin: TraceOrigin): ItfTrace {
  const worlds = [trace.init, ...trace.steps.map((s) => s.world)].map((w) => worldVars(present, w));
  const { vars, varTypes, states } = typedStates(worlds);
  const rows = traceRows(trace, present, config);
  const stepMeta = (i: number): StepMeta => {
    const { step, reply } = trace.steps[i]!;
    const { call, subject, state } = rows[i]!;
    return {
      index: i + 1,
      thread: step.thread,
      actor: present.thread(step.thread, trace.init),
      op: step.op,
      args: step.args,
      function: functionOf(call, step.op),
      call,
      reply,
      ...(subject ? { subject, state } : {}),
    };
  };
  const { violation, ...rest } = origin;
  return {
    '#meta': {
      format: 'ITF',
      'format-description': ITF_SPEC,
      description: `${origin.model} --variant ${origin.variant} breaks ${origin.property} at step ${violation.at}: ${violation.message}`,
      tool: 'lifecheck',
      ...rest,
      violation,
      varTypes,
    },
    vars,
    states: states.map((s, i) => ({ '#meta': i === 0 ? { index: 0 } : stepMeta(i - 1), ...s })),
  };
}

/** The file a counterexample is written to: `<model>-<variant>-<property>.itf.json`, or `.txt` for its text rendering. */
export const traceFileName = (model: string, variant: string, property: string, ext: 'itf.json' | 'txt' = 'itf.json') =>
  `${model}-${variant}-${property}.${ext}`;

/** The file's text: `#meta` indented for people, one state per line so that traces diff step by step. */
export function itfText(itf: ItfTrace): string {
  const meta = JSON.stringify(itf['#meta'], null, 2).replace(/\n/g, '\n  ');
  const states = itf.states.map((s) => `    ${JSON.stringify(s)}`).join(',\n');
  return `{\n  "#meta": ${meta},\n  "vars": ${JSON.stringify(itf.vars)},\n  "states": [\n${states}\n  ]\n}\n`;
}
