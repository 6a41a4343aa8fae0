import type { FastifyReply, FastifyRequest } from 'fastify';
import type { VNode } from 'preact';
import { render } from 'preact-render-to-string';
import { ViewerContext, type Viewer } from './session-context.js';

/** Sends a page. Preact escapes every text and attribute value, so user data cannot become markup. */
export function sendPage(request: FastifyRequest, reply: FastifyReply, page: VNode, status = 200): FastifyReply {
  const viewer = viewerOf(request);
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(`<!doctype html>${render(<ViewerContext.Provider value={viewer}>{page}</ViewerContext.Provider>)}`);
}

/** Part of a page for htmx to swap in, drawn for the same viewer as the page. */
export function sendFragment(request: FastifyRequest, reply: FastifyReply, part: VNode): FastifyReply {
  return reply
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(render(<ViewerContext.Provider value={viewerOf(request)}>{part}</ViewerContext.Provider>));
}

export function viewerOf(request: FastifyRequest): Viewer | undefined {
  const principal = request.principal;
  return principal ? { name: principal.name, role: principal.role, csrf: principal.csrfToken } : undefined;
}

export { render };
