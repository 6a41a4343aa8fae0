import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiTokenRow, Role, UserRow } from '../../db/tables.js';
import type { Clock } from '../../lib/clock.js';
import { DomainError } from '../../lib/domain-error.js';
import { isRowId } from '../../lib/row-id.js';
import type { AuthStore } from './auth-store.js';
import { LoginLimiter } from './login-limiter.js';
import { PasswordHasher } from './password-hasher.js';
import { isRole } from './roles.js';

export interface Principal {
  kind: 'session' | 'token';
  name: string;
  role: Role;
  /** For sessions: the CSRF token forms and scripts must send back. */
  csrfToken?: string;
  sessionHash?: string;
  userId?: number;
}

const SESSION_TTL_MS = 7 * 24 * 3_600_000;
const TOKEN_TOUCH_MS = 60_000;
const USERNAME = /^[a-z0-9][a-z0-9._-]{0,31}$/;
const MIN_PASSWORD = 10;
const MAX_PASSWORD = 200;

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const randomSecret = (bytes = 32) => randomBytes(bytes).toString('base64url');

/** Accounts (argon2id), sessions (random ids, stored hashed, expiring) and API tokens (shown once, stored hashed). */
export class AuthService {
  private readonly limiter = new LoginLimiter();
  /** Every argon2 hash goes through here, so a burst of logins cannot take the whole thread pool. */
  readonly hasher = new PasswordHasher();
  private readonly touched = new Map<number, number>();

  constructor(
    private readonly store: AuthStore,
    private readonly clock: Clock,
    /** `ESP_OTA_API_TOKEN`: one admin token for automation, never stored. */
    private readonly bootstrapToken: string,
  ) {}

  /** First start: an `admin` account with the given password or a random one, which is returned to be shown once. */
  async ensureAdmin(password: string): Promise<{ created: boolean; password?: string }> {
    if ((await this.store.countUsers()) > 0) return { created: false };
    const chosen = password || randomSecret(15);
    await this.addUser('admin', chosen, 'admin');
    return { created: true, password: password ? undefined : chosen };
  }

  async addUser(usernameInput: string, password: string, role: Role): Promise<UserRow> {
    const username = usernameInput.trim().toLowerCase();
    if (!USERNAME.test(username))
      throw new DomainError('bad-request', 'a user name is 1–32 lower-case letters, digits, dot, dash or underscore');
    if (!isRole(role)) throw new DomainError('bad-request', 'the role is admin, uploader or viewer');
    checkPassword(password);
    if (await this.store.findUser(username)) throw new DomainError('user-exists', `user "${username}" exists`);
    return this.store.insertUser({
      username,
      password_hash: await this.hasher.hash(password),
      role,
      now: this.clock.now(),
    });
  }

  async setPassword(username: string, password: string, keepSession?: string): Promise<void> {
    checkPassword(password);
    const user = await this.user(username);
    await this.store.setPassword(user.id, await this.hasher.hash(password), this.clock.now());
    // A changed password ends every other session of that person.
    await this.store.deleteSessionsOf(user.id, keepSession);
  }

  async removeUser(username: string): Promise<void> {
    const user = await this.user(username);
    const admins = (await this.store.listUsers()).filter((u) => u.role === 'admin');
    if (user.role === 'admin' && admins.length === 1)
      throw new DomainError('bad-request', 'the last admin cannot be removed');
    await this.store.deleteUser(user.id);
  }

  listUsers(): Promise<UserRow[]> {
    return this.store.listUsers();
  }

