import type { ComponentChildren } from 'preact';
import { CsrfField } from './csrf-field.js';
import { useViewer } from './session-context.js';

const NAV = [
  ['/', 'Dashboard'],
  ['/upload', 'Upload'],
  ['/devices', 'Devices'],
  ['/events', 'Events'],
  ['/setup', 'Connect a board'],
  ['/integrations', 'Integrations'],
] as const;

export interface LayoutProps {
  title: string;
  path: string;
  children: ComponentChildren;
  error?: string | undefined;
  notice?: string | undefined;
}

/** The page shell: assets from this server only (no CDN), a skip link, messages where people will see them. */
export function Layout({ title, path, children, error, notice }: LayoutProps) {
  const viewer = useViewer();
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} · esp-ota-server`}</title>
        {/* htmx would otherwise add its indicator rule as an inline <style>, which the CSP refuses; app.css has it. */}
        <meta name="htmx-config" content='{"includeIndicatorStyles":false}' />
        <link rel="icon" href="/static/favicon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href="/static/app.css" />
        <script src="/static/htmx.min.js" defer></script>
        <script src="/static/app.js" defer></script>
        <script src="/static/page-tools.js" defer></script>
      </head>
      <body>
        <a href="#main" class="skip">
          Skip to content
        </a>
        <header class="top">
          <nav aria-label="Main">
            <a class="brand" href="/">
              esp-ota-server
            </a>
            {/* One line of links that scrolls sideways on a phone, under the brand and the account. */}
            <span class="links">
              {NAV.map(([href, label]) => (
                <a href={href} aria-current={href === path ? 'page' : undefined}>
                  {label}
                </a>
              ))}
              <a href="/api/docs">API</a>
            </span>
            {viewer && (
              <span class="who">
                <a href="/account">{viewer.name}</a>
                <span class="role"> ({viewer.role})</span>{' '}
                <form method="post" action="/logout" class="inline">
                  <CsrfField />
                  <button type="submit" class="secondary">
                    Log out
                  </button>
                </form>
              </span>
            )}
          </nav>
        </header>
        <main id="main">
          <h1>{title}</h1>
          {error && (
            <div class="message error" role="alert">
              {error}
            </div>
          )}
          {notice && (
            <div class="message success" role="status">
              {notice}
            </div>
          )}
          {children}
        </main>
      </body>
    </html>
  );
}
