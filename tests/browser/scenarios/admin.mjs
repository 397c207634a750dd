// admin.mjs - administration on a vault that requires the second factor (as `custos init`
// makes it): admin enrols at the first sign-in, creates an account that must enrol too, and the
// new account's enrolment is completed from the otpauth URI its QR code carries.
import assert from 'node:assert/strict';
import { pollUntil } from '../lib/vault.mjs';
import { signIn, signedIn, signOut, go, waitView, click, fill, shot, axe, field } from '../lib/console.mjs';
import { parseOtpauth, totp } from '../lib/totp.mjs';

// On the enrolment view: the QR code is shown, the URI it encodes is the one the API gave the
// page (POST /v1/me/totp/enrol), a code made from it confirms, and recovery codes show once.
function watchEnrol(page) {
  const uris = [];
  page.on('response', async (r) => {
    if (r.url().endsWith('/v1/me/totp/enrol') && r.request().method() === 'POST') {
      uris.push(r.status() === 200 ? (await r.json().catch(() => ({}))).otpauth_uri : `status ${r.status()}`);
    }
  });
  return uris;
}

async function enrol(t, page, who, uris) {
  const v = await waitView(page, 'enrol');
  const uri = await pollUntil(() => uris.at(-1), { what: 'the answer of POST /v1/me/totp/enrol' });
  assert.match(uri, /^otpauth:\/\/totp\//);
  // The QR code: an image (or SVG or canvas) on the view, of a size a phone can read.
  const qr = v.locator('img, svg, canvas').filter({ hasNot: page.locator('[data-nav]') });
  await pollUntil(async () => {
    for (const el of await qr.all()) {
      const b = await el.boundingBox();
      if (b && b.width >= 120 && b.height >= 120) return true;
    }
    return false;
  }, { what: 'the QR code on the enrolment view' });
  // The URI is also given as text for people who cannot scan (or a secret to type).
  const secret = new URL(uri).searchParams.get('secret');
  assert.ok((await v.innerText()).replace(/\s/g, '').includes(secret), 'the secret is shown as text too');
  await shot(page, t.out, `enrol-${who}`);
  await axe(page, `enrol (${who})`, t.axe);
  const p = parseOtpauth(uri);
  await fill(v, { code: totp(p) });
  await v.locator(field('code')).first().press('Enter');
  // Ten recovery codes, shown once.
  const codes = await pollUntil(async () => {
    const txt = await v.innerText();
    const m = txt.match(/\b[a-z0-9]{4,}(?:-[a-z0-9]{4,})+\b/gi) || [];
    return m.length >= 10 ? m : false;
  }, { what: 'the recovery codes' });
  assert.ok(codes.length >= 10, `recovery codes shown: ${codes.length}`);
  await click(v, 'continue');
  await signedIn(page);
  return p;
}

export const scenarios = [
  {
    name: 'admin enrols TOTP, creates an account that must enrol, and its enrolment is completed from the QR code URI',
    timeout: 180000,
    async run(t) {
      const base = t.enrol.url;
      const page = await t.page();
      const uris = watchEnrol(page);
      await signIn(page, base, 'admin', { expect: 'enrol' });
      await enrol(t, page, 'admin', uris);
      const v = await go(page, 'admin');
      const user = `security${Date.now() % 100000}`;
      const password = 'Jade-Bronze-Vase-1736';
      await click(v, 'create-account');
      await fill(v, { username: user, password, role: 'security', department: 'security' });
      await click(v, 'save-account');
      await pollUntil(async () => (await v.innerText()).includes(user), { what: `${user} in the account list` });
      await signOut(page);
      // The new account: a password alone only opens the enrolment.
      await signIn(page, base, user, { password, expect: 'enrol' });
      const p = await enrol(t, page, user, uris);
      const nav = await page.locator('[data-nav]').evaluateAll((els) => els.map((e) => e.getAttribute('data-nav')));
      assert.ok(nav.includes('alerts'), `security sees alerts after enrolling (nav: ${nav})`);
      // The enrolment is real: the API now wants the code, and takes one made from the URI.
      const noCode = await t.enrol.request('POST', '/v1/login', { body: { username: user, password } });
      assert.equal(noCode.status, 401);
      assert.equal(noCode.json?.error?.code, 'second_factor_required');
      const step = Math.floor(Date.now() / 30000);
      const withCode = await t.enrol.request('POST', '/v1/login',
        { body: { username: user, password, otp: totp(p, (step + 1) * 30) } });
      assert.equal(withCode.status, 200, `a code from the URI signs in: ${withCode.status} ${withCode.text}`);
    },
  },
];
