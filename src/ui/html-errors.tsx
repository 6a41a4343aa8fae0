import { render } from 'preact-render-to-string';
import { ErrorPage } from './pages/error-page.js';

export function renderErrorPage(status: number, message: string): string {
  return `<!doctype html>${render(<ErrorPage status={status} message={message} />)}`;
}
