import { fireEvent, render, screen } from '@testing-library/react';
import { createRoot } from 'react-dom/client';
import { describe, expect, it } from 'vitest';
import { useSyncedState } from '../../renderer/hooks/useSyncedState.ts';

function Draft({ saved }: { saved: string }) {
  const [draft, setDraft] = useSyncedState(saved);
  return <input aria-label="draft" value={draft} onChange={(e) => setDraft(e.target.value)} />;
}

const field = () => screen.getByRole('textbox', { name: 'draft' }) as HTMLInputElement;

describe('useSyncedState', () => {
  it('starts as the saved value and keeps an edit while the saved value stays the same', () => {
    const view = render(<Draft saved="a" />);
    expect(field().value).toBe('a');
    fireEvent.change(field(), { target: { value: 'edited' } });
    view.rerender(<Draft saved="a" />);
    expect(field().value).toBe('edited');
  });

  it('takes a new saved value over the edit, once per change', () => {
    const view = render(<Draft saved="a" />);
    fireEvent.change(field(), { target: { value: 'edited' } });
    view.rerender(<Draft saved="b" />);
    expect(field().value).toBe('b');
    fireEvent.change(field(), { target: { value: 'edited again' } });
    view.rerender(<Draft saved="b" />);
    expect(field().value).toBe('edited again');
  });

  it("keeps an edit made before the first render's effects ran", async () => {
    // As in the Settings view: rendered at default priority (after a fetch), so its effects run a
    // moment after the commit. An edit in that moment (here: at once, from a MutationObserver)
    // must stay; an effect that copied the saved value in after mounting would put "a" back.
    const scope = globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean };
    const actEnvironment = scope.IS_REACT_ACT_ENVIRONMENT;
    scope.IS_REACT_ACT_ENVIRONMENT = false;
    const container = document.createElement('div');
    document.body.append(container);
    const root = createRoot(container);
    try {
      const appeared = new Promise<HTMLInputElement>((resolve) => {
        const observer = new MutationObserver(() => {
          const input = container.querySelector('input');
          if (!input) return;
          observer.disconnect();
          resolve(input);
        });
        observer.observe(container, { childList: true, subtree: true });
      });
      root.render(<Draft saved="a" />);
      const input = await appeared;
      fireEvent.change(input, { target: { value: 'typed at once' } });
      // Let every effect and update that React scheduled run before looking.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(input.value).toBe('typed at once');
    } finally {
      root.unmount();
      container.remove();
      scope.IS_REACT_ACT_ENVIRONMENT = actEnvironment;
    }
  });
});
