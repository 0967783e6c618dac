/**
 * The benchmark's three invariants, exactly as shared/anchors/README.md states
 * them: I1 and I2 are checked on the step (in the world before it), I3 in
 * every world.
 */
import type { Property } from 'lifecheck';
import { bor, gen, held, rc, slotOf, st, type BenchConfig, type BenchWorld } from './world.ts';
import { FREE } from './machine.ts';

type BenchProperty = Property<BenchWorld, BenchConfig>;

/** I1: a borrowed pointer is used only while its instance is alive and referenced. */
const noUseAfterFree: BenchProperty = {
  id: 'no-use-after-free',
  title: 'use(i) meets the instance find returned, still allocated and referenced (I1)',
  source: 'seed 001 ("ioasid_find() does not take reference, caller must hold reference"); anchors I1',
  kind: 'step',
  check({ before, step }) {
    if (step.op !== 'use') return undefined;
    const y = before.layout;
    const c = before.cells;
    const i = slotOf(y, step.args[0] as number);
    const found = c[bor(y, step.thread, i)]!;
    if (c[st(y, i)] === FREE) return `T${step.thread} uses ioasid ${step.args[0]} (gen ${found}) after it was freed`;
    if (c[gen(y, i)] !== found) return `T${step.thread} uses ioasid ${step.args[0]} of gen ${found}, but the id was reallocated (gen ${c[gen(y, i)]})`;
    if (c[rc(y, i)]! < 1) return `T${step.thread} uses ioasid ${step.args[0]} with refcount 0`;
    return undefined;
  },
};

/** I2: alloc never hands out an id somebody still references. */
const noReuseWhileReferenced: BenchProperty = {
  id: 'no-reuse-while-referenced',
  title: 'alloc never returns an id a thread still holds (or, when find takes refs, has found) (I2)',
  source: 'seed 001 ("The IOASID is not returned to the pool for reuse"); anchors I2',
  kind: 'step',
  check({ before, step, reply }, config) {
    if (step.op !== 'alloc' || !reply.ok) return undefined;
    const y = before.layout;
    const i = slotOf(y, Number(reply.text));
    // Checked at every allocation: a loop, no array of threads made.
    for (let u = 0; u < y.n; u++) {
      if (before.cells[held(y, u, i)] !== 0 || (config.findTakesRef && before.cells[bor(y, u, i)] !== 0)) {
        return `alloc returns ioasid ${reply.text} while T${u} still references it`;
      }
    }
    return undefined;
  },
};

/** I3: the refcount is the number of references held. */
const refcountAccounting: BenchProperty = {
  id: 'refcount-accounting',
  title: 'rc(i) equals the references threads hold on i (plus found pointers when find takes refs) (I3)',
  source: 'seed 001 (refcount_inc/refcount_dec_and_test pair per user); anchors I3',
  kind: 'invariant',
  check(world, config) {
    const y = world.layout;
    const c = world.cells;
    for (let i = 0; i < y.k; i++) {
      let refs = 0;
      for (let u = 0; u < y.n; u++) refs += c[held(y, u, i)]! + (config.findTakesRef && c[bor(y, u, i)] !== 0 ? 1 : 0);
      if (c[rc(y, i)] !== refs) return `ioasid ${y.firstId + i} has refcount ${c[rc(y, i)]} but ${refs} references are held`;
    }
    return undefined;
  },
};

export const benchProperties: readonly BenchProperty[] = [noUseAfterFree, noReuseWhileReferenced, refcountAccounting];
