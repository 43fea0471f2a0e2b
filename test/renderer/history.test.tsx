import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { App } from '../../renderer/App.tsx';
import { EventQuerySchema } from '../../shared/api.ts';
import { createFakeMonitor, makeEvent } from './fake-monitor.ts';

const fixtures = [
  makeEvent(1, { event_type: 'order.submitted', order_id: 'ord_12346', order_type: 'Annual Report' }),
  makeEvent(2, { event_type: 'document.created', document_name: 'Certificate of Good Standing.pdf' }, { read: true }),
  makeEvent(3, { event_type: 'order.completed', order_id: 'ord_12345', status: 'completed' }),
];

function openHistory(hash = '#/history') {
  window.location.hash = hash;
  const fake = createFakeMonitor({ events: fixtures });
  render(<App transport={fake.transport} />);
  return fake;
}

const rows = () => screen.queryAllByRole('option');

describe('History view', () => {
  it("lists events newest first with SingleFile's names, key fields and unread marks", async () => {
    openHistory();
    await waitFor(() => expect(rows()).toHaveLength(3));
    expect(rows().map((row) => row.querySelector('.row-title')?.textContent)).toEqual([
      'Order Completed',
      'New Document',
      'Order Submitted',
    ]);
    expect(rows()[1]?.textContent).toContain('Certificate of Good Standing.pdf');
    expect(rows().map((row) => row.classList.contains('unread'))).toEqual([true, false, true]);
    expect(rows()[0]?.textContent).toMatch(/^Unread/);
  });

  it('searches as you type, and keeps the search in the URL', async () => {
    const fake = openHistory();
    await waitFor(() => expect(rows()).toHaveLength(3));
    fireEvent.change(screen.getByRole('searchbox', { name: 'Search events' }), { target: { value: 'certificate' } });
    await waitFor(() => expect(rows()).toHaveLength(1));
    expect(window.location.hash).toBe('#/history?q=certificate');
    expect(fake.callsTo('listEvents').at(-1)).toMatchObject({ text: 'certificate' });
  });

  it('takes at most the 500 characters of search text the Monitor API accepts, typed or in a link', async () => {
    expect(EventQuerySchema.shape.text.unwrap().maxLength).toBe(500);
    const fake = openHistory(`#/history?q=${'ord_'.repeat(200)}`);
    const box = (await screen.findByRole('searchbox', { name: 'Search events' })) as HTMLInputElement;
    expect(box.maxLength).toBe(500);
    await waitFor(() => expect(fake.callsTo('listEvents').length).toBeGreaterThan(0));
    expect(fake.callsTo('listEvents').at(-1)?.text).toBe('ord_'.repeat(125));
    expect(box.value).toHaveLength(500);
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('filters by category with a chip, and takes filters from the URL (back/forward)', async () => {
    const fake = openHistory();
    await waitFor(() => expect(rows()).toHaveLength(3));
    const orders = screen.getByRole('button', { name: 'Orders' });
    fireEvent.click(orders);
    await waitFor(() => expect(rows()).toHaveLength(2));
    expect(orders.getAttribute('aria-pressed')).toBe('true');
    expect(window.location.hash).toBe('#/history?c=Orders');
    expect(fake.callsTo('listEvents').at(-1)).toMatchObject({ categories: ['Orders'] });
    // The types of the chosen category appear as chips of their own.
    fireEvent.click(screen.getByRole('button', { name: 'Order Completed' }));
    await waitFor(() => expect(rows()).toHaveLength(1));
    expect(window.location.hash).toBe('#/history?c=Orders&t=order.completed');
    // Going back is a change of the URL: the list follows it.
    act(() => {
      window.location.hash = '#/history?c=Documents';
    });
    // (One row was shown before too: wait for the row itself.)
    await waitFor(() => expect(rows()[0]?.textContent).toContain('New Document'));
    expect(rows()).toHaveLength(1);
    expect(screen.getByRole('button', { name: 'Documents' }).getAttribute('aria-pressed')).toBe('true');
  });

  it('puts a live arrival at the top when it matches, and not when the filter excludes it', async () => {
    const fake = openHistory('#/history?c=Orders');
    await waitFor(() => expect(rows()).toHaveLength(2));
    act(() => {
      fake.receive({ event_type: 'order.cancelled', order_id: 'ord_999' });
      fake.receive({ event_type: 'entity.created', entity_name: 'Acme Widgets LLC' });
    });
    await waitFor(() => expect(rows()).toHaveLength(3));
    expect(rows()[0]?.textContent).toContain('Order Cancelled');
    expect(screen.queryByText('Acme Widgets LLC')).toBeNull();
  });

  it('with a text search, offers new arrivals instead of guessing whether they match', async () => {
    const fake = openHistory('#/history?q=ord_');
    await waitFor(() => expect(rows()).toHaveLength(2));
    act(() => {
      fake.receive({ event_type: 'order.cancelled', order_id: 'ord_999' });
    });
    const offer = await screen.findByRole('button', { name: /1 new event arrived/ });
    fireEvent.click(offer);
    await waitFor(() => expect(rows()).toHaveLength(3));
  });

  it('moves with j and k, opens with Enter, comes back with Esc', async () => {
    const fake = openHistory();
    await waitFor(() => expect(rows()).toHaveLength(3));
    const listbox = screen.getByRole('listbox');
    fireEvent.keyDown(document.body, { key: 'j' });
    fireEvent.keyDown(document.body, { key: 'j' });
    fireEvent.keyDown(document.body, { key: 'k' });
    expect(listbox.getAttribute('aria-activedescendant')).toBe('event-2');
    expect(rows()[1]?.getAttribute('aria-selected')).toBe('true');
    fireEvent.keyDown(document.body, { key: 'Enter' });
    expect(await screen.findByRole('heading', { level: 1, name: 'New Document' })).toBeTruthy();
    expect(window.location.hash).toBe('#/event/2');
    fireEvent.keyDown(document.body, { key: 'Escape' });
    await waitFor(() => expect(rows()).toHaveLength(3));
    expect(fake.callsTo('getEvent')).toEqual([{ id: 2 }]);
  });

  it('"/" jumps to the search box from any view', async () => {
    window.location.hash = '#/stats';
    const fake = createFakeMonitor({ events: fixtures });
    render(<App transport={fake.transport} />);
    await screen.findByRole('heading', { name: 'Stats' });
    fireEvent.keyDown(document.body, { key: '/' });
    await waitFor(() => expect(document.activeElement?.id).toBe('history-search'));
    expect(window.location.hash).toBe('#/history');
  });

  it('shows payload text as text: markup in an event never becomes elements', async () => {
    window.location.hash = '#/history';
    const fake = createFakeMonitor({
      events: [
        makeEvent(1, {
          event_type: 'document.created',
          document_name: '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>',
        }),
      ],
    });
    const { container } = render(<App transport={fake.transport} />);
    await waitFor(() => expect(rows()).toHaveLength(1));
    expect(rows()[0]?.textContent).toContain('<img src=x onerror="window.__pwned=1"><script>');
    expect(container.querySelector('img, script')).toBeNull();
    expect((window as { __pwned?: number }).__pwned).toBeUndefined();
  });

  it('stays small with 100,000 events: renders a screenful of rows and loads pages as it scrolls', async () => {
    window.location.hash = '#/history';
    const many = Array.from({ length: 100_000 }, (_, i) =>
      makeEvent(i + 1, { event_type: 'order.completed', order_id: `ord_${i + 1}` }),
    );
    const fake = createFakeMonitor({ events: many });
    render(<App transport={fake.transport} />);
    await waitFor(() => expect(rows().length).toBeGreaterThan(0));
    // A 600-pixel pane of 60-pixel rows, plus the overscan: tens of rows, never thousands.
    expect(rows().length).toBeLessThan(40);
    expect(rows()[0]?.textContent).toContain('ord_100000');
    expect(fake.callsTo('listEvents')).toEqual([{ limit: 200 }]);
    // Scrolling towards the end of what is loaded asks for the next page with the cursor.
    const scroller = screen.getByRole('listbox');
    act(() => {
      scroller.scrollTop = 170 * 60;
      scroller.dispatchEvent(new Event('scroll'));
    });
    await waitFor(() => expect(fake.callsTo('listEvents')).toHaveLength(2));
    expect(fake.callsTo('listEvents')[1]).toEqual({ limit: 200, cursor: '200' });
    await waitFor(() => expect(rows().some((row) => row.textContent?.includes('ord_99830'))).toBe(true));
    expect(rows().length).toBeLessThan(40);
  });

  it('says there is nothing yet, or nothing matching, with a way back', async () => {
    window.location.hash = '#/history';
    const empty = createFakeMonitor();
    const first = render(<App transport={empty.transport} />);
    expect(await screen.findByText(/No events yet/)).toBeTruthy();
    first.unmount();
    openHistory('#/history?q=nothing-like-this');
    fireEvent.click(await screen.findByRole('button', { name: 'Clear search and filters' }));
    await waitFor(() => expect(rows()).toHaveLength(3));
    expect(window.location.hash).toBe('#/history');
  });

  it('exports the current search as a file, and says how many events it holds', async () => {
    const fake = openHistory('#/history?c=Orders');
    await waitFor(() => expect(rows()).toHaveLength(2));
    fireEvent.click(screen.getByRole('button', { name: /Export CSV/ }));
    expect(await screen.findByText('Exported 2 events')).toBeTruthy();
    expect(screen.getByText('singlefile-events-2024-01-15.csv')).toBeTruthy();
    // Saved through the transport (a streamed download, or the tray app's save dialog), never
    // as one answer holding the whole export.
    expect(fake.exports).toEqual([{ format: 'csv', query: { categories: ['Orders'] } }]);
    expect(fake.callsTo('exportEvents')).toEqual([]);
  });

  it('exports what the search box shows, even when it was typed a moment ago', async () => {
    const fake = openHistory('#/history?c=Orders');
    await waitFor(() => expect(rows()).toHaveLength(2));
    // Typed, and exported at once: the search has not reached the URL (or the list) yet.
    fireEvent.change(screen.getByRole('searchbox', { name: 'Search events' }), { target: { value: 'ord_12345' } });
    fireEvent.click(screen.getByRole('button', { name: /Export CSV/ }));
    expect(window.location.hash).toBe('#/history?c=Orders');
    expect(await screen.findByText('Exported 1 event')).toBeTruthy();
    expect(fake.exports).toEqual([{ format: 'csv', query: { text: 'ord_12345', categories: ['Orders'] } }]);
  });

  it('shows the progress of an export while it runs, and nothing when the person cancels it', async () => {
    const fake = openHistory();
    await waitFor(() => expect(rows()).toHaveLength(3));
    let finish!: (saved: null) => void;
    fake.saveAnswer = (_request, _count, onProgress) => {
      onProgress?.(1_234);
      return new Promise((resolve) => {
        finish = resolve;
      });
    };
    fireEvent.click(screen.getByRole('button', { name: 'JSON' }));
    expect(await screen.findByText('Exporting… 1,234 events')).toBeTruthy();
    expect((screen.getByRole('button', { name: 'JSON' }) as HTMLButtonElement).disabled).toBe(true);
    await act(async () => finish(null));
    expect(screen.queryByText(/^Exporting…/)).toBeNull();
    expect((screen.getByRole('button', { name: 'JSON' }) as HTMLButtonElement).disabled).toBe(false);
    expect(screen.queryByText(/^Exported/)).toBeNull();
  });

  it('says so when an export fails', async () => {
    const fake = openHistory();
    await waitFor(() => expect(rows()).toHaveLength(3));
    fake.saveAnswer = async () => {
      throw new Error('The export broke off before it was complete; nothing was saved.');
    };
    fireEvent.click(screen.getByRole('button', { name: /Export CSV/ }));
    expect(await screen.findByText('Export failed')).toBeTruthy();
    expect(screen.getByText('The export broke off before it was complete; nothing was saved.')).toBeTruthy();
  });
});
