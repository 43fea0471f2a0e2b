import type { Status } from '../../shared/api.ts';
import { describeTunnel } from '../format.ts';
import type { Route } from '../router.ts';
import { Icon, type IconName } from './Icons.tsx';

const ITEMS: ReadonlyArray<{ view: Route['view']; href: string; label: string; icon: IconName }> = [
  { view: 'status', href: '#/', label: 'Status', icon: 'status' },
  { view: 'history', href: '#/history', label: 'History', icon: 'history' },
  { view: 'stats', href: '#/stats', label: 'Stats', icon: 'stats' },
  { view: 'settings', href: '#/settings', label: 'Settings', icon: 'settings' },
];

export function Sidebar({ route, status, historyHref }: { route: Route; status: Status | null; historyHref: string }) {
  const current = route.view === 'event' ? 'history' : route.view;
  const unread = status?.events.unread ?? 0;
  const tunnel = status ? describeTunnel(status.tunnel) : null;
  return (
    <nav className="sidebar" aria-label="Main">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true">
          <Icon name="bolt" size={16} />
        </span>
        <span>SingleFile Monitor</span>
      </div>
      <ul>
        {ITEMS.map((item) => (
          <li key={item.view}>
            <a
              href={item.view === 'history' ? historyHref : item.href}
              className="nav-item"
              aria-current={current === item.view ? 'page' : undefined}
            >
              <Icon name={item.icon} className="nav-icon" />
              <span>{item.label}</span>
              {item.view === 'history' && unread > 0 ? (
                <span className="count" role="status" aria-label={`${unread} unread`}>
                  {unread > 999 ? '999+' : unread}
                </span>
              ) : null}
            </a>
          </li>
        ))}
      </ul>
      {tunnel ? (
        <div className="sidebar-foot">
          <span className={`dot tone-${tunnel.tone}`} aria-hidden="true" />
          <span>
            Tunnel: <strong>{tunnel.title}</strong>
          </span>
        </div>
      ) : null}
    </nav>
  );
}
