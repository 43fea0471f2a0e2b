import { describe, expect, it } from 'vitest';
// SingleFile's own setup page, next to the repository as the fixtures are (read as text by Vite).
import seed from '../../../shared/seed/singlefile-webhook-setup.txt?raw';
import { SETUP_STEPS } from '../../renderer/setup-steps.ts';

describe('the setup steps shown on the Status view', () => {
  it('name every control with the words SingleFile itself uses', () => {
    for (const step of SETUP_STEPS) {
      for (const label of step.labels) expect(seed, `"${label}" in ${step.title}`).toContain(label);
    }
  });

  it('quote each control name in the step text that tells people to use it', () => {
    for (const step of SETUP_STEPS) {
      for (const label of step.labels) expect(step.items.join(' ')).toContain(`“${label}”`);
    }
  });

  it('say that a new endpoint starts disabled and must be enabled, as SingleFile warns', () => {
    expect(seed).toMatch(/New endpoints start disabled/);
    const warning = SETUP_STEPS.map((s) => s.important ?? '').join(' ');
    expect(warning).toMatch(/start disabled/);
    expect(warning).toMatch(/enable/);
  });

  it("follow SingleFile's order of steps", () => {
    const positions = SETUP_STEPS.map((step) => seed.indexOf(step.labels[0] ?? ''));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
  });
});
