/**
 * What the checker says when the model, not the design, is wrong: a throw is
 * an error (exit 2, one line: variant, step, what, where), an override xstate
 * would not run is refused, and a run that never ends is a finding.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { checkVariant } from 'lifecheck';
import { lockMachine, plainAction, spinlock, throwsInApply, throwsInAssign, unlockRefused } from '../fixtures/spinlock.ts';
import { fire, initialState } from '../../src/engine/machine.ts';

const bin = new URL('../../bin/lifecheck.js', import.meta.url).pathname;
const fixture = 'test/fixtures/spinlock.ts';

function lifecheck(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const variantOf = (name: string) => spinlock.variants.find((v) => v.name === name)!;
const options = { bounds: spinlock.defaults, runs: 200, seed: 42 };

describe('a model that throws is an error, never a verdict', () => {
  it.each([
    ['random', []],
    ['exhaustive', ['--exhaustive']],
  ])('the %s explorer names the variant, the step, what was thrown and where', (_, flags) => {
    const r = lifecheck('check', fixture, '--variant', 'throws-in-apply', ...flags);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(
      /^lifecheck: spinlock --variant throws-in-apply: step 2 \(CPU0 unlock\(\)\) threw TypeError: cannot read the owner \(test\/fixtures\/spinlock\.ts:\d+:\d+\)\n$/,
    );
  });

  it('names the property that threw, and a throw inside a machine action', async () => {
    const property = lifecheck('check', fixture, '--variant', 'throws-in-property', '--exhaustive');
    expect(property.code).toBe(2);
    expect(property.err).toMatch(/^lifecheck: spinlock --variant throws-in-property: property 'one-owner' at step 2 threw RangeError: the property broke itself \(test\/fixtures\/spinlock\.ts:\d+:\d+\)\n$/);
    // xstate runs an assign given by provide(): its throw reaches the user too.
    await expect(checkVariant(throwsInAssign, options)).rejects.toThrow(/throws-in-assign: step 2 \(CPU0 unlock\(\)\) threw Error: drop failed \(test\/fixtures\/spinlock\.ts:\d+:\d+\)$/);
  });

  it('names a guard that threw, with its message, on one line', () => {
    const r = lifecheck('check', fixture, '--variant', 'throws-in-guard', '--exhaustive');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /^lifecheck: spinlock --variant throws-in-guard: step 2 \(CPU0 unlock\(\)\) threw Error: Unable to evaluate guard 'mine' in transition for event 'UNLOCK' in state node 'lock\.locked': guard exploded \(test\/fixtures\/spinlock\.ts:\d+:\d+\)\n$/,
    );
  });

  it('stops a random search at the throw when it replays a schedule by path', async () => {
    await expect(checkVariant(throwsInApply, { ...options, properties: ['one-owner'], path: '0' })).rejects.toThrow(/step \d+ \(CPU\d unlock\(\)\) threw TypeError/);
  });
});

describe('a patch takes effect, or is refused', () => {
  it('refuses an action given as a plain function, which xstate would return instead of running', async () => {
    expect(() => fire(plainAction.config.machine, initialState(plainAction.config.machine), { type: 'TRY', cpu: 0 } as never)).toThrow(
      /machine 'lock' runs action 'take' as a plain function, .*write the effect as assign\(\.\.\.\)/,
    );
    const r = lifecheck('check', fixture, '--variant', 'plain-action', '--runs', '10');
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/plain-action: machine 'lock' runs action 'take' as a plain function/);
  });

  it('evaluates a guard given by provide(): the lock is never released', async () => {
    const r = await checkVariant(unlockRefused, options);
    expect(r.verdicts.find((v) => v.property === 'unlocked-at-end')).toMatchObject({ actual: 'violated', matches: true });
  });

  it('refuses actors and delays, which pure stepping never runs', async () => {
    const withActor = lockMachine.provide({ actors: { watchdog: {} as never } });
    expect(() => fire(withActor, initialState(withActor), { type: 'TRY', cpu: 0 } as never)).toThrow(/is given actors \(watchdog\), which lifecheck does not run/);
    const withDelay = lockMachine.provide({ delays: { timeout: 10 } });
    expect(() => fire(withDelay, initialState(withDelay), { type: 'TRY', cpu: 0 } as never)).toThrow(/is given delays \(timeout\)/);
  });
});

describe('no run without an end', () => {
  it.each(['random', 'exhaustive'] as const)('the %s explorer reports a retried trylock as a run that never ends', async (explorer) => {
    const r = await checkVariant(variantOf('retries'), { ...options, ...(explorer === 'exhaustive' ? { exhaustive: {} } : {}) });
    const v = r.verdicts.find((x) => x.property === 'run-ends')!;
    expect(v).toMatchObject({ actual: 'violated', matches: true });
    expect(v.counterexample!.violation.message).toMatch(/leads? back to the world after step \d+: they can repeat for ever/);
    expect(v.counterexample!.trace.steps.at(-1)!.reply.text).toBe('0');
  });

  it('keeps run-ends where CPUs wait for the lock instead', async () => {
    for (const exhaustive of [undefined, {}]) {
      const r = await checkVariant(variantOf('waits'), { ...options, ...(exhaustive ? { exhaustive } : {}) });
      expect(r.verdicts.find((x) => x.property === 'run-ends')).toMatchObject({ actual: 'holds' });
    }
  });

  it('cuts a run at the horizon and says so, when no world repeats', async () => {
    // A ghost counter makes every world new: only the cap can end such a run.
    const base = spinlock.system(variantOf('retries').config, spinlock.defaults);
    const counting = { ...base, init: { ...base.init, n: 0 }, apply: (w: never, s: never) => { const o = base.apply(w, s); return { ...o, world: { ...o.world, n: (w as { n: number }).n + 1 } }; } };
    const model = { ...spinlock, system: () => counting } as typeof spinlock;
    const r = await checkVariant({ ...variantOf('retries'), model }, options);
    expect(r.verdicts.find((x) => x.property === 'run-ends')!.counterexample!.violation.message).toMatch(/has not ended after 4 steps, the scenario's bound/);
  });
});
