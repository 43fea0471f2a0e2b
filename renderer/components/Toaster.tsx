import { createContext, type ReactNode, useCallback, useContext, useEffect, useRef, useState } from 'react';
import { Icon } from './Icons.tsx';

/**
 * Short messages in the corner: "Saved" after a setting changes, errors, and the core's notices
 * (such as "the webhook URL changed"), which stay until dismissed. Read out by screen readers.
 */

export interface ToastInput {
  tone: 'success' | 'error' | 'notice';
  title: string;
  body?: string;
}

interface Toast extends ToastInput {
  id: number;
}

const ToastContext = createContext<(toast: ToastInput) => void>(() => {});

export function useToast(): (toast: ToastInput) => void {
  return useContext(ToastContext);
}

const LIFETIME_MS: Record<ToastInput['tone'], number | null> = { success: 3_000, error: 8_000, notice: null };

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const nextId = useRef(1);
  const timers = useRef(new Set<ReturnType<typeof setTimeout>>());
  const dismiss = useCallback((id: number) => setToasts((list) => list.filter((t) => t.id !== id)), []);
  const show = useCallback(
    (toast: ToastInput) => {
      const id = nextId.current++;
      // A repeated confirmation replaces the last one instead of piling up.
      setToasts((list) => [
        ...list.filter((t) => !(t.tone === 'success' && toast.tone === 'success')),
        { ...toast, id },
      ]);
      const lifetime = LIFETIME_MS[toast.tone];
      if (lifetime !== null) {
        const timer = setTimeout(() => {
          timers.current.delete(timer);
          dismiss(id);
        }, lifetime);
        timers.current.add(timer);
      }
    },
    [dismiss],
  );
  useEffect(() => {
    const pending = timers.current;
    return () => {
      for (const timer of pending) clearTimeout(timer);
    };
  }, []);
  return (
    <ToastContext.Provider value={show}>
      {children}
      <section className="toasts" aria-label="Messages" aria-live="polite">
        {toasts.map((toast) => (
          <div
            key={toast.id}
            className={`toast toast-${toast.tone}`}
            role={toast.tone === 'success' ? 'status' : 'alert'}
          >
            <Icon
              name={toast.tone === 'success' ? 'check' : toast.tone === 'error' ? 'warning' : 'bolt'}
              className="toast-icon"
            />
            <div className="toast-text">
              <strong>{toast.title}</strong>
              {toast.body ? <p>{toast.body}</p> : null}
            </div>
            <button type="button" className="icon-button" aria-label="Dismiss" onClick={() => dismiss(toast.id)}>
              <Icon name="close" size={14} />
            </button>
          </div>
        ))}
      </section>
    </ToastContext.Provider>
  );
}
