// @vitest-environment jsdom
/**
 * State diagrams are drawn from the xstate machines: every built-in machine's
 * diagram is Mermaid that mermaid itself reads back as exactly the machine's
 * states and edges, and a changed machine draws a changed diagram (shown on
 * the IOASID lifecycle and on the test slot of test/helpers/machines.ts).
 */
import mermaid from 'mermaid';
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { and, assign, not, or, setup, type AnyStateMachine } from 'xstate';
import { ok, type Reply } from 'lifecheck';
import { builtInModels, ioasid, ioasidMachine } from 'lifecheck/models';
import { guardName, machineEdges } from '../../src/engine/edges.ts';
import { edgeLabel, LABEL_BREAK, stateDiagram } from '../../src/report/diagram.ts';
import { slotDefinition, slotFreeEveryCall, slotMachine, slotSetup, slotStates } from '../helpers/machines.ts';
import { variantOf } from '../helpers/variants.ts';

interface Relation {
  readonly id1: string;
  readonly id2: string;
  readonly relationTitle?: string;
}

/** What mermaid reads from a diagram: its type, its states (`[*]` is `root_start`) and its transitions. */
async function mermaidReads(text: string) {
  const { diagramType } = await mermaid.parse(text);
  // The state diagram's database is not public API, but it is what mermaid would draw.
  const { db } = await mermaid.mermaidAPI.getDiagramFromText(text);
  const state = db as unknown as { getStates(): Map<string, unknown>; getRelations(): Relation[] };
  // A state whose name Mermaid cannot take as an id is declared `state "name" as s3`: read it back by its name.
  const names = new Map([...text.matchAll(/^ {4}state "(.*)" as (\w+)$/gm)].map((m) => [m[2]!, shown(m[1]!.replace(/#quot;/g, '"').replace(/#(\d+);/g, (_, c: string) => String.fromCharCode(Number(c))))]));
  const named = (id: string) => names.get(id) ?? id;
  const relations = state.getRelations().map((r) => ({ ...r, id1: named(r.id1), id2: named(r.id2) }));
  return { diagramType, states: [...state.getStates().keys()].map(named), relations };
}

/**
 * Mermaid keeps an entity such as `#59;` as a placeholder until it renders, and a label with a line break is HTML
 * (`&&` kept as `&amp;&amp;`); this is the text it will show.
 */
const shown = (title: string | undefined) =>
  (title ?? '')
    .replace(/ﬂ°°(\d+)¶ß/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/&(amp|lt|gt);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>' })[e]!);

const initialOf = (machine: AnyStateMachine) => String(machine.config.initial);

/** An edge's transitions, as its label's lines show them. */
const transitionsOf = (title: string | undefined) => shown(title).split(LABEL_BREAK);

/** The lines of a diagram's edge from `from` to `to`: its transitions' labels. */
const edgeLines = (lines: readonly string[], from: string, to: string) =>
  lines.find((l) => l.startsWith(`    ${from} --> ${to}: `))?.slice(`    ${from} --> ${to}: `.length).split(LABEL_BREAK);

/**
 * Every machine of every variant of every built-in model, one per distinct
 * diagram, with every `model.machine` that draws it (the kit's refcount_t
 * machine is the same in ioasid and iommufd).
 */
function builtInDiagrams(): [name: string, machine: AnyStateMachine, text: string, drawnFor: Set<string>][] {
  const byText = new Map<string, [string, AnyStateMachine, string, Set<string>]>();
  for (const model of builtInModels) {
    for (const variant of model.variants) {
      for (const [name, info] of Object.entries(model.machines?.(variant.config) ?? {})) {
        const text = stateDiagram(info.machine);
        if (!byText.has(text)) byText.set(text, [`${model.name}.${name} (${variant.name})`, info.machine, text, new Set()]);
        byText.get(text)![3].add(`${model.name}.${name}`);
      }
    }
  }
  return [...byText.values()];
}

const diagrams = builtInDiagrams();

describe('stateDiagram of every built-in machine', () => {
  it('covers every machine the built-in models declare', () => {
    const drawn = new Set(diagrams.flatMap(([, , , drawnFor]) => [...drawnFor]));
    for (const model of builtInModels) {
      for (const variant of model.variants) {
        for (const [name, info] of Object.entries(model.machines?.(variant.config) ?? {})) {
          expect(diagrams.find(([, , text]) => text === stateDiagram(info.machine))?.[3], `${model.name}.${name} (${variant.name})`).toContain(`${model.name}.${name}`);
        }
      }
    }
    const iommufd = builtInModels.find((m) => m.name === 'iommufd')!;
    const iommufdCalls = Object.keys(iommufd.machines!(iommufd.variants.at(-2)!.config)).map((n) => `iommufd.${n}`);
    const ioasidMachines = ['ioasid', 'ioasid_set', 'refcount', 'alloc', 'free', 'bind', 'unbind', 'find', 'set_free', 'guests_exit'].map((n) => `ioasid.${n}`);
    expect([...drawn]).toEqual(expect.arrayContaining(['ioasid-bench.slot', ...ioasidMachines, ...iommufdCalls]));
  });

  it("declares ioasid's machines per variant: each object's lifecycle where it has one, refcount_t, each call", () => {
    const names = (variant: string) => Object.keys(ioasid.machines!(variantOf(ioasid, variant).config));
    const calls = ['alloc', 'free', 'bind', 'unbind', 'find'];
    // 000 has no IOASID states (nor refcounts, though the kit lists its refcount_t machine for every variant); the series has them.
    expect(names('v1')).toEqual([...calls, 'guests_exit']);
    expect(names('series')).toEqual(['ioasid', 'refcount', ...calls, 'guests_exit']);
    // Sets as objects (dcp) add the set's lifecycle and ioasid_set_free.
    expect(names('set-mandatory')).toEqual(['ioasid', 'ioasid_set', 'refcount', ...calls, 'set_free', 'guests_exit']);
  });

  it.each(diagrams)('%s parses as a Mermaid state diagram', async (_name, _machine, text) => {
    expect(text.split('\n')[0]).toBe('stateDiagram-v2');
    await expect(mermaid.parse(text)).resolves.toMatchObject({ diagramType: 'stateDiagram' });
  });

  it.each(diagrams)('%s reads back as exactly the machine: its initial state, every state, every transition on one edge per pair of states', async (_name, machine, text) => {
    const edges = machineEdges(machine);
    const read = await mermaidReads(text);
    expect(read.relations[0]).toMatchObject({ id1: 'root_start', id2: initialOf(machine) });
    const drawn = read.relations.slice(1);
    // Mermaid draws a pair's edges over one another: one edge per pair, so none hides another's label.
    expect(new Set(drawn.map((r) => `${r.id1} ${r.id2}`)).size).toBe(drawn.length);
    // Every transition's label is on its pair's edge, once, in the machine's order.
    const labels = drawn.flatMap((r) => transitionsOf(r.relationTitle).map((label) => ({ from: r.id1, to: r.id2, label })));
    expect(labels).toHaveLength(edges.length);
    const key = (x: { from: string; to: string; label: string }) => `${x.from} --> ${x.to}: ${x.label}`;
    expect(labels.map(key).sort()).toEqual(edges.map((e) => key({ from: e.from, to: e.to, label: edgeLabel(e) })).sort());
    for (const r of drawn) expect(transitionsOf(r.relationTitle)).toEqual(edges.filter((e) => e.from === r.id1 && e.to === r.id2).map(edgeLabel));
    expect(new Set(read.states)).toEqual(new Set(['root_start', ...Object.keys(machine.root.states)]));
    // The header, a line per state, the initial arrow and a line per pair of states joined, nothing else.
    expect(text.split('\n')).toHaveLength(2 + Object.keys(machine.root.states).length + drawn.length);
  });
});

describe("the IOASID series' lifecycle (ioasidMachine)", () => {
  const lines = stateDiagram(ioasidMachine).split('\n');

  it('starts idle, and draws its known edges', () => {
    expect(lines.slice(1, 4)).toEqual(['    idle', '    freePending', '    [*] --> idle']);
    expect(edgeLines(lines, 'idle', 'idle')).toContain('GET / 0');
    expect(edgeLines(lines, 'idle', 'freePending')).toContain('FREE / FREE_PENDING');
    expect(edgeLines(lines, 'freePending', 'freePending')).toContain('GET / -EBUSY');
  });

  it("draws an event's branches in the order xstate tries them", () => {
    expect(edgeLines(lines, 'freePending', 'freePending')!.filter((l) => l.startsWith('FREE'))).toEqual([
      'FREE [freeDropsEveryCall] / FREE_PENDING',
      'FREE / already FREE_PENDING',
    ]);
  });
});

describe('the diagram follows the machine', () => {
  it('a patch that changes one transition changes that line and no other', () => {
    // The test slot, with a get that succeeds on a free-pending id.
    const patched = slotSetup.createMachine({
      ...slotDefinition,
      states: {
        ...slotStates,
        freePending: { on: { ...slotStates.freePending.on, GET: { actions: ['ref', ok('0')] } } },
      },
    });
    const before = stateDiagram(slotMachine).split('\n');
    const after = stateDiagram(patched).split('\n');
    expect(after).toHaveLength(before.length);
    // One edge changes, and on it one transition: the rest of the diagram is as it was.
    const changed = before.filter((l) => !after.includes(l));
    expect(changed).toHaveLength(1);
    const was = edgeLines(before, 'freePending', 'freePending')!;
    const now = edgeLines(after, 'freePending', 'freePending')!;
    expect(now).toEqual(was.map((l) => (l === 'GET / -EBUSY' ? 'GET / 0' : l)));
    expect(after.indexOf(changed[0]!.replace('GET / -EBUSY', 'GET / 0'))).toBe(before.indexOf(changed[0]!));
  });

  it('flipping a guard with provide() keeps the drawing: guards are drawn by name', () => {
    // series-free-every-call runs the IOASID lifecycle with freeDropsEveryCall provided.
    const everyCall = variantOf(ioasid, 'series-free-every-call').config.kinds.ioasid!.machine!;
    expect(everyCall).not.toBe(ioasidMachine);
    expect(stateDiagram(everyCall)).toBe(stateDiagram(ioasidMachine));
    expect(stateDiagram(slotFreeEveryCall)).toBe(stateDiagram(slotMachine));
  });
});

const tinySetup = setup({
  types: { context: {} as { reply: Reply } },
  guards: { a: () => true, b: () => false, c: () => true, 'refs#1': () => true },
  actions: { reply: assign((_, params: Reply) => ({ reply: params })) },
});

describe('guardName', () => {
  it("spells xstate's and, or and not, and names an inline guard `guard`", () => {
    expect(guardName(undefined)).toBeUndefined();
    expect(guardName('lastRef')).toBe('lastRef');
    expect(guardName({ type: 'lastRef', params: { n: 1 } })).toBe('lastRef');
    expect(guardName(and(['a', 'b']))).toBe('a && b');
    expect(guardName(or(['a', 'b', 'c']))).toBe('a || b || c');
    expect(guardName(not('a'))).toBe('!a');
    expect(guardName(() => true)).toBe('guard');
  });

  it('puts compound operands in parentheses, so the label reads as the guard does', () => {
    expect(guardName(and(['a', or(['b', 'c'])]))).toBe('a && (b || c)');
    expect(guardName(not(and(['a', 'b'])))).toBe('!(a && b)');
    expect(guardName(or([and(['a', 'b']), not('c')]))).toBe('(a && b) || !c');
  });

  it("labels a machine's edges with them, and mermaid reads the labels whole", async () => {
    const machine = tinySetup.createMachine({
      initial: 'x',
      context: { reply: { ok: true, text: '' } },
      states: {
        x: {
          on: {
            E: [
              { guard: and(['a', 'b']), target: 'y', actions: ok('both') },
              { guard: or(['b', 'c']), target: 'y' },
              { guard: not('a'), actions: ok('') },
              { guard: ({ context }) => context.reply.ok, target: 'y' },
              { target: 'y' },
            ],
          },
        },
        y: {},
      },
    });
    expect(machineEdges(machine)).toEqual([
      { from: 'x', to: 'y', event: 'E', guard: 'a && b', reply: 'both' },
      { from: 'x', to: 'y', event: 'E', guard: 'b || c' },
      { from: 'x', to: 'x', event: 'E', guard: '!a', reply: '' },
      { from: 'x', to: 'y', event: 'E', guard: 'guard' },
      { from: 'x', to: 'y', event: 'E' },
    ]);
    const read = await mermaidReads(stateDiagram(machine));
    expect(read.relations.slice(1).map((r) => transitionsOf(r.relationTitle))).toEqual([
      ['E [a && b] / both', 'E [b || c]', 'E [guard]', 'E'],
      ['E [!a] / (void)'],
    ]);
  });
});

describe('labels with # and ;', () => {
  const machine = tinySetup.createMachine({
    initial: 'x',
    context: { reply: { ok: true, text: '' } },
    states: { x: { on: { E: { guard: 'refs#1', target: 'y', actions: ok('a;b') } } }, y: {} },
  });

  it('are escaped, and mermaid still parses them and shows them as written', async () => {
    const text = stateDiagram(machine);
    expect(text.split('\n')[4]).toBe('    x --> y: E [refs#35;1] / a#59;b');
    const read = await mermaidReads(text);
    expect(read.diagramType).toBe('stateDiagram');
    expect(read.relations.map((r) => shown(r.relationTitle))).toEqual(['', 'E [refs#1] / a;b']);
  });

  it('would lose the rest of the label at a bare ;', async () => {
    const raw = `stateDiagram-v2\n    x --> y: ${edgeLabel(machineEdges(machine)[0]!)}`;
    const read = await mermaidReads(raw);
    expect(read.relations.map((r) => r.relationTitle)).toEqual(['E [refs#1] / a']);
  });
});

describe('states the diagram must still show', () => {
  it('draws a state no transition touches, and names Mermaid cannot take as ids', async () => {
    const machine = tinySetup.createMachine({
      initial: 'state',
      context: { reply: { ok: true, text: '' } },
      states: { state: { on: { E: 'free-pending' } }, 'free-pending': {}, lone: {} },
    });
    const text = stateDiagram(machine);
    expect(text).toContain('    state "state" as s0');
    expect(text).toContain('    state "free-pending" as s1');
    expect(text).toContain('    lone');
    const read = await mermaidReads(text);
    // Read back through their declarations, the stand-ins are the machine's own names.
    expect(new Set(read.states)).toEqual(new Set(['root_start', 'state', 'free-pending', 'lone']));
    expect(read.relations.map((r) => [r.id1, r.id2])).toEqual([['root_start', 'state'], ['state', 'free-pending']]);
  });

  it('refuses a machine with transitions on the machine itself, which it could neither draw nor count', () => {
    const machine = tinySetup.createMachine({ initial: 'a', context: { reply: { ok: true, text: '' } }, on: { X: { target: '.b' } }, states: { a: {}, b: {} } });
    expect(() => stateDiagram(machine)).toThrow(/transitions on the machine itself are not supported; put them on its states/);
  });
});

describe('lifecheck diagram', () => {
  it('prints the machine of the variant it is given, drawn by stateDiagram', () => {
    const r = spawnSync(process.execPath, ['bin/lifecheck.js', 'diagram', 'ioasid.ioasid', '--variant', 'series'], {
      cwd: resolve(dirname(fileURLToPath(import.meta.url)), '../..'),
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(stateDiagram(ioasidMachine) + '\n');
  });
});
