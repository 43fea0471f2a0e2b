/**
 * Signature verification (optional, off by default): one test per way a delivery can fail it, and
 * the ways it passes; first on the verifier alone, then through the real receiver and store.
 * Deliveries are signed with the `standardwebhooks` library itself, as a sender would sign them.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import type { Monitor } from '../../electron/core/monitor.ts';
import { createSignatureVerifier, signatureProblem } from '../../electron/core/signature.ts';
import { applySettingsPatch, DEFAULT_SETTINGS, loadSettings, SettingsPatchSchema } from '../../shared/settings.ts';
import { tempDir } from '../helpers/fixtures.ts';
import { post } from '../helpers/http.ts';
import { historyFile, startMonitor } from './support.ts';

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const OTHER_SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const HMAC_SECRET = `hmac-${randomBytes(12).toString('hex')}`;
const BODY = '{"event_type":"order.completed","order_id":"ord_sig_1","status":"completed"}';
const MINUTE = 60_000;

/** Standard Webhooks headers for `body`, signed as the sender would (or with something off). */
function swHeaders(
  body: string | Buffer,
  { id = `msg_${randomBytes(6).toString('hex')}`, at = Date.now(), secret = SECRET } = {},
): Record<string, string> {
  const date = new Date(at);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, date, body),
  };
}

const hmacHex = (body: string, secret = HMAC_SECRET) => createHmac('sha256', secret).update(body).digest('hex');

describe('the verifier on its own', () => {
  const verify = createSignatureVerifier({ mode: 'standard-webhooks', header: 'unused', secret: SECRET });
  if (!verify) throw new Error('expected a verifier');
  const check = (body: string, headers: Record<string, string>) => verify(Buffer.from(body), headers);

  it('is null when verification is off', () => {
    expect(createSignatureVerifier({ mode: 'off', header: 'x', secret: SECRET })).toBeNull();
  });

  it('passes a delivery signed with the secret, vouching for its webhook-id', () => {
    const headers = swHeaders(BODY, { id: 'msg_ok' });
    expect(check(BODY, headers)).toEqual({ ok: true, deliveryId: 'msg_ok' });
  });

  it('passes when one of several signatures matches (the sender is rotating its secret)', () => {
    const headers = swHeaders(BODY);
    const wrong = swHeaders(BODY, { id: headers['webhook-id'], secret: OTHER_SECRET })['webhook-signature'];
    expect(check(BODY, { ...headers, 'webhook-signature': `${wrong} ${headers['webhook-signature']}` }).ok).toBe(true);
  });

  it.each([
    ['unsigned', () => ({})],
    ['no webhook-id', () => ({ ...swHeaders(BODY), 'webhook-id': '' })],
    ['no webhook-timestamp', () => ({ ...swHeaders(BODY), 'webhook-timestamp': '' })],
    ['no webhook-signature', () => ({ ...swHeaders(BODY), 'webhook-signature': '' })],
    [
      'a wrong signature',
      () => ({ ...swHeaders(BODY), 'webhook-signature': `v1,${randomBytes(32).toString('base64')}` }),
    ],
    ['a stale timestamp (10 minutes old)', () => swHeaders(BODY, { at: Date.now() - 10 * MINUTE })],
    ['a future timestamp (10 minutes ahead)', () => swHeaders(BODY, { at: Date.now() + 10 * MINUTE })],
    ['a tampered body', () => swHeaders(BODY.replace('ord_sig_1', 'ord_sig_2'))],
    ['the wrong secret', () => swHeaders(BODY, { secret: OTHER_SECRET })],
    ['a timestamp that is not whole seconds', () => ({ ...swHeaders(BODY), 'webhook-timestamp': '1e10' })],
    ['a webhook-id longer than 256 characters', () => swHeaders(BODY, { id: 'm'.repeat(257) })],
  ])('refuses %s with 401 and a reason', (_name, headers) => {
    const result = check(BODY, headers());
    expect(result).toMatchObject({ ok: false, status: 401 });
    expect(result.ok ? '' : result.reason).toMatch(/\w/);
  });

  it('answers 503, not 401, when verification is on without a usable secret, so the sender retries', () => {
    for (const secret of [null, 'not base64!']) {
      const broken = createSignatureVerifier({ mode: 'standard-webhooks', header: 'x', secret });
      expect(broken?.(Buffer.from(BODY), swHeaders(BODY))).toMatchObject({ ok: false, status: 503 });
    }
  });

  it('checks an HMAC-SHA256 header in hex, sha256=hex or base64, whatever the case of its name', () => {
    const hmac = createSignatureVerifier({ mode: 'hmac-sha256', header: 'X-Hub-Signature-256', secret: HMAC_SECRET });
    const hex = hmacHex(BODY);
    const base64 = Buffer.from(hex, 'hex').toString('base64');
    for (const value of [hex, `sha256=${hex}`, hex.toUpperCase(), base64]) {
      expect(hmac?.(Buffer.from(BODY), { 'x-hub-signature-256': value }), value).toEqual({
        ok: true,
        deliveryId: null,
      });
    }
    const refusals = {
      unsigned: {},
      'wrong signature': { 'x-hub-signature-256': hmacHex('other') },
      'wrong secret': { 'x-hub-signature-256': hmacHex(BODY, 'other secret') },
      'not a digest': { 'x-hub-signature-256': 'sha256=xyz' },
      'a truncated digest': { 'x-hub-signature-256': hex.slice(0, 63) },
    };
    for (const [name, headers] of Object.entries(refusals)) {
      expect(hmac?.(Buffer.from(BODY), headers), name).toMatchObject({ ok: false, status: 401 });
    }
    expect(hmac?.(Buffer.from(`${BODY} `), { 'x-hub-signature-256': hex })).toMatchObject({ ok: false });
  });

  it('says what is missing before verification can be turned on', () => {
    expect(signatureProblem('off', null)).toBeNull();
    expect(signatureProblem('standard-webhooks', null)).toMatch(/secret/);
    expect(signatureProblem('hmac-sha256', null)).toMatch(/secret/);
    expect(signatureProblem('standard-webhooks', 'not base64!')).toMatch(/base64/);
    expect(signatureProblem('standard-webhooks', SECRET)).toBeNull();
    expect(signatureProblem('hmac-sha256', 'any text at all')).toBeNull();
  });
});

