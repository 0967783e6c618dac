/**
 * Rendering traces: `wrap` fits text to a width, breaking where a reader
 * would; the text trace of a counterexample of every built-in model fits 80
 * columns, numbers each step and marks the breaking one (with `changes`, what
 * each step changed below it); the Markdown table and the Mermaid diagram
 * escape what their syntax would misread.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  checkVariant,
  markdownTrace,
  mermaidTrace,
  renderTrace,
  type AnyVariant,
  type Bounds,
  type CheckOptions,
  type Presenter,
  type TextOptions,
  type Trace,
} from 'lifecheck';
import {
  ioasid,
  ioasidBench,
  iommufd,
  type BenchConfig,
  type BenchWorld,
} from 'lifecheck/models';
import { traceRows, wrap } from '../../src/trace/text.ts';
import { variantOf } from '../helpers/variants.ts';

const nonSpace = (s: string) => s.replace(/\s/g, '');

describe('wrap', () => {
  it('breaks after spaces, commas and opening parentheses', async () => {
    expect(wrap('one two three', 9)).toEqual(['one two', 'three']);
    expect(wrap('a,b,c', 2)).toEqual(['a,', 'b,', 'c']);
    expect(wrap('ioasid_find(s1,1) = p1', 12)).toEqual(['ioasid_find(', 's1,1) = p1']);
  });

  it('cuts a word longer than the width, and only such a word', async () => {
    expect(wrap('abcdefgh ij', 3)).toEqual(['abc', 'def', 'gh', 'ij']);
    expect(wrap('refcount_dec_if_one(&device', 10)).toEqual(['refcount_d', 'ec_if_one(', '&device']);
  });

  it('leaves text that fits as one line, and empty text as one empty line', async () => {
    expect(wrap('use(p1)', 7)).toEqual(['use(p1)']);
    expect(wrap('', 5)).toEqual(['']);
  });

  it('treats a width below 1 as 1 rather than looping', async () => {
    expect(wrap('abc', 0)).toEqual(['a', 'b', 'c']);
    expect(wrap('ab', -3)).toEqual(['a', 'b']);
  });

  const word = fc.stringMatching(/^[a-z_)]{1,8}$/);
  const text = fc
    .array(fc.tuple(word, fc.constantFrom(' ', ', ', ',', '(', ') ')), { maxLength: 12 })
    .chain((pieces) => word.map((last) => pieces.map(([w, d]) => w + d).join('') + last));

  it('never passes the width and keeps every non-space character in order', async () => {
    fc.assert(
      fc.property(text, fc.integer({ min: 1, max: 30 }), (t, width) => {
        const lines = wrap(t, width);
        expect(lines.every((l) => l.length <= width)).toBe(true);
        expect(nonSpace(lines.join(''))).toBe(nonSpace(t));
      }),
      { seed: 42 },
    );
  });

  it('breaks only after a space, comma or parenthesis when every word fits', async () => {
    // A word is at most 8 letters and its delimiter: 9 columns always hold one.
    fc.assert(
      fc.property(text, fc.integer({ min: 9, max: 30 }), (t, width) => {
        let at = 0;
        for (const line of wrap(t, width).slice(0, -1)) {
          at = t.indexOf(line, at) + line.length;
          expect(t[at] === ' ' || ',('.includes(t[at - 1]!)).toBe(true);
        }
      }),
      { seed: 42 },
    );
  });
});

/** The counterexample of `property` that `options` find, failing the test when there is none. */
async function counterexample(variant: AnyVariant, options: CheckOptions, property: string) {
  const cx = (await checkVariant(variant, { ...options, properties: [property] })).verdicts[0]!.counterexample;
  if (!cx) throw new Error(`${variant.name}: no counterexample of ${property}`);
  return cx;
}

type Found = Awaited<ReturnType<typeof counterexample>> & { readonly variant: AnyVariant };

