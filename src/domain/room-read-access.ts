/**
 * Who may read a room or a DM (not a guild channel: the guild module decides those), from the
 * three facts it depends on. One rule for the access check of every channel route
 * (src/services/channel-access.ts) and for the history page, whose query returns these facts
 * beside the page so that a page costs one round trip.
 *
 * - `hidden`: the caller cannot see the channel (a DM or private room they are not in): 404, as
 *   for a channel that does not exist.
 * - `forbidden`: they see it (a public room) but are not a member: 403.
 * - `read`: a member.
 */
export type RoomReadAccess = 'read' | 'forbidden' | 'hidden';

export interface RoomFacts {
  type: 'room' | 'dm' | 'guild_text';
  visibility: 'public' | 'private' | null;
  isMember: boolean;
}

/** Whether a room or DM is visible to the caller at all. */
export function roomVisible(facts: RoomFacts): boolean {
  if (facts.isMember) return true;
  return facts.type !== 'dm' && facts.visibility !== 'private';
}

export function roomReadAccess(facts: RoomFacts): RoomReadAccess {
  if (!roomVisible(facts)) return 'hidden';
  return facts.isMember ? 'read' : 'forbidden';
}
