/**
 * What each step changed, as `what: before → after` lines: in the kernel's
 * terms where the model's presenter says them (the kit's do), else over the
 * model's variables (`Presenter.vars`, else the world itself). The view a
 * reader wants when the touched object's state is not the whole story.
 */
import type { Presenter } from '../engine/model.ts';
import type { Trace } from '../engine/run.ts';

/** A world's variables as traces show them: the presenter's view, or the world itself. */
export function worldVars<W, C>(present: Presenter<W, C>, world: W): Readonly<Record<string, unknown>> {
  const view = present.vars ? present.vars(world) : world;
  return typeof view === 'object' && view !== null ? (view as Record<string, unknown>) : { world: view };
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** A value in one line: `{kind: find, id: 1}`, `[1, 2]`, `–` for absent. */
export function compact(x: unknown): string {
  if (x === undefined) return '–';
  if (Array.isArray(x)) return `[${x.map(compact).join(', ')}]`;
  if (isRecord(x)) {
    const fields = Object.entries(x).filter(([, v]) => v !== undefined);
    return `{${fields.map(([k, v]) => `${k}: ${compact(v)}`).join(', ')}}`;
  }
  return String(x);
}

const step = (path: string, key: string | number) =>
  typeof key === 'number' || /^\d+$/.test(key) ? `${path}[${key}]` : path ? `${path}.${key}` : key;

/** The leaves where `a` and `b` differ, at the deepest level both share a shape. */
export function differences(a: unknown, b: unknown, path = ''): string[] {
  if (Array.isArray(a) && Array.isArray(b)) {
    return Array.from({ length: Math.max(a.length, b.length) }, (_, i) => differences(a[i], b[i], step(path, i))).flat();
  }
  if (isRecord(a) && isRecord(b)) {
    return [...new Set([...Object.keys(a), ...Object.keys(b)])].flatMap((k) => differences(a[k], b[k], step(path, k)));
  }
  const [x, y] = [compact(a), compact(b)];
  return x === y ? [] : [`${path}: ${x} → ${y}`];
}

/** For each step of `trace`, what it changed: in the kernel's terms where the presenter says them (`Presenter.changes`), else the variables that differ. */
export function stepChanges<W, C>(trace: Trace<W>, present: Presenter<W, C>, config: C): (readonly string[])[] {
  const worlds = [trace.init, ...trace.steps.map((s) => s.world)];
  const changed = present.changes
    ? (before: W, after: W) => present.changes!(before, after, config)
    : (before: W, after: W) => differences(worldVars(present, before), worldVars(present, after));
  return trace.steps.map((_, i) => changed(worlds[i]!, worlds[i + 1]!));
}
