import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { App } from '../../renderer/App.tsx';
import { PAUSED_UNTIL_RESUMED } from '../../shared/notification-switches.ts';
import { createFakeMonitor } from './fake-monitor.ts';

function openSettings() {
  window.location.hash = '#/settings';
  const fake = createFakeMonitor();
  render(<App transport={fake.transport} />);
  return fake;
}

describe('Settings view', () => {
  it("groups the per-type notification switches by SingleFile's categories, with the defaults on", async () => {
    openSettings();
    const orders = await screen.findByRole('group', { name: 'Orders' });
    expect(orders.textContent).toContain('Order Completed');
    expect((screen.getByRole('switch', { name: 'Order Completed' }) as HTMLInputElement).checked).toBe(true);
    expect((screen.getByRole('switch', { name: 'New Document' }) as HTMLInputElement).checked).toBe(true);
    expect((screen.getByRole('switch', { name: 'Order Submitted' }) as HTMLInputElement).checked).toBe(false);
    for (const category of ['Entities', 'Documents', 'Jurisdictions', 'Tasks', 'Orders']) {
      expect(screen.getByRole('group', { name: category })).toBeTruthy();
    }
  });

  it('saves a switch at once and confirms it', async () => {
    const fake = openSettings();
    fireEvent.click(await screen.findByRole('switch', { name: 'Order Submitted' }));
    expect(await screen.findByText('Order Submitted: notifications on.')).toBeTruthy();
    expect(fake.callsTo('updateSettings')).toEqual([{ notifications: { types: { 'order.submitted': true } } }]);
    expect(fake.settings().notifications.types['order.submitted']).toBe(true);
    expect((screen.getByRole('switch', { name: 'Order Submitted' }) as HTMLInputElement).checked).toBe(true);
    // A second change keeps the first (the whole map goes with each change).
    fireEvent.click(screen.getByRole('switch', { name: 'Order Completed' }));
    await waitFor(() =>
      expect(fake.settings().notifications.types).toEqual({ 'order.submitted': true, 'order.completed': false }),
    );
  });

  it('a switch per category: on, off or mixed, for screen readers too, and it sets every type at once', async () => {
    const fake = openSettings();
    const all = (category: string) => screen.getByRole('checkbox', { name: `All ${category}` }) as HTMLInputElement;
    const state = (category: string) => [all(category).indeterminate, all(category).getAttribute('aria-checked')];
    await screen.findByRole('group', { name: 'Documents' });
    // Defaults: New Document on, the other two off; no entity type on.
    expect(state('Documents')).toEqual([true, 'mixed']);
    expect(state('Entities')).toEqual([false, 'false']);
    // From mixed, a click turns the whole category on (as a checkbox does).
    fireEvent.click(all('Documents'));
    expect(await screen.findByText('Documents: all notifications on.')).toBeTruthy();
    expect(fake.callsTo('updateSettings')).toEqual([
      {
        notifications: {
          types: {
            'category:Documents': true,
            'document.created': true,
            'document.updated': true,
            'document.deleted': true,
          },
        },
      },
    ]);
    await waitFor(() => expect(state('Documents')).toEqual([false, 'true']));
    expect(all('Documents').checked).toBe(true);
    for (const name of ['New Document', 'Update Document', 'Delete Document']) {
      expect((screen.getByRole('switch', { name }) as HTMLInputElement).checked, name).toBe(true);
    }
    // One type turned off makes it mixed again; the category switch then turns them all off.
    fireEvent.click(screen.getByRole('switch', { name: 'Delete Document' }));
    await waitFor(() => expect(state('Documents')).toEqual([true, 'mixed']));
    fireEvent.click(all('Documents'));
    await waitFor(() => expect(state('Documents')).toEqual([false, 'true']));
    fireEvent.click(all('Documents'));
    await waitFor(() => expect(state('Documents')).toEqual([false, 'false']));
    expect(
      ['document.created', 'document.updated', 'document.deleted'].map((t) => fake.settings().notifications.types[t]),
    ).toEqual([false, false, false]);
    // Other categories are left as they were.
    expect((screen.getByRole('switch', { name: 'Order Completed' }) as HTMLInputElement).checked).toBe(true);
  });

  it('a switch for event types the app does not know (the Other category)', async () => {
    const fake = openSettings();
    fireEvent.click(await screen.findByRole('switch', { name: 'Other event types' }));
    await waitFor(() => expect(fake.settings().notifications.types).toEqual({ 'category:Other': true }));
    expect((screen.getByRole('switch', { name: 'Other event types' }) as HTMLInputElement).checked).toBe(true);
  });

  it('pause until I resume, and resume', async () => {
    const fake = openSettings();
    fireEvent.click(await screen.findByRole('button', { name: 'Until I resume' }));
    expect(await screen.findByText('Notifications paused until you resume.')).toBeTruthy();
    expect(fake.settings().notifications.pausedUntil).toBe(PAUSED_UNTIL_RESUMED);
    expect(screen.getByText(/until you resume\. Events are still received and stored\./)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Resume now' }));
    await waitFor(() => expect(fake.settings().notifications.pausedUntil).toBeNull());
    expect(await screen.findByRole('button', { name: 'Until I resume' })).toBeTruthy();
  });

  it('a pause ends on screen when its time comes, without anything else happening', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      window.location.hash = '#/settings';
      const fake = createFakeMonitor();
      await fake.api.updateSettings({ notifications: { pausedUntil: Date.now() + 3_600_000 } });
      render(<App transport={fake.transport} />);
      await act(async () => {});
      expect(screen.getByRole('button', { name: 'Resume now' })).toBeTruthy();
      await act(async () => {
        await vi.advanceTimersByTimeAsync(3_599_000);
      });
      expect(screen.getByText(/^Paused/)).toBeTruthy();
      await act(async () => {
        await vi.advanceTimersByTimeAsync(2_000);
      });
      expect(screen.queryByRole('button', { name: 'Resume now' })).toBeNull();
      expect(screen.getByRole('button', { name: 'Pause 1 hour' })).toBeTruthy();
      // Nothing was asked of the core: the view noticed the time by itself.
      expect(fake.callsTo('getSettings')).toHaveLength(1);
      expect(fake.callsTo('updateSettings')).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('digests, quiet hours and pause', async () => {
    const fake = openSettings();
    fireEvent.click(await screen.findByRole('switch', { name: 'Group bursts into one notification' }));
    await waitFor(() => expect(fake.settings().notifications.digest).toBe(false));
    fireEvent.click(screen.getByRole('switch', { name: 'Quiet hours' }));
    await waitFor(() => expect(fake.settings().notifications.quietHours.enabled).toBe(true));
    fireEvent.change(screen.getByLabelText('From'), { target: { value: '21:30' } });
    await waitFor(() => expect(fake.settings().notifications.quietHours.start).toBe('21:30'));
    fireEvent.click(screen.getAllByRole('button', { name: 'Order Completed' })[0] as HTMLElement);
    await waitFor(() => expect(fake.settings().notifications.quietHours.allowTypes).toEqual(['order.completed']));
    fireEvent.click(screen.getByRole('button', { name: 'Pause 1 hour' }));
    expect(await screen.findByRole('button', { name: 'Resume now' })).toBeTruthy();
    expect(fake.settings().notifications.pausedUntil).toBeGreaterThan(Date.now());
    fireEvent.click(screen.getByRole('button', { name: 'Resume now' }));
    await waitFor(() => expect(fake.settings().notifications.pausedUntil).toBeNull());
  });

  it("refuses a subdomain SingleFile's tunnel cannot have, saying why, and saves a good one", async () => {
    const fake = openSettings();
    const field = await screen.findByRole('textbox', { name: 'Subdomain' });
    fireEvent.change(field, { target: { value: 'No Spaces!' } });
    fireEvent.blur(field);
    expect((await screen.findByRole('alert')).textContent).toMatch(/lowercase letters, digits or dashes/);
    expect(fake.callsTo('updateSettings')).toEqual([]);
    fireEvent.change(field, { target: { value: 'my-monitor' } });
    fireEvent.keyDown(field, { key: 'Enter' });
    await waitFor(() => expect(fake.settings().tunnel.subdomain).toBe('my-monitor'));
  });

  it('"New URL" warns that SingleFile must be updated before it changes anything', async () => {
    const fake = openSettings();
    fireEvent.click(await screen.findByRole('button', { name: 'New URL…' }));
    const warning = screen.getByRole('alertdialog');
    expect(warning.textContent).toMatch(/SingleFile must be updated/);
    expect(fake.callsTo('regenerateWebhookUrl')).toEqual([]);
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('alertdialog')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'New URL…' }));
    fireEvent.click(screen.getByRole('button', { name: 'Get a new URL' }));
    expect(await screen.findByText(/Paste it into SingleFile now: https:\/\/sfm-newnewnewnew/)).toBeTruthy();
    expect(fake.callsTo('regenerateWebhookUrl')).toEqual([{}]);
  });

  it('retention and start at login', async () => {
    const fake = openSettings();
    const days = await screen.findByRole('spinbutton', { name: 'Keep events for' });
    fireEvent.change(days, { target: { value: '30' } });
    fireEvent.blur(days);
    await waitFor(() => expect(fake.settings().retention.maxAgeDays).toBe(30));
    fireEvent.click(screen.getByRole('switch', { name: 'Delete old events' }));
    await waitFor(() => expect(fake.settings().retention.maxAgeDays).toBeNull());
    fireEvent.click(screen.getByRole('switch', { name: 'Start at login' }));
    await waitFor(() => expect(fake.settings().startAtLogin).toBe(true));
  });

  it('says so when a change is refused, and shows the saved value again', async () => {
    const fake = openSettings();
    const toggle = (await screen.findByRole('switch', { name: 'Start at login' })) as HTMLInputElement;
    fake.api.updateSettings = async () => {
      throw new Error('the disk is full');
    };
    act(() => {
      fireEvent.click(toggle);
    });
    expect(await screen.findByText('the disk is full')).toBeTruthy();
    expect(screen.getByText('Not saved')).toBeTruthy();
    expect(toggle.checked).toBe(false);
  });
});

