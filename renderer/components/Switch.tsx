import { useId, useLayoutEffect, useRef } from 'react';

/** A switch's label and optional description, tied to its input by `id` (and `${id}-desc`). */
function SwitchText({ id, label, description }: { id: string; label: string; description?: string | undefined }) {
  return (
    <div className="switch-text">
      <label htmlFor={id}>{label}</label>
      {description ? (
        <p className="muted small" id={`${id}-desc`}>
          {description}
        </p>
      ) : null}
    </div>
  );
}

/** An on/off setting: a real checkbox (for keyboards and screen readers) drawn as a switch. */
export function Switch({
  label,
  description,
  checked,
  disabled = false,
  onChange,
}: {
  label: string;
  description?: string;
  checked: boolean;
  disabled?: boolean;
  onChange: (checked: boolean) => void;
}) {
  const id = useId();
  return (
    <div className="switch-row">
      <SwitchText id={id} label={label} description={description} />
      <input
        id={id}
        type="checkbox"
        role="switch"
        className="switch"
        checked={checked}
        aria-checked={checked}
        disabled={disabled}
        aria-describedby={description ? `${id}-desc` : undefined}
        onChange={(e) => onChange(e.target.checked)}
      />
    </div>
  );
}

/**
 * A switch over several others (a whole category): on, off, or mixed when only some are on. A
 * switch has no mixed state for screen readers, so this is a checkbox (indeterminate when mixed)
 * drawn as a switch; turning it from mixed turns everything on, as a checkbox does.
 */
export function GroupSwitch({
  label,
  description,
  state,
  onChange,
}: {
  label: string;
  description?: string;
  state: 'on' | 'off' | 'mixed';
  onChange: (checked: boolean) => void;
}) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  // `indeterminate` has no HTML attribute: it is set on the element after every render, since a
  // click clears it even when the change is then refused and the state stays mixed. In a layout
  // effect, which runs within the commit: a passive one runs a moment later, and whoever looks in
  // between (a person, a screen reader, a test) would see a plain unchecked box.
  useLayoutEffect(() => {
    if (input.current) input.current.indeterminate = state === 'mixed';
  });
  return (
    <div className="switch-row group-switch">
      <SwitchText id={id} label={label} description={description} />
      <input
        ref={input}
        id={id}
        type="checkbox"
        className="switch"
        checked={state === 'on'}
        aria-checked={state === 'mixed' ? 'mixed' : state === 'on'}
        aria-describedby={description ? `${id}-desc` : undefined}
        onChange={(e) => onChange(e.target.checked)}
      />
    </div>
  );
}
