/**
 * The files `check` and `review` write besides stdout: the JSON and text
 * reports, JUnit XML and trace files. Every destination is checked before
 * any work, so a bad path costs nothing and leaves nothing half-written;
 * trace files, named only by what the checks find, are checked with the
 * rest before the first file is written.
 */
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { transitionPercent } from '../coverage.ts';
import { UsageError } from '../registry.ts';
import { jsonReport, type Shard } from '../report/json.ts';
import { junitReport } from '../report/junit.ts';
import { textReport } from '../report/text.ts';
import { checkFileIn, checkOutputFile, checkWritableDir, writeFiles } from '../report/write.ts';
import { traceFiles, type Written } from './traces.ts';

export interface OutputFlags {
  report?: string;
  junit?: string;
  out?: string;
  json?: boolean;
  minCoverage?: number;
}

/** Every destination must be writable, and replace nothing but regular files, before the checks start. */
export function checkOutputs(flags: OutputFlags): void {
  if (flags.report) for (const name of ['check.json', 'check.txt']) checkFileIn('--report', flags.report, name);
  if (flags.out) checkWritableDir('--out', flags.out);
  if (flags.junit) {
    if (/[\\/]$/.test(flags.junit)) throw new UsageError(`--junit ${flags.junit}: names a folder; give a file name, e.g. ${flags.junit}junit.xml`);
    checkOutputFile('--junit', flags.junit);
  }
}

/** Writes what the flags ask for; returns the exit code: 1 when a verdict, or the coverage, falls short. */
export function writeOutputs(results: readonly Written[], flags: OutputFlags, meta: { version: string; durationMs: number; shard?: Shard }): number {
  const json = jsonReport(results, meta);
  if (flags.json) process.stdout.write(JSON.stringify(json, null, 2) + '\n');
  const files = new Map<string, string>();
  if (flags.report) {
    const text = results.map(({ variant, report, module }) => stripVTControlCharacters(textReport(variant, report, module))).join('\n');
    files.set(join(flags.report, 'check.json'), JSON.stringify(json, null, 2) + '\n');
    files.set(join(flags.report, 'check.txt'), text);
  }
  if (flags.junit) files.set(flags.junit, junitReport(results, meta));
  const traces = flags.out ? traceFiles(flags.out, results, meta.version) : new Map<string, string>();
  writeFiles(new Map([...files, ...traces]));
  if (flags.out && !flags.json) {
    process.stdout.write(`${traces.size} trace file${traces.size === 1 ? '' : 's'} in ${flags.out} (lifecheck replay FILE, lifecheck show FILE)\n`);
  }
  const short = flags.minCoverage === undefined ? [] : belowCoverage(results, flags.minCoverage);
  for (const line of short) process.stderr.write(`lifecheck: ${line}\n`);
  return !json.matches || short.length > 0 ? 1 : json.complete ? 0 : EXIT_INCOMPLETE;
}

/** The exit code of a run whose verdicts are as expected so far but whose search hit a cap. */
export const EXIT_INCOMPLETE = 3;

/** The variants whose machines' transition coverage is below `percent`, one line each. */
function belowCoverage(results: readonly Written[], percent: number): string[] {
  return results.flatMap(({ report: r }) => {
    const got = transitionPercent(r.coverage ?? []);
    return got < percent ? [`${r.model} --variant ${r.variant}: transition coverage ${got.toFixed(1)}% is below --min-coverage ${percent}`] : [];
  });
}
