import { useId, useState } from 'react';
import type { SettingsPatch } from '../../shared/settings.ts';
import { useSyncedState } from '../hooks/useSyncedState.ts';

/** Saves a change at once and confirms it with `confirmation`; false when it was refused (and said why). */
export type SaveSettings = (patch: SettingsPatch, confirmation: string) => Promise<boolean>;

/** A text setting saved when the field is left or Enter is pressed, if it changed. */
export function TextSetting({
  label,
  value,
  placeholder,
  help,
  validate,
  onSave,
}: {
  label: string;
  value: string;
  placeholder?: string;
  help?: string;
  /** Why a value cannot be saved, in plain words; null when it can. */
  validate?: (value: string) => string | null;
  onSave(value: string): Promise<boolean>;
}) {
  const id = useId();
  const [draft, setDraft] = useSyncedState(value);
  const [problem, setProblem] = useState<string | null>(null);
  const commit = async () => {
    const next = draft.trim();
    const why = next === value ? null : (validate?.(next) ?? null);
    setProblem(why);
    if (next === value || why) return;
    if (!(await onSave(next))) setDraft(value);
  };
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="text"
        value={draft}
        placeholder={placeholder}
        spellCheck={false}
        aria-invalid={problem ? true : undefined}
        aria-describedby={problem ? `${id}-problem` : help ? `${id}-help` : undefined}
        onChange={(e) => setDraft(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === 'Enter') void commit();
        }}
      />
      {problem ? (
        <p className="small error-text" id={`${id}-problem`} role="alert">
          {problem}
        </p>
      ) : help ? (
        <p className="small muted" id={`${id}-help`}>
          {help}
        </p>
      ) : null}
    </div>
  );
}

/** A whole-number setting saved when the field is left or Enter is pressed; a value below `min` is put back. */
export function NumberSetting({
  label,
  value,
  unit,
  min,
  onSave,
}: {
  label: string;
  value: number;
  unit: string;
  min: number;
  onSave(value: number): Promise<boolean>;
}) {
  const id = useId();
  const [draft, setDraft] = useSyncedState(String(value));
  const commit = async () => {
    const next = Number(draft);
    if (next === value) return;
    if (!Number.isInteger(next) || next < min || !(await onSave(next))) setDraft(String(value));
  };
  return (
    <div className="inline-fields">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="number"
        min={min}
        step={1}
        value={draft}
        onChange={(e) => setDraft(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === 'Enter') void commit();
        }}
      />
      <span className="muted">{unit}</span>
    </div>
  );
}
