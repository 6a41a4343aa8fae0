import { Layout } from '../layout.js';

export function LoginPage(props: {
  next: string;
  error?: string | undefined;
  notice?: string | undefined;
  username?: string | undefined;
}) {
  return (
    <Layout title="Log in" path="/login" error={props.error} notice={props.notice}>
      <form method="post" action="/login" class="panel row">
        <input type="hidden" name="next" value={props.next} />
        <label>
          User name
          <input name="username" autocomplete="username" required maxLength={32} value={props.username ?? ''} />
        </label>
        <label>
          Password
          <input name="password" type="password" autocomplete="current-password" required maxLength={200} />
        </label>
        <button type="submit">Log in</button>
      </form>
      <p class="muted">
        The first start creates the account <code>admin</code> and prints its password once in the server's console;{' '}
        <code>esp-ota user passwd admin</code> sets a new one.
      </p>
    </Layout>
  );
}
