import { useEffect, useId, useState } from 'react';
import type { Status } from '../../shared/api.ts';
import { CATEGORIES, EVENT_CATALOG } from '../../shared/events.ts';
import {
  categoryState,
  PAUSED_UNTIL_RESUMED,
  type PauseChoice,
  pauseUntil,
  typeSwitchedOn,
  withCategory,
} from '../../shared/notification-switches.ts';
import { type Settings, type SettingsPatch, SettingsPatchSchema } from '../../shared/settings.ts';
import { Icon } from '../components/Icons.tsx';
import { NumberSetting, type SaveSettings, TextSetting } from '../components/SettingFields.tsx';
import { GroupSwitch, Switch } from '../components/Switch.tsx';
import { useToast } from '../components/Toaster.tsx';
import { useApi } from '../hooks/transport.tsx';
import { errorText } from '../hooks/useAction.ts';
import { SecuritySection } from './SecuritySettings.tsx';

/** Every change is saved at once and confirmed; a refused one says why and puts the old value back. */
export function SettingsView({ status }: { status: Status | null }) {
  const api = useApi();
  const toast = useToast();
  const [settings, setSettings] = useState<Settings | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api.getSettings({}).then(setSettings, (failure: unknown) => setError(String(failure)));
  }, [api]);

  const save = async (patch: SettingsPatch, confirmation: string): Promise<boolean> => {
    const checked = SettingsPatchSchema.safeParse(patch);
    if (!checked.success) {
      toast({ tone: 'error', title: 'Not saved', body: checked.error.issues[0]?.message ?? 'invalid value' });
      return false;
    }
    try {
      setSettings(await api.updateSettings(patch));
      toast({ tone: 'success', title: 'Saved', body: confirmation });
      return true;
    } catch (failure) {
      toast({ tone: 'error', title: 'Not saved', body: errorText(failure) });
      return false;
    }
  };

  if (error) return <p className="error-text">Could not load the settings: {error}</p>;
  if (!settings) return <p className="loading">Loading…</p>;
  return (
    <div className="page">
      <header className="page-head">
        <h1>Settings</h1>
      </header>
      <NotificationSection settings={settings} save={save} />
      <QuietHoursSection settings={settings} save={save} />
      <TunnelSection settings={settings} status={status} save={save} />
      <RetentionSection settings={settings} save={save} />
      <SecuritySection settings={settings} save={save} />
      <section className="card" aria-labelledby="general-title">
        <h2 id="general-title">General</h2>
        <Switch
          label="Start at login"
          description="Open SingleFile Monitor in the tray when you log in (desktop app)."
          checked={settings.startAtLogin}
          onChange={(on) => save({ startAtLogin: on }, on ? 'Starts at login.' : 'Does not start at login.')}
        />
      </section>
    </div>
  );
}

function pausedUntilWords(until: number): string {
  if (until >= PAUSED_UNTIL_RESUMED) return 'until you resume';
  return `until ${new Date(until).toLocaleString(undefined, { weekday: 'short', hour: 'numeric', minute: '2-digit' })}`;
}

/** The longest wait setTimeout takes (about 24.8 days); a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Renders again once `until` has passed, so that a state that ends at a time (a pause) ends on
 * screen as well, not at the next render that happens for another reason.
 */
function useRenderAfter(until: number | null): void {
  const [wakes, setWakes] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: each wake re-checks the time left
  useEffect(() => {
    if (until === null || until >= PAUSED_UNTIL_RESUMED) return;
    const left = until - Date.now();
    if (left < 0) return;
    // Woken early (a wait longer than a timer takes, or a clock set back): wait again for the rest.
    const timer = setTimeout(() => setWakes((n) => n + 1), Math.min(left + 1, MAX_TIMER_MS));
    return () => clearTimeout(timer);
  }, [until, wakes]);
}

