// First: configures zod before any schema is built (see the file).
import './jitless.ts';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { hasTokenInHash, pickTransport } from './api.ts';
import './styles.css';

const transport = pickTransport({ window, history: window.history, storage: window.sessionStorage });
// A new link pasted into this tab (after a restart of serve) changes only the fragment: start
// afresh, so that the page takes the new token.
window.addEventListener('hashchange', () => {
  if (hasTokenInHash(window.location.hash)) window.location.reload();
});
const container = document.getElementById('root');
if (!container) throw new Error('index.html has no #root');

createRoot(container).render(
  <StrictMode>
    {transport ? (
      <App transport={transport} />
    ) : (
      <main className="no-token">
        <h1>SingleFile Monitor</h1>
        <p>
          Open the dashboard from the link that <code>singlefile-monitor serve</code> printed: it carries the key this
          page needs. The link changes each time SingleFile Monitor starts.
        </p>
      </main>
    )}
  </StrictMode>,
);
