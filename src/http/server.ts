import {
  createServer as createPlainServer,
  type IncomingMessage,
  type RequestListener,
  type Server as PlainServer,
  type ServerResponse,
} from 'node:http';
import { createServer as createSecureServer, type Server as SecureServer } from 'node:https';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Logger } from 'pino';
import { answerRouterError, registerErrorHandling } from './error-handler.js';
import { registerClientInputChecks } from './client-input.js';
import { registerAuth } from './auth.js';
import { registerSecurityHeaders } from './security-headers.js';
import type { AuthService } from '../features/auth/auth-service.js';
import type { Access } from '../features/auth/roles.js';
import type { ProxyTrust } from '../lib/trusted-proxies.js';

export interface ServerOptions {
  /** PEM key and certificate: HTTPS instead of HTTP. */
  tls?: { key: Buffer; cert: Buffer } | undefined;
  /** Checks every request against the access its route declares (registered before any route). */
  auth: AuthService;
  logger: Logger;
  uploadLimit: number;
  /** Seconds a client may take to send its request headers; slow clients are cut off. */
  requestTimeoutMs?: number;
  /** Which peers' X-Forwarded-For (and -Proto, -Host) to believe; none when undefined. */
  trustProxy?: ProxyTrust | undefined;
  /**
   * Answers some requests before the framework sees them (the device protocol, the hot path); returns false for the
   * rest. Its routes are listed with the framework's.
   */
  front?: { handle: FrontHandler; routes: RouteEntry[] };
}

export type FrontHandler = (request: IncomingMessage, response: ServerResponse) => boolean;

/** What each Node server of an app needs besides Fastify's handler: the front handler and the timeouts. */
interface NodeServerSetup {
  front: ServerOptions['front'];
  requestTimeout: number;
}
const nodeServerSetups = new WeakMap<FastifyInstance, NodeServerSetup>();

/** The front handler first, the framework for whatever it leaves. */
function frontFirst(front: ServerOptions['front'], framework: RequestListener): RequestListener {
  if (!front) return framework;
  return (request, response) => {
    if (!front.handle(request, response)) framework(request, response);
  };
}

/** The timeouts Fastify would set on a server it created itself. */
function withTimeouts<S extends PlainServer | SecureServer>(server: S, requestTimeout: number): S {
  server.keepAliveTimeout = 72_000;
  server.requestTimeout = requestTimeout;
  return server;
}

/** Plain HTTP beside the HTTPS server (for boards that cannot do TLS): same front handler, routes and timeouts. */
export function createPlainSibling(app: FastifyInstance): PlainServer {
  const setup = nodeServerSetups.get(app);
  if (!setup) throw new Error('createPlainSibling needs an app from createHttpServer');
  const listener = frontFirst(setup.front, (request, response) => app.routing(request, response));
  return withTimeouts(createPlainServer(listener), setup.requestTimeout);
}

export interface RouteEntry {
  method: string;
  url: string;
  access: Access | undefined;
}
const registeredRoutes = new WeakMap<FastifyInstance, RouteEntry[]>();

/** Every route of the server with the access it declares: what the security test walks through. */
export function listRoutes(app: FastifyInstance): RouteEntry[] {
  return registeredRoutes.get(app) ?? [];
}

/** Fastify with what every route relies on: errors, raw and multipart uploads, OpenAPI docs at /api/docs. */
export async function createHttpServer(options: ServerOptions): Promise<FastifyInstance> {
  const requestTimeout = options.requestTimeoutMs ?? 120_000;
  const front = options.front;
  const app: FastifyInstance = Fastify({
    ...(options.tls ? { https: { key: options.tls.key, cert: options.tls.cert } } : {}),
    // Our own server, so that the front handler sees each request first.
    serverFactory: (frameworkHandler) => {
      const listener = frontFirst(front, frameworkHandler);
      return withTimeouts(
        options.tls
          ? createSecureServer({ key: options.tls.key, cert: options.tls.cert }, listener)
          : createPlainServer(listener),
        requestTimeout,
      );
    },
    loggerInstance: options.logger as FastifyBaseLogger,
    // The device route logs one line per decision; per-request lines would double it.
    logController: new LogController({ disableRequestLogging: true }),
    requestTimeout,
    trustProxy: options.trustProxy ?? false,
    bodyLimit: 1024 * 1024,
    return503OnClosing: false,
    // Unknown properties are an error people should see, not something silently dropped.
    ajv: { customOptions: { removeAdditional: false } },
    frameworkErrors: answerRouterError,
  });
  nodeServerSetups.set(app, { front, requestTimeout });
  const routes: RouteEntry[] = [...(front?.routes ?? [])];
  registeredRoutes.set(app, routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, access: route.config?.access });
  });
  registerErrorHandling(app);
  registerAuth(app, options.auth);
  registerClientInputChecks(app);
  registerSecurityHeaders(app);
  // Raw uploads reach the handler as a stream, so they are never held in memory; the blob store enforces the limit.
  app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));
  await app.register(multipart, {
    // One byte over the limit lets the blob store see the overflow and refuse it (busboy would silently truncate).
    limits: { fileSize: options.uploadLimit + 1, files: 1, fields: 10, fieldSize: 1024 },
  });
  await app.register(swagger, {
    openapi: {
      info: { title: 'esp-ota-server API', version: '1' },
      tags: [
        { name: 'platforms', description: 'Firmware lines, their rules and allowlists' },
        { name: 'firmware', description: 'Upload, list, release and delete images' },
        { name: 'devices', description: 'The device inventory' },
        { name: 'groups', description: 'Device groups (canary, excluded, pinned) and pins of single devices' },
        { name: 'events', description: 'Checks, downloads and changes' },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });
  app.get('/healthz', { schema: { hide: true }, config: { access: 'public' } }, async () => ({ status: 'ok' }));
  return app;
}
