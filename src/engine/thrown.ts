/**
 * Model code that throws during a search: an error in the model, never a
 * verdict. Whoever catches the throw adds what it knows (the property, the
 * step, the variant), so the one line a user reads says where it happened,
 * what was thrown and, from the stack, the model's file and line.
 */
import { DefinitionError } from './define.ts';
import { placeText, userFrame } from './frames.ts';
import type { Step } from './model.ts';

/** Where in a search the model threw. */
export interface ThrownAt {
  /** The variant being checked, as `model --variant name`. */
  readonly variant?: string;
  /** 1-based index of the step that threw, or whose world a check threw on (0: the initial world). */
  readonly at?: number;
  readonly step?: Step;
  /** How a step's thread is called (`CPU1`); `thread 1` when absent. */
  readonly actor?: string;
  readonly property?: string;
  /** What threw when it was not the step or a property: `enabled`, `the initial world`, ... */
  readonly part?: string;
}

export class ModelError extends DefinitionError {
  override name = 'ModelError';

  constructor(
    readonly where: ThrownAt,
    readonly thrown: unknown,
  ) {
    super(describe(where, thrown));
  }

  /** This error with more of its context known (keeps what is already known). */
  with(more: ThrownAt): ModelError {
    return new ModelError({ ...more, ...this.where }, this.thrown);
  }
}

/** `e` as a ModelError that knows `where`: a first throw is wrapped, a ModelError learns more context. */
export function modelError(e: unknown, where: ThrownAt): ModelError {
  return e instanceof ModelError ? e.with(where) : new ModelError(where, e);
}

function describe(w: ThrownAt, thrown: unknown): string {
  const step = w.step ? `${w.actor ?? `thread ${w.step.thread}`} ${w.step.op}(${w.step.args.join(',')})` : undefined;
  const at = w.at === undefined ? '' : w.at === 0 ? ' on the initial world' : ` at step ${w.at}`;
  const what = w.property
    ? `property '${w.property}'${at}`
    : step
      ? `step ${w.at ?? '?'} (${step})`
      : `${w.part ?? 'the model'}${at}`;
  const variant = w.variant ? `${w.variant}: ` : '';
  // A refusal (a machine lifecheck cannot step) says what to mend; where it was met comes after.
  if (thrown instanceof DefinitionError) return `${variant}${thrown.message}${step ? ` (met at step ${w.at}, ${step})` : ''}`;
  const place = whereThrown(thrown);
  return `${variant}${what} threw ${thrownText(thrown)}${place ? ` (${place})` : ''}`;
}

function thrownText(thrown: unknown): string {
  // One line: xstate puts a guard's own message on the line after its own.
  if (thrown instanceof Error) return `${thrown.name}: ${thrown.message.trim().replace(/\s*\n\s*/g, ' ')}`;
  return String(thrown);
}

// The engine's own frames are skipped: a built-in model's are where its mistakes are.
const ENGINE = [new URL('..', import.meta.url).href];

/** The model's file and line the error was thrown at, when its stack names one. */
export function whereThrown(thrown: unknown): string | undefined {
  const place = thrown instanceof Error && thrown.stack ? userFrame(thrown.stack, ENGINE) : undefined;
  return place && placeText(place);
}
