import { cleanup } from '@testing-library/react';
import { afterEach, beforeEach } from 'vitest';

// React warns unless it knows the test waits for its updates (testing-library's act does).
(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

// happy-dom lays nothing out: every box measures 0×0, so a virtualized list would show no rows.
// The event list's scroller gets the size of a window's list pane; everything else stays 0×0.
// (A file may run in plain Node with `@vitest-environment node`: then there is no DOM to set up.)
const LIST_PANE = { width: 900, height: 600 };
if (typeof HTMLElement !== 'undefined') {
  for (const [property, size] of [
    ['clientWidth', LIST_PANE.width],
    ['clientHeight', LIST_PANE.height],
  ] as const) {
    const original = Object.getOwnPropertyDescriptor(Element.prototype, property)?.get;
    Object.defineProperty(HTMLElement.prototype, property, {
      configurable: true,
      get(this: HTMLElement) {
        return this.classList.contains('list-scroller') ? size : (original?.call(this) ?? 0);
      },
    });
  }

  // happy-dom does not know the <search> element (Chromium has it since version 118, so Electron
  // and the dashboard's browsers do); React's warning about it is the one message let through.
  const consoleError = console.error.bind(console);
  console.error = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].includes('The tag <%s> is unrecognized') && args[1] === 'search') return;
    consoleError(...args);
  };

  beforeEach(() => {
    window.location.hash = '';
    window.sessionStorage.clear();
  });
  afterEach(() => cleanup());
}
