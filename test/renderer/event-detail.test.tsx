import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { App } from '../../renderer/App.tsx';
import { createFakeMonitor, makeEvent } from './fake-monitor.ts';

function openEvent(id: number, events = [makeEvent(5, payload)]) {
  window.location.hash = `#/event/${id}`;
  const fake = createFakeMonitor({ events });
  render(<App transport={fake.transport} />);
  return fake;
}

const payload = {
  event_type: 'document.created',
  document_id: 'doc_88001',
  order_id: 'ord_12345',
  document_name: 'Certificate of Good Standing.pdf',
  timestamp: '2024-01-15T10:31:02Z',
};

describe('Event view', () => {
  it("shows SingleFile's name, the key fields and the raw JSON formatted", async () => {
    openEvent(5, [makeEvent(5, payload, { occurred_at: '2024-01-15T10:31:02.000Z', deliveries: 3 })]);
    expect(await screen.findByRole('heading', { level: 1, name: 'New Document' })).toBeTruthy();
    expect(screen.getByText('document.created')).toBeTruthy();
    const fields = Object.fromEntries(
      [...document.querySelectorAll('.fields > div')].map((d) => [
        d.querySelector('dt')?.textContent,
        d.querySelector('dd')?.textContent,
      ]),
    );
    expect(fields).toMatchObject({
      Document: 'Certificate of Good Standing.pdf',
      Order: 'ord_12345',
      'Document id': 'doc_88001',
      Deliveries: '3 (SingleFile retried; stored once)',
      'History id': '#5',
    });
    const raw = screen.getByRole('region', { name: 'Raw JSON' }).querySelector('pre');
    expect(raw?.textContent).toBe(JSON.stringify(payload, null, 2));
  });

  it('marks the event read when it is opened', async () => {
    const fake = openEvent(5);
    await screen.findByRole('heading', { level: 1, name: 'New Document' });
    await waitFor(() => expect(fake.callsTo('markRead')).toEqual([{ ids: [5], read: true }]));
    await screen.findByRole('button', { name: 'Mark as unread' });
    fireEvent.click(screen.getByRole('button', { name: 'Mark as unread' }));
    await screen.findByRole('button', { name: 'Mark as read' });
    expect(fake.events[0]?.read).toBe(false);
  });

  it('copies the raw JSON', async () => {
    const copied: string[] = [];
    Object.defineProperty(navigator, 'clipboard', {
      configurable: true,
      value: { writeText: async (text: string) => void copied.push(text) },
    });
    openEvent(5);
    fireEvent.click(await screen.findByRole('button', { name: /Copy JSON/ }));
    await screen.findByRole('button', { name: /Copied/ });
    expect(JSON.parse(copied[0] ?? '')).toEqual(payload);
  });

  it('shows an unknown type as it came, under Other', async () => {
    openEvent(9, [makeEvent(9, { event_type: 'invoice.paid', amount: 12 })]);
    expect(await screen.findByRole('heading', { level: 1, name: 'invoice.paid' })).toBeTruthy();
    expect(screen.getByText('Other')).toBeTruthy();
    expect(screen.getByText(/does not know: shown exactly as it came/)).toBeTruthy();
  });

  it('renders markup in the payload as text, everywhere', async () => {
    const hostile = {
      event_type: '<img src=x onerror=alert(1)>',
      document_name: '<script>window.__pwned=1</script>',
      entity_name: '<a href="javascript:alert(1)">click</a>',
    };
    const { container } = (() => {
      window.location.hash = '#/event/3';
      const fake = createFakeMonitor({ events: [makeEvent(3, hostile)] });
      return render(<App transport={fake.transport} />);
    })();
    expect(await screen.findByRole('heading', { level: 1, name: '<img src=x onerror=alert(1)>' })).toBeTruthy();
    expect(screen.getByText('<script>window.__pwned=1</script>')).toBeTruthy();
    expect(container.querySelector('main img, main script')).toBeNull();
    expect(container.querySelector('a[href^="javascript"]')).toBeNull();
  });

  it('says so when the event is not in the history', async () => {
    openEvent(404);
    expect(await screen.findByText(/Event #404 is not in the history/)).toBeTruthy();
  });
});
