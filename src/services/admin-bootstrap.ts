import type { FastifyBaseLogger } from 'fastify';
import type { DatabasePool } from 'slonik';
import type { Config } from '../config.ts';
import { findUserByEmail, updateUserRow, type UserRow } from '../repositories/users-repository.ts';
import { createAccount } from './auth-service.ts';

export interface AdminAccount {
  email: string;
  password: string;
  username: string;
}

/**
 * Creates the admin account, or promotes (and reactivates) the existing account with that email
 * (its password is left as it is). Used at start (ADMIN_EMAIL/ADMIN_PASSWORD) and by
 * `npm run create-admin`.
 */
export async function ensureAdmin(db: DatabasePool, admin: AdminAccount): Promise<{ user: UserRow; created: boolean }> {
  const existing = await findUserByEmail(db, admin.email);
  if (existing) {
    const user = existing.role === 'admin' && existing.active ? existing : await updateUserRow(db, existing.id, { role: 'admin', active: true });
    return { user: user ?? existing, created: false };
  }
  const user = await createAccount(db, { ...admin, display_name: admin.username, role: 'admin' });
  return { user, created: true };
}

export async function bootstrapAdmin(deps: { db: DatabasePool; config: Config; log: FastifyBaseLogger }) {
  const { config } = deps;
  if (!config.ADMIN_EMAIL || !config.ADMIN_PASSWORD) return;
  const { user, created } = await ensureAdmin(deps.db, {
    email: config.ADMIN_EMAIL,
    password: config.ADMIN_PASSWORD,
    username: config.ADMIN_USERNAME,
  });
  deps.log.info({ user_id: user.id, created }, created ? 'admin account created' : 'admin account ensured');
}
