import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { sendError } from '../../http/error-handler.js';
import type { Clock } from '../../lib/clock.js';
import type { Fleet } from '../fleet/fleet.js';
import type { Metrics } from '../metrics/metrics.js';
import type { CatalogueView } from './catalogue-view.js';
import { admission } from './decide.js';
import { MalformedRequestError, parseEspRequest, type EspRequest } from './esp-request.js';
import { readReport, REPORT_BODY_LIMIT, REPORT_REASON_MAX, type ReadReport } from './report-body.js';

const ReportParams = Type.Object({ platform: Type.String({ minLength: 1, maxLength: 64 }) });
const ReportBodySchema = Type.Object(
  {
    outcome: Type.Union([Type.Literal('success'), Type.Literal('failure')], {
      description: 'success: the new image runs (after esp_ota_mark_app_valid…); failure: it did not install or boot',
    }),
    version: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'the version installed, or that failed to install' }),
    ),
    reason: Type.Optional(
      Type.String({ maxLength: REPORT_REASON_MAX, description: 'why, in a few words (printable, one line)' }),
    ),
    mac: Type.Optional(
      Type.String({ maxLength: 32, description: 'the device, when no x-ESP32-*/x-ESP8266-* header or ?mac= names it' }),
    ),
  },
  { additionalProperties: false },
);

export interface ReportRouteDeps {
  view: CatalogueView;
  fleet: Fleet;
  clock: Clock;
  metrics: Pick<Metrics, 'deviceReport'>;
}

/**
 * `POST /ota/<platform>/report` (issue 12 §3, issue 15 item 7): a client that can report (ESP-IDF, custom code)
 * says whether its last update worked. The device is named like in a check (its x-ESP8266-* / x-ESP32-* headers or
 * `?mac=`, or `mac` in the body) and admitted exactly like a check (`admission`: 404, 401, 403 with the same
 * reasons); then the fleet records it (`DeviceActivity.report`) and the answer is 204, whatever the rollout made of
 * it (`x-ota-reason` says: counted, no-rollout, not-in-rollout, other-version), so a client needs no knowledge of
 * rollouts. Reports are rare, so this is an ordinary framework route, not part of the device endpoint's hot path.
 */
export function registerReportRoute(server: FastifyInstance, deps: ReportRouteDeps): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/ota/:platform/report',
    {
      bodyLimit: REPORT_BODY_LIMIT,
      config: { access: 'device' },
      schema: {
        tags: ['devices'],
        summary: 'A device reports the outcome of its last update (authenticated like its update check)',
        params: ReportParams,
        body: ReportBodySchema,
      },
    },
    async (request, reply) => {
      let device: EspRequest;
      let report: ReadReport;
      try {
        device = parseEspRequest(
          request.query as Record<string, string | string[] | undefined>,
          request.headers,
          request.params.platform,
        );
        report = readReport(request.body, device);
      } catch (error) {
        if (!(error instanceof MalformedRequestError)) throw error;
        return sendError(request, reply, 400, 'bad-request', error.message);
      }
      device = { ...device, mac: report.mac };
      const loading = deps.fleet.ready();
      if (loading) await loading;
      const platform = await deps.view.platform(device.platform);
      const refusal = admission(device, platform);
      if (refusal) {
        deps.metrics.deviceReport(report.outcome, 'refused');
        // Both credential kinds fit in Basic, as for a check (device-endpoint.ts).
        if (refusal.status === 401) reply.header('www-authenticate', 'Basic realm="esp-ota-server", charset="UTF-8"');
        return sendError(request, reply, refusal.status, refusal.reason, refusal.message);
      }
      if (!report.mac) {
        deps.metrics.deviceReport(report.outcome, 'refused');
        return sendError(
          request,
          reply,
          400,
          'mac-required',
          'a report must name its device: x-ESP32-STA-MAC / x-ESP8266-STA-MAC, ?mac=, or "mac" in the body',
        );
      }
      const effect = deps.fleet.activity.report({
        at: deps.clock.now(),
        platform: platform!,
        mac: report.mac,
        ip: request.ip,
        family: device.family,
        outcome: report.outcome,
        version: report.version,
        reason: report.reason,
      });
      deps.metrics.deviceReport(report.outcome, effect);
      return reply.code(204).header('x-ota-reason', effect).send();
    },
  );
}
