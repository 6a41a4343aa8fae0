import type { FastifyInstance } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { actorOf } from '../../http/auth.js';
import type { DeviceKey, DeviceKeyService } from './device-key-service.js';

const PlatformName = Type.String({ minLength: 1, maxLength: 64 });
const Mac = Type.String({ maxLength: 32, description: 'the device, in any common MAC format' });
const PlatformParams = Type.Object({ name: PlatformName });
const KeyParams = Type.Object({ name: PlatformName, mac: Mac });
const MintBody = Type.Object({ mac: Mac }, { additionalProperties: false });

/** The per-device manifest URL a key makes (host-relative; the page and the CLI put the server's address before it). */
export function deviceManifestPath(platform: string, key: string): string {
  return `/ota/${encodeURIComponent(platform)}/d/${key}/manifest.json`;
}

function keyJson(key: DeviceKey) {
  return { ...key, manifestPath: deviceManifestPath(key.platform, key.key) };
}

/**
 * Per-device manifest keys (ESPHome): viewers read them (the "Connect a board" page shows the URLs); admins mint and
 * revoke them, as they manage the allowlist: a key decides which device a manifest request stands for.
 */
export function registerDeviceKeyRoutes(server: FastifyInstance, keys: DeviceKeyService): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['devices'];

  app.get(
    '/api/v1/platforms/:name/device-keys',
    {
      config: { access: 'viewer' },
      schema: { tags, summary: "A platform's per-device manifest keys (ESPHome)", params: PlatformParams },
    },
    async (request) => ({ keys: (await keys.list(request.params.name)).map(keyJson) }),
  );

  app.post(
    '/api/v1/platforms/:name/device-keys',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Mint a device key: a per-device manifest URL for a client that names no device (replaces the old)',
        params: PlatformParams,
        body: MintBody,
      },
    },
    async (request, reply) => {
      const minted = await keys.mint(request.params.name, request.body.mac, actorOf(request));
      return reply.code(201).send(keyJson(minted));
    },
  );

  app.delete(
    '/api/v1/platforms/:name/device-keys/:mac',
    {
      config: { access: 'admin' },
      schema: { tags, summary: "Revoke a device's key (its manifest URL stops working)", params: KeyParams },
    },
    async (request, reply) => {
      await keys.revoke(request.params.name, request.params.mac, actorOf(request));
      return reply.code(204).send();
    },
  );
}
