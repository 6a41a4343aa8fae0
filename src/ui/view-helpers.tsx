import { deviceStatus, type DeviceView } from '../features/views.js';

/** "3 min ago" for people, with the exact time in the element for machines and tooltips. */
export function Ago({ at, now }: { at: number; now: number }) {
  const iso = new Date(at).toISOString();
  return (
    <time dateTime={iso} title={iso}>
      {relativeTime(now - at)}
    </time>
  );
}

export function relativeTime(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 45) return 'just now';
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 36) return `${h} h ago`;
  return `${Math.round(h / 24)} days ago`;
}

export function StatusBadge({ device }: { device: Pick<DeviceView, 'last_decision' | 'last_reason'> }) {
  const status = deviceStatus(device);
  const tone = status === 'current' ? 'ok' : status === 'refused' ? 'bad' : status === 'update offered' ? 'warn' : '';
  return (
    <span class={`badge ${tone}`} title={device.last_reason}>
      {status === 'refused' ? `refused: ${device.last_reason}` : status}
    </span>
  );
}

export function formatSize(bytes: number | null): string {
  if (bytes === null) return '–';
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(0)} KiB`;
  return `${bytes} B`;
}
