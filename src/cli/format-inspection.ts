import { chipDisplayName, formatBytes, type ImageAnalysis } from '../firmware-image/index.js';
import type { Identity, IdentityField } from '../firmware-image/identify.js';

/** The human-readable summary `esp-ota inspect` prints for one file. */
export function formatInspection(report: { file: string; analysis: ImageAnalysis; identity: Identity }): string {
  const { file, analysis, identity } = report;
  const lines = [file];
  const row = (label: string, value: string) => lines.push(`  ${label.padEnd(14)}${value}`);
  if (analysis.kind === 'rejected') {
    row('kind', `REJECTED (${analysis.code})`);
    row('reason', analysis.reason);
    if (analysis.offset !== undefined) row('at offset', '0x' + analysis.offset.toString(16).toUpperCase());
    row('size', `${analysis.size} bytes`);
    return lines.join('\n');
  }
  if (analysis.kind === 'filesystem') {
    row('kind', `filesystem image (${analysis.fsType}); valid only as a filesystem upload`);
    row('size', `${analysis.size} bytes`);
    return lines.join('\n');
  }
  const layout =
    analysis.family === 'esp8266' ? `, ${analysis.layout} layout${analysis.compression ? ', gzip' : ''}` : '';
  row('kind', `application image${layout}`);
  row(
    'chip',
    chipDisplayName(analysis.chip) +
      (analysis.family === 'esp32'
        ? ` (chip id ${analysis.chipId}, revision ${analysis.minChipRevision}–${analysis.maxChipRevision})`
        : ''),
  );
  row('size', `${analysis.size} bytes (image ${analysis.imageLength} bytes)`);
  const flash = analysis.flash;
  row(
    'flash',
    `${flash.mode}, ${flash.sizeBytes ? formatBytes(flash.sizeBytes) : `size code ${flash.sizeCode}`}, ${flash.frequencyMHz ? `${flash.frequencyMHz} MHz` : `frequency code ${flash.frequencyCode}`}`,
  );
  row('segments', analysis.segments.map((s) => `0x${s.loadAddress.toString(16)}+${s.length}`).join(' '));
  for (const check of analysis.checks) row(check.ok ? 'check ok' : 'check FAILED', `${check.name}: ${check.detail}`);
  if (analysis.family === 'esp32') {
    const d = analysis.descriptor;
    row('project', d.projectName);
    row('app version', d.version);
    row('idf version', d.idfVersion);
    row('built', `${d.date} ${d.time}`.trim());
    row('secure ver.', String(d.secureVersion));
    row('elf sha256', d.elfSha256);
  }
  describeField(row, 'platform', identity.platform);
  describeField(row, 'version', identity.version);
  for (const conflict of identity.conflicts) row('CONFLICT', conflict);
  return lines.join('\n');
}

function describeField(row: (label: string, value: string) => void, label: string, field: IdentityField): void {
  if (field.status === 'found') row(label, `${field.value}  (${field.evidence})`);
  else if (field.status === 'ambiguous') row(label, 'AMBIGUOUS: state it explicitly; candidates below');
  else row(label, 'not found in the image: state it explicitly');
  for (const c of field.candidates.slice(0, 8)) {
    row('', `- ${c.value}  [${c.source}, ${c.occurrences}×] "${c.context.slice(0, 60)}"`);
  }
}