const benchBounds: Bounds = { threads: 2, ops: 3, ids: { min: 1, max: 2 } };
const targets = [
  // ioasid's own default search: every interleaving, the shortest use-after-free (alloc, find, free, use).
  ['ioasid', variantOf(ioasid, 'series'), { bounds: ioasid.defaults, runs: 0, seed: 42, exhaustive: {} }, 'no-use-after-free'],
  // iommufd's race of 99f98a7c0d69, on the calls it needs (the default scenario's search takes minutes).
  ['iommufd', variantOf(iommufd, 'v6.2-rwsem'), { bounds: { ...benchBounds, ops: 2, only: { calls: ['iommufd_device_bind', 'iommufd_device_unbind', 'IOMMU_DESTROY'] } }, runs: 0, seed: 42, exhaustive: {} }, 'kernel-destroy-completes'],
  ['ioasid-bench', variantOf(ioasidBench, 'bench-buggy'), { bounds: benchBounds, runs: 0, seed: 42, exhaustive: {} }, 'no-use-after-free'],
] as const;

const found = new Map<string, Found>();
// The ioasid series' search takes a few seconds.
beforeAll(async () => {
  for (const [model, variant, options, property] of targets) found.set(model, { ...(await counterexample(variant, options, property)), variant });
}, 60_000);

const get = (model: string) => found.get(model)!;
const text = (model: string, options?: TextOptions) => {
  const { trace, variant, violation } = get(model);
  return renderTrace(trace, variant.model.present, variant.config, violation, options);
};

/** The lines of each step of a text trace (a step's first line starts with its number), before the closing message. */
function stepBlocks(rendered: string): string[][] {
  const blocks: string[][] = [];
  for (const line of rendered.split('\n\n')[0]!.split('\n').slice(1)) {
    if (/^\d+ /.test(line)) blocks.push([line]);
    else blocks.at(-1)!.push(line);
  }
  return blocks;
}

describe.each(targets.map(([model]) => model))('renderTrace on the %s counterexample', (model) => {
  describe.each<TextOptions>([{}, { changes: true }, { width: 76 }])('with options %o', (options) => {
    it('keeps every line within the width (80 columns unless narrowed)', async () => {
      for (const line of text(model, options).split('\n')) expect(line.length).toBeLessThanOrEqual(options.width ?? 80);
    });

    it('numbers every step in order', async () => {
      const numbers = stepBlocks(text(model, options)).map((b) => parseInt(b[0]!, 10));
      expect(numbers).toEqual(get(model).trace.steps.map((_, i) => i + 1));
    });

    it('marks exactly the breaking step, and closes with the violation', async () => {
      const { violation } = get(model);
      const rendered = text(model, options);
      const mark = `<-- ${violation.property}`;
      expect(rendered.split(mark)).toHaveLength(2);
      expect(stepBlocks(rendered).findIndex((b) => b.some((l) => l.includes(mark)))).toBe(violation.at - 1);
      expect(nonSpace(rendered.split('\n\n')[1]!)).toBe(nonSpace(`${violation.property} at step ${violation.at}: ${violation.message}`));
    });
  });
});

describe('renderTrace', () => {
  it('gives a column only to the threads that move', async () => {
    expect(ioasid.defaults.threads).toBe(3);
    expect(text('ioasid').split('\n')[0]!.trim().split(/ {2,}/)).toEqual(['CPU0', 'CPU1', 'ioasid 1']);
  });

  it('wraps calls too long for their column (iommufd) within the 80 columns', async () => {
    expect(stepBlocks(text('iommufd')).some((b) => b.length > 1)).toBe(true);
  });

  it("with changes, lists each step's changed vars as `path: before → after` under its thread's column", async () => {
    const rendered = text('ioasid-bench', { changes: true });
    const header = rendered.split('\n')[0]!;
    expect(header).not.toContain('ioasid 1');
    const [alloc, find, put] = stepBlocks(rendered);
    expect(alloc).toEqual([
      '1  alloc() = 1',
      '     slots[1].st: FREE → ACTIVE',
      '     slots[1].rc: 0 → 1',
      '     slots[1].gen: 0 → 1',
      '     threads[0].pc: 0 → 1',
      '     threads[0].held[1]: 0 → 1',
    ]);
    expect(alloc![1]!.indexOf('slots')).toBe(header.indexOf('T0') + 2);
    expect(find!.slice(1).map((l) => l.trim())).toEqual(['threads[1].pc: 0 → 1', 'threads[1].bor[1]: 0 → 1']);
    expect(find![1]!.indexOf('threads')).toBe(header.indexOf('T1') + 2);
    expect(put!.map((l) => l.trim())).toContain('slots[1].st: ACTIVE → FREE');
  });

  it("with changes, says what each step changed in the kernel's terms where the model says them (ioasid)", async () => {
    const [alloc, , free] = stepBlocks(text('ioasid', { changes: true }));
    expect(alloc!.map((l) => l.trim())).toEqual(expect.arrayContaining(['ioasid 1 refs: 0 → 1', 'ioasid 1 refs held by: nobody → pasids[0]']));
    expect(alloc!.map((l) => l.trim()).some((l) => l.startsWith('threads'))).toBe(false);
    // The other vCPU's free, under its own column.
    expect(free!.map((l) => l.trim())).toEqual(expect.arrayContaining([expect.stringMatching(/^ioasid 1: \w+ → free$/), 'ioasid 1 refs held by: pasids[0] → nobody']));
  });
});