function NotificationSection({ settings, save }: { settings: Settings; save: SaveSettings }) {
  const { notifications } = settings;
  const { pausedUntil } = notifications;
  useRenderAfter(pausedUntil);
  const paused = pausedUntil !== null && pausedUntil > Date.now();
  const pause = (choice: PauseChoice) => {
    const until = pauseUntil(choice, Date.now());
    return save({ notifications: { pausedUntil: until } }, `Notifications paused ${pausedUntilWords(until)}.`);
  };
  return (
    <section className="card" aria-labelledby="notify-title">
      <h2 id="notify-title">Notifications</h2>
      <div className="pause-row">
        {paused ? (
          <>
            <p>
              <strong>Paused</strong> {pausedUntilWords(pausedUntil)}. Events are still received and stored.
            </p>
            <button
              type="button"
              className="button primary"
              onClick={() => save({ notifications: { pausedUntil: null } }, 'Notifications resumed.')}
            >
              Resume now
            </button>
          </>
        ) : (
          <>
            <p className="muted">Pause notifications; events are still received and stored.</p>
            <div className="button-group">
              <button type="button" className="button" onClick={() => pause('hour')}>
                Pause 1 hour
              </button>
              <button type="button" className="button" onClick={() => pause('tomorrow')}>
                Until tomorrow
              </button>
              <button type="button" className="button" onClick={() => pause('resume')}>
                Until I resume
              </button>
            </div>
          </>
        )}
      </div>
      <Switch
        label="Group bursts into one notification"
        description="When many events arrive at once, show one summary instead of one notification each."
        checked={notifications.digest}
        onChange={(on) =>
          save({ notifications: { digest: on } }, on ? 'Bursts are grouped.' : 'One notification per event.')
        }
      />
      <h3 className="subhead">Notify me about</h3>
      <div className="type-groups">
        {CATEGORIES.map((category) => {
          const types = EVENT_CATALOG.filter((info) => info.category === category);
          const setCategory = (on: boolean) =>
            save(
              { notifications: { types: withCategory(notifications.types, category, on) } },
              `${category}: ${on ? 'all notifications on' : 'all notifications off'}.`,
            );
          return (
            <fieldset key={category} className="type-group">
              <legend>
                <span className={`swatch cat-${category.toLowerCase()}`} aria-hidden="true" />
                {category}
              </legend>
              {types.length === 0 ? (
                // No known types: the category's own switch is for the ones the app does not know.
                <Switch
                  label="Other event types"
                  description="Types this app does not know yet, such as new ones SingleFile adds."
                  checked={categoryState(notifications, category) === 'on'}
                  onChange={setCategory}
                />
              ) : (
                <>
                  <GroupSwitch
                    label={`All ${category}`}
                    state={categoryState(notifications, category)}
                    onChange={setCategory}
                  />
                  {types.map((info) => (
                    <Switch
                      key={info.type}
                      label={info.name}
                      description={info.trigger}
                      checked={typeSwitchedOn(notifications, info.type)}
                      onChange={(on) =>
                        save(
                          { notifications: { types: { ...notifications.types, [info.type]: on } } },
                          `${info.name}: ${on ? 'notifications on' : 'notifications off'}.`,
                        )
                      }
                    />
                  ))}
                </>
              )}
            </fieldset>
          );
        })}
      </div>
    </section>
  );
}

function QuietHoursSection({ settings, save }: { settings: Settings; save: SaveSettings }) {
  const quiet = settings.notifications.quietHours;
  const id = useId();
  const patch = (change: Partial<typeof quiet>, words: string) =>
    save({ notifications: { quietHours: { ...quiet, ...change } } }, words);
  return (
    <section className="card" aria-labelledby="quiet-title">
      <h2 id="quiet-title">Quiet hours</h2>
      <Switch
        label="Quiet hours"
        description="No notifications in these hours, except for the types you allow below."
        checked={quiet.enabled}
        onChange={(on) => patch({ enabled: on }, on ? 'Quiet hours on.' : 'Quiet hours off.')}
      />
      <div className="inline-fields">
        <label htmlFor={`${id}-start`}>From</label>
        <input
          id={`${id}-start`}
          type="time"
          value={quiet.start}
          disabled={!quiet.enabled}
          onChange={(e) =>
            e.target.value && patch({ start: e.target.value }, `Quiet hours start at ${e.target.value}.`)
          }
        />
        <label htmlFor={`${id}-end`}>to</label>
        <input
          id={`${id}-end`}
          type="time"
          value={quiet.end}
          disabled={!quiet.enabled}
          onChange={(e) => e.target.value && patch({ end: e.target.value }, `Quiet hours end at ${e.target.value}.`)}
        />
      </div>
      <fieldset className="chips" disabled={!quiet.enabled}>
        <legend className="small muted">Still notify during quiet hours</legend>
        {EVENT_CATALOG.map((info) => {
          const allowed = quiet.allowTypes.includes(info.type);
          return (
            <button
              key={info.type}
              type="button"
              className="chip chip-small"
              aria-pressed={allowed}
              onClick={() =>
                patch(
                  {
                    allowTypes: allowed
                      ? quiet.allowTypes.filter((t) => t !== info.type)
                      : [...quiet.allowTypes, info.type],
                  },
                  `${info.name} ${allowed ? 'waits for the end of' : 'notifies during'} quiet hours.`,
                )
              }
            >
              {info.name}
            </button>
          );
        })}
      </fieldset>
    </section>
  );
}

const SUBDOMAIN = /^[a-z0-9][a-z0-9-]{4,63}[a-z0-9]$/;

