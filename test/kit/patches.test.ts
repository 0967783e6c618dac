/**
 * What a patch does, done to a kit model through the public API from outside
 * src/: remove, replace or insert a step, move an unwind label, add a call,
 * a field, an object kind or a property; each changes the verdict it should.
 */
import { describe, expect, it } from 'vitest';
import { call, checkVariant, defineKitModel, insert, label, replace, ret, step, unwindTo, without, type KitSpec, type Property, type KitWorld } from 'lifecheck';
import { buffers } from '../../examples/buffer.ts';

async function verdicts(spec: KitSpec, properties: Property<KitWorld, KitSpec>[] = [], ids = 2) {
  const model = defineKitModel({
    name: 'patched',
    title: 'patched',
    source: 'test',
    defaults: { threads: 2, ops: 2, ids: { min: 1, max: ids } },
    properties,
    variants: (m) => [m.variant({ name: 'v', title: 'v', source: 'test', config: spec, expect: {} })],
  });
  const r = await checkVariant(model.variants[0]!, { bounds: model.defaults, runs: 0, seed: 42, exhaustive: {} });
  expect(r.complete).toBe(true);
  return Object.fromEntries(r.verdicts.map((v) => [v.property, v.actual]));
}

const broken = (v: Record<string, string>) => Object.keys(v).filter((p) => v[p] === 'violated').sort();
const calls = buffers.calls;

describe('a patch to a kit model', () => {
  it('as merged, breaks nothing', async () => {
    expect(broken(await verdicts(buffers))).toEqual([]);
  });

  it('removes a step: the put in destroy (the table reference leaks)', async () => {
    const v = await verdicts({ ...buffers, calls: { ...calls, buf_destroy: without(calls.buf_destroy!, 'if (refcount_dec_and_test(&b->ref))') } });
    expect(broken(v)).toEqual(['nothing-leaked', 'refcount-matches-holders']);
  });

  it('replaces a step: attach takes its reference with refcount_inc_not_zero (still correct under the lock)', async () => {
    const inc = step('refcount_inc_not_zero(&b->ref)', { op: 'refcount', call: 'refcount_inc_not_zero', ptr: 'b', field: 'ref' }, { fail: 'out_unlock' });
    expect(broken(await verdicts({ ...buffers, calls: { ...calls, buf_attach: replace(calls.buf_attach!, 'refcount_inc(&b->ref)', inc) } }))).toEqual([]);
  });

  it('inserts a step: destroy reads the buffer after its last put', async () => {
    const read = step('pr_debug("%d", b->attached)', { op: 'use', ptr: 'b' });
    const v = await verdicts({ ...buffers, calls: { ...calls, buf_destroy: insert(calls.buf_destroy!, { after: 'kfree(b)' }, read) } });
    expect(broken(v)).toContain('no-use-after-free');
  });

  it('moves an unwind label: create returns the xa_alloc error without freeing what it allocated', async () => {
    // One id for two buffers, so that xa_alloc can fail.
    const v = await verdicts({ ...buffers, calls: { ...calls, buf_create: unwindTo(calls.buf_create!, 'xa_alloc(&bufs, &id, b)', undefined) } }, [], 1);
    expect(broken(v)).toEqual(['failed-call-changes-nothing', 'nothing-leaked', 'refcount-matches-holders']);
  });

  it('adds a call and a field: a lookup that takes no reference, and a length it reads', async () => {
    const peek = call('buf_peek', { id: 'bufs' }, [
      step('rcu_read_lock()', { op: 'rcu_read_lock' }),
      step('b = xa_load(&bufs, id)', { op: 'xa_load', space: 'bufs', id: 'id', into: 'b' }),
      step('rcu_read_unlock()', { op: 'rcu_read_unlock' }),
      step('if (!b) return -ENOENT', { op: 'if_null', ptr: 'b', errno: '-ENOENT' }),
      step('b->len', { op: 'check', ptr: 'b', field: 'len', is: 'zero', errno: '-EIO' }),
    ]);
    const kinds = { buf: { ...buffers.kinds.buf!, fields: { ...buffers.kinds.buf!.fields, len: { type: 'counter', max: 1 } as const } } };
    const v = await verdicts({ ...buffers, kinds, calls: { ...calls, buf_peek: peek } });
    expect(broken(v)).toEqual(['no-use-after-free', 'no-use-after-protection']);
  });

  it('adds an object kind of its own, with a call that makes one', async () => {
    const kinds = { ...buffers.kinds, dev: { slots: 1, fields: { users: { type: 'refcount', max: 2 } } } as const };
    const probe = call('dev_probe', {}, [step('d = kzalloc()', { op: 'alloc', kind: 'dev', into: 'd' }), label('out'), ret(0)]);
    // Its creator returns still holding the first reference in a local: leaked, and counted by nobody.
    expect(broken(await verdicts({ ...buffers, kinds, calls: { ...calls, dev_probe: probe } }))).toEqual(['nothing-leaked', 'refcount-matches-holders']);
  });

  it('adds a property of its own: at most one buffer exists', async () => {
    const one: Property<KitWorld, KitSpec> = {
      id: 'one-buffer',
      kind: 'invariant',
      title: 'at most one buffer is live',
      source: 'test',
      check: (w) => (w.objects.buf!.filter((o) => o.state === 'live').length > 1 ? 'two buffers are live' : undefined),
    };
    expect(broken(await verdicts(buffers, [one]))).toEqual(['one-buffer']);
  });
});

