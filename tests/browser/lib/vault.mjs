// vault.mjs - a real `custos serve` on 127.0.0.1 with a demo vault, as the integration
// harness (tests/integration/harness.c) and `make run` (scripts/run-demo.sh) set one up:
// a key file, custos.json written before `custos demo` (which leaves it alone), the demo
// accounts with one known password, the server on port 0 with a port file.
import { spawn, spawnSync } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';

export const DEMO_PW = 'demo-password-for-tests';

export function pollUntil(fn, { timeout = 15000, every = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  return (async () => {
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() >= deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, every));
    }
  })();
}

function run(bin, args, env) {
  const r = spawnSync(bin, args, { env: { ...process.env, ...env }, encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`${path.basename(bin)} ${args[0]} failed (${r.status}): ${r.stderr || r.stdout}`);
  }
  return r.stdout;
}

export class Vault {
  constructor({ bin, tag, customers = 40, config = {}, seed = 13, guardRules = null }) {
    this.guardRules = guardRules;
    this.bin = bin;
    this.tag = tag;
    this.customers = customers;
    this.config = config;
    this.seed = seed;
  }

  async start() {
    const base = process.env.TMPDIR || os.tmpdir();
    this.root = fs.mkdtempSync(path.join(base, `custos-browser-${this.tag}-`));
    this.dir = path.join(this.root, 'vault');
    this.key = path.join(this.root, 'master.key');
    this.logFile = path.join(this.root, 'server.log');
    this.portFile = `${this.dir}.port`;
    const env = { CUSTOS_TEST_KDF: 'fast', CUSTOS_DEMO_PASSWORD: DEMO_PW, CUSTOS_DEMO_SEED: String(this.seed) };
    run(this.bin, ['keys', 'generate', this.key], env);
    fs.mkdirSync(this.dir, { mode: 0o700 });
    fs.writeFileSync(path.join(this.dir, 'custos.json'), JSON.stringify(this.config, null, 2) + '\n', { mode: 0o600 });
    run(this.bin, ['demo', this.dir, '--key-file', this.key, '--customers', String(this.customers)], env);
    if (this.guardRules) {
      const rules = path.join(this.dir, 'guard.rules');
      fs.writeFileSync(rules, this.guardRules, { mode: 0o600 });
      run(this.bin, ['guard', 'check', rules], env);
    }
    const log = fs.openSync(this.logFile, 'a', 0o600);
    this.proc = spawn(
      this.bin,
      ['serve', this.dir, '--listen', '127.0.0.1:0', '--port-file', this.portFile, '--key-file', this.key, '--threads', '4'],
      { env: { ...process.env, ...env }, stdio: ['ignore', log, log] },
    );
    this.exited = null;
    this.proc.on('exit', (code, sig) => { this.exited = { code, sig }; });
    fs.closeSync(log);
    this.cacert = path.join(this.dir, 'tls', 'cert.pem');
    await pollUntil(async () => {
      if (this.exited) throw new Error(`server exited early (${JSON.stringify(this.exited)}); log ${this.logFile}`);
      let txt;
      try { txt = fs.readFileSync(this.portFile, 'utf8'); } catch { return false; }
      const port = parseInt(txt, 10);
      if (!port) return false;
      this.port = port;
      this.ca = fs.readFileSync(this.cacert);
      try { return (await this.request('GET', '/healthz')).status === 200; } catch { return false; }
    }, { timeout: 60000, what: `the ${this.tag} server to answer /healthz` });
    this.url = `https://127.0.0.1:${this.port}`;
    return this;
  }

  // SHA-256 of the certificate's public key, for Chromium's --ignore-certificate-errors-spki-list:
  // the browser accepts this one self-signed certificate and no other.
  spkiHash() {
    const cert = new X509Certificate(this.ca);
    const der = cert.publicKey.export({ type: 'spki', format: 'der' });
    return createHash('sha256').update(der).digest('base64');
  }

  async stop() {
    if (!this.proc || this.exited) return this.exited;
    this.proc.kill('SIGTERM');
    await pollUntil(() => this.exited, { timeout: 30000, what: 'the server to stop' }).catch(() => {
      this.proc.kill('SIGKILL');
    });
    return this.exited;
  }

  // One HTTPS request to the server; trusts only the vault's own certificate.
  request(method, p, { token, body, headers = {}, raw = false } = {}) {
    return new Promise((resolve, reject) => {
      const h = { ...headers };
      let data = null;
      if (body !== undefined) {
        data = typeof body === 'string' ? body : JSON.stringify(body);
        if (!h['Content-Type']) h['Content-Type'] = 'application/json';
        h['Content-Length'] = Buffer.byteLength(data);
      }
      if (token) h.Authorization = `Bearer ${token}`;
      const req = https.request(
        { host: '127.0.0.1', port: this.port, path: p, method, headers: h, ca: this.ca, timeout: 60000 },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json = null;
            if (!raw) { try { json = JSON.parse(text); } catch { /* not JSON */ } }
            resolve({ status: res.statusCode, headers: res.headers, text, json });
          });
        },
      );
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error(`${method} ${p} timed out`)));
      if (data) req.write(data);
      req.end();
    });
  }

  async login(user, { password = DEMO_PW, otp, headers } = {}) {
    const body = { username: user, password };
    if (otp) body.otp = otp;
    const r = await this.request('POST', '/v1/login', { body, headers });
    if (r.status !== 200 || !r.json?.token) {
      throw new Error(`API login of ${user} failed: ${r.status} ${r.text}`);
    }
    return r.json.token;
  }

  // The API as one account: api.get('/v1/...'), with extra headers on every request.
  async as(user, { headers = {} } = {}) {
    const token = await this.login(user, { headers });
    const call = (method) => (p, body, extra = {}) =>
      this.request(method, p, { token, body, headers: { ...headers, ...extra } });
    return { token, get: call('GET'), post: call('POST'), patch: call('PATCH'), del: call('DELETE'), put: call('PUT') };
  }
}
