/**
 * The example domain of the event-store handlers and tests: a bank account.
 *
 * Events (data at the latest schema version):
 * - `AccountOpened` `{ owner }`
 * - `Deposited` `{ amountCents }`: schema version 2. Version 1 was `{ amount }` in currency units
 *   (a float), upcast to cents on every read.
 * - `Withdrawn` `{ amountCents }`
 * - `AccountClosed` `{}`
 */
import type { StoredEvent } from '../../runtime/event-store/layout';
import type { ProjectionDefinition } from '../../runtime/event-store/projection';
import type { Reducer } from '../../runtime/event-store/store';
import type { Upcasters } from '../../runtime/event-store/upcast';

/** The upcasters of the account's events. */
export const accountUpcasters: Upcasters = {
  Deposited: { 1: (data: { amount: number }) => ({ amountCents: Math.round(data.amount * 100) }) },
};

/** The account aggregate's state. */
export interface Account {
  readonly open: boolean;
  readonly owner?: string;
  readonly balanceCents: number;
  readonly transactions: number;
}

function applyTo<T extends { balanceCents: number }>(state: T, event: StoredEvent): T {
  const data = event.data as { amountCents?: number; owner?: string };
  switch (event.type) {
    case 'Deposited':
      return { ...state, balanceCents: state.balanceCents + (data.amountCents ?? 0) };
    case 'Withdrawn':
      return { ...state, balanceCents: state.balanceCents - (data.amountCents ?? 0) };
    default:
      return state;
  }
}

/** The account's reducer (version 1). */
export const accountReducer: Reducer<Account> = {
  version: 1,
  initial: () => ({ open: false, balanceCents: 0, transactions: 0 }),
  apply: (state, event) => {
    const next = applyTo({ ...state, transactions: state.transactions + 1 }, event);
    if (event.type === 'AccountOpened') return { ...next, open: true, owner: (event.data as { owner: string }).owner };
    if (event.type === 'AccountClosed') return { ...next, open: false };
    return next;
  },
};

/** The read model: what a query side shows of an account. */
export interface AccountSummary {
  readonly owner: string;
  readonly status: 'open' | 'closed';
  readonly balanceCents: number;
  readonly deposits: number;
  readonly withdrawals: number;
  /** Ids of the events folded in, in order (the tests compare it with the history: no duplicate, no gap). */
  readonly eventIds: readonly string[];
}

/** The account summary projection. */
export const accountSummary: ProjectionDefinition<AccountSummary> = {
  name: 'account-summary',
  version: 1,
  initial: () => ({ owner: '', status: 'open', balanceCents: 0, deposits: 0, withdrawals: 0, eventIds: [] }),
  apply: (state, event) => {
    const next = { ...applyTo(state, event), eventIds: [...state.eventIds, event.eventId] };
    switch (event.type) {
      case 'AccountOpened':
        return { ...next, owner: (event.data as { owner: string }).owner, status: 'open' };
      case 'Deposited':
        return { ...next, deposits: state.deposits + 1 };
      case 'Withdrawn':
        return { ...next, withdrawals: state.withdrawals + 1 };
      case 'AccountClosed':
        return { ...next, status: 'closed' };
      default:
        return next;
    }
  },
};
