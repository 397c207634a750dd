// admin.mjs - administration on a vault that requires the second factor (as `custos init`
// makes it): admin enrols at the first sign-in, creates an account that must enrol too, and the
// new account's enrolment is completed from the otpauth URI its QR code carries.
import assert from 'node:assert/strict';
import { pollUntil } from '../lib/vault.mjs';
import { signIn, signedIn, signOut, go, waitView, click, fill, shot, axeInto } from '../lib/console.mjs';
import { parseOtpauth, totp } from '../lib/totp.mjs';
import jsQR from 'jsqr';

// Reads the QR code as a phone would: the image's pixels (drawn at 264×264 on a white canvas in
// the page, sent over as one grey byte each), decoded in node by jsQR.
async function decodeQr(qr) {
  const size = 264;
  const grey = await qr.evaluate((el, n) => {
    const c = document.createElement('canvas');
    c.width = n;
    c.height = n;
    const g = c.getContext('2d');
    g.fillStyle = '#fff';
    g.fillRect(0, 0, n, n);
    g.imageSmoothingEnabled = false;
    g.drawImage(el, 0, 0, n, n);
    const d = g.getImageData(0, 0, n, n).data;
    let bin = '';
    for (let i = 0; i < d.length; i += 4) bin += String.fromCharCode((d[i] + d[i + 1] + d[i + 2]) / 3 | 0);
    return btoa(bin);
  }, size);
  const g = Buffer.from(grey, 'base64');
  const rgba = new Uint8ClampedArray(size * size * 4);
  for (let i = 0; i < g.length; i++) rgba.set([g[i], g[i], g[i], 255], i * 4);
  const code = jsQR(rgba, size, size);
  if (!code) throw new Error('the QR code on the enrolment view could not be decoded');
  return code.data;
}

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

async function enrol(t, page, who, uris, seen) {
  const v = await waitView(page, 'enrol');
  const uri = await pollUntil(() => uris.length > seen && uris.at(-1), { what: 'the answer of POST /v1/me/totp/enrol' });
  assert.match(uri, /^otpauth:\/\/totp\//);
  // The QR code: an image of a size a phone can read, loaded, carrying the URI the API gave.
  const qr = v.locator('img.qr, img[data-otpauth-uri], svg[data-otpauth-uri], canvas[data-otpauth-uri]').first();
  await qr.waitFor({ state: 'visible', timeout: 15000 });
  const box = await qr.boundingBox();
  assert.ok(box.width >= 120 && box.height >= 120, `the QR code is large enough to scan (${box.width}×${box.height})`);
  assert.equal(await qr.getAttribute('data-otpauth-uri'), uri, 'the QR code is of the URI the API gave');
  if (await qr.evaluate((e) => e.tagName === 'IMG')) {
    await pollUntil(() => qr.evaluate((i) => i.complete && i.naturalWidth > 0), { what: 'the QR image to load' });
  }
  // The secret is also given as text, for people who cannot scan.
  const secret = new URL(uri).searchParams.get('secret');
  assert.ok((await v.textContent()).replace(/\s/g, '').includes(secret), 'the secret is shown as text too');
  await shot(page, t.out, `enrol-${who}`);
  await axeInto(t, page, `enrol (${who})`);
  // The enrolment is completed from what the QR code itself encodes.
  const scanned = await decodeQr(qr);
  assert.equal(scanned, uri, 'the QR code encodes the otpauth URI the API gave');
  const p = parseOtpauth(scanned);
  await fill(v, { code: totp(p) });
  await click(v, 'confirm');
  // Ten recovery codes, shown once; going on needs the person to say they kept them.
  const codes = page.locator('[data-recovery-codes] li');
  await pollUntil(async () => (await codes.count()) >= 10, { what: 'the recovery codes' });
  const list = await codes.allInnerTexts();
  assert.equal(new Set(list).size, list.length, 'ten different recovery codes');
  await shot(page, t.out, `recovery-codes-${who}`);
  await page.locator('[name="saved"]').check();
  await click(page, 'continue');
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
      await enrol(t, page, 'admin', uris, 0);
      const t0 = Date.now();
      const v = await go(page, 'admin');
      const user = `security${Date.now() % 100000}`;
      const password = 'Jade-Bronze-Vase-1736';
      await fill(v, { username: user, password, role: 'security', department: 'security' });
      await click(v, 'create-account');
      await pollUntil(async () => (await v.innerText()).includes(user), { what: `${user} in the account list` });
      t.log(`admin view and account created in ${Date.now() - t0} ms`);
      await signOut(page);
      // The new account: a password alone only opens the enrolment.
      const seen = uris.length;
      await signIn(page, base, user, { password, expect: 'enrol' });
      const p = await enrol(t, page, user, uris, seen);
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
