// @vitest-environment jsdom
/**
 * The review page's state diagrams, drawn as SVG from the machines: every
 * built-in machine's drawing is well-formed SVG with each state once, each
 * transition's label line once (carrying its index, which the page lights),
 * on the edge of its pair of states; and the same machine draws the same.
 */
import { describe, expect, it } from 'vitest';
import type { AnyStateMachine } from 'xstate';
import { builtInModels } from 'lifecheck/models';
import { machineEdges } from '../../src/engine/edges.ts';
import { byPair, edgeLabel, stateDiagram } from '../../src/report/diagram.ts';
import { diagramSvg } from '../../src/report/svg.ts';

/** Every machine the built-in variants run, by name, once per distinct diagram. */
const drawn = new Map<string, [AnyStateMachine, string]>();
for (const model of builtInModels) {
  for (const v of model.variants) for (const [name, info] of Object.entries(model.machines?.(v.config) ?? {})) drawn.set(stateDiagram(info.machine), [info.machine, `${model.name}.${name}`]);
}
const machines = [...drawn.values()];

function parse(svg: string): Document {
  const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
  expect(doc.getElementsByTagName('parsererror')).toHaveLength(0);
  return doc;
}

describe('state diagrams as SVG', () => {
  it.each(machines.map(([machine, name]) => [name, machine] as const))('%s: every state once, every transition once on its pair’s edge', (name, machine) => {
    const doc = parse(diagramSvg(machine, name));
    const edges = machineEdges(machine);
    const states = [...doc.querySelectorAll('g.state')].map((g) => g.getAttribute('data-state'));
    expect(states).toEqual(Object.keys(machine.root.states));
    const lines = [...doc.querySelectorAll('tspan[data-edge]')].map((t) => [Number(t.getAttribute('data-edge')), t.textContent]);
    expect(lines.sort((a, b) => (a[0] as number) - (b[0] as number))).toEqual(edges.map((e, i) => [i, edgeLabel(e)]));
    const pairs = [...doc.querySelectorAll('g.edge')].map((g) => g.getAttribute('data-edges')!.split(' ').map(Number));
    expect(pairs).toEqual(byPair(edges));
    for (const g of doc.querySelectorAll('g.edge')) {
      // A pair's label lines are its own edges, and its path is drawn.
      expect([...g.querySelectorAll('tspan')].map((t) => t.getAttribute('data-edge'))).toEqual(g.getAttribute('data-edges')!.split(' '));
      expect(g.querySelector('path')!.getAttribute('d')).toMatch(/^M[\d.-]+,[\d.-]+ /);
    }
    expect(doc.querySelector('svg')!.getAttribute('viewBox')).toMatch(/^0 0 [\d.]+ [\d.]+$/);
  });

  it('draws a machine the same each time, and escapes what XML reads as markup', () => {
    const [machine, name] = machines.find(([, n]) => n === 'iommufd.IOMMU_DESTROY')!;
    const svg = diagramSvg(machine, name);
    expect(diagramSvg(machine, name)).toBe(svg);
    expect(svg).toContain('data-state="if (!obj || obj-&gt;type != type)"');
    expect(parse(svg).querySelector('g.state[data-state="if (!obj || obj->type != type)"]')).not.toBeNull();
  });
});
