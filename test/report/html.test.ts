/**
 * The review page to step through (`review --html`), read as data: it needs
 * nothing from the network, holds a trace for every ✗ with a row, a change
 * list and the fired transitions per step, a diagram for every machine those
 * name, survives any text in names, and is the same page every time.
 * (test/report/stepper.test.ts opens it in Chromium.)
 */
import { beforeAll, describe, expect, it } from 'vitest';
import buffer from '../../examples/buffer.ts';
import { reviewChecks, type ReviewGroup } from '../../src/cli/review.ts';
import { reviewHtml, type PageData } from '../../src/report/html.ts';
import { targetOf } from '../../src/registry.ts';

const META = { version: 'test', runs: 100, seed: 42 };

/** The page's data, as its script reads it. */
function dataOf(page: string): PageData {
  const json = /<script type="application\/json" id="lifecheck-data">(.*?)<\/script>/s.exec(page)![1]!;
  return JSON.parse(json) as PageData;
}

describe('the review page as data', () => {
  let groups: ReviewGroup[];
  let page: string;
  beforeAll(async () => {
    groups = await reviewChecks([targetOf(buffer)], undefined, 1);
    page = reviewHtml(groups, META);
  });

  it('asks the network for nothing: no script, style, image or font from elsewhere', () => {
    expect(page).not.toMatch(/<link|\ssrc=|@import|url\(/);
    // The only URL is SVG's namespace, which no browser fetches.
    expect(new Set([...page.matchAll(/https?:\/\/[^\s"'<>]+/g)].map((m) => m[0]))).toEqual(new Set(['http://www.w3.org/2000/svg']));
  });

  it('has a trace for each ✗, a row, a change list and the fired transitions for each step, and the diagrams they name', () => {
    const data = dataOf(page);
    const broken = groups.flatMap((g) => g.results.flatMap(({ report }) => report.verdicts.filter((v) => v.actual === 'violated').map((v) => [report, v] as const)));
    expect(Object.keys(data.traces)).toHaveLength(broken.length);
    for (const [report, v] of broken) {
      const cell = data.models[0]!.cells[report.variant]![v.property]!;
      const t = data.traces[cell.trace!]!;
      const steps = v.counterexample!.trace.steps.length;
      expect(page).toContain(`<a href="#t=${cell.trace}">✗ ${steps}</a>`);
      expect(t.variant).toBe(report.variant);
      expect(t.property).toBe(v.property);
      expect([t.rows.length, t.changes.length, t.fired.length]).toEqual([steps, steps, steps]);
      for (const [key, edges] of t.fired.flat()) {
        expect(t.diagrams).toContain(key);
        expect(page).toContain(`<template id="diagram-${key}">`);
        for (const e of edges) expect(data.diagrams[key]!.to[e]).toBeDefined();
      }
      expect(t.violation.at).toBe(v.counterexample!.violation.at);
    }
    const t = data.traces['buffer/attach-forgets-ref/refcount-matches-holders']!;
    expect(t.changes[5]).toEqual(['buf 1 attached: 0 → 1', 'buf 1 ref held by: bufs[0] → bufs[0], attached']);
    expect(t.diagrams.map((d) => data.diagrams[d]!.name)).toEqual(['refcount', 'buf_create', 'buf_attach']);
  });

  it('keeps any text of a name or title inside its element', () => {
    const [group] = groups;
    const hostile = '</script><script>alert(1)</script> & "quoted" \'single\'';
    const results = group!.results.map((r) => ({ ...r, report: { ...r.report, model: hostile, title: hostile } }));
    const odd = reviewHtml([{ model: { ...group!.model, name: hostile, title: hostile }, results }], META);
    const data = dataOf(odd);
    expect(data.models[0]!.variants.map((v) => v.title)).toEqual([hostile, hostile]);
    expect(data.models[0]!.name).toBe(hostile);
    expect(Object.values(data.traces).map((t) => t.model)).toEqual(Object.values(data.traces).map(() => hostile));
    expect(odd).not.toContain('<script>alert(1)');
    expect(odd).not.toMatch(/"quoted" 'single'/);
  });

  it('gives each trace a key of its own, whatever its names are (`b.c` and `b-c`)', async () => {
    const broken = buffer.variants.find((v) => v.name === 'attach-forgets-ref')!;
    const variants = ['b.c', 'b-c'].map((name) => buffer.variant({ ...broken, name }));
    const [group] = await reviewChecks([{ model: buffer, variants }], undefined, 1);
    const data = dataOf(reviewHtml([group!], META));
    const keys = variants.map((v) => data.models[0]!.cells[v.name]!['no-underflow']!.trace!);
    expect(keys).toEqual(['buffer/b.c/no-underflow', 'buffer/b-c/no-underflow']);
    expect(keys.map((k) => data.traces[k]!.variant)).toEqual(['b.c', 'b-c']);
  });

  it('is the same page every time', () => {
    expect(reviewHtml(groups, META)).toBe(page);
  });
});
