import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Role } from '../features/auth/roles.js';

/** Who is looking at the page, and the CSRF token their forms must send back. */
export interface Viewer {
  name: string;
  role: Role;
  csrf: string | undefined;
}

export const ViewerContext = createContext<Viewer | undefined>(undefined);

export function useViewer(): Viewer | undefined {
  return useContext(ViewerContext);
}
