import { useConnection } from '../hooks/transport.tsx';

/** Says so when the window has lost its link to the core, and what to do about it. */
export function ConnectionBanner() {
  const state = useConnection();
  if (state === 'live' || state === 'connecting') return null;
  return (
    <div className={`banner ${state === 'unauthorized' ? 'banner-error' : 'banner-warn'}`} role="alert">
      {state === 'unauthorized'
        ? 'This link has expired: SingleFile Monitor was restarted. Open the new dashboard link it printed.'
        : 'Connection to SingleFile Monitor lost. Reconnecting…'}
    </div>
  );
}
