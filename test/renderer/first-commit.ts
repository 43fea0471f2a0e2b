import type { ReactNode } from 'react';
import { createRoot } from 'react-dom/client';

/**
 * Renders `element` as the app renders after a fetch (default priority, outside act), and calls
 * `look` with the first element matching `selector` the moment it is in the document: after the
 * commit, before React's passive effects have run. What a person or a screen reader could see
 * or do in that moment must already be right. Resolves after every scheduled effect has run.
 */
export async function atFirstCommit(
  element: ReactNode,
  selector: string,
  look: (found: HTMLElement) => void,
): Promise<void> {
  const scope = globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean };
  const actEnvironment = scope.IS_REACT_ACT_ENVIRONMENT;
  scope.IS_REACT_ACT_ENVIRONMENT = false;
  const container = document.createElement('div');
  document.body.append(container);
  const root = createRoot(container);
  try {
    const appeared = new Promise<HTMLElement>((resolve) => {
      const observer = new MutationObserver(() => {
        const found = container.querySelector<HTMLElement>(selector);
        if (!found) return;
        observer.disconnect();
        resolve(found);
      });
      observer.observe(container, { childList: true, subtree: true });
    });
    root.render(element);
    look(await appeared);
    // Let every effect and update that React scheduled run before the caller looks again.
    await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    root.unmount();
    container.remove();
    scope.IS_REACT_ACT_ENVIRONMENT = actEnvironment;
  }
}
