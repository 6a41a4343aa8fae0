import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { roleAllows, type Role } from '../features/auth/roles.js';

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

/** Whether the viewer holds this role: pages show a form only to those whose post would be accepted. */
export function useCan(role: Role): boolean {
  const viewer = useViewer();
  return viewer !== undefined && roleAllows(viewer.role, role);
}
