/**
 * Reproducers: a trace as a vitest file that replays it through the public
 * API and pins the violation (commit it as a regression test; flip it once
 * the design is fixed), or as the `fc.assert` call, with seed and path, that
 * finds it again through fast-check.
 */
import type { Arg, Bounds } from '../engine/model.ts';
import type { Violation } from '../engine/run.ts';

export interface ReproducerInput {
  readonly model: string;
  readonly variant: string;
  readonly property: string;
  readonly bounds: Bounds;
  /** The module that defines the variant, as the test imports it; built-in models have none. */
  readonly module?: string;
  /** Each step with its call as a trace shows it (`CPU1: p1 = ioasid_find(s1,1)`). */
  readonly steps: readonly { readonly thread: number; readonly op: string; readonly args: readonly Arg[]; readonly shown: string }[];
  readonly violation: Violation;
  /** Where the trace came from, for the header. */
  readonly from: string;
}

/** A value as TypeScript source in the house style: single quotes, bare keys. */
export function literal(x: unknown): string {
  if (typeof x === 'string') return `'${x.replace(/[\\']/g, (c) => `\\${c}`).replace(/\n/g, '\\n')}'`;
  if (Array.isArray(x)) return `[${x.map(literal).join(', ')}]`;
  if (typeof x === 'object' && x !== null) {
    const fields = Object.entries(x).filter(([, v]) => v !== undefined);
    const key = (k: string) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : literal(k));
    return fields.length ? `{ ${fields.map(([k, v]) => `${key(k)}: ${literal(v)}`).join(', ')} }` : '{}';
  }
  return String(x);
}

function stepLiteral(s: ReproducerInput['steps'][number]): string {
  return `  { thread: ${s.thread}, op: ${literal(s.op)}, args: [${s.args.map(literal).join(', ')}] }, // ${s.shown.replace(/\n/g, ' ')}`;
}

/** The import of the variant: from the built-in registry, or from the user's module. */
function variantSource(input: ReproducerInput, names: readonly string[]): { imports: string[]; variant: string } {
  const api = `import { ${names.join(', ')} } from 'lifecheck';`;
  if (input.module === undefined) return { imports: [api], variant: `findVariant(${literal(input.model)}, ${literal(input.variant)})` };
  return {
    imports: [api, `// The module that defines the variant: keep this path relative to this file.`, `import defined from ${literal(input.module)};`],
    variant: `findVariant(defined, ${literal(input.variant)})`,
  };
}

const describe = (i: ReproducerInput) => `${i.model} --variant ${i.variant}: ${i.property} breaks at step ${i.violation.at}`;

/** A vitest file that replays the trace and asserts the violation at its step. */
export function vitestReproducer(input: ReproducerInput): string {
  const { imports, variant } = variantSource(input, ['findVariant', 'replay']);
  return [
    `// Written by \`lifecheck show ${input.from} --format vitest\`.`,
    `// ${describe(input)}: ${input.violation.message}`,
    '// This test pins the bug: it passes while the design still breaks the property.',
    '// Once the design is fixed, flip it: expect(result.violation).toBeUndefined().',
    "import { expect, it } from 'vitest';",
    ...imports,
    '',
    `const variant = ${variant};`,
    `const bounds = ${literal(input.bounds)};`,
    'const steps = [',
    ...input.steps.map(stepLiteral),
    '];',
    '',
    `it(${literal(`${describe(input)} (pinned bug)`)}, () => {`,
    `  const result = replay(variant, bounds, steps, ${literal(input.property)});`,
    '  expect(result.stuck).toBeUndefined();',
    `  expect(result.violation?.at).toBe(${input.violation.at});`,
    '});',
    '',
  ].join('\n');
}

/** The `fc.assert` call that finds the counterexample again from its seed and path. */
export function fastCheckReproducer(input: ReproducerInput & { readonly seed: number; readonly path: string }): string {
  const { imports, variant } = variantSource(input, ['findVariant', 'scheduleProperty']);
  return [
    `// Written by \`lifecheck show ${input.from} --format fast-check\`.`,
    `// ${describe(input)}: ${input.violation.message}`,
    '// fc.assert throws with this counterexample while the design still breaks the property.',
    "import fc from 'fast-check';",
    ...imports,
    '',
    'fc.assert(',
    `  scheduleProperty(${variant}, ${literal(input.bounds)}, ${literal(input.property)}),`,
    `  { seed: ${input.seed}, path: ${literal(input.path)}, endOnFailure: true },`,
    ');',
    '',
  ].join('\n');
}
