import { useState } from 'react';

/**
 * A button's call to the Monitor API: its latest result, whether it is running (to disable the
 * button and say so), and why it failed, in words. `run` starts it again and clears the failure.
 */
export function useAction<T>(call: () => Promise<T>): {
  result: T | null;
  running: boolean;
  error: string | null;
  run: () => Promise<void>;
} {
  const [result, setResult] = useState<T | null>(null);
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async () => {
    setRunning(true);
    setError(null);
    try {
      setResult(await call());
    } catch (failure) {
      setError(errorText(failure));
    } finally {
      setRunning(false);
    }
  };
  return { result, running, error, run };
}

/** What went wrong, in the words the error carries. */
export function errorText(failure: unknown): string {
  return failure instanceof Error ? failure.message : String(failure);
}
