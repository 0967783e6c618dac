/**
 * Why a user's module did not load, in one line that says where:
 * `file:line:column: reason`. tsx compiles the module with esbuild, whose
 * error carries the place in `errors[0]`, or (as tsx rethrows it) only in the
 * message's lines after "Transform failed with N errors:"; an error thrown
 * while the module runs carries the place in its stack.
 */
import { existsSync } from 'node:fs';
import { placeText, userFrame, type Place } from './engine/frames.ts';

interface EsbuildMessage {
  readonly text: string;
  readonly location?: { readonly file: string; readonly line: number; readonly column: number } | null;
}

/** The reason `loaded` (an absolute path) did not load, at the place in the user's code where it arose. */
export function whyNotLoaded(e: unknown, loaded: string): string {
  if (!(e instanceof Error)) return firstLine(String(e));
  const compile = compileError(e);
  if (compile) return compile.place ? at(sourceOf(compile.place, loaded), compile.text) : compile.text;
  const place = userFrame(e.stack ?? '', OWN);
  const reason = `${e.name}: ${firstLine(e.message)}`;
  return place ? at(place, reason) : reason;
}

const firstLine = (text: string) => text.split('\n')[0] ?? '';

/** esbuild's first error; esbuild counts columns from 0, editors (and stacks) from 1. */
function compileError(e: Error & { errors?: readonly EsbuildMessage[] }): { text: string; place?: Place } | undefined {
  const first = e.errors?.[0];
  if (first) {
    const l = first.location;
    return { text: firstLine(first.text), ...(l ? { place: { file: l.file, line: l.line, column: l.column + 1 } } : {}) };
  }
  const m = /^Transform failed with \d+ errors?:\n(?:(.+):(\d+):(\d+): )?ERROR: (.*)$/m.exec(e.message);
  if (!m) return undefined;
  return { text: m[4]!, ...(m[1] ? { place: { file: m[1], line: Number(m[2]), column: Number(m[3]) + 1 } } : {}) };
}

/**
 * The file esbuild was compiling: tsx names `.mts` and `.cts` files `.ts`
 * (and `.mjs`, `.cjs` ones `.js`) when it hands them over.
 */
function sourceOf(place: Place, loaded: string): Place {
  if (place.file === loaded.replace(/\.[mc]([jt]s)$/, '.$1')) return { ...place, file: loaded };
  if (existsSync(place.file)) return place;
  const renamed = ['m', 'c'].map((x) => place.file.replace(/\.([jt]s)$/, `.${x}$1`)).find(existsSync);
  return renamed ? { ...place, file: renamed } : place;
}

/** lifecheck's own code: a frame there is not where the user's mistake is. */
const OWN = ['src', 'models'].map((d) => new URL(`../${d}/`, import.meta.url).href);

/** `file:line:column: reason`. */
function at(place: Place, reason: string): string {
  return `${placeText(place)}: ${reason}`;
}
