/**
 * Why a thread cannot take its next step now: a held mutex, a queued
 * writer, readers `synchronize_rcu` waits for, a wait whose condition does
 * not hold yet.
 */
import type { Action } from './calls.ts';
import { objName, resolveLock, writable, type Thread, type View } from './world.ts';

/** Whether a thread's next step can run now (a held mutex, readers synchronize_rcu waits for); `frame` its locals, if not its own yet (a kworker's next work). */
export function blockedOn(world: View, t: number, unresolved: Action, frame = world.threadAt(t).frame): string | undefined {
  const action = resolveLock(frame, unresolved);
  // An object's lock through a NULL pointer: the step runs, and oopses.
  if ('ptr' in action && action.ptr !== undefined && ('lock' in action || 'sem' in action) && action === unresolved) return undefined;
  if (action.op === 'mutex_lock') {
    const owner = world.lockOwner(action.lock);
    if (owner !== -1) return `mutex_lock(&${action.lock}), held by ${world.actor(owner!)}`;
  }
  if (action.op === 'synchronize_rcu') {
    for (let u = 0; u < world.threadCount; u++) {
      if (u !== t && world.rcuOf(u) > 0) return `synchronize_rcu(), with ${world.actor(u)} inside rcu_read_lock()`;
    }
  }
  if (action.op === 'wait') return waitingFor(world, frame, action);
  if (action.op === 'down_read' || action.op === 'down_write') return rwsemWait(world, t, action.op, action.sem);
  return undefined;
}

const names = (world: View, threads: readonly number[]) => threads.map((u) => world.actor(u)).join(', ');

/** Why a down_read or a queued down_write cannot have the semaphore now (a first down_write may always run: it queues). */
function rwsemWait(world: View, t: number, op: 'down_read' | 'down_write', name: string): string | undefined {
  const sem = world.rwsem(name)!;
  if (op === 'down_read') {
    if (sem.writer >= 0) return `down_read(&${name}), written by ${world.actor(sem.writer)}`;
    return sem.queued.length ? `down_read(&${name}), behind the writer ${names(world, sem.queued)} queued for it` : undefined;
  }
  if (!sem.queued.includes(t) || writable(sem, t)) return undefined;
  const holders = [...sem.readers, ...(sem.writer >= 0 ? [sem.writer] : [])];
  return `down_write(&${name}), queued behind ${names(world, holders)}`;
}


/** What a wait still waits for, or undefined once its condition holds (or its object is gone: the step will say so). */
function waitingFor(world: View, frame: Thread['frame'], a: Extract<Action, { op: 'wait' }>): string | undefined {
  const p = frame[a.ptr];
  if (p === null || p === undefined || typeof p !== 'object') return undefined;
  const o = world.objAt(p.kind, p.slot);
  if (o.gen !== p.gen || o.state === 'free') return undefined;
  const v = o.fields[a.field]!;
  if ((v === 0) === (a.until === 'zero')) return undefined;
  return `wait until ${objName(p.kind, p.slot)}.${a.field} ${a.until === 'zero' ? '== 0' : '!= 0'} (it is ${v})`;
}

