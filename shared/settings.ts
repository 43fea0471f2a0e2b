import { z } from 'zod';

/** Local time of day, "HH:MM" on a 24-hour clock. */
const TimeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: 'expected HH:MM' });

// Sections carry no zod defaults on purpose: a patch is the same schema made partial, and a
// default inside it would silently overwrite a field the patch did not mention.
const NotificationSettingsSchema = z.strictObject({
  /** Per event type: notify or not. A type that is absent follows `defaultOn`. */
  types: z.record(z.string(), z.boolean()),
  /** Types that notify when the user has not chosen. */
  defaultOn: z.array(z.string()),
  digest: z.boolean(),
  quietHours: z.strictObject({
    enabled: z.boolean(),
    start: TimeOfDay,
    end: TimeOfDay,
    allowTypes: z.array(z.string()),
  }),
  /** Epoch ms until which notifications are paused; null = not paused. */
  pausedUntil: z.number().nullable(),
});

const TunnelSettingsSchema = z.strictObject({
  provider: z.enum(['localtunnel', 'none', 'custom']),
  host: z.url({ protocol: /^https?$/ }),
  subdomain: z.string().nullable(),
  customUrl: z.url({ protocol: /^https$/ }).nullable(),
});

const RetentionSettingsSchema = z.strictObject({
  /** Events older than this many days are deleted; null keeps them forever. */
  maxAgeDays: z.number().int().positive().nullable(),
  /** Past this many events the oldest are deleted; null = no limit. */
  maxEvents: z.number().int().positive().nullable(),
});

export const SettingsSchema = z.strictObject({
  notifications: NotificationSettingsSchema,
  tunnel: TunnelSettingsSchema,
  retention: RetentionSettingsSchema,
  startAtLogin: z.boolean(),
});
export type Settings = z.infer<typeof SettingsSchema>;

export const DEFAULT_SETTINGS: Settings = {
  // The two events people install the app for; everything else is one toggle away.
  notifications: {
    types: {},
    defaultOn: ['order.completed', 'document.created'],
    digest: true,
    quietHours: { enabled: false, start: '22:00', end: '07:00', allowTypes: [] },
    pausedUntil: null,
  },
  tunnel: { provider: 'localtunnel', host: 'https://localtunnel.me', subdomain: null, customUrl: null },
  retention: { maxAgeDays: 365, maxEvents: 1_000_000 },
  startAtLogin: false,
};

/** An update names the sections it changes; inside a section only the fields it gives change. */
export const SettingsPatchSchema = z.strictObject({
  notifications: NotificationSettingsSchema.partial().optional(),
  tunnel: TunnelSettingsSchema.partial().optional(),
  retention: RetentionSettingsSchema.partial().optional(),
  startAtLogin: z.boolean().optional(),
});
export type SettingsPatch = z.infer<typeof SettingsPatchSchema>;

type SectionName = 'notifications' | 'tunnel' | 'retention';
const SECTIONS: readonly SectionName[] = ['notifications', 'tunnel', 'retention'];

/** Applies a validated patch section by section and validates the result as a whole. */
export function applySettingsPatch(current: Settings, patch: SettingsPatch): Settings {
  const parsed = SettingsPatchSchema.parse(patch);
  const next = { ...current, startAtLogin: parsed.startAtLogin ?? current.startAtLogin };
  for (const section of SECTIONS) {
    const changes = Object.entries(parsed[section] ?? {}).filter(([, value]) => value !== undefined);
    Object.assign(next, { [section]: { ...current[section], ...Object.fromEntries(changes) } });
  }
  return SettingsSchema.parse(next);
}

/**
 * Reads settings saved by any version of the app: missing fields take their defaults, and a
 * section that no longer validates falls back to its defaults instead of blocking start-up.
 */
export function loadSettings(saved: unknown): Settings {
  const record = isRecord(saved) ? saved : {};
  const result: Settings = { ...DEFAULT_SETTINGS };
  for (const section of SECTIONS) {
    const schema = SettingsSchema.shape[section];
    const saved = isRecord(record[section]) ? record[section] : {};
    const checked = schema.safeParse(withDefaults(DEFAULT_SETTINGS[section], saved, schema.shape));
    if (checked.success) Object.assign(result, { [section]: checked.data });
  }
  if (typeof record.startAtLogin === 'boolean') result.startAtLogin = record.startAtLogin;
  return result;
}

/**
 * The saved fields over their defaults, at every level of nested objects (a `quietHours` saved
 * without a field added later still keeps its other fields), leaving out fields the schema does
 * not know (those of other versions). Records such as `types` are taken as saved.
 */
function withDefaults(
  defaults: object,
  saved: Record<string, unknown>,
  shape: Readonly<Record<string, z.ZodType>>,
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(saved)) {
    const field = Object.hasOwn(shape, key) ? shape[key] : undefined;
    if (!field) continue;
    const fallback = (defaults as Record<string, unknown>)[key];
    merged[key] =
      field instanceof z.ZodObject && isRecord(value) && isRecord(fallback)
        ? withDefaults(fallback, value, field.shape)
        : value;
  }
  return merged;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