  /**
   * Checks a password; on success returns a new session's cookie value. Attempts are counted per IP and account
   * before the password is checked, so attempts sent at once cannot slip past the lock while the first ones hash.
   */
  async login(usernameInput: string, password: string, ip: string): Promise<{ cookie: string; principal: Principal }> {
    const username = usernameInput.trim().toLowerCase();
    const now = this.clock.now();
    // A name no account can have (NUL and other control characters, which PostgreSQL refuses in text, or too long)
    // or a password longer than any account's is wrong without asking the database or hashing; that reveals nothing
    // about which names exist. Such names are counted against the address only, so they cannot fill the limiter.
    const possible = USERNAME.test(username) && password.length <= MAX_PASSWORD;
    const keys = possible ? [`ip:${ip}`, `user:${username}`] : [`ip:${ip}`];
    const wait = this.limiter.attempt(keys, now);
    if (wait > 0) {
      throw new DomainError(
        'too-many-attempts',
        `too many failed logins; try again in ${Math.ceil(wait / 60_000)} minutes`,
      );
    }
    const user = possible ? await this.store.findUser(username) : undefined;
    // Verify against a real hash even for unknown users, so timing does not reveal which names exist.
    const ok = possible && (await this.hasher.verify(user?.password_hash ?? DUMMY_HASH, password));
    if (!user || !ok) throw new DomainError('unauthorized', 'wrong user name or password');
    this.limiter.succeed(keys);
    const cookie = randomSecret();
    const csrf = randomSecret(18);
    await this.store.deleteExpiredSessions(now);
    await this.store.insertSession({
      id_hash: sha256(cookie),
      user_id: user.id,
      csrf_token: csrf,
      created_at: now,
      expires_at: now + SESSION_TTL_MS,
    });
    return {
      cookie,
      principal: {
        kind: 'session',
        name: user.username,
        role: user.role,
        csrfToken: csrf,
        sessionHash: sha256(cookie),
        userId: user.id,
      },
    };
  }

  async session(cookie: string): Promise<Principal | undefined> {
    const row = await this.store.findSession(sha256(cookie), this.clock.now());
    return (
      row && {
        kind: 'session',
        name: row.username,
        role: row.role,
        csrfToken: row.csrf_token,
        sessionHash: row.id_hash,
        userId: row.user_id,
      }
    );
  }

  async logout(cookie: string): Promise<void> {
    await this.store.deleteSession(sha256(cookie));
  }

  async createToken(name: string, role: Role): Promise<{ token: string; row: ApiTokenRow }> {
    if (!isRole(role)) throw new DomainError('bad-request', 'the role is admin, uploader or viewer');
    const label = name.trim().slice(0, 100) || 'token';
    const token = `eota_${randomSecret()}`;
    const row = await this.store.insertToken({
      name: label,
      token_hash: sha256(token),
      role,
      created_at: this.clock.now(),
    });
    return { token, row };
  }

  async token(bearer: string): Promise<Principal | undefined> {
    if (this.bootstrapToken && safeEqual(bearer, this.bootstrapToken))
      return { kind: 'token', name: 'ESP_OTA_API_TOKEN', role: 'admin' };
    const row = await this.store.findActiveToken(sha256(bearer));
    if (!row) return undefined;
    const now = this.clock.now();
    if (now - (this.touched.get(row.id) ?? 0) > TOKEN_TOUCH_MS) {
      this.touched.set(row.id, now);
      await this.store.touchToken(row.id, now);
    }
    return { kind: 'token', name: row.name, role: row.role };
  }

  listTokens(): Promise<ApiTokenRow[]> {
    return this.store.listTokens();
  }

  async revokeToken(id: number): Promise<void> {
    // An id no row can have (the UI passes path text through Number()) never reaches SQL.
    if (!isRowId(id) || !(await this.store.revokeToken(id, this.clock.now())))
      throw new DomainError('unknown-token', `there is no active token with id ${id}`);
  }

  private async user(username: string): Promise<UserRow> {
    const user = await this.store.findUser(username.trim().toLowerCase());
    if (!user) throw new DomainError('unknown-user', `there is no user "${username}"`);
    return user;
  }
}

function checkPassword(password: string): void {
  if (typeof password !== 'string' || password.length < MIN_PASSWORD || password.length > MAX_PASSWORD) {
    throw new DomainError('bad-request', `a password is ${MIN_PASSWORD} to ${MAX_PASSWORD} characters`);
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A valid argon2id hash of a random password nobody knows. */
const DUMMY_HASH = '$argon2id$v=19$m=65536,p=4,t=3$xhTVC/n9V55oXTfom3tceg$yPDkZHF6c0nljant5Lke1U27EjbN148BJJQZv/mPmJE';
