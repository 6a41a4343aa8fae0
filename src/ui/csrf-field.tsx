import { useViewer } from './session-context.js';

/** The hidden field every form that changes something carries (checked in http/auth.ts). */
export function CsrfField() {
  const viewer = useViewer();
  return viewer?.csrf ? <input type="hidden" name="_csrf" value={viewer.csrf} /> : null;
}
