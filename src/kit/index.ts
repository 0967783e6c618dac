/**
 * The lifecycle kit: object kinds with declared fields, kernel primitives
 * (refcount_t, xarray id spaces, mutexes, RCU), calls as labelled steps with
 * unwind paths, pointers with their protection, and the stock properties
 * that follow from them. A model written with it is data the engine runs.
 */
export { atomic, call, insert, jump, label, replace, ret, retId, step, unwindTo, without, type Action, type Atomic, type Call as KitCall, type Item, type RefcountCall, type Return, type Step as KitStep } from './calls.ts';
export { defineKitModel, type KitModelSpec } from './model.ts';
export { objectsWritten, threadAfter, type WrittenObject } from './cache.ts';
export { holders, stockProperties } from './properties.ts';
export { eachThread, type ThreadInvariant } from './each-thread.ts';
export { refcountMachine, WARN } from './refcount.ts';
export { actor, callOf, entryIndex, entryOf, nextStep, objName, sameObject } from './world.ts';
export type { Entry, FieldSpec, KindSpec, KitSpec, KitWorld, Local, Obj as KitObject, Ptr, Slot as IdSlot, SpaceSpec, Thread as KitThread } from './world.ts';
