/**
 * The layers: the public API, the engine, the kit, the explorers, traces and
 * reports know no built-in model, and the built-in models use the public API
 * alone, as a user's module does. Only the CLI's entry brings the built-ins
 * in; a user's module finds them at 'lifecheck/models'. The engine, under
 * them all, knows nothing of src/ but itself.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The files of src/ that may import the built-in models: the CLI's entry, and its worker threads' entry. */
const ENTRIES = ['src/cli/main.ts', 'src/cli/check-worker.ts'];

/** The .ts files under `dir`, relative to the repository's root. */
function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f))
    .sort();
}

interface Import {
  /** As written: `lifecheck`, `xstate`, `../engine/model.ts`. */
  readonly specifier: string;
  /** Where a relative specifier leads, relative to the root; undefined for a package. */
  readonly target?: string;
  /** `import type`: erased, so it runs nothing. */
  readonly typeOnly: boolean;
}

/** A file's static imports and re-exports, in order, read by TypeScript's parser (so code in strings is not taken for imports). */
function importsOf(file: string): Import[] {
  const source = ts.createSourceFile(file, readFileSync(join(root, file), 'utf8'), ts.ScriptTarget.ES2022);
  return source.statements.flatMap((s): Import[] => {
    if (!(ts.isImportDeclaration(s) || ts.isExportDeclaration(s)) || !s.moduleSpecifier || !ts.isStringLiteral(s.moduleSpecifier)) return [];
    const specifier = s.moduleSpecifier.text;
    const target = specifier.startsWith('.') ? relative(root, resolve(root, dirname(file), specifier)) : undefined;
    const typeOnly = ts.isImportDeclaration(s) ? Boolean(s.importClause?.isTypeOnly) : s.isTypeOnly;
    return [{ specifier, ...(target !== undefined ? { target } : {}), typeOnly }];
  });
}

const isUnder = (path: string | undefined, ...dirs: string[]) => path !== undefined && dirs.some((d) => path.startsWith(`${d}/`));

/** `file: specifier` for each import of `files` that `wrong` picks out. */
function offending(files: readonly string[], wrong: (i: Import) => boolean): string[] {
  return files.flatMap((file) => importsOf(file).filter(wrong).map((i) => `${file}: ${i.specifier}`));
}

describe('the layers', () => {
  it('src/ imports no built-in model, but for the CLI entry', () => {
    const files = sources('src').filter((f) => !ENTRIES.includes(f));
    expect(files).toContain('src/index.ts');
    expect(offending(files, (i) => isUnder(i.target, 'models') || i.specifier.startsWith('lifecheck'))).toEqual([]);
  });

  it('src/engine/ imports only itself and packages: not the kit, the explorers or anything above them', () => {
    const files = sources('src/engine');
    expect(files).toContain('src/engine/model.ts');
    expect(offending(files, (i) => i.target !== undefined && !isUnder(i.target, 'src/engine'))).toEqual([]);
  });

  it("models/ (with their properties) import only 'lifecheck' and each other, never src/", () => {
    const files = sources('models');
    expect(files).toContain('models/index.ts');
    expect(offending(files, (i) => i.specifier !== 'lifecheck' && !isUnder(i.target, 'models'))).toEqual([]);
  });

  it('the examples, like a user module, reach the built-ins only through the package', () => {
    expect(offending(sources('examples'), (i) => i.specifier !== 'lifecheck' && i.specifier !== 'lifecheck/models')).toEqual([]);
  });
});
