import type { Role } from '../../db/tables.js';

export type { Role };

/** What a route needs: `public` (no one), `device` (the device protocol's own rules), or a role. */
export type Access = 'public' | 'device' | Role;

export const ROLES: readonly Role[] = ['viewer', 'uploader', 'admin'];

/** viewer < uploader < admin: each role can do everything the ones before it can. */
export function roleAllows(held: Role, needed: Role): boolean {
  return ROLES.indexOf(held) >= ROLES.indexOf(needed);
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
