/**
 * Writing report files whole or not at all: a temporary file, then a rename.
 * A rename replaces whatever has the name, so only a regular file (or a
 * symlink to one, written through) may be replaced: never a device, a FIFO,
 * a folder or a socket.
 */
import { accessSync, constants, existsSync, lstatSync, mkdirSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../registry.ts';

/** Writes every file, after checking that each may be replaced, so one bad target leaves all untouched. */
export function writeFiles(files: ReadonlyMap<string, string>): void {
  const targets = [...files].map(([path, content]) => [writeTarget(path), content] as const);
  for (const [target, content] of targets) replaceWith(target, content);
}

/** Where writing `path` lands; checked here, at write time, as well as up front, since trace file names are known only now. */
function writeTarget(path: string): string {
  return fileTarget(path, (why) => {
    throw new UsageError(`cannot write ${path}: it ${why}; remove it or write elsewhere`);
  });
}

function replaceWith(target: string, content: string): void {
  const tmp = join(dirname(target), `.${process.pid}.${Date.now()}.tmp`);
  try {
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(tmp, content);
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new UsageError(`cannot write ${target}: ${(e as Error).message.split('\n')[0]}`);
  }
}

/**
 * The regular file that writing `path` replaces: `path` itself, or the file a
 * symlink there resolves to, so that the link survives. Anything else at
 * `path` goes to `refuse` with the reason.
 */
function fileTarget(path: string, refuse: (why: string) => never): string {
  const here = lstatIfAny(path);
  if (!here) return path;
  if (!here.isSymbolicLink()) return here.isFile() ? path : refuse(`is ${kindOf(here)}, not a regular file`);
  let target: string;
  try {
    target = realpathSync(path);
  } catch {
    return refuse(`is a link to ${resolve(dirname(path), readlinkSync(path))}, which does not exist`);
  }
  const there = statSync(target);
  return there.isFile() ? target : refuse(`is a link to ${kindOf(there)}, not to a regular file`);
}

/** What is at `path`, undefined when nothing is (ENOTDIR: a file stands where a folder of the path should). */
function lstatIfAny(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (e) {
    if (['ENOENT', 'ENOTDIR'].includes((e as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw e;
  }
}

/** How a message names what is not a regular file. */
function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  return 'a special file';
}

/** The file `flag` names must be one we may replace, in a folder we can write, checked before any work is done. */
export function checkOutputFile(flag: string, file: string): void {
  checkTarget(flag, file, (why) => {
    throw new UsageError(`${flag} ${file}: ${why}; give the name of a regular file or of a new one`);
  });
}

/** The same for a file `name` that lifecheck writes in the folder `flag` names. */
export function checkFileIn(flag: string, dir: string, name: string): void {
  checkTarget(flag, join(dir, name), (why) => {
    throw new UsageError(`${flag} ${dir}: ${name} ${why}; remove it or give another folder`);
  });
}

function checkTarget(flag: string, path: string, refuse: (why: string) => never): void {
  // The target first: naming /dev/null is the mistake to report, not that /dev is not writable.
  const target = fileTarget(path, refuse);
  checkWritableDir(flag, dirname(target));
}

/** A folder `flag` names must be one we can create or write, checked before any work is done. */
export function checkWritableDir(flag: string, dir: string): void {
  let at = resolve(dir);
  while (!existsSync(at)) at = dirname(at);
  const fail = (why: string): never => {
    throw new UsageError(`${flag} ${dir}: ${why}; give a folder you can write`);
  };
  if (!statSync(at).isDirectory()) fail(at === resolve(dir) ? 'is a file, not a folder' : `${at} is a file, not a folder`);
  try {
    accessSync(at, constants.W_OK);
  } catch {
    fail(`${at} is not writable`);
  }
}
