import type { ApiTokenView } from '../../features/views.js';
import { CsrfField } from '../csrf-field.js';
import { Layout } from '../layout.js';
import { useViewer } from '../session-context.js';
import { Ago } from '../view-helpers.js';

/** What was typed in the new-token form, shown again when it was refused. */
export interface TokenForm {
  name?: string | undefined;
  role?: string | undefined;
}

const TOKEN_ROLES = [
  ['uploader', 'uploader (upload and release)'],
  ['viewer', 'viewer (read only)'],
  ['admin', 'admin (everything)'],
] as const;

export function AccountPage(props: {
  tokens: ApiTokenView[] | undefined;
  newToken?: string | undefined;
  now: number;
  error?: string | undefined;
  notice?: string | undefined;
  typed?: TokenForm | undefined;
}) {
  const viewer = useViewer();
  const typed = props.typed ?? {};
  return (
    <Layout title="Account" path="/account" error={props.error} notice={props.notice}>
      <p>
        Logged in as <strong>{viewer?.name}</strong> ({viewer?.role}).
      </p>
      <h2>Change password</h2>
      <form method="post" action="/account/password" class="row panel">
        <CsrfField />
        <label>
          New password (10 characters or more)
          <input name="password" type="password" autocomplete="new-password" required minLength={10} maxLength={200} />
        </label>
        <button type="submit">Change password</button>
      </form>
      {props.tokens && (
        <>
          <h2>API tokens</h2>
          {props.newToken && (
            <div class="message success" role="status">
              Copy this token now; it is not shown again: <code>{props.newToken}</code>
            </div>
          )}
          <form method="post" action="/account/tokens" class="row panel">
            <CsrfField />
            <label>
              Name
              <input name="name" required maxLength={100} placeholder="CI upload" value={typed.name ?? ''} />
            </label>
            <label>
              Role
              <select name="role">
                {TOKEN_ROLES.map(([role, label]) => (
                  <option value={role} selected={role === typed.role}>
                    {label}
                  </option>
                ))}
              </select>
            </label>
            <button type="submit">Create token</button>
          </form>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Role</th>
                  <th>Last used</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                {props.tokens.map((t) => (
                  <tr>
                    <td>{t.name}</td>
                    <td>{t.role}</td>
                    <td>{t.last_used_at ? <Ago at={t.last_used_at} now={props.now} /> : 'never'}</td>
                    <td>
                      {t.revoked_at ? (
                        <span class="badge">revoked</span>
                      ) : (
                        <form method="post" action={`/account/tokens/${t.id}/revoke`} class="inline">
                          <CsrfField />
                          <button type="submit" class="secondary">
                            Revoke
                          </button>
                        </form>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </Layout>
  );
}
