/** Writing report files whole or not at all: a temporary file, then a rename. */
import { accessSync, constants, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../registry.ts';

export function writeAtomically(path: string, content: string): void {
  const tmp = join(dirname(path), `.${process.pid}.${Date.now()}.tmp`);
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(tmp, content);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new UsageError(`cannot write ${path}: ${(e as Error).message.split('\n')[0]}`);
  }
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
