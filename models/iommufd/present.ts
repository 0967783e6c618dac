/** How iommufd steps and objects read in a trace: the kernel's own function names. */
import type { Presenter, Reply, Step } from 'lifecheck';
import { inXarray } from './objects.ts';
import {
  byId,
  nextStage,
  objectOf,
  objName,
  owned,
  programOf,
  threadName,
  type IommufdConfig,
  type IommufdWorld,
  type Obj,
  type Op,
  type Run,
} from './world.ts';

/** The kernel function a stage runs, on `on` (the object's name). */
function stageText(stage: string, on: string, config: IommufdConfig, run: Run, step: Step): string {
  switch (stage) {
    case 'reserve':
      return `iommufd_object_alloc(${programOf(config, run).creates})`;
    case 'fallible':
      return programOf(config, run).fallible!.fn;
    case 'finalize':
      return `iommufd_object_finalize(${on})`;
    case 'abort':
      return `iommufd_object_abort_and_destroy(${on})`;
    case 'lookup':
      return `iommufd_get_object(${run.id})`;
    case 'ref_to_users':
      return `iommufd_ref_to_users(${on})`;
    case 'adopt':
      return `keep the users ref on ${on}`;
    case 'link':
      return `refcount_inc(&${on}->users)`;
    case 'check_pt':
      return `attach to ${on}`;
    case 'put_users':
    case 'put_short':
      // Two touches of the object; the machine's reply names each (users--, then up_read or shortterm--).
      return `iommufd_put_object(${on})`;
    case 'own':
      return `refcount_inc(&${on}->users) (driver)`;
    case 'down_write':
      return `down_write(&${on}->destroy_rwsem)`;
    case 'remove':
      return `refcount_dec_if_one(&${on}->users)`;
    case 'drop_bias':
      return `shortterm_users-- (${on}, bias)`;
    case 'wait':
      return step.args[0] === 'timeout' ? `wait for ${on}: timed out` : `wait for ${on} shortterm_users == 0`;
    case 'free':
      return `destroy, kfree(${on})`;
    case 'unlink':
      return `iommufd_device_detach(${on})`;
    default:
      return stage;
  }
}

/** The object a step changed: one that went away, one that appeared, one whose machine moved, one whose links did. */
function touched(before: IommufdWorld, after: IommufdWorld): Obj | undefined {
  const gone = before.objects.find((o) => !objectOf(after, o.serial));
  if (gone) return gone;
  const made = after.objects.find((o) => !objectOf(before, o.serial));
  if (made) return made;
  const changed = (same: (a: Obj, b: Obj) => boolean) =>
    after.objects.find((o) => {
      const was = objectOf(before, o.serial);
      return was !== undefined && !same(was, o);
    });
  return (
    changed((a, b) => JSON.stringify(a.state) === JSON.stringify(b.state)) ??
    changed((a, b) => a.parent === b.parent && a.attachedTo === b.attachedTo)
  );
}

function describe(step: Step, reply: Reply, before: IommufdWorld, config: IommufdConfig): string {
  if (step.op === 'exit') return 'exit';
  if (step.op === 'release') return `iommufd_fops_release: ${reply.text}`;
  if (step.op === 'ioctl') return `ioctl(${step.args[0]}) = ${reply.text}`;
  const th = before.threads[step.thread]!;
  const starting = !th.run;
  const run: Run = th.run ?? { op: step.op as Op, at: 0, held: 0, ...(typeof step.args[0] === 'number' ? { id: step.args[0] } : {}) };
  const program = programOf(config, run);
  const stage = starting ? program.stages[0]! : nextStage(config, before, step.thread)!;
  // finalize, abort and own act on the object the call creates, even when it also looked one up
  const created = stage === 'finalize' || stage === 'abort' || stage === 'own' ? run.obj : undefined;
  const target =
    objectOf(before, created ?? run.target) ??
    (program.kernelDestroy ? owned(before, th, program.kernelDestroy) : undefined) ??
    (stage === 'unlink' ? owned(before, th, 'device') : undefined) ??
    (run.id !== undefined ? byId(before, run.id) : undefined);
  const on = target ? objName(target) : run.id !== undefined ? `id ${run.id}` : '?';
  const head = starting ? `${program.call}${run.id !== undefined ? `(${run.id})` : ''}: ` : '';
  const text = stageText(stage, on, config, run, step);
  // On the error path the last step carries what the call returns.
  if (th.run?.error !== undefined) return reply.ok ? `${text} = ${reply.text}` : `${text}, returns ${reply.text}`;
  const fault = step.args[0] === 'fault' ? ' (fault injected)' : '';
  return `${head}${text} = ${reply.text}${fault}`;
}

export const iommufdPresenter: Presenter<IommufdWorld, IommufdConfig> = {
  call: describe,
  subject(_step, _reply, before, after) {
    const o = touched(before, after);
    return o && objName(o);
  },
  state(world, subject) {
    const [kind, id] = subject.split(' ');
    const same = world.objects.filter((o) => o.state.context.kind === kind && o.id === Number(id));
    const o = same.find((x) => inXarray(x.state.value)) ?? same[0];
    if (!o) return 'freed';
    const { value, context } = o.state;
    const rwsem = context.locked || context.waiting > 0 ? ` ${context.locked ? 'write-locked' : `writers waiting=${context.waiting}`}` : '';
    return `${value} users=${context.users} short=${context.short}${rwsem}`;
  },
  thread: (t, init) => threadName(init, t),
};