describe('signature settings', () => {
  it('are off by default, with no secret', () => {
    expect(DEFAULT_SETTINGS.security.signature).toEqual({
      mode: 'off',
      header: 'x-webhook-signature',
      hasSecret: false,
    });
  });

  it('take the secret in a patch and keep only the fact that there is one', () => {
    const next = applySettingsPatch(DEFAULT_SETTINGS, {
      security: { signature: { mode: 'standard-webhooks', secret: SECRET } },
    });
    expect(next.security.signature).toEqual({
      mode: 'standard-webhooks',
      header: 'x-webhook-signature',
      hasSecret: true,
    });
    expect(JSON.stringify(next)).not.toContain(SECRET.slice(6));
    const cleared = applySettingsPatch(next, { security: { signature: { mode: 'off', secret: null } } });
    expect(cleared.security.signature.hasSecret).toBe(false);
    // A patch that does not mention the secret leaves the flag alone, and fields change one by one.
    const header = applySettingsPatch(next, { security: { signature: { header: 'X-Sig' } } });
    expect(header.security.signature).toEqual({ mode: 'standard-webhooks', header: 'X-Sig', hasSecret: true });
    expect(applySettingsPatch(next, { security: { rateLimit: { perMinute: 10 } } }).security.signature).toEqual(
      next.security.signature,
    );
  });

  it('load from a history saved before they existed, or broken, as their defaults', () => {
    expect(loadSettings({}).security).toEqual(DEFAULT_SETTINGS.security);
    const partial = loadSettings({ security: { rateLimit: { perMinute: 10 } } });
    expect(partial.security).toEqual({ ...DEFAULT_SETTINGS.security, rateLimit: { perMinute: 10 } });
    expect(loadSettings({ security: { signature: { mode: 'rsa' } } }).security).toEqual(DEFAULT_SETTINGS.security);
  });

  it.each([
    ['hasSecret set directly', { security: { signature: { hasSecret: true } } }],
    ['an unknown mode', { security: { signature: { mode: 'rsa' } } }],
    ['an empty secret', { security: { signature: { secret: '' } } }],
    ['a header name with a space', { security: { signature: { header: 'x sig' } } }],
    ['an unknown field', { security: { signature: { tolerance: 5 } } }],
  ])('refuse %s', (_name, patch) => {
    expect(SettingsPatchSchema.safeParse(patch).success).toBe(false);
  });
});