/** The bench use-after-free with a presenter of its own. */
function benchWith(call: Presenter<BenchWorld, BenchConfig>['call']) {
  const { trace, variant, violation } = get('ioasid-bench');
  return { trace: trace as Trace<BenchWorld>, present: { ...ioasidBench.present, call }, config: variant.config, violation };
}

/** A table row's cells, split at the pipes that are not escaped. */
const cells = (row: string) => row.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());

describe('renderTrace of a trace with no steps (the initial world breaks the property)', () => {
  it('prints the heading and the violation at step 0', async () => {
    const present: Presenter<number, null> = { call: () => '', subject: () => undefined, state: () => '', thread: (t) => `CPU${t}` };
    const rendered = renderTrace({ init: 0, steps: [] }, present, null, { property: 'p', at: 0, message: 'broken from the start' });
    expect(rendered.split('\n').slice(-1)).toEqual(['p at step 0: broken from the start']);
  });
});

describe('renderTrace with more threads than 80 columns hold', () => {
  const present: Presenter<number, null> = {
    call: (step) => `a_long_kernel_function_name(${step.thread}) = 0`,
    subject: () => 'object 1',
    state: () => 'a state that is quite long to read',
    thread: (t) => `CPU${t}`,
  };
  const trace = (threads: number) => ({
    init: 0,
    steps: Array.from({ length: threads }, (_, t) => ({ step: { thread: t, op: 'call', args: [] }, reply: { ok: true, text: '0' }, world: t })),
  });

  it.each([
    [11, 'columns per thread, the object state below each call', /^ +CPU0 +CPU1 .* CPU10$/],
    [40, 'one column where each call names its thread', /^ +object 1$/],
  ])('%i threads: %s, within 80 columns', (threads, _layout, heading) => {
    const rendered = renderTrace(trace(threads), present, null);
    expect(rendered.split('\n')[0]).toMatch(heading);
    for (const line of rendered.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    // Each call is whole in its step's lines, wrapped or not (and its state is not spliced into it).
    const blocks = stepBlocks(rendered).map((b) => nonSpace(b.join('')));
    expect(blocks).toHaveLength(threads);
    blocks.forEach((b, t) => expect(b).toContain(nonSpace(`a_long_kernel_function_name(${t}) = 0`)));
  });
});

describe('markdownTrace', () => {
  const table = () => {
    const { trace, variant, violation } = get('ioasid-bench');
    return markdownTrace(trace, variant.model.present, variant.config, violation).split('\n');
  };

  it('has a header row with # and a column per moving thread and the object, then a row per step', async () => {
    const lines = table();
    expect(lines.slice(0, 2)).toEqual(['| # | T0 | T1 | ioasid 1 |', '| --: | --- | --- | --- |']);
    const rows = lines.slice(2).filter((l) => l.startsWith('|'));
    expect(rows.map((r) => cells(r)[0])).toEqual(['1', '2', '3', '**4**']);
    expect(cells(rows[0]!)).toEqual(['1', '`alloc() = 1`', '', 'ACTIVE rc=1 gen=1']);
  });

  it('puts the breaking step in bold with the property beside it, and its message below', async () => {
    const lines = table();
    expect(lines[5]).toBe('| **4** |  | **`use(1) = used`** | FREE rc=0 gen=1 ⟵ **no-use-after-free** |');
    expect(lines.slice(2, 5).join('\n')).not.toContain('**');
    expect(lines.at(-1)).toBe(`> **no-use-after-free** at step 4: ${get('ioasid-bench').violation.message}`);
  });

  it('escapes | in a call so that the row keeps its cells', async () => {
    const { trace, present, config, violation } = benchWith((step, reply) => `${step.op}(a|b) = ${reply.text}`);
    const lines = markdownTrace(trace, present, config, violation).split('\n');
    expect(lines[2]).toContain('`alloc(a\\|b) = 1`');
    for (const row of lines.filter((l) => l.startsWith('|'))) expect(cells(row)).toHaveLength(4);
  });
});

describe('mermaidTrace', () => {
  it('draws a participant per moving thread and per object, an arrow per call, crossed where it breaks', async () => {
    const { trace, variant, violation } = get('ioasid-bench');
    const lines = mermaidTrace(trace, variant.model.present, variant.config, violation).split('\n');
    expect(lines[0]).toBe('sequenceDiagram');
    expect(lines.filter((l) => l.includes('participant'))).toEqual([
      '    participant T0 as T0',
      '    participant T1 as T1',
      '    participant O0 as ioasid 1',
    ]);
    expect(lines.filter((l) => /->>|-x/.test(l))).toEqual([
      '    T0->>O0: 1. alloc() = 1',
      '    T1->>O0: 2. find(1) = found',
      '    T0->>O0: 3. put(1) = freed',
      '    T1-xO0: 4. use(1) = used',
    ]);
    expect(lines.at(-1)).toBe(`    Note over T1,O0: no-use-after-free: ${violation.message}`);
  });

  it.each(targets.map(([model]) => model))('on the %s counterexample, crosses only the breaking call', async (model) => {
    const { trace, variant, violation } = get(model);
    const rows = traceRows(trace, variant.model.present, variant.config);
    const lines = mermaidTrace(trace, variant.model.present, variant.config, violation).split('\n');
    const threads = [...new Set(trace.steps.map((s) => s.step.thread))];
    const subjects = [...new Set(rows.flatMap((r) => (r.subject ? [r.subject] : [])))];
    expect(lines.filter((l) => l.includes('participant'))).toHaveLength(threads.length + subjects.length);
    for (const t of threads) expect(lines).toContain(`    participant T${t} as ${variant.model.present.thread(t, trace.init)}`);
    const crossed = lines.filter((l) => /^ {4}T\d+-x/.test(l));
    expect(crossed).toHaveLength(1);
    expect(crossed[0]).toMatch(new RegExp(`^ {4}T${trace.steps[violation.at - 1]!.step.thread}-xO\\d+: ${violation.at}\\. `));
    expect(lines.filter((l) => l.includes('->>'))).toHaveLength(rows.filter((r) => r.subject).length - 1);
  });

  it('escapes # and ; (and < >) as Mermaid entity codes', async () => {
    const { trace, present, config, violation } = benchWith((step, reply) => `${step.op}(); #${step.thread} <${reply.text}>`);
    const diagram = mermaidTrace(trace, present, config, violation);
    expect(diagram).toContain('    T0->>O0: 1. alloc()#59; #35;0 #60;1#62;');
    expect(diagram).not.toMatch(/;(?<!#\d+;)|#(?!\d+;)/);
  });

  it("escapes a # in the model's own text: the ioasid series' message names 1#1", async () => {
    const { trace, variant, violation } = get('ioasid');
    expect(violation.message).toContain('1#1');
    const diagram = mermaidTrace(trace, variant.model.present, variant.config, violation);
    expect(diagram).toContain('1#35;1');
    expect(diagram).not.toMatch(/#(?!\d+;)/);
  });
});
