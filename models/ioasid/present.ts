/** How IOASID steps and states read in a trace: the kernel's own names. */
import type { Presenter, Reply, Step } from 'lifecheck';
import { activeSlot, activeTable, setName, type Call, type IoasidConfig, type IoasidWorld } from './world.ts';

function callText(c: Call | undefined, fallback: string, set: string, id: number): string {
  if (!c) return `${fallback}(${id})`;
  const arg = c.set === true ? `${set},` : c.set === 'NULL' ? 'NULL,' : '';
  return `${c.fn}(${arg}${id})`;
}

function describe(step: Step, reply: Reply, world: IoasidWorld, config: IoasidConfig): string {
  const set = setName(world.cpus[step.thread]?.set ?? null);
  const { calls } = config;
  const id = Number(step.args[0]);
  const on = (c: Call | undefined, name: string) => callText(c, name, set, id);
  const fails = (text: string) => (reply.ok ? text : `${text} = ${reply.text}`);
  switch (step.op) {
    case 'alloc': {
      const call = `ioasid_alloc(${set},${world.range.min},${world.range.max}) = ${reply.text}`;
      if (step.args[0] === 'ENOMEM') return `${call} (ENOMEM)`;
      const table = activeTable(world);
      return table === 'default' ? call : `${call} (${table}: vcmd)`;
    }
    case 'register':
      return `ioasid_register_allocator(${step.args[0]}) = ${reply.text}`;
    case 'unregister':
      return `ioasid_unregister_allocator(${step.args[0]}): ${reply.text}`;
    case 'get':
      return `${on(calls.get, 'ioasid_get')} = ${reply.text}`;
    case 'put':
      return `${on(calls.put, 'ioasid_put')} = ${reply.text}`;
    case 'free':
      return `${on(calls.free, 'ioasid_free')} = ${reply.text}`;
    case 'find':
      return reply.ok ? `p${id} = ${on(calls.find, 'ioasid_find')}` : fails(on(calls.find, 'ioasid_find'));
    case 'use':
      return `use(p${id})`;
    case 'bind':
      return `bind: ${on(calls.get ?? calls.find, 'ioasid_find')} = ${reply.text}`;
    case 'unbind':
      return calls.put ? `unbind: ${on(calls.put, 'ioasid_put')}` : `unbind(${id})`;
    case 'set_free':
      return `ioasid_set_free(${set}) = ${reply.text}`;
    case 'vcmd_alloc':
      return `vcmd alloc = ${reply.text}`;
    case 'vcmd_free':
      return `vcmd free(${id})`;
    case 'exit':
      return 'exit (release all)';
    default:
      return `${step.op}()`;
  }
}

export const ioasidPresenter: Presenter<IoasidWorld, IoasidConfig> = {
  call: describe,
  subject(step, reply) {
    if (step.op === 'alloc') return reply.ok ? `ioasid ${reply.text}` : undefined;
    if (step.op === 'set_free') return 'sets';
    return typeof step.args[0] === 'number' ? `ioasid ${step.args[0]}` : undefined;
  },
  state(world, subject) {
    if (subject === 'sets') {
      const sets = Object.entries(world.setStates ?? {});
      return sets.map(([name, s]) => `${name} ${s.value === 'freePending' ? 'free-pending' : s.value}`).join(', ');
    }
    const slot = activeSlot(world, Number(subject.replace('ioasid ', '')));
    if (!slot || slot.state.value === 'freed') return 'freed';
    const { refs } = slot.state.context;
    const name = slot.state.value === 'freePending' ? 'free-pending' : slot.state.value;
    return refs > 0 ? `${name} refs=${refs}` : name;
  },
  thread: (t, init) => (t < init.cpus.length ? `CPU${t}` : 'other guest'),
};
