import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ErrorCode } from '../../lib/domain-error.js';
import type { ReportEffect, ReportOutcome } from '../fleet/report-activity.js';

/** An upload's outcome: accepted, the domain error's code, or `error` for anything else (a closed set). */
export type UploadResult = 'accepted' | 'error' | ErrorCode;

/** Methods that get their own label value; Node accepts dozens more (PROPFIND, PURGE, …), all counted as `other`. */
const LABELLED_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * The Prometheus metrics this server exports, on a registry of its own (several servers can live in one process,
 * as in the tests). Services report through the small methods here and know nothing of Prometheus.
 */
export class Metrics {
  readonly registry = new Registry();
  /**
   * Device checks are counted in a plain map and handed to Prometheus when it scrapes: a prom-client counter
   * hashes its labels on every increment, which a busy server would pay thousands of times a second.
   */
  private readonly uncountedChecks = new Map<string, { decision: string; reason: string; count: number }>();
  private readonly checks = new Counter({
    name: 'esp_ota_device_checks_total',
    help: 'Device update checks by decision and reason',
    labelNames: ['decision', 'reason'] as const,
    registers: [this.registry],
    collect: () => this.countChecks(),
  });
  private readonly downloads = new Counter({
    name: 'esp_ota_downloads_total',
    help: 'Images served to devices (200 and 206 responses)',
    registers: [this.registry],
  });
  private readonly downloadBytes = new Counter({
    name: 'esp_ota_download_bytes_total',
    help: 'Bytes of firmware served to devices',
    registers: [this.registry],
  });
  private readonly uploads = new Counter({
    name: 'esp_ota_uploads_total',
    help: 'Firmware uploads by result (accepted, or the error code)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  private readonly activityFailures = new Counter({
    name: 'esp_ota_device_activity_failures_total',
    help:
      'Device checks whose activity (event and inventory update) failed to be written: retried (the database was ' +
      'out of reach; written later unless also dropped) or dropped (lost)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly reports = new Counter({
    name: 'esp_ota_device_reports_total',
    help:
      'Outcome reports from devices (POST /ota/<platform>/report) by outcome and what became of them: counted by ' +
      "the platform's rollout, recorded only (no-rollout, not-in-rollout, other-version), or refused",
    labelNames: ['outcome', 'result'] as const,
    registers: [this.registry],
  });
  private readonly busyRequests = new Counter({
    name: 'esp_ota_device_requests_busy_total',
    help: 'Device requests answered 503 at once because maxDeviceRequests were already in progress',
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'esp_ota_http_request_duration_seconds',
    help: 'HTTP request latency by route and status class',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [this.registry],
  });

  constructor(sources: {
    queuedEvents: () => number;
    /** Devices heard from within the last `windowMs` (kept by the device registry: no query at scrape time). */
    devicesSeenWithin: (windowMs: number) => number;
  }) {
    collectDefaultMetrics({ register: this.registry, prefix: 'esp_ota_' });
    new Gauge({
      name: 'esp_ota_event_queue_depth',
      help: 'Device events and changed device rows waiting to be written',
      registers: [this.registry],
      collect() {
        this.set(sources.queuedEvents());
      },
    });
    new Gauge({
      name: 'esp_ota_devices_seen',
      help: 'Devices that checked in within the window',
      labelNames: ['window'] as const,
      registers: [this.registry],
      collect() {
        this.set({ window: '1h' }, sources.devicesSeenWithin(3_600_000));
        this.set({ window: '24h' }, sources.devicesSeenWithin(86_400_000));
      },
    });
  }

  // Label children are looked up once per label set: hashing a label object on every request costs more.
  private readonly latencyChildren = new Map<string, { observe(value: number): void }>();

  /** Labels from the decision's closed sets (`Decision['action']`, `DecisionReason`), never from the request. */
  deviceCheck(decision: string, reason: string): void {
    const key = `${decision}\n${reason}`;
    const tally = this.uncountedChecks.get(key);
    if (tally) tally.count++;
    else this.uncountedChecks.set(key, { decision, reason, count: 1 });
  }

  private countChecks(): void {
    for (const tally of this.uncountedChecks.values()) {
      if (tally.count > 0) this.checks.inc({ decision: tally.decision, reason: tally.reason }, tally.count);
      tally.count = 0;
    }
  }

  download(bytes: number): void {
    this.downloads.inc();
    this.downloadBytes.inc(bytes);
  }

  /** A device request turned away because too many were in progress. */
  busyDeviceRequest(): void {
    this.busyRequests.inc();
  }

  /** Checks of a batch that could not be written; the outcome is one of two fixed values. */
  activityFailure(outcome: 'retried' | 'dropped', checks: number): void {
    this.activityFailures.inc({ outcome }, checks);
  }

  /** Labels from closed sets: the outcome the body schema admits, and `ReportEffect` or `refused`. */
  deviceReport(outcome: ReportOutcome, result: ReportEffect | 'refused'): void {
    this.reports.inc({ outcome, result });
  }

  upload(result: UploadResult): void {
    this.uploads.inc({ result });
  }

  /**
   * One request's latency. Every label comes from a closed set, so no client can grow the series (each one costs
   * memory and scrape time for the life of the process): `route` is a route template or `unmatched`, never the
   * path; a method outside the standard ones is `other`; the status is its class.
   */
  request(route: string, method: string, statusCode: number, seconds: number): void {
    const status = `${Math.floor(statusCode / 100)}xx`;
    const methodLabel = LABELLED_METHODS.has(method) ? method : 'other';
    const key = `${route}\n${methodLabel}\n${status}`;
    let child = this.latencyChildren.get(key);
    if (!child) this.latencyChildren.set(key, (child = this.latency.labels(route, methodLabel, status)));
    child.observe(seconds);
  }
}