describe('a variant with a scenario of its own', () => {
  it('gives each thread its role: who calls what', async () => {
    // CPU0 only creates and attaches; CPU1 only destroys: no detach ever runs, so the attachment's reference stays.
    const roles = [['buf_create', 'buf_attach'], ['buf_destroy']];
    const v = await verdicts({ ...buffers, roles });
    expect(broken(v)).toEqual([]);
    const model = defineKitModel({
      name: 'roles',
      title: 'roles',
      source: 'test',
      defaults: { threads: 2, ops: 2, ids: { min: 1, max: 2 } },
      variants: (m) => [m.variant({ name: 'v', title: 'v', source: 'test', config: { ...buffers, roles }, expect: {} })],
    });
    const sys = model.system(model.variants[0]!.config, model.defaults);
    expect(sys.enabled(sys.init).map((s) => `${s.thread}:${s.op}`)).toEqual(['0:buf_create', '0:buf_attach', '0:buf_attach', '1:buf_destroy', '1:buf_destroy']);
  });

  it('refuses a role naming a call the model does not have', () => {
    const model = defineKitModel({
      name: 'roles',
      title: 'roles',
      source: 'test',
      defaults: { threads: 1, ops: 1, ids: { min: 1, max: 1 } },
      variants: (m) => [m.variant({ name: 'v', title: 'v', source: 'test', config: { ...buffers, roles: [['buf_frobnicate']] }, expect: {} })],
    });
    expect(() => model.system(model.variants[0]!.config, model.defaults)).toThrow("roles: no call 'buf_frobnicate'; declared: buf_create, buf_attach, buf_detach, buf_destroy");
  });
});

describe('a variant with a property of its own', () => {
  it('is checked against it beside the model\'s, and may expect it broken', async () => {
    const one: Property<KitWorld, KitSpec> = {
      id: 'one-attachment',
      kind: 'invariant',
      title: 'no buffer is attached twice',
      source: 'test',
      check: (w) => (w.objects.buf!.some((o) => o.state === 'live' && o.fields.attached! > 1) ? 'a buffer is attached twice' : undefined),
    };
    const model = defineKitModel({
      name: 'own',
      title: 'own',
      source: 'test',
      defaults: { threads: 2, ops: 2, ids: { min: 1, max: 1 } },
      variants: (m) => [m.variant({ name: 'v', title: 'v', source: 'test', config: buffers, properties: [one], expect: { 'one-attachment': 'violated' } })],
    });
    const r = await checkVariant(model.variants[0]!, { bounds: model.defaults, runs: 0, seed: 42, exhaustive: {} });
    expect(r.verdicts.find((v) => v.property === 'one-attachment')).toMatchObject({ actual: 'violated', matches: true });
    expect(r.matches).toBe(true);
  });
});
