/**
 * A machine's transitions as data: every (state, event, guard) edge of a flat
 * xstate machine, in definition order, read from the machine itself. The
 * diagrams draw them; coverage counts which of them the explorers fired.
 */
import type { AnyMachineSnapshot, AnyStateMachine, EventObject } from 'xstate';
import { DefinitionError } from './define.ts';

/** A transition of a machine as a reader names it. */
export interface Edge {
  readonly from: string;
  readonly to: string;
  readonly event: string;
  /** The guard by name (`lastRef`, `a && b`), or undefined when there is none. */
  readonly guard?: string;
  /** The reply the transition writes (`-EBUSY`, `true`), if it writes one. */
  readonly reply?: string;
}

interface GuardLike {
  readonly type?: string;
  readonly name?: string;
  readonly guards?: readonly unknown[];
}

/** A guard's name: a named guard's type, xstate's `and`/`or`/`not` spelled out, an inline one as `guard`. */
export function guardName(guard: unknown): string | undefined {
  if (guard === undefined) return undefined;
  if (typeof guard === 'string') return guard;
  const g = guard as GuardLike;
  if (g.guards && (g.name === 'and' || g.name === 'or')) return g.guards.map(operand).join(g.name === 'and' ? ' && ' : ' || ');
  if (g.guards && g.name === 'not') return `!${operand(g.guards[0])}`;
  return g.type ?? 'guard';
}

/** A guard inside another: compound ones in parentheses, so `and(a, or(b, c))` reads `a && (b || c)`. */
function operand(guard: unknown): string | undefined {
  const g = guard as GuardLike | undefined;
  const compound = g?.guards !== undefined && (g.name === 'and' || g.name === 'or');
  return compound ? `(${guardName(guard)})` : guardName(guard);
}

interface TransitionLike {
  readonly target?: readonly { readonly key: string }[];
  readonly guard?: unknown;
  readonly actions?: readonly unknown[];
}

interface StateNodeLike {
  readonly on: Readonly<Record<string, readonly TransitionLike[]>>;
}

/** The reply a transition's `reply` action gives (see `ok`/`err` in src/engine/machine.ts). */
function replyOf(t: TransitionLike): string | undefined {
  const reply = t.actions?.find((a) => (a as { type?: string }).type === 'reply') as { params?: { text?: string } } | undefined;
  return reply?.params?.text;
}

/** The state a machine starts in, if it names one. */
export const initialOf = (machine: AnyStateMachine): string | undefined => (machine.root.initial as { target?: readonly { key: string }[] } | undefined)?.target?.[0]?.key;

/** Every transition of a flat machine, in definition order; a targetless one is a self-loop. */
export function machineEdges(machine: AnyStateMachine): Edge[] {
  return edgesOf(machine).edges;
}

const known = new WeakMap<AnyStateMachine, { edges: Edge[]; index: Map<unknown, number> }>();

/** The edges of a machine and, for each of xstate's transition definitions, its edge's index (memoized). */
function edgesOf(machine: AnyStateMachine): { edges: Edge[]; index: Map<unknown, number> } {
  const cached = known.get(machine);
  if (cached) return cached;
  const index = new Map<unknown, number>();
  const edges: Edge[] = [];
  // Transitions on the machine itself would apply in every state; nothing here would draw or count them.
  if (Object.keys((machine.root as unknown as StateNodeLike).on).length > 0) {
    throw new DefinitionError(`machine '${machine.id}': transitions on the machine itself are not supported; put them on its states`);
  }

  const states = machine.root.states as unknown as Record<string, StateNodeLike>;
  for (const [from, node] of Object.entries(states)) {
    for (const [event, transitions] of Object.entries(node.on)) {
      for (const t of transitions) {
        const guard = guardName(t.guard);
        const reply = replyOf(t);
        index.set(t, edges.length);
        edges.push({ from, to: t.target?.[0]?.key ?? from, event, ...(guard ? { guard } : {}), ...(reply !== undefined ? { reply } : {}) });
      }
    }
  }
  const result = { edges, index };
  known.set(machine, result);
  return result;
}

/** The index of the edge `event` takes from `snapshot`, or -1 when the state has no transition for it. */
export function edgeTaken(machine: AnyStateMachine, snapshot: AnyMachineSnapshot, event: EventObject): number {
  const [taken] = machine.getTransitionData(snapshot, event);
  return taken ? (edgesOf(machine).index.get(taken) ?? -1) : -1;
}

