import type { Database } from '../../db/database.js';
import { refusedAs } from '../../db/database-errors.js';
import type { ApiTokenRow, Role, SessionRow, UserRow } from '../../db/tables.js';
import { DomainError } from '../../lib/domain-error.js';

/** SQL for people's accounts, their sessions and API tokens. Secrets are only ever stored as hashes. */
export class AuthStore {
  constructor(private readonly db: Database) {}

  countUsers(): Promise<number> {
    return this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
      .then((r) => Number(r.n));
  }

  listUsers(): Promise<UserRow[]> {
    return this.db.selectFrom('users').selectAll().orderBy('username').execute();
  }

  findUser(username: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
  }

  findUserById(id: number): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  insertUser(user: { username: string; password_hash: string; role: Role; now: number }): Promise<UserRow> {
    const insert = this.db
      .insertInto('users')
      .values({
        username: user.username,
        password_hash: user.password_hash,
        role: user.role,
        created_at: user.now,
        password_changed_at: user.now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return refusedAs(insert, { unique: () => new DomainError('user-exists', `user "${user.username}" exists`) });
  }

  async setPassword(id: number, passwordHash: string, now: number): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ password_hash: passwordHash, password_changed_at: now })
      .where('id', '=', id)
      .execute();
  }

  async deleteUser(id: number): Promise<void> {
    await this.db.deleteFrom('users').where('id', '=', id).execute();
  }

  async insertSession(session: SessionRow): Promise<void> {
    await this.db.insertInto('sessions').values(session).execute();
  }

  findSession(idHash: string, now: number): Promise<(SessionRow & { username: string; role: Role }) | undefined> {
    return this.db
      .selectFrom('sessions')
      .innerJoin('users', 'users.id', 'sessions.user_id')
      .selectAll('sessions')
      .select(['users.username', 'users.role'])
      .where('sessions.id_hash', '=', idHash)
      .where('sessions.expires_at', '>', now)
      .executeTakeFirst();
  }

  async deleteSession(idHash: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
  }

  /** Ends a user's sessions, except `keep` (the one changing the password). */
  async deleteSessionsOf(userId: number, keep?: string): Promise<void> {
    let q = this.db.deleteFrom('sessions').where('user_id', '=', userId);
    if (keep) q = q.where('id_hash', '!=', keep);
    await q.execute();
  }

  async deleteExpiredSessions(now: number): Promise<void> {
    await this.db.deleteFrom('sessions').where('expires_at', '<=', now).execute();
  }

  insertToken(token: { name: string; token_hash: string; role: Role; created_at: number }): Promise<ApiTokenRow> {
    return this.db.insertInto('api_tokens').values(token).returningAll().executeTakeFirstOrThrow();
  }

  findActiveToken(tokenHash: string): Promise<ApiTokenRow | undefined> {
    return this.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('token_hash', '=', tokenHash)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
  }

  listTokens(): Promise<ApiTokenRow[]> {
    return this.db.selectFrom('api_tokens').selectAll().orderBy('id').execute();
  }

  async touchToken(id: number, now: number): Promise<void> {
    await this.db.updateTable('api_tokens').set({ last_used_at: now }).where('id', '=', id).execute();
  }

  async revokeToken(id: number, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('api_tokens')
      .set({ revoked_at: now })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}
