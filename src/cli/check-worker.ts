/**
 * A worker thread of `check` and `review` (`workers.ts`): it loads the
 * variants as the CLI did (a built-in model by name, or the user's module),
 * checks the ones it is sent, and posts back their reports. Errors go back as
 * messages, so the CLI reports them as it would its own.
 */
import { parentPort } from 'node:worker_threads';
import { builtInModels } from '../../models/index.ts';
import { checkVariant, type Progress } from '../check.ts';
import { DefinitionError } from '../engine/define.ts';
import type { AnyVariant } from '../engine/model.ts';
import { targetOf, targetsNamed, UsageError } from '../registry.ts';
import { checkOptionsOf, type FromWorker, type ToWorker } from './workers.ts';

const port = parentPort!;
const stop = new AbortController();

/** The variant a job names, loaded as the CLI loaded it. */
async function variantOf(job: Extract<ToWorker, { kind: 'check' }>): Promise<AnyVariant> {
  const targets = job.target === undefined ? builtInModels.map(targetOf) : await targetsNamed(builtInModels, job.target);
  const variant = targets.flatMap((t) => t.variants).find((v) => v.model.name === job.model && v.name === job.variant);
  if (!variant) throw new Error(`internal: worker found no variant ${job.model} --variant ${job.variant}`);
  return variant;
}

async function check(job: Extract<ToWorker, { kind: 'check' }>): Promise<FromWorker> {
  try {
    const progress = job.progress ? (p: Progress) => port.postMessage({ kind: 'progress', job: job.job, progress: p } satisfies FromWorker) : undefined;
    const report = await checkVariant(await variantOf(job), checkOptionsOf(job.options, stop.signal, progress));
    return { kind: 'done', job: job.job, report };
  } catch (e) {
    const usage = e instanceof UsageError ? 'usage' : e instanceof DefinitionError ? 'definition' : undefined;
    return { kind: 'failed', job: job.job, ...(usage ? { usage, message: e instanceof Error ? e.message : String(e) } : { stack: e instanceof Error ? (e.stack ?? e.message) : String(e) }) };
  }
}

port.on('message', (message: ToWorker) => {
  if (message.kind === 'abort') stop.abort();
  else void check(message).then((answer) => port.postMessage(answer));
});
