import { act, fireEvent, render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { App } from '../../renderer/App.tsx';
import { createFakeMonitor } from './fake-monitor.ts';

/** The status of `serve --tunnel none`: no public URL, so no URL for SingleFile. */
const NO_TUNNEL = {
  webhookUrl: null,
  tunnel: {
    provider: 'none',
    state: 'stopped',
    publicUrl: null,
    since: '2024-01-15T09:00:00.000Z',
    attempts: 0,
    lastError: null,
    urlChanged: null,
    selfTest: null,
  },
} as const;

describe('Status view (first run)', () => {
  it('shows the webhook URL large with a Copy button, and the tunnel state in words', async () => {
    const fake = createFakeMonitor();
    render(<App transport={fake.transport} />);
    const url = await screen.findByText(/webhooks\/TOKEN$/);
    expect(url.className).toBe('url');
    expect(url.textContent).toBe('https://sfm-abcdefabcdef.loca.lt/webhooks/TOKEN');
    expect(screen.getByRole('heading', { name: 'Your webhook URL' })).toBeTruthy();
    expect(screen.getByRole('button', { name: /Copy URL/ })).toBeTruthy();
    expect(screen.getAllByText('Online').length).toBeGreaterThan(0);
    expect(screen.getByText(/SingleFile can reach this computer through the tunnel/)).toBeTruthy();
  });

  it('copies the URL to the clipboard and says so', async () => {
    const fake = createFakeMonitor();
    const copied: string[] = [];
    Object.defineProperty(navigator, 'clipboard', {
      configurable: true,
      value: { writeText: async (text: string) => void copied.push(text) },
    });
    render(<App transport={fake.transport} />);
    fireEvent.click(await screen.findByRole('button', { name: /Copy URL/ }));
    expect(await screen.findByRole('button', { name: /Copied/ })).toBeTruthy();
    expect(copied).toEqual(['https://sfm-abcdefabcdef.loca.lt/webhooks/TOKEN']);
  });

  it('without a tunnel, says SingleFile cannot use the local URL', async () => {
    const fake = createFakeMonitor({ status: NO_TUNNEL });
    render(<App transport={fake.transport} />);
    expect((await screen.findByText(/webhooks\/TOKEN$/)).textContent).toBe('http://127.0.0.1:40001/webhooks/TOKEN');
    expect(screen.getByRole('heading', { name: 'Local webhook URL' })).toBeTruthy();
    expect(screen.getByText(/SingleFile cannot use this address/)).toBeTruthy();
    expect(screen.getAllByText('No tunnel').length).toBeGreaterThan(0);
  });

  it('warns loudly when the public URL changed', async () => {
    const fake = createFakeMonitor();
    fake.status.tunnel.urlChanged = { from: 'https://old.loca.lt', to: 'https://new.loca.lt' };
    render(<App transport={fake.transport} />);
    const alert = await screen.findByText(/The public URL changed from/);
    expect(alert.textContent).toContain('https://old.loca.lt');
    expect(alert.textContent).toContain('Update the endpoint in SingleFile');
  });

  it('says when flood control is refusing deliveries', async () => {
    const fake = createFakeMonitor();
    fake.status.receiver = { ...fake.status.receiver, throttled: true, throttledDeliveries: 1234 };
    render(<App transport={fake.transport} />);
    expect((await screen.findByText(/Too many deliveries at once/)).textContent).toContain('1,234 so far');
  });

  it('waits for the first event, then shows it as it arrives', async () => {
    const fake = createFakeMonitor();
    render(<App transport={fake.transport} />);
    expect(await screen.findByText('Waiting for the first event…')).toBeTruthy();
    act(() => {
      fake.receive({ event_type: 'order.completed', order_id: 'ord_1' });
    });
    expect(await screen.findByRole('link', { name: 'Order Completed' })).toBeTruthy();
    expect(screen.queryByText('Waiting for the first event…')).toBeNull();
  });

  it("shows SingleFile's setup steps, with the warning that a new endpoint starts disabled", async () => {
    const fake = createFakeMonitor();
    render(<App transport={fake.transport} />);
    const setup = (await screen.findByRole('heading', { name: 'Connect SingleFile' })).closest('section');
    expect(setup).not.toBeNull();
    const text = setup?.textContent ?? '';
    for (const words of ['Profile Settings', 'Webhook Settings', '+ Add Endpoint', 'Create Endpoint']) {
      expect(text).toContain(words);
    }
    expect(within(setup as HTMLElement).getByText(/New endpoints start disabled/)).toBeTruthy();
  });

  it('"Send a test event" shows where it failed', async () => {
    const fake = createFakeMonitor();
    fake.testResult = {
      ok: false,
      via: 'public',
      failedAt: 'tunnel',
      status: 504,
      message: 'The tunnel answered 504 without reaching this computer.',
      eventId: null,
    };
    render(<App transport={fake.transport} />);
    fireEvent.click(await screen.findByRole('button', { name: /Send a test event/ }));
    expect(await screen.findByText(/It did not get through the tunnel/)).toBeTruthy();
    expect(screen.getByText(/answered 504 without reaching this computer/)).toBeTruthy();
    const steps = within(screen.getByRole('list', { name: 'Where the test event got to' })).getAllByRole('listitem');
    expect(steps.map((step) => step.textContent)).toEqual([
      'Tunnel: failed here',
      'Receiver: not reached',
      'History: not reached',
    ]);
  });

  it('"Send a test event" refused by the receiver, sent locally: no tunnel stage, the receiver failed, with the reason', async () => {
    const fake = createFakeMonitor();
    fake.testResult = {
      ok: false,
      via: 'local',
      failedAt: 'receiver',
      status: 429,
      message: 'The receiver refused it (429: too many deliveries, retry later).',
      eventId: null,
    };
    render(<App transport={fake.transport} />);
    fireEvent.click(await screen.findByRole('button', { name: /Send a test event/ }));
    const text = await screen.findByText(/The receiver refused it\./);
    expect(text.textContent).toBe(
      'The receiver refused it. The receiver refused it (429: too many deliveries, retry later).',
    );
    const steps = within(screen.getByRole('list', { name: 'Where the test event got to' })).getAllByRole('listitem');
    expect(steps.map((step) => step.textContent)).toEqual(['Receiver: failed here', 'History: not reached']);
  });

  it('"Send a test event" that arrived but could not be stored: through tunnel and receiver, failed at the history', async () => {
    const fake = createFakeMonitor();
    fake.testResult = {
      ok: false,
      via: 'public',
      failedAt: 'history',
      status: 503,
      message: 'The receiver got it but could not store it (503: could not store the event, retry later).',
      eventId: null,
    };
    render(<App transport={fake.transport} />);
    fireEvent.click(await screen.findByRole('button', { name: /Send a test event/ }));
    expect(await screen.findByText(/It arrived but could not be stored\./)).toBeTruthy();
    const steps = within(screen.getByRole('list', { name: 'Where the test event got to' })).getAllByRole('listitem');
    expect(steps.map((step) => step.textContent)).toEqual([
      'Tunnel: passed',
      'Receiver: passed',
      'History: failed here',
    ]);
  });

  it('"Check the tunnel now" runs the self-test and shows its result and round trip', async () => {
    const fake = createFakeMonitor();
    render(<App transport={fake.transport} />);
    expect(await screen.findByText(/Not checked yet/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Check the tunnel now' }));
    expect(await screen.findByText(/through the tunnel and back in 120 ms/)).toBeTruthy();
    expect(fake.callsTo('checkTunnel')).toEqual([{}]);

    fake.selfTestResult = {
      ok: false,
      at: '2024-01-15T10:05:00.000Z',
      rttMs: null,
      error: 'no answer through the tunnel server in 10 s',
    };
    fireEvent.click(screen.getByRole('button', { name: 'Check the tunnel now' }));
    expect(await screen.findByText(/did not get through \(no answer through the tunnel server in 10 s\)/)).toBeTruthy();
  });

  it('offers no tunnel check without a tunnel', async () => {
    const fake = createFakeMonitor({ status: NO_TUNNEL });
    render(<App transport={fake.transport} />);
    await screen.findByText(/SingleFile cannot use this address/);
    expect(screen.queryByRole('button', { name: 'Check the tunnel now' })).toBeNull();
  });

  it('"Send a test event" that works links to the stored event', async () => {
    const fake = createFakeMonitor();
    fake.testResult = { ok: true, via: 'local', failedAt: null, status: 200, message: 'Stored.', eventId: 7 };
    render(<App transport={fake.transport} />);
    fireEvent.click(await screen.findByRole('button', { name: /Send a test event/ }));
    expect(await screen.findByText(/It worked/)).toBeTruthy();
    expect(screen.getByRole('link', { name: 'See the test event' }).getAttribute('href')).toBe('#/event/7');
  });

  it('says when the link to the core is lost, and when the dashboard link expired', async () => {
    const fake = createFakeMonitor();
    render(<App transport={fake.transport} />);
    await screen.findByText(/webhooks\/TOKEN$/);
    act(() => fake.setConnection('reconnecting'));
    expect(screen.getByRole('alert').textContent).toMatch(/Reconnecting/);
    act(() => fake.setConnection('unauthorized'));
    expect(screen.getByRole('alert').textContent).toMatch(/Open the new dashboard link/);
    // Back: the window reloads what it shows (pushes may have been missed meanwhile).
    const before = fake.callsTo('getStatus').length;
    await act(async () => fake.setConnection('live'));
    expect(screen.queryByRole('alert')).toBeNull();
    expect(fake.callsTo('getStatus').length).toBe(before + 1);
  });
});
