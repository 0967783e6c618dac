/**
 * The JUnit XML report, valid against the schema Jenkins validates with
 * (xunit's junit-10.xsd) and as GitLab and the GitHub test report actions
 * read it: a test suite per variant (its `file` the module that defines the
 * variant), a test case per property. A verdict that contradicts its
 * expectation is a failure carrying its trace; a property that does not
 * apply, or that a capped search left unknown, is skipped. There are no
 * errors: a model that throws stops the check before any report is written.
 */
import { XMLBuilder } from 'fast-xml-parser';
import type { AnyVariant } from '../engine/model.ts';
import type { Verdict, VariantReport } from '../check.ts';
import { renderTrace } from '../trace/text.ts';
import { replayCommand } from './text.ts';

// Boolean attributes off: an attribute whose value is "true" would otherwise be written bare, which is not XML.
const builder = new XMLBuilder({ ignoreAttributes: false, format: true, suppressEmptyNode: true, suppressBooleanAttributes: false });

const seconds = (ms: number) => (ms / 1000).toFixed(3);

/** What a matching verdict found, so CI pages show more than a green tick. */
function outcome(v: Verdict, r: VariantReport): string {
  if (v.actual === 'violated') return `violated in ${v.counterexample?.trace.steps.length} steps, as expected`;
  return r.search ? `holds (all ${r.search.stats.states} states), as expected` : `no violation in ${v.runs} random schedules, as expected`;
}

/** How long the check took to know a verdict: until its counterexample was met, else the whole check (all properties are checked at once). */
const timeOf = (v: Verdict, r: VariantReport) => seconds(v.counterexample?.explorer === 'exhaustive' ? v.counterexample.afterMs : r.durationMs);

function testcase(variant: AnyVariant, r: VariantReport, v: Verdict, module?: string) {
  const head = { '@_classname': `${r.model}.${r.variant}`, '@_name': v.property, '@_time': timeOf(v, r) };
  if (!v.matches) {
    const cx = v.counterexample;
    const { model, config } = variant;
    const body = cx
      ? `${renderTrace(cx.trace, model.present, config, cx.violation)}\nreplay: ${replayCommand(r, v.property, cx, model, module)}\n`
      : undefined;
    return {
      ...head,
      failure: { '@_message': `expected ${v.expected}, got ${v.actual}`, '@_type': 'unexpected-verdict', ...(body ? { '#text': body } : {}) },
    };
  }
  if (v.actual === 'n/a') return { ...head, skipped: { '@_message': 'not applicable' } };
  if (v.actual === 'unknown') return { ...head, skipped: { '@_message': 'search stopped before a verdict' } };
  return { ...head, 'system-out': outcome(v, r) };
}

/** tests, failures and skipped: a failure is a verdict not as expected, a skip one that is n/a or unknown but not unexpected. */
function counts(verdicts: readonly Verdict[]) {
  const failures = verdicts.filter((v) => !v.matches).length;
  const skipped = verdicts.filter((v) => v.matches && (v.actual === 'n/a' || v.actual === 'unknown')).length;
  return { '@_tests': verdicts.length, '@_failures': failures, '@_errors': 0, '@_skipped': skipped };
}

export function junitReport(
  results: readonly { variant: AnyVariant; report: VariantReport; module?: string }[],
  meta: { version: string; durationMs: number },
): string {
  const doc = {
    '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
    testsuites: {
      '@_name': 'lifecheck',
      // The schema gives the whole run no skipped count: its suites have theirs.
      ...(({ '@_skipped': _, ...rest }) => rest)(counts(results.flatMap((x) => x.report.verdicts))),
      '@_time': seconds(meta.durationMs),
      testsuite: results.map(({ variant, report: r, module }) => ({
        '@_name': `${r.model} --variant ${r.variant}`,
        ...counts(r.verdicts),
        '@_time': seconds(r.durationMs),
        // The module that defines the variant: the user's file, or the package's built-in models.
        '@_file': module ?? 'lifecheck/models',
        // How to run the suite again: what checked it, and with which explorer and seed.
        properties: {
          property: [
            { '@_name': 'lifecheck.version', '@_value': meta.version },
            { '@_name': 'explorer', '@_value': r.explorer },
            { '@_name': 'seed', '@_value': r.seed },
          ],
        },
        testcase: r.verdicts.map((v) => testcase(variant, r, v, module)),
      })),
    },
  };
  return builder.build(doc);
}
