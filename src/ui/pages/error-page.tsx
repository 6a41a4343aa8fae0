import { Layout } from '../layout.js';

/** Errors in the UI are pages with the reason in words, never a stack trace. */
export function ErrorPage({ status, message }: { status: number; message: string }) {
  return (
    <Layout title={status === 404 ? 'Not found' : 'Something went wrong'} path="" error={message}>
      <p>
        <a href="/">Back to the dashboard</a>
      </p>
    </Layout>
  );
}
