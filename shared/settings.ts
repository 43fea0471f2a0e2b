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

export const SIGNATURE_MODES = ['off', 'standard-webhooks', 'hmac-sha256'] as const;
export const SignatureModeSchema = z.enum(SIGNATURE_MODES);
export type SignatureMode = z.infer<typeof SignatureModeSchema>;

const SignatureSettingsSchema = z.strictObject({
  /**
   * 'standard-webhooks': `webhook-id`, `webhook-timestamp`, `webhook-signature` (standardwebhooks.com);
   * 'hmac-sha256': the body's HMAC-SHA256, hex or base64, optionally `sha256=`-prefixed, in `header`.
   */
  mode: SignatureModeSchema,
  /** The header that carries the HMAC in 'hmac-sha256' mode; Standard Webhooks names its own. */
  header: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, { error: 'a header name: letters, digits and dashes' }),
  /**
   * Whether a signing secret is saved. The secret itself is write-only: a patch sets it
   * (`signature.secret`), the monitor keeps it apart from the settings, and nothing reads it back.
   */
  hasSecret: z.boolean(),
});

/** The signing secret as a patch gives it: a string sets or replaces it, null removes it. */
export const SigningSecretSchema = z.string().min(1).max(1024);

const RateLimitSettingsSchema = z.strictObject({
  /**
   * Deliveries the receiver accepts per minute, in bursts of up to as many at once; past it, 429
   * with Retry-After until the rate falls. null = no limit.
   */
  perMinute: z.number().int().min(1).max(1_000_000).nullable(),
});

const SecuritySettingsSchema = z.strictObject({
  signature: SignatureSettingsSchema,
  rateLimit: RateLimitSettingsSchema,
});

export const SettingsSchema = z.strictObject({
  notifications: NotificationSettingsSchema,
  tunnel: TunnelSettingsSchema,
  retention: RetentionSettingsSchema,
  security: SecuritySettingsSchema,
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
  security: {
    // SingleFile does not sign its webhooks: verification is for senders that do (or relays).
    signature: { mode: 'off', header: 'x-webhook-signature', hasSecret: false },
    // Far above anything SingleFile sends through a tunnel (loca.lt relays ~2,000 requests a
    // minute at most), yet a runaway sender cannot fill the disk at full speed.
    rateLimit: { perMinute: 6_000 },
  },
  startAtLogin: false,
};

/**
 * The security section's patch goes one level deeper than the others: `signature` and `rateLimit`
 * change field by field, and `signature` takes the write-only `secret` instead of `hasSecret`.
 */
const SecurityPatchSchema = z.strictObject({
  signature: z
    .strictObject({
      mode: SignatureModeSchema,
      header: SignatureSettingsSchema.shape.header,
      secret: SigningSecretSchema.nullable(),
    })
    .partial()
    .optional(),
  rateLimit: RateLimitSettingsSchema.partial().optional(),
});

/** An update names the sections it changes; inside a section only the fields it gives change. */
export const SettingsPatchSchema = z.strictObject({
  notifications: NotificationSettingsSchema.partial().optional(),
  tunnel: TunnelSettingsSchema.partial().optional(),
  retention: RetentionSettingsSchema.partial().optional(),
  security: SecurityPatchSchema.optional(),
  startAtLogin: z.boolean().optional(),
});
export type SettingsPatch = z.infer<typeof SettingsPatchSchema>;

type SectionName = 'notifications' | 'tunnel' | 'retention' | 'security';
const SECTIONS: readonly SectionName[] = ['notifications', 'tunnel', 'retention', 'security'];
const FLAT_SECTIONS = ['notifications', 'tunnel', 'retention'] as const;

/**
 * Applies a validated patch section by section and validates the result as a whole. A signing
 * secret in the patch only sets `hasSecret`: the caller keeps the secret itself.
 */
export function applySettingsPatch(current: Settings, patch: SettingsPatch): Settings {
  const parsed = SettingsPatchSchema.parse(patch);
  const next = { ...current, startAtLogin: parsed.startAtLogin ?? current.startAtLogin };
  for (const section of FLAT_SECTIONS) {
    Object.assign(next, { [section]: { ...current[section], ...definedFields(parsed[section]) } });
  }
  if (parsed.security) {
    const { secret, ...signature } = parsed.security.signature ?? {};
    next.security = {
      signature: {
        ...current.security.signature,
        ...definedFields(signature),
        ...(secret === undefined ? {} : { hasSecret: secret !== null }),
      },
      rateLimit: { ...current.security.rateLimit, ...definedFields(parsed.security.rateLimit) },
    };
  }
  return SettingsSchema.parse(next);
}

/** The settings with `hasSecret` telling the truth about the secret kept apart from them. */
export function withSigningSecretFlag(settings: Settings, hasSecret: boolean): Settings {
  const { security } = settings;
  return { ...settings, security: { ...security, signature: { ...security.signature, hasSecret } } };
}

/**
 * A settings change the core refuses although every field is valid on its own (verification on
 * without a secret, a secret the chosen scheme cannot use): the caller's mistake, like a bad field.
 */
export class InvalidSettingsError extends Error {
  override name = 'InvalidSettingsError';
}

/** A patch section's fields without those given as undefined, which change nothing. */
function definedFields(section: object | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(section ?? {}).filter(([, value]) => value !== undefined));
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
