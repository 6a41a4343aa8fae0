import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import type { Role } from '../db/tables.js';
import type { AuthService } from '../features/auth/auth-service.js';
import { DomainError } from '../lib/domain-error.js';
import { printJson, printTable, wantsJson, wholeNumber, withJson } from './client-kit.js';
import { addConfigFlags, configFromFlags } from './config-flags.js';
import { openDataStorage, withInit } from './data-folder.js';
import { CliError } from './exit-codes.js';
import type { CliIo, CliState } from './program.js';

const STORAGE_FLAGS = ['data', 'databaseUrl'] as const;

/** `esp-ota user …` and `esp-ota token …`: work on the database directly, so they also rescue a locked-out admin. */
export function registerAuthCommands(program: Command, io: CliIo, state: CliState): void {
  const withAuth = (work: (auth: AuthService, command: Command, ...args: string[]) => Promise<void>) =>
    async function (this: Command, ...args: unknown[]) {
      const config = configFromFlags(this.opts<Record<string, string>>(), io, state);
      if (!config) return;
      let storage;
      try {
        storage = await openDataStorage(config, io, this.opts<{ init?: boolean }>().init === true);
        // Loaded here, not at start: `esp-ota --help` and the client commands need none of it.
        const [{ AuthService }, { AuthStore }, { systemClock }] = await Promise.all([
          import('../features/auth/auth-service.js'),
          import('../features/auth/auth-store.js'),
          import('../lib/clock.js'),
        ]);
        const words = args.filter((a) => typeof a === 'string') as string[];
        await work(new AuthService(new AuthStore(storage.db), systemClock, ''), this, ...words);
      } catch (error) {
        if (!(error instanceof DomainError) && !(error instanceof CliError)) throw error;
        io.err.write(`error: ${error.message}\n`);
        state.exitCode = error instanceof CliError ? error.exitCode : 1;
      } finally {
        await storage?.db.destroy();
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
  const offline = (command: Command) => withInit(addConfigFlags(command, STORAGE_FLAGS));

  const user = program.command('user').description('manage people’s accounts (roles: admin, uploader, viewer)');
  offline(
    user
      .command('add <name>')
      .description('add an account')
      .option('--role <role>', 'admin, uploader or viewer', 'viewer')
      .option(withPassword, passwordHelp),
  ).action(
    withAuth(async (auth, command, name) => {
      const { password, generated } = passwordOf(command);
      const created = await auth.addUser(name!, password, command.opts<{ role: Role }>().role);
      io.out.write(`added ${created.username} (${created.role})${generated ? `; password: ${password}` : ''}\n`);
    }),
  );
  offline(
    user
      .command('passwd <name>')
      .description('set a new password; ends their sessions')
      .option(withPassword, passwordHelp),
  ).action(
    withAuth(async (auth, command, name) => {
      const { password, generated } = passwordOf(command);
      await auth.setPassword(name!, password);
      io.out.write(
        `password of ${name} changed; their sessions were ended${generated ? `; new password: ${password}` : ''}\n`,
      );
    }),
  );
  offline(user.command('rm <name>').description('remove an account (not the last admin)')).action(
    withAuth(async (auth, _command, name) => {
      await auth.removeUser(name!);
      io.out.write(`removed ${name}\n`);
    }),
  );
  offline(withJson(user.command('list').description('list the accounts'))).action(
    withAuth(async (auth, command) => {
      const users = await auth.listUsers();
      if (wantsJson(command))
        return printJson(
          io,
          users.map((u) => ({ username: u.username, role: u.role })),
        );
      printTable(
        io,
        ['NAME', 'ROLE'],
        users.map((u) => [u.username, u.role]),
        'no accounts',
      );
    }),
  );

  const token = program
    .command('token')
    .description('manage API tokens for CI and scripts (shown once, stored hashed)');
  offline(
    token
      .command('create')
      .description('create a token; it is printed once, on stdout')
      .option('--role <role>', 'admin, uploader or viewer', 'uploader')
      .option('--name <name>', 'what it is for', 'cli'),
  ).action(
    withAuth(async (auth, command) => {
      const options = command.opts<{ role: Role; name: string }>();
      const created = await auth.createToken(options.name, options.role);
      io.out.write(`${created.token}\n`);
      io.err.write(`token ${created.row.id} (${created.row.role}) created; it is not shown again\n`);
    }),
  );
  offline(withJson(token.command('list').description('list tokens (never their values)'))).action(
    withAuth(async (auth, command) => {
      const tokens = (await auth.listTokens()).map((t) => ({
        id: t.id,
        name: t.name,
        role: t.role,
        state: t.revoked_at
          ? 'revoked'
          : t.last_used_at
            ? `used ${new Date(t.last_used_at).toISOString()}`
            : 'never used',
      }));
      if (wantsJson(command)) return printJson(io, tokens);
      printTable(
        io,
        ['ID', 'NAME', 'ROLE', 'STATE'],
        tokens.map((t) => [t.id, t.name, t.role, t.state]),
        'no tokens; create one with `esp-ota token create`',
      );
    }),
  );
  offline(
    token
      .command('revoke')
      .description('revoke a token: it stops working at once')
      .argument('<id>', 'the token’s id (see token list)', wholeNumber(1, Number.MAX_SAFE_INTEGER)),
  ).action(
    withAuth(async (auth, _command, id) => {
      await auth.revokeToken(Number(id));
      io.out.write(`token ${id} revoked\n`);
    }),
  );
}