describe('Settings view: security', () => {
  it('a scheme chosen without a saved secret waits for it; both are saved together, and the secret is never shown', async () => {
    const fake = openSettings();
    const scheme = (await screen.findByLabelText('Check signatures')) as HTMLSelectElement;
    expect(screen.queryByLabelText('Signing secret')).toBeNull();
    fireEvent.change(scheme, { target: { value: 'standard-webhooks' } });
    expect(await screen.findByText('Signatures are checked once the secret is saved.')).toBeTruthy();
    expect(fake.callsTo('updateSettings')).toEqual([]);
    const secret = screen.getByLabelText('Signing secret') as HTMLInputElement;
    expect(secret.type).toBe('password');
    fireEvent.change(secret, { target: { value: '  whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw  ' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save and turn on' }));
    await waitFor(() => expect(fake.settings().security.signature).toMatchObject({ mode: 'standard-webhooks' }));
    expect(fake.callsTo('updateSettings')).toEqual([
      { security: { signature: { mode: 'standard-webhooks', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' } } },
    ]);
    expect(fake.settings().security.signature.hasSecret).toBe(true);
    expect(secret.value).toBe('');
    expect(screen.getByText('A secret is saved. It is never shown again.')).toBeTruthy();
    expect(document.body.textContent).not.toContain('whsec_MfKQ');
  });

  it('a plain HMAC header: its name is checked before it is saved', async () => {
    const fake = openSettings();
    fireEvent.change(await screen.findByLabelText('Check signatures'), { target: { value: 'hmac-sha256' } });
    const header = screen.getByRole('textbox', { name: 'Signature header' });
    fireEvent.change(header, { target: { value: 'x signature' } });
    fireEvent.blur(header);
    expect((await screen.findByRole('alert')).textContent).toMatch(/Letters, digits and dashes/);
    expect(fake.callsTo('updateSettings')).toEqual([]);
    fireEvent.change(header, { target: { value: 'X-SingleFile-Signature' } });
    fireEvent.keyDown(header, { key: 'Enter' });
    await waitFor(() => expect(fake.settings().security.signature.header).toBe('X-SingleFile-Signature'));
    expect(fake.settings().security.signature.mode).toBe('off');
  });

  it('turning verification off keeps the secret, which can then be removed', async () => {
    window.location.hash = '#/settings';
    const fake = createFakeMonitor();
    await fake.api.updateSettings({ security: { signature: { mode: 'hmac-sha256', secret: 'shh' } } });
    render(<App transport={fake.transport} />);
    expect(await screen.findByText('A secret is saved. It is never shown again.')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Check signatures'), { target: { value: 'off' } });
    await waitFor(() => expect(fake.settings().security.signature.mode).toBe('off'));
    expect(fake.settings().security.signature.hasSecret).toBe(true);
    fireEvent.click(await screen.findByRole('button', { name: 'Remove the secret' }));
    await waitFor(() => expect(fake.settings().security.signature.hasSecret).toBe(false));
    expect(await screen.findByText('Signing secret removed.')).toBeTruthy();
    expect(screen.queryByLabelText('Signing secret')).toBeNull();
  });

  it('flood control: off, on at 6,000 a minute, and a chosen rate', async () => {
    const fake = openSettings();
    const rate = await screen.findByRole('spinbutton', { name: 'At most' });
    expect((rate as HTMLInputElement).value).toBe('6000');
    fireEvent.change(rate, { target: { value: '120' } });
    fireEvent.blur(rate);
    await waitFor(() => expect(fake.settings().security.rateLimit.perMinute).toBe(120));
    fireEvent.click(screen.getByRole('switch', { name: 'Flood control' }));
    await waitFor(() => expect(fake.settings().security.rateLimit.perMinute).toBeNull());
    expect(screen.queryByRole('spinbutton', { name: 'At most' })).toBeNull();
    fireEvent.click(screen.getByRole('switch', { name: 'Flood control' }));
    await waitFor(() => expect(fake.settings().security.rateLimit.perMinute).toBe(6_000));
  });
});
