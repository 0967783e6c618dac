/**
 * Reproducers: a trace as a vitest file that replays it through the public
 * API and pins the violation (commit it as a regression test; flip it once
 * the design is fixed), or as the `fc.assert` call, with seed and path, that
 * finds it again through fast-check.
 */
import type { Arg, Bounds } from '../engine/model.ts';
import type { Violation } from '../engine/run.ts';
import type { Scheduler } from '../explore/schedulers.ts';

export interface ReproducerInput {
  readonly model: string;
  readonly variant: string;
  readonly property: string;
  readonly bounds: Bounds;
  /** The module that defines the variant, as the test imports it; built-in models have none. */
  readonly module?: string;
  /** Each step with its call as a trace shows it (`CPU1: p1 = ioasid_find(s1,1)`). */
  readonly steps: readonly { readonly thread: number; readonly op: string; readonly args: readonly Arg[]; readonly shown: string }[];
  /** The violation the trace records. */
  readonly violation: Violation;
  /** The design no longer breaks the property: the test guards the fix instead of pinning the bug. */
  readonly fixed?: boolean;
  /** Where the trace came from, for the header. */
  readonly from: string;
}

const ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\u2028': '\\u2028', '\u2029': '\\u2029' };
const escape = (c: string) => ESCAPES[c] ?? `\\${c}`;

/** Text for a `//` comment: one line whatever it holds. */
const comment = (s: string) => s.replace(/[\r\n\u2028\u2029]+/g, ' ');

/** A value as TypeScript source in the house style: single quotes, bare keys. */
export function literal(x: unknown): string {
  if (typeof x === 'string') return `'${x.replace(/[\\'\n\r\u2028\u2029]/g, escape)}'`;
  if (Array.isArray(x)) return `[${x.map(literal).join(', ')}]`;
  if (typeof x === 'object' && x !== null) {
    const fields = Object.entries(x).filter(([, v]) => v !== undefined);
    const key = (k: string) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : literal(k));
    return fields.length ? `{ ${fields.map(([k, v]) => `${key(k)}: ${literal(v)}`).join(', ')} }` : '{}';
  }
  return String(x);
}

function stepLiteral(s: ReproducerInput['steps'][number]): string {
  return `  { thread: ${s.thread}, op: ${literal(s.op)}, args: [${s.args.map(literal).join(', ')}] }, // ${comment(s.shown)}`;
}

/** The import of the variant: from the built-in models, or from the user's module. */
function variantSource(input: ReproducerInput, names: readonly string[]): { imports: string[]; variant: string } {
  const api = [`import { ${names.join(', ')} } from 'lifecheck';`, `import { findVariant } from 'lifecheck/models';`];
  if (input.module === undefined) return { imports: api, variant: `findVariant(${literal(input.model)}, ${literal(input.variant)})` };
  return {
    imports: [...api, `// The module that defines the variant, from the folder lifecheck ran in: make it relative to this file.`, `import defined from ${literal(input.module)};`],
    variant: `findVariant(defined, ${literal(input.variant)})`,
  };
}

const describe = (i: ReproducerInput) => `${i.model} --variant ${i.variant}: ${i.property} breaks at step ${i.violation.at}`;

/** A vitest file that replays the trace: it pins the violation at its step, or, once fixed, guards the fix. */
export function vitestReproducer(input: ReproducerInput): string {
  const { imports, variant } = variantSource(input, ['replay']);
  const what = input.fixed
    ? [
        `// The design no longer breaks ${input.property} here (the trace recorded step ${input.violation.at}):`,
        '// this test guards the fix.',
      ]
    : [
        '// This test pins the bug: it passes while the design still breaks the property.',
        '// Once the design is fixed, flip it: expect(result.violation).toBeUndefined().',
      ];
  const name = input.fixed ? `${input.model} --variant ${input.variant}: ${input.property} no longer breaks (guards the fix)` : `${describe(input)} (pinned bug)`;
  const verdict = input.fixed ? '  expect(result.violation).toBeUndefined();' : `  expect(result.violation?.at).toBe(${input.violation.at});`;
  return [
    `// Written by \`lifecheck show ${input.from} --format vitest\`.`,
    `// ${comment(`${describe(input)}: ${input.violation.message}`)}`,
    ...what,
    "import { expect, it } from 'vitest';",
    ...imports,
    '',
    `const variant = ${variant};`,
    `const bounds = ${literal(input.bounds)};`,
    'const steps = [',
    ...input.steps.map(stepLiteral),
    '];',
    '',
    `it(${literal(name)}, () => {`,
    `  const result = replay(variant, bounds, steps, ${literal(input.property)});`,
    '  expect(result.stuck).toBeUndefined();',
    verdict,
    '});',
    '',
  ].join('\n');
}

/** The `fc.assert` call that finds the counterexample again from its seed and path. */
export function fastCheckReproducer(
  input: ReproducerInput & { readonly seed: number; readonly path: string; readonly scheduler?: Scheduler; readonly depth?: number },
): string {
  const how = input.scheduler === undefined ? '' : `, ${literal(input.scheduler)}${input.depth === undefined ? '' : `, ${input.depth}`}`;
  const { imports, variant } = variantSource(input, ['scheduleProperty']);
  return [
    `// Written by \`lifecheck show ${input.from} --format fast-check\`.`,
    `// ${comment(`${describe(input)}: ${input.violation.message}`)}`,
    '// fc.assert throws with this counterexample while the design breaks the property, and passes once it does not.',
    "import fc from 'fast-check';",
    ...imports,
    '',
    'fc.assert(',
    `  scheduleProperty(${variant}, ${literal(input.bounds)}, ${literal(input.property)}${how}),`,
    `  { seed: ${input.seed}, path: ${literal(input.path)}, endOnFailure: true },`,
    ');',
    '',
  ].join('\n');
}
