/**
 * Reading trace files: any ITF file whose `#meta` names a lifecheck model,
 * validated by schema (zod) so a foreign or malformed file is one line that
 * says what is missing. Writing is `toItf` plus an atomic write.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { UsageError } from '../registry.ts';
import { SCHEDULERS } from '../explore/schedulers.ts';
import { ITF_SPEC } from './itf.ts';
import type { RecordedStep } from './replay.ts';

const int = z.number().int();
const reply = z.object({ ok: z.boolean(), text: z.string() });

/** ITF itself (ADR-015): vars, and states that each carry every var. */
const itfSchema = z
  .object({
    '#meta': z.record(z.string(), z.unknown()).optional(),
    vars: z.array(z.string()),
    states: z.array(z.record(z.string(), z.unknown())).min(1, 'an ITF trace has at least one state'),
  })
  .superRefine((t, ctx) => {
    t.states.forEach((s, i) => {
      const missing = t.vars.find((v) => !(v in s));
      if (missing !== undefined) ctx.addIssue({ code: 'custom', path: ['states', i], message: `lacks var '${missing}' listed in vars` });
    });
  });

const boundsSchema = z.object({
  threads: int.min(1),
  ops: int.min(1),
  ids: z.object({ min: int.min(0), max: int.min(1) }).refine((ids) => ids.min <= ids.max, 'has min above max'),
  only: z.record(z.string(), z.array(z.string())).optional(),
});

/** What lifecheck needs in the top `#meta` to replay a trace. */
const originSchema = z.object({
  model: z.string(),
  variant: z.string(),
  property: z.string(),
  bounds: boundsSchema,
  module: z.string().optional(),
  explorer: z.enum(['random', 'exhaustive']).optional(),
  seed: int.optional(),
  path: z.string().regex(/^\d+(:\d+)*$/, 'is not a fast-check path').optional(),
  scheduler: z.enum(SCHEDULERS).optional(),
  depth: int.min(1).optional(),
  actions: z.array(int.min(0)).optional(),
  symmetry: z.boolean().optional(),
  version: z.string().optional(),
  violation: z.object({ property: z.string(), at: int.min(0), message: z.string() }).optional(),
});

/** What lifecheck needs in each later state's `#meta`: the step that led to it. */
const stepSchema = z.object({
  thread: int.min(0),
  op: z.string(),
  args: z.array(z.union([z.number(), z.string()])),
  reply: reply.optional(),
});

export type TraceOriginIn = z.infer<typeof originSchema>;

/** A trace file as read: where it came from, its steps, and the states it recorded. */
export interface TraceFile {
  readonly path: string;
  readonly origin: TraceOriginIn;
  readonly steps: readonly RecordedStep[];
  readonly vars: readonly string[];
  /** State i's recorded vars (index 0: the initial world). */
  readonly states: readonly Record<string, unknown>[];
}

/** `states[3].#meta.op` rather than `states.3.#meta.op`. */
function where(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'the file';
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : /^#?[A-Za-z_]\w*$/.test(String(k)) ? `${i ? '.' : ''}${String(k)}` : `['${String(k)}']`)).join('');
}

function firstIssue(error: z.ZodError, prefix: readonly PropertyKey[] = []): string {
  const issue = error.issues[0]!;
  const message = issue.code === 'invalid_type' && /received undefined/.test(issue.message) ? 'is missing' : issue.message.replace(/^Invalid input: /, '');
  return `${where([...prefix, ...issue.path])} ${message}`;
}

/** Who wrote a foreign ITF file, from the fields Apalache and Quint leave in `#meta`. */
function writer(meta: Record<string, unknown> | undefined): string {
  const said = [meta?.['description'], meta?.['source']].find((x) => typeof x === 'string') as string | undefined;
  return said ? ` (it says: ${said.length > 60 ? `${said.slice(0, 57)}...` : said})` : '';
}

/** Reads and validates a trace file (`-`: standard input); every problem is a UsageError naming the file. */
export function readTraceFile(path: string): TraceFile {
  const stdin = path === '-';
  const fail = (what: string): never => {
    throw new UsageError(`${stdin ? 'standard input' : path}: ${what}`);
  };
  if (!stdin && !existsSync(path)) fail('no such trace file; give the path of a .itf.json file (lifecheck check --out DIR writes them)');
  if (!stdin && statSync(path).isDirectory()) fail('is a folder; give the path of a .itf.json file in it');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(stdin ? 0 : path, 'utf8'));
  } catch (e) {
    const why = (e as Error).message.split('\n')[0];
    fail(e instanceof SyntaxError ? `not JSON (${why}); a trace file is ITF JSON` : `cannot read it (${why})`);
  }
  const itf = itfSchema.safeParse(json);
  if (!itf.success) fail(`not an ITF trace: ${firstIssue(itf.error)} (see ${ITF_SPEC})`);
  const { '#meta': meta, vars, states } = itf.data!;
  if (typeof meta?.['model'] !== 'string') {
    fail(`an ITF trace, but not from a lifecheck model: its #meta names no model${writer(meta)}; replay and show read traces that lifecheck check --out writes`);
  }
  const origin = originSchema.safeParse(meta);
  if (!origin.success) fail(`not a trace lifecheck can replay: ${firstIssue(origin.error, ['#meta'])}`);
  const steps = states.slice(1).map((s, i) => {
    const step = stepSchema.safeParse(s['#meta']);
    if (!step.success) fail(`step ${i + 1} cannot be replayed: ${firstIssue(step.error, ['states', i + 1, '#meta'])}`);
    return step.data!;
  });
  const at = origin.data!.violation?.at;
  if (at !== undefined && at > steps.length) fail(`#meta.violation is at step ${at}, but the trace has ${steps.length} steps; is the file cut short?`);
  const plain = states.map(({ '#meta': _, ...vs }) => vs);
  return { path, origin: origin.data!, steps, vars, states: plain };
}
