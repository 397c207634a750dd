// totp.mjs - RFC 6238 TOTP (HMAC-SHA-1, 6 digits, 30-second steps, the parameters an
// otpauth:// URI names) with node's own HMAC: the browser tests finish an enrolment from the
// URI the console's QR code encodes, as an authenticator app would.
import { createHmac } from 'node:crypto';

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32Decode(s) {
  const clean = s.replace(/=+$/, '').replace(/\s+/g, '').toUpperCase();
  let bits = 0, value = 0;
  const out = [];
  for (const ch of clean) {
    const i = B32.indexOf(ch);
    if (i < 0) throw new Error(`not base32: ${ch}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

export function parseOtpauth(uri) {
  const u = new URL(uri);
  if (u.protocol !== 'otpauth:' || u.host !== 'totp') throw new Error(`not an otpauth TOTP URI: ${uri.slice(0, 20)}…`);
  const secret = u.searchParams.get('secret');
  if (!secret) throw new Error('otpauth URI without a secret');
  return {
    label: decodeURIComponent(u.pathname.slice(1)),
    secret: base32Decode(secret),
    algorithm: (u.searchParams.get('algorithm') || 'SHA1').toLowerCase().replace('-', ''),
    digits: parseInt(u.searchParams.get('digits') || '6', 10),
    period: parseInt(u.searchParams.get('period') || '30', 10),
  };
}

// The code for the step containing unix time `t` seconds (RFC 4226 dynamic truncation).
export function totp(params, t = Date.now() / 1000) {
  const counter = Math.floor(t / params.period);
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(params.algorithm, params.secret).update(msg).digest();
  const off = mac[mac.length - 1] & 0x0f;
  const bin = ((mac[off] & 0x7f) << 24) | (mac[off + 1] << 16) | (mac[off + 2] << 8) | mac[off + 3];
  return String(bin % 10 ** params.digits).padStart(params.digits, '0');
}