function TunnelSection({ settings, status, save }: { settings: Settings; status: Status | null; save: SaveSettings }) {
  const api = useApi();
  const toast = useToast();
  const [confirming, setConfirming] = useState(false);
  const { tunnel } = settings;
  const id = useId();
  const regenerate = async () => {
    setConfirming(false);
    try {
      const next = await api.regenerateWebhookUrl({});
      toast({
        tone: 'notice',
        title: 'New webhook URL',
        body: `Paste it into SingleFile now: ${next.webhookUrl ?? next.receiver.localUrl ?? ''}`,
      });
    } catch (failure) {
      toast({ tone: 'error', title: 'No new URL', body: errorText(failure) });
    }
  };
  return (
    <section className="card" aria-labelledby="tunnel-title">
      <h2 id="tunnel-title">Tunnel</h2>
      <p className="small muted">Tunnel changes apply the next time SingleFile Monitor starts.</p>
      <div className="field">
        <label htmlFor={`${id}-provider`}>Provider</label>
        <select
          id={`${id}-provider`}
          value={tunnel.provider}
          onChange={(e) => {
            const provider = e.target.value as Settings['tunnel']['provider'];
            void save({ tunnel: { provider } }, `Tunnel provider: ${provider}.`);
          }}
        >
          <option value="localtunnel">localtunnel (free public URL)</option>
          <option value="custom">My own HTTPS URL</option>
          <option value="none">None (this computer only)</option>
        </select>
      </div>
      {tunnel.provider === 'localtunnel' ? (
        <>
          <TextSetting
            label="Server"
            value={tunnel.host}
            validate={(host) => (/^https?:\/\/[^/\s]+\/?$/.test(host) ? null : 'A URL like https://localtunnel.me')}
            onSave={(host) => save({ tunnel: { host } }, `Tunnel server: ${host}.`)}
          />
          <TextSetting
            label="Subdomain"
            value={tunnel.subdomain ?? ''}
            placeholder="chosen for you"
            help="6 to 65 lowercase letters, digits or dashes. Asked for at every start, so the URL stays the same."
            validate={(subdomain) =>
              subdomain === '' || SUBDOMAIN.test(subdomain) ? null : 'Use 6 to 65 lowercase letters, digits or dashes.'
            }
            onSave={(subdomain) =>
              save({ tunnel: { subdomain: subdomain || null } }, `Subdomain: ${subdomain || 'chosen for you'}.`)
            }
          />
        </>
      ) : null}
      {tunnel.provider === 'custom' ? (
        <TextSetting
          label="Public HTTPS URL"
          value={tunnel.customUrl ?? ''}
          placeholder="https://monitor.example.com"
          help="Your own reverse proxy or tunnel that forwards to this computer's receiver."
          validate={(url) => (url === '' || /^https:\/\/[^/\s]+/.test(url) ? null : 'An https:// address')}
          onSave={(customUrl) =>
            save({ tunnel: { customUrl: customUrl || null } }, `Public URL: ${customUrl || 'none'}.`)
          }
        />
      ) : null}
      <div className="danger-zone">
        <div>
          <strong>Get a new webhook URL</strong>
          <p className="small muted">
            For when the URL has leaked. The current one ({status?.webhookUrl ? 'public' : 'local'}) stops working at
            once.
          </p>
        </div>
        {confirming ? null : (
          <button type="button" className="button danger" onClick={() => setConfirming(true)}>
            New URL…
          </button>
        )}
      </div>
      {confirming ? (
        <div className="callout callout-warn" role="alertdialog" aria-labelledby={`${id}-warn`}>
          <Icon name="warning" className="callout-icon" />
          <div>
            <p id={`${id}-warn`}>
              <strong>SingleFile must be updated.</strong> Events sent to the old URL will be refused until you paste
              the new URL into SingleFile's endpoint settings.
            </p>
            <div className="button-row">
              <button type="button" className="button danger" onClick={regenerate}>
                Get a new URL
              </button>
              <button type="button" className="button" onClick={() => setConfirming(false)}>
                Cancel
              </button>
            </div>
          </div>
        </div>
      ) : null}
    </section>
  );
}

function RetentionSection({ settings, save }: { settings: Settings; save: SaveSettings }) {
  const { maxAgeDays, maxEvents } = settings.retention;
  return (
    <section className="card" aria-labelledby="retention-title">
      <h2 id="retention-title">History</h2>
      <Switch
        label="Delete old events"
        description="Older events are removed from this computer once a day."
        checked={maxAgeDays !== null}
        onChange={(on) =>
          save(
            { retention: { maxAgeDays: on ? 365 : null } },
            on ? 'Events older than 365 days are deleted.' : 'Events are kept forever.',
          )
        }
      />
      {maxAgeDays !== null ? (
        <NumberSetting
          label="Keep events for"
          value={maxAgeDays}
          unit="days"
          min={1}
          onSave={(days) => save({ retention: { maxAgeDays: days } }, `Events are kept for ${days} days.`)}
        />
      ) : null}
      <Switch
        label="Limit the number of events"
        checked={maxEvents !== null}
        onChange={(on) =>
          save(
            { retention: { maxEvents: on ? 1_000_000 : null } },
            on ? 'At most 1,000,000 events are kept.' : 'No limit on the number of events.',
          )
        }
      />
      {maxEvents !== null ? (
        <NumberSetting
          label="Keep at most"
          value={maxEvents}
          unit="events"
          min={1}
          onSave={(count) =>
            save({ retention: { maxEvents: count } }, `At most ${count.toLocaleString()} events are kept.`)
          }
        />
      ) : null}
    </section>
  );
}
