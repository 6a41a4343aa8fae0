import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { pino } from 'pino';
import type { Role } from '../db/tables.js';
import { AuthService } from '../features/auth/auth-service.js';
import { AuthStore } from '../features/auth/auth-store.js';
import { systemClock } from '../lib/clock.js';
import { DomainError } from '../lib/domain-error.js';
import { openStorage } from '../storage.js';
import { addConfigFlags, configFromFlags } from './config-flags.js';
import type { CliIo, CliState } from './program.js';

const STORAGE_FLAGS = ['data', 'databaseUrl'] as const;

/** `esp-ota user …` and `esp-ota token …`: work on the database directly, so they also rescue a locked-out admin. */
export function registerAuthCommands(program: Command, io: CliIo, state: CliState): void {
  const withAuth = (work: (auth: AuthService, command: Command, ...args: string[]) => Promise<void>) =>
    async function (this: Command, ...args: unknown[]) {
      const config = configFromFlags(this.opts<Record<string, string>>(), io, state);
      if (!config) return;
      const storage = await openStorage(config, pino({ level: 'warn' }), systemClock);
      try {
        const words = args.filter((a) => typeof a === 'string') as string[];
        await work(new AuthService(new AuthStore(storage.db), systemClock, ''), this, ...words);
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        io.err.write(`error: ${error.message}\n`);
        state.exitCode = 1;
      } finally {
        await storage.db.destroy();
      }
    };
  const passwordOf = (command: Command): { password: string; generated: boolean } => {
    const given = command.opts<{ password?: string }>().password;
    return given
      ? { password: given, generated: false }
      : { password: randomBytes(15).toString('base64url'), generated: true };
  };
  const withPassword = '--password <password>';
  const passwordHelp = 'default: a random one, printed once';

  const user = program.command('user').description('manage people’s accounts (roles: admin, uploader, viewer)');
  addConfigFlags(
    user
      .command('add <name>')
      .option('--role <role>', 'admin, uploader or viewer', 'viewer')
      .option(withPassword, passwordHelp),
    STORAGE_FLAGS,
  ).action(
    withAuth(async (auth, command, name) => {
      const { password, generated } = passwordOf(command);
      const created = await auth.addUser(name!, password, command.opts<{ role: Role }>().role);
      io.out.write(`added ${created.username} (${created.role})${generated ? `; password: ${password}` : ''}\n`);
    }),
  );
  addConfigFlags(user.command('passwd <name>').option(withPassword, passwordHelp), STORAGE_FLAGS).action(
    withAuth(async (auth, command, name) => {
      const { password, generated } = passwordOf(command);
      await auth.setPassword(name!, password);
      io.out.write(
        `password of ${name} changed; their sessions were ended${generated ? `; new password: ${password}` : ''}\n`,
      );
    }),
  );
  addConfigFlags(user.command('rm <name>'), STORAGE_FLAGS).action(
    withAuth(async (auth, _command, name) => {
      await auth.removeUser(name!);
      io.out.write(`removed ${name}\n`);
    }),
  );
  addConfigFlags(user.command('list'), STORAGE_FLAGS).action(
    withAuth(async (auth) => {
      for (const u of await auth.listUsers()) io.out.write(`${u.username}\t${u.role}\n`);
    }),
  );

  const token = program
    .command('token')
    .description('manage API tokens for CI and scripts (shown once, stored hashed)');
  addConfigFlags(
    token
      .command('create')
      .option('--role <role>', 'admin, uploader or viewer', 'uploader')
      .option('--name <name>', 'what it is for', 'cli'),
    STORAGE_FLAGS,
  ).action(
    withAuth(async (auth, command) => {
      const options = command.opts<{ role: Role; name: string }>();
      const created = await auth.createToken(options.name, options.role);
      io.out.write(`${created.token}\n`);
      io.err.write(`token ${created.row.id} (${created.row.role}) created; it is not shown again\n`);
    }),
  );
  addConfigFlags(token.command('list'), STORAGE_FLAGS).action(
    withAuth(async (auth) => {
      for (const t of await auth.listTokens()) {
        const state = t.revoked_at
          ? 'revoked'
          : t.last_used_at
            ? `used ${new Date(t.last_used_at).toISOString()}`
            : 'never used';
        io.out.write(`${t.id}\t${t.name}\t${t.role}\t${state}\n`);
      }
    }),
  );
  addConfigFlags(token.command('revoke <id>'), STORAGE_FLAGS).action(
    withAuth(async (auth, _command, id) => {
      await auth.revokeToken(Number(id));
      io.out.write(`token ${id} revoked\n`);
    }),
  );
}