describe('signature verification through the receiver and the store', () => {
  const dirs: string[] = [];
  const running: Monitor[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((m) => m.stop()));
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  async function verifying(mode: 'standard-webhooks' | 'hmac-sha256' = 'standard-webhooks', dataDir = tempDir()) {
    if (!dirs.includes(dataDir)) dirs.push(dataDir);
    const started = await startMonitor(dataDir);
    running.push(started.monitor);
    if (mode === 'standard-webhooks') {
      await started.monitor.updateSettings({ security: { signature: { mode, secret: SECRET } } });
    } else {
      await started.monitor.updateSettings({
        security: { signature: { mode, secret: HMAC_SECRET, header: 'X-Signature-256' } },
      });
    }
    const stored = async () => (await started.monitor.getStatus({})).events.total;
    return { ...started, dataDir, stored };
  }

  it('stores a correctly signed delivery: 200 ok', async () => {
    const { localUrl, monitor } = await verifying();
    const res = await post(localUrl, BODY, swHeaders(BODY));
    expect([res.status, JSON.parse(res.body)]).toEqual([200, { status: 'ok' }]);
    const { events } = await monitor.listEvents({});
    expect(events.map((e) => e.payload)).toEqual([JSON.parse(BODY)]);
  });

  it.each([
    ['unsigned', () => ({})],
    [
      'a wrong signature',
      () => ({ ...swHeaders(BODY), 'webhook-signature': `v1,${randomBytes(32).toString('base64')}` }),
    ],
    ['a stale timestamp', () => swHeaders(BODY, { at: Date.now() - 10 * MINUTE })],
    ['a future timestamp', () => swHeaders(BODY, { at: Date.now() + 10 * MINUTE })],
    ['a tampered body', () => swHeaders(BODY.replace('completed"}', 'cancelled"}'))],
    ['the wrong secret', () => swHeaders(BODY, { secret: OTHER_SECRET })],
  ])('answers 401 to %s and stores nothing', async (_name, headers) => {
    const { localUrl, stored } = await verifying();
    const res = await post(localUrl, BODY, headers());
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body).error).toBeTypeOf('string');
    expect(await stored()).toBe(0);
  });

  it('takes a replay of the same webhook-id as a duplicate: stored once, two deliveries', async () => {
    const { localUrl, monitor } = await verifying();
    const headers = swHeaders(BODY, { id: 'msg_replayed' });
    expect(JSON.parse((await post(localUrl, BODY, headers)).body)).toEqual({ status: 'ok' });
    expect(JSON.parse((await post(localUrl, BODY, headers)).body)).toEqual({ status: 'duplicate' });
    // webhook-id is the key, not the content: the same id with another (signed) body is the same delivery.
    const other = BODY.replace('ord_sig_1', 'ord_sig_9');
    const sameId = await post(localUrl, other, swHeaders(other, { id: 'msg_replayed' }));
    expect(JSON.parse(sameId.body)).toEqual({ status: 'duplicate' });
    const { events } = await monitor.listEvents({});
    expect(events).toHaveLength(1);
    expect(events[0]?.deliveries).toBe(3);
  });

  it('verifies before parsing: a wrongly signed malformed body is 401, a signed one 400', async () => {
    const { localUrl, stored } = await verifying();
    const malformed = '{"event_type": "order.completed",';
    expect((await post(localUrl, malformed, {})).status).toBe(401);
    const deep = `{"event_type":"x","deep":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    expect((await post(localUrl, deep, {})).status).toBe(401);
    expect((await post(localUrl, malformed, swHeaders(malformed))).status).toBe(400);
    expect(await stored()).toBe(0);
  });

  it('verifies the raw bytes: a byte order mark and odd spacing that were signed pass as sent', async () => {
    const { localUrl, monitor } = await verifying();
    const raw = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{ "event_type" : "task.created" }\n')]);
    expect((await post(localUrl, raw, swHeaders(raw))).status).toBe(200);
    expect((await monitor.listEvents({})).events[0]?.event_type).toBe('task.created');
  });

  it('checks a plain HMAC-SHA256 header when told to: right → 200, missing or wrong → 401', async () => {
    const { localUrl, stored } = await verifying('hmac-sha256');
    expect((await post(localUrl, BODY, {})).status).toBe(401);
    expect((await post(localUrl, BODY, { 'X-Signature-256': hmacHex(BODY, 'wrong') })).status).toBe(401);
    expect((await post(localUrl, BODY, { 'X-Signature-256': hmacHex(`${BODY} `) })).status).toBe(401);
    expect(await stored()).toBe(0);
    expect((await post(localUrl, BODY, { 'X-Signature-256': `sha256=${hmacHex(BODY)}` })).status).toBe(200);
    expect(await stored()).toBe(1);
  });

  it('takes a replayed HMAC-signed body as a duplicate whatever webhook-id header comes with it', async () => {
    // The HMAC scheme signs the body only: an attacker who captured one delivery can resend it
    // with any unsigned header, and a fresh webhook-id must not make it a new event.
    const { localUrl, monitor } = await verifying('hmac-sha256');
    const signature = { 'X-Signature-256': `sha256=${hmacHex(BODY)}` };
    const answers = [];
    for (const id of ['msg_original', 'msg_replay_1', 'msg_replay_2', undefined]) {
      const res = await post(localUrl, BODY, { ...signature, 'webhook-id': id });
      answers.push([res.status, JSON.parse(res.body).status]);
    }
    expect(answers).toEqual([
      [200, 'ok'],
      [200, 'duplicate'],
      [200, 'duplicate'],
      [200, 'duplicate'],
    ]);
    const { events } = await monitor.listEvents({});
    expect(events.map((e) => [e.payload, e.deliveries])).toEqual([[JSON.parse(BODY), 4]]);
  });

  it('keeps verifying after a restart, and turning it off lets unsigned deliveries in again', async () => {
    const first = await verifying();
    await first.monitor.stop();
    running.splice(running.indexOf(first.monitor), 1);
    const again = await startMonitor(first.dataDir);
    running.push(again.monitor);
    expect((await again.monitor.getSettings({})).security.signature).toMatchObject({
      mode: 'standard-webhooks',
      hasSecret: true,
    });
    expect((await post(again.localUrl, BODY, {})).status).toBe(401);
    expect((await post(again.localUrl, BODY, swHeaders(BODY))).status).toBe(200);
    await again.monitor.updateSettings({ security: { signature: { mode: 'off' } } });
    const unsigned = '{"event_type":"task.created","task_id":"tsk_unsigned"}';
    expect((await post(again.localUrl, unsigned, {})).status).toBe(200);
  });

  it("signs the monitor's own test event, so that it passes in either mode", async () => {
    for (const mode of ['standard-webhooks', 'hmac-sha256'] as const) {
      const { monitor, stored } = await verifying(mode);
      const result = await monitor.sendTestEvent({});
      expect([mode, result.status, result.ok]).toEqual([mode, 200, true]);
      expect(await stored()).toBe(1);
    }
  });

  it('never gives the secret back: not in settings, status or the saved settings row', async () => {
    const { monitor, dataDir } = await verifying();
    const settings = await monitor.getSettings({});
    expect(settings.security.signature.hasSecret).toBe(true);
    const seen = JSON.stringify([settings, await monitor.getStatus({}), await monitor.getStats({})]);
    expect(seen).not.toContain(SECRET.slice('whsec_'.length));
    const updated = await monitor.updateSettings({ security: { signature: { header: 'x-other' } } });
    expect(JSON.stringify(updated)).not.toContain(SECRET.slice('whsec_'.length));
    const db = new DatabaseSync(historyFile(dataDir), { readOnly: true });
    try {
      const row = db.prepare("SELECT value FROM settings WHERE key = 'settings'").get() as { value: string };
      expect(row.value).not.toContain(SECRET.slice('whsec_'.length));
    } finally {
      db.close();
    }
  });

  it('refuses to turn verification on without a usable secret, and leaves the settings as they were', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const { monitor, localUrl } = await startMonitor(dataDir);
    running.push(monitor);
    const before = await monitor.getSettings({});
    await expect(monitor.updateSettings({ security: { signature: { mode: 'hmac-sha256' } } })).rejects.toMatchObject({
      name: 'InvalidSettingsError',
    });
    await expect(
      monitor.updateSettings({ security: { signature: { mode: 'standard-webhooks', secret: 'not base64!' } } }),
    ).rejects.toMatchObject({ name: 'InvalidSettingsError' });
    expect(await monitor.getSettings({})).toEqual(before);
    expect((await post(localUrl, BODY, {})).status).toBe(200);

    await monitor.updateSettings({ security: { signature: { mode: 'hmac-sha256', secret: HMAC_SECRET } } });
    // Removing the secret while it is in use would refuse every delivery: turn verification off first.
    await expect(monitor.updateSettings({ security: { signature: { secret: null } } })).rejects.toMatchObject({
      name: 'InvalidSettingsError',
    });
    const off = await monitor.updateSettings({ security: { signature: { mode: 'off', secret: null } } });
    expect(off.security.signature).toMatchObject({ mode: 'off', hasSecret: false });
  });
});
