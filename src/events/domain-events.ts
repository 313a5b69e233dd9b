import type { PublicUser } from '../repositories/users-repository.ts';

/**
 * Every domain event Parley announces, keyed by type. Published only after commit.
 * `recipients` style routing (which sessions get what) is the gateway's job, not the publisher's.
 */
export interface DomainEventMap {
  /** Sessions ended (logout, revocation, password change, deactivation, deletion). */
  'sessions.revoked': { user_id: string; session_ids: string[] | 'all'; reason: string };
  'user.updated': { user: PublicUser };
}

export type DomainEventType = keyof DomainEventMap;
export type DomainEvent = { [K in DomainEventType]: { type: K } & DomainEventMap[K] }[DomainEventType];
