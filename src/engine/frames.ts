/**
 * Where in the user's code an error arose: the first frame of its stack that
 * is not Node's, a package's or lifecheck's own. Frames read
 * `at f (file:///x.ts:12:5)`, `at file:///x.ts:12:5` or `at /x.ts:12:5`.
 */
import { isAbsolute, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** A place in a source file: the path, a line, and a column counted from 1. */
export interface Place {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/**
 * The first frame outside `skip` (folders as file URLs, compared as URLs:
 * under a test's DOM `import.meta.url` may not be a file's) and outside
 * `node_modules`.
 */
export function userFrame(stack: string, skip: readonly string[]): Place | undefined {
  for (const line of stack.split('\n').slice(1)) {
    const m = /^\s*at (?:.*\()?(.+):(\d+):(\d+)\)?$/.exec(line);
    if (!m) continue;
    const url = m[1]!.startsWith('file://') ? m[1]! : isAbsolute(m[1]!) ? pathToFileURL(m[1]!).href : undefined;
    if (!url || url.includes('/node_modules/') || skip.some((dir) => url.startsWith(dir))) continue;
    return { file: fileURLToPath(url), line: Number(m[2]), column: Number(m[3]) };
  }
  return undefined;
}

/** `file:line:column`, the file relative to the working folder when it is inside it. */
export function placeText(place: Place): string {
  const rel = relative(process.cwd(), place.file);
  const file = rel.startsWith('..') || isAbsolute(rel) ? place.file : rel;
  return `${file}:${place.line}:${place.column}`;
}
