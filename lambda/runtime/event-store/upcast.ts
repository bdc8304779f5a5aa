/**
 * Upcasting: events are stored with the schema version they were written with, and read at the
 * latest one. Upcasters are registered per event type and per `fromVersion`, and chained: an event
 * stored at version 1 of a type with upcasters from 1 and from 2 goes through both. The event store
 * applies them on every read path (load, loadAt, readEvents, projectors, rebuilds).
 */
import { EventStoreConfigurationError, UpcastError } from './errors';

/** The event an upcaster is given with the data (its stored identity, read-only). */
export interface UpcastContext {
  readonly aggregateId: string;
  readonly version: number;
  readonly type: string;
  /** The schema version of the data the upcaster is given. */
  readonly schemaVersion: number;
}

/** Turns the data of schema version `fromVersion` into that of `fromVersion + 1`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type UpcastFunction = (data: any, event: UpcastContext) => unknown;

/**
 * Upcasters by event type, then by the schema version they upcast from:
 * `{ Deposited: { 1: (d) => ({ amountCents: Math.round(d.amount * 100) }) } }`.
 */
export type Upcasters = Readonly<Record<string, Readonly<Record<number, UpcastFunction>>>>;

/** A checked set of upcasters. */
export class UpcasterChain {
  private readonly byType: ReadonlyMap<string, ReadonlyMap<number, UpcastFunction>>;

  constructor(upcasters: Upcasters = {}) {
    if (typeof upcasters !== 'object' || upcasters === null || Array.isArray(upcasters)) {
      throw new EventStoreConfigurationError('upcasters', `upcasters must be an object of event types (given ${typeof upcasters})`);
    }
    const byType = new Map<string, Map<number, UpcastFunction>>();
    for (const [type, steps] of Object.entries(upcasters)) {
      if (typeof steps !== 'object' || steps === null) {
        throw new EventStoreConfigurationError(
          'upcasters',
          `upcasters.${type} must be an object of fromVersion: function (given ${typeof steps})`,
        );
      }
      const map = new Map<number, UpcastFunction>();
      for (const [from, fn] of Object.entries(steps)) {
        const version = Number(from);
        if (!Number.isInteger(version) || version < 1) {
          throw new EventStoreConfigurationError(
            'upcasters',
            `upcasters.${type}: ${JSON.stringify(from)} is not a schema version (an integer from 1)`,
          );
        }
        if (typeof fn !== 'function') throw new EventStoreConfigurationError('upcasters', `upcasters.${type}[${from}] must be a function`);
        map.set(version, fn as UpcastFunction);
      }
      byType.set(type, map);
    }
    this.byType = byType;
  }

  /** The schema version events of `type` are read at: one past the highest `fromVersion` registered, else 1. */
  public latestVersion(type: string): number {
    const steps = this.byType.get(type);
    return steps && steps.size > 0 ? Math.max(...steps.keys()) + 1 : 1;
  }

  /** `data` of `event` (stored at `event.schemaVersion`) brought to the latest schema version, through every upcaster on the way. */
  public upcast(event: UpcastContext, data: unknown): { readonly schemaVersion: number; readonly data: unknown } {
    const steps = this.byType.get(event.type);
    let version = event.schemaVersion;
    let value = data;
    for (let fn = steps?.get(version); fn; fn = steps?.get(version)) {
      try {
        value = fn(value, { ...event, schemaVersion: version });
      } catch (cause) {
        throw new UpcastError(
          `the upcaster of ${event.type} from schema version ${version} failed on ${event.aggregateId} version ${event.version}: ${cause instanceof Error ? cause.message : String(cause)}`,
          { cause, context: { aggregateId: event.aggregateId, version: event.version, type: event.type, fromVersion: version } },
        );
      }
      version += 1;
    }
    return { schemaVersion: version, data: value };
  }
}
