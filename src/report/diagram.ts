/**
 * State diagrams drawn from the machines themselves: a Mermaid
 * `stateDiagram-v2` with every state, and every transition labelled with its
 * event, its guard by name and the reply it gives. Change a machine and its
 * diagram follows; nothing here is drawn by hand.
 */
import type { AnyStateMachine } from 'xstate';

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
  if (g.guards && (g.name === 'and' || g.name === 'or')) return g.guards.map(guardName).join(g.name === 'and' ? ' && ' : ' || ');
  if (g.guards && g.name === 'not') return `!${guardName(g.guards[0])}`;
  return g.type ?? 'guard';
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

/** Every transition of a flat machine, in definition order; a targetless one is a self-loop. */
export function machineEdges(machine: AnyStateMachine): Edge[] {
  const states = machine.root.states as unknown as Record<string, StateNodeLike>;
  return Object.entries(states).flatMap(([from, node]) =>
    Object.entries(node.on).flatMap(([event, transitions]) =>
      transitions.map((t): Edge => {
        const guard = guardName(t.guard);
        const reply = replyOf(t);
        return { from, to: t.target?.[0]?.key ?? from, event, ...(guard ? { guard } : {}), ...(reply !== undefined ? { reply } : {}) };
      }),
    ),
  );
}

/** How an edge reads: `FREE [lastRef] / freed`. */
export const edgeLabel = (e: Edge) => `${e.event}${e.guard ? ` [${e.guard}]` : ''}${e.reply !== undefined ? ` / ${e.reply || '(void)'}` : ''}`;

/** Mermaid reads `;` and `#` in labels as markup. */
const label = (s: string) => s.replace(/[#;]/g, (c) => `#${c.charCodeAt(0)};`);

/** The machine as a Mermaid `stateDiagram-v2`. */
export function stateDiagram(machine: AnyStateMachine): string {
  const initial = (machine.root.initial as { target?: readonly { key: string }[] } | undefined)?.target?.[0]?.key;
  return [
    'stateDiagram-v2',
    ...(initial ? [`    [*] --> ${initial}`] : []),
    ...machineEdges(machine).map((e) => `    ${e.from} --> ${e.to}: ${label(edgeLabel(e))}`),
  ].join('\n');
}
