import { fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { useSyncedState } from '../../renderer/hooks/useSyncedState.ts';
import { atFirstCommit } from './first-commit.ts';

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
    // An effect that copied the saved value in after mounting would run after this edit and put
    // "a" back (the Settings view's flaky tests).
    let input: HTMLInputElement | null = null;
    await atFirstCommit(<Draft saved="a" />, 'input', (found) => {
      input = found as HTMLInputElement;
      fireEvent.change(input, { target: { value: 'typed at once' } });
    });
    expect((input as HTMLInputElement | null)?.value).toBe('typed at once');
  });
});
