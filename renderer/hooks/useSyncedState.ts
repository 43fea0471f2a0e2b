import { useState } from 'react';

/**
 * Local state (a draft, a choice) that starts as `source` and is reset whenever `source` changes:
 * the saved value coming back, or a change made elsewhere. It is adjusted during render, as React
 * advises for state derived from a prop, not in an effect: an effect also runs after the first
 * render, a moment later, and could put the first value back over an edit made in between (seen
 * in the tests under load: a scheme chosen right after the view appeared was switched back off).
 */
export function useSyncedState<T>(source: T): [T, (value: T) => void] {
  const [state, setState] = useState(source);
  const [seen, setSeen] = useState(source);
  if (!Object.is(seen, source)) {
    setSeen(source);
    setState(source);
  }
  return [state, setState];
}
