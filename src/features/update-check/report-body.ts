import { normalizeMac } from '../../lib/mac.js';
import { isValidVersionText, VERSION_TEXT_RULE } from '../../lib/version.js';
import type { ReportOutcome } from '../fleet/report-activity.js';
import { MalformedRequestError, type EspRequest } from './esp-request.js';

/** Larger bodies are refused (413) before they are parsed: a report is a few dozen bytes. */
export const REPORT_BODY_LIMIT = 2048;
export const REPORT_REASON_MAX = 200;

/** The JSON body of `POST /ota/<platform>/report`, as its schema admits it (no other fields). */
export interface ReportBody {
  outcome: ReportOutcome;
  version?: string | undefined;
  reason?: string | undefined;
  mac?: string | undefined;
}

export interface ReadReport {
  mac: string | undefined;
  outcome: ReportOutcome;
  version: string | undefined;
  reason: string | undefined;
}

/**
 * Control, format (bidi overrides, zero-width), private-use, unassigned and surrogate code points, and the Unicode
 * line separators: a reason is shown in the event log and the UI and written to the log on one line, as sent.
 */
const NOT_PRINTABLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}\u2028\u2029]/u;

/**
 * What a report says, checked: the device is the MAC of its headers (or `?mac=`), else the one in the body, and the
 * two must agree; the version follows the rule for every version; the reason is printable text on one line of at
 * most 200 characters. A success that names no version is about the version the headers say the device now runs.
 */
export function readReport(body: ReportBody, request: EspRequest): ReadReport {
  let mac = request.mac;
  if (body.mac !== undefined) {
    const fromBody = normalizeMac(body.mac);
    if (!fromBody) throw new MalformedRequestError('"mac" in the body is not a MAC address');
    if (mac !== undefined && mac !== fromBody)
      throw new MalformedRequestError('the MAC in the body is not the one the request headers or query name');
    mac = fromBody;
  }
  const version = body.version ?? (body.outcome === 'success' ? request.version : undefined);
  if (version !== undefined && !isValidVersionText(version))
    throw new MalformedRequestError(`"version" is not a version: ${VERSION_TEXT_RULE}`);
  return { mac, outcome: body.outcome, version, reason: readReason(body.reason) };
}

function readReason(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  if (NOT_PRINTABLE.test(text))
    throw new MalformedRequestError('"reason" must be printable text on one line (no control or invisible characters)');
  const reason = text.trim();
  if ([...reason].length > REPORT_REASON_MAX)
    throw new MalformedRequestError(`"reason" is longer than ${REPORT_REASON_MAX} characters`);
  return reason === '' ? undefined : reason;
}
