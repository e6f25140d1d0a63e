// A pinned worker's resident lease on its card: the memory of a stage's model, held while the
// worker lives (renewed, gone within the lease TTL of its death). It also says which card serves
// which stage, so a job short of memory on one card can go to a card of the same host that a
// worker of its stage holds and that has room (see JobMemoryGate). A model with no resident
// memory still holds one, of 0 MB, for that.
const SUFFIX = ':resident';

/** `<service>:<model>:resident`. */
export function residentServiceId(service: string, model: string): string {
  return `${service}:${model}${SUFFIX}`;
}

/** Whether a lease's serviceId is the resident lease of a worker of `service`. */
export function isResidentOf(serviceId: unknown, service: string): boolean {
  return typeof serviceId === 'string' && serviceId.startsWith(`${service}:`) && serviceId.endsWith(SUFFIX);
}
