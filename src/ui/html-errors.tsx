import type { FastifyRequest } from 'fastify';
import { render } from 'preact-render-to-string';
import { ErrorPage } from './pages/error-page.js';
import { viewerOf } from './render.js';
import { ViewerContext } from './session-context.js';

/** An error page with the same header as every page: navigation, and the account of whoever is logged in. */
export function renderErrorPage(status: number, message: string, request?: FastifyRequest): string {
  const viewer = request ? viewerOf(request) : undefined;
  return `<!doctype html>${render(
    <ViewerContext.Provider value={viewer}>
      <ErrorPage status={status} message={message} />
    </ViewerContext.Provider>,
  )}`;
}
