import { describe, expect, it } from 'vitest';
import { GroupSwitch } from '../../renderer/components/Switch.tsx';
import { atFirstCommit } from './first-commit.ts';

describe('GroupSwitch', () => {
  it('is indeterminate from the moment a mixed category appears, not an effect later', async () => {
    let seen: boolean | null = null;
    await atFirstCommit(<GroupSwitch label="All Documents" state="mixed" onChange={() => {}} />, 'input', (input) => {
      seen = (input as HTMLInputElement).indeterminate;
    });
    expect(seen).toBe(true);
  });

  it('says on, off and mixed to screen readers, and is indeterminate only when mixed', async () => {
    for (const [state, ariaChecked, indeterminate] of [
      ['on', 'true', false],
      ['off', 'false', false],
      ['mixed', 'mixed', true],
    ] as const) {
      let seen: [string | null, boolean] | null = null;
      await atFirstCommit(<GroupSwitch label="All Orders" state={state} onChange={() => {}} />, 'input', (input) => {
        seen = [input.getAttribute('aria-checked'), (input as HTMLInputElement).indeterminate];
      });
      expect(seen, state).toEqual([ariaChecked, indeterminate]);
    }
  });
});
