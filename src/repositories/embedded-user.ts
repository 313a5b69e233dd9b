import { sql } from 'slonik';
import { z } from 'zod';
import type { components } from '../../generated/openapi-types.ts';
import { roleSchema } from './users-repository.ts';

/** The public `User` object embedded in messages, members and DM recipients (never email or phone). */
export type EmbeddedUser = components['schemas']['User'];

const USER_FIELDS = ['id', 'username', 'display_name', 'role', 'active', 'created_at', 'updated_at', 'last_seen_at'] as const;

/** Selects a users row (by alias) as `u_id, u_username, ...`, beside other columns. */
export function embeddedUserColumns(alias: string) {
  return sql.join(
    USER_FIELDS.map((field) => sql.fragment`${sql.identifier([alias, field])} AS ${sql.identifier([`u_${field}`])}`),
    sql.fragment`, `,
  );
}

export const embeddedUserShape = {
  u_id: z.string(),
  u_username: z.string(),
  u_display_name: z.string(),
  u_role: roleSchema,
  u_active: z.boolean(),
  u_created_at: z.string(),
  u_updated_at: z.string(),
  u_last_seen_at: z.string().nullable(),
};

type EmbeddedUserColumns = { [K in keyof typeof embeddedUserShape]: z.infer<(typeof embeddedUserShape)[K]> };

export function toEmbeddedUser(row: EmbeddedUserColumns): EmbeddedUser {
  return {
    id: row.u_id,
    username: row.u_username,
    display_name: row.u_display_name,
    role: row.u_role,
    active: row.u_active,
    created_at: row.u_created_at,
    updated_at: row.u_updated_at,
    last_seen_at: row.u_last_seen_at,
  };
}
