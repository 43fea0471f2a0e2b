import { useId, useState } from 'react';
import { type Settings, type SignatureMode, SigningSecretSchema } from '../../shared/settings.ts';
import { NumberSetting, type SaveSettings, TextSetting } from '../components/SettingFields.tsx';
import { Switch } from '../components/Switch.tsx';
import { useSyncedState } from '../hooks/useSyncedState.ts';

const MODE_NAMES: Record<SignatureMode, string> = {
  off: 'Off (the secret URL is the only check)',
  'standard-webhooks': 'Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature)',
  'hmac-sha256': 'HMAC-SHA256 of the body in one header',
};
const DEFAULT_RATE = 6_000;

/**
 * Signature verification and flood control. The signing secret is write-only: the field is always
 * empty, the section only says whether one is saved. Verification cannot be on without a secret,
 * so choosing a scheme before one is saved waits for it, and both are saved together.
 */
export function SecuritySection({ settings, save }: { settings: Settings; save: SaveSettings }) {
  const { signature, rateLimit } = settings.security;
  const id = useId();
  const [mode, setMode] = useSyncedState<SignatureMode>(signature.mode);
  const [secret, setSecret] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const waitingForSecret = mode !== 'off' && !signature.hasSecret;

  const chooseMode = async (next: SignatureMode) => {
    setMode(next);
    setProblem(null);
    if (next !== 'off' && !signature.hasSecret) return;
    const saved = await save(
      { security: { signature: { mode: next } } },
      next === 'off' ? 'Signatures are not checked.' : `Signatures are checked: ${MODE_NAMES[next]}.`,
    );
    if (!saved) setMode(signature.mode);
  };

  const saveSecret = async () => {
    const checked = SigningSecretSchema.safeParse(secret.trim());
    if (!checked.success) {
      setProblem('Paste the signing secret SingleFile shows for this endpoint.');
      return;
    }
    setProblem(null);
    const saved = await save(
      { security: { signature: { mode, secret: checked.data } } },
      waitingForSecret ? `Signatures are checked: ${MODE_NAMES[mode]}.` : 'Signing secret saved.',
    );
    if (saved) setSecret('');
  };

  return (
    <section className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Security</h2>
      <p className="small muted">
        Only someone who knows the webhook URL can send events. With signatures checked, a delivery must also be signed
        with the endpoint's secret; unsigned, stale or wrongly signed ones are refused (401) and not stored.
      </p>
      <div className="field">
        <label htmlFor={`${id}-mode`}>Check signatures</label>
        <select id={`${id}-mode`} value={mode} onChange={(e) => void chooseMode(e.target.value as SignatureMode)}>
          {(Object.keys(MODE_NAMES) as SignatureMode[]).map((m) => (
            <option key={m} value={m}>
              {MODE_NAMES[m]}
            </option>
          ))}
        </select>
      </div>
      {mode === 'hmac-sha256' ? (
        <TextSetting
          label="Signature header"
          value={signature.header}
          help="The header that carries the HMAC, hex or base64, with or without sha256=."
          validate={(header) => (/^[A-Za-z0-9-]{1,64}$/.test(header) ? null : 'Letters, digits and dashes only.')}
          onSave={(header) => save({ security: { signature: { header } } }, `Signature header: ${header}.`)}
        />
      ) : null}
      {mode !== 'off' || signature.hasSecret ? (
        <form
          className="field"
          onSubmit={(e) => {
            e.preventDefault();
            void saveSecret();
          }}
        >
          <label htmlFor={`${id}-secret`}>Signing secret</label>
          <div className="secret-row">
            <input
              id={`${id}-secret`}
              type="password"
              autoComplete="off"
              spellCheck={false}
              value={secret}
              placeholder={signature.hasSecret ? 'saved (paste a new one to replace it)' : 'whsec_…'}
              aria-invalid={problem ? true : undefined}
              aria-describedby={`${id}-secret-help`}
              onChange={(e) => setSecret(e.target.value)}
            />
            <button type="submit" className="button primary" disabled={secret.trim() === ''}>
              {waitingForSecret ? 'Save and turn on' : 'Save secret'}
            </button>
          </div>
          {problem ? (
            <p className="small error-text" id={`${id}-secret-help`} role="alert">
              {problem}
            </p>
          ) : (
            <p className="small muted" id={`${id}-secret-help`}>
              {waitingForSecret
                ? 'Signatures are checked once the secret is saved.'
                : signature.hasSecret
                  ? 'A secret is saved. It is never shown again.'
                  : 'No secret is saved.'}
            </p>
          )}
          {signature.hasSecret && signature.mode === 'off' ? (
            <button
              type="button"
              className="button"
              onClick={() => void save({ security: { signature: { secret: null } } }, 'Signing secret removed.')}
            >
              Remove the secret
            </button>
          ) : null}
        </form>
      ) : null}
      <Switch
        label="Flood control"
        description="Past this many deliveries a minute, answer 429 without storing; SingleFile retries later."
        checked={rateLimit.perMinute !== null}
        onChange={(on) =>
          save(
            { security: { rateLimit: { perMinute: on ? DEFAULT_RATE : null } } },
            on ? `At most ${DEFAULT_RATE.toLocaleString()} deliveries a minute.` : 'No limit on deliveries.',
          )
        }
      />
      {rateLimit.perMinute !== null ? (
        <NumberSetting
          label="At most"
          value={rateLimit.perMinute}
          unit="deliveries a minute"
          min={1}
          onSave={(perMinute) =>
            save(
              { security: { rateLimit: { perMinute } } },
              `At most ${perMinute.toLocaleString()} deliveries a minute.`,
            )
          }
        />
      ) : null}
    </section>
  );
}
