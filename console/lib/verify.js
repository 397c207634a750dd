/*
 * verify.js - checking the audit log's proofs in the browser, trusting nothing the server says
 * about them: RFC 9162 §2.1 Merkle hashing (SHA-256 through WebCrypto's crypto.subtle.digest),
 * inclusion (§2.1.3.2) and consistency (§2.1.4.2) verification, and C2SP signed-note
 * checkpoints signed with Ed25519 (WebCrypto, where the browser has it). The algorithms follow
 * docs/FORMATS-audit-tree.md step by step; tests/console/verify.test.mjs checks them against
 * the public RFC 6962 vectors and against proofs made by Custos's C implementation.
 *
 * Sizes and indexes are handled as BigInt: JavaScript's bit operators work on 32 bits.
 * Every function that can refuse its input throws a VerifyError whose `code` names the
 * reason (for the page to translate); the proof checks answer true or false.
 */

export class VerifyError extends Error {
    constructor(code, detail) {
        super(detail ? `${code}: ${detail}` : code);
        this.name = 'VerifyError';
        this.code = code;
        this.detail = detail || '';
    }
}

const U64_MAX = (1n << 64n) - 1n;
const B64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_VALUE = new Map([...B64_ALPHABET].map((c, i) => [c, i]));

function subtle() {
    const c = globalThis.crypto;
    if (!c || !c.subtle) {
        throw new VerifyError('no_webcrypto', 'this browser offers no WebCrypto (is the page served over HTTPS?)');
    }
    return c.subtle;
}

/* Standard base64 (RFC 4648 §4) with padding, canonical: the unused bits of the last
 * character must be zero, so that one byte string has one text. */
export function b64decode(s) {
    if (typeof s !== 'string' || s.length % 4 !== 0) {
        throw new VerifyError('bad_base64');
    }
    const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
    const out = new Uint8Array((s.length / 4) * 3 - pad);
    let o = 0;
    for (let i = 0; i < s.length; i += 4) {
        const last = i + 4 === s.length;
        const v = [0, 0, 0, 0];
        for (let j = 0; j < 4; j++) {
            const c = s[i + j];
            if (c === '=' && last && j >= 4 - pad) {
                continue;
            }
            const x = B64_VALUE.get(c);
            if (x === undefined) {
                throw new VerifyError('bad_base64');
            }
            v[j] = x;
        }
        const n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
        if (last && pad === 2 && (n & 0xffff) !== 0) {
            throw new VerifyError('bad_base64');
        }
        if (last && pad === 1 && (n & 0xff) !== 0) {
            throw new VerifyError('bad_base64');
        }
        out[o++] = (n >> 16) & 0xff;
        if (o < out.length) out[o++] = (n >> 8) & 0xff;
        if (o < out.length) out[o++] = n & 0xff;
    }
    return out;
}

export function b64encode(u8) {
    let s = '';
    for (let i = 0; i < u8.length; i += 3) {
        const n = (u8[i] << 16) | ((u8[i + 1] ?? 0) << 8) | (u8[i + 2] ?? 0);
        s += B64_ALPHABET[(n >> 18) & 63] + B64_ALPHABET[(n >> 12) & 63];
        s += i + 1 < u8.length ? B64_ALPHABET[(n >> 6) & 63] : '=';
        s += i + 2 < u8.length ? B64_ALPHABET[n & 63] : '=';
    }
    return s;
}

export function hex(u8) {
    return Array.from(u8, (b) => b.toString(16).padStart(2, '0')).join('');
}

function concat(...parts) {
    const n = parts.reduce((a, p) => a + p.length, 0);
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of parts) {
        out.set(p, o);
        o += p.length;
    }
    return out;
}

function equal(a, b) {
    if (!a || !b || a.length !== b.length) {
        return false;
    }
    let d = 0;
    for (let i = 0; i < a.length; i++) {
        d |= a[i] ^ b[i];
    }
    return d === 0;
}

export async function sha256(bytes) {
    return new Uint8Array(await subtle().digest('SHA-256', bytes));
}

/* SHA-256(0x00 || entry): the leaf of an audit entry's canonical bytes. */
export async function leafHash(entry) {
    return sha256(concat(Uint8Array.of(0), entry));
}

/* SHA-256(0x01 || left || right). */
export async function nodeHash(left, right) {
    return sha256(concat(Uint8Array.of(1), left, right));
}

function big(x, what) {
    if (typeof x === 'bigint') {
        return x;
    }
    if (typeof x === 'number' && Number.isSafeInteger(x) && x >= 0) {
        return BigInt(x);
    }
    if (typeof x === 'string' && /^(0|[1-9][0-9]{0,19})$/.test(x)) {
        return BigInt(x);
    }
    throw new VerifyError('bad_number', what);
}

/* Roots are compared, never hashed: any byte string (the vectors use placeholders). */
function rootBytes(h) {
    const u = typeof h === 'string' ? b64decode(h) : h;
    if (!(u instanceof Uint8Array)) {
        throw new VerifyError('bad_hash');
    }
    return u;
}

function hash32(h) {
    const u = typeof h === 'string' ? b64decode(h) : h;
    if (!(u instanceof Uint8Array) || u.length !== 32) {
        throw new VerifyError('bad_hash');
    }
    return u;
}

/* RFC 9162 §2.1.3.2: true only when `proof` (32-byte hashes, from the leaf upwards) takes
 * `leaf` at `index` to `root` in a tree of `size` leaves, and has exactly the right length. */
export async function verifyInclusion(leaf, index, size, proof, root) {
    let fn, sn, r, rt, p;
    try {
        fn = big(index, 'index');
        const n = big(size, 'size');
        if (fn >= n) {
            return false;
        }
        sn = n - 1n;
        r = hash32(leaf);
        rt = rootBytes(root);
        p = (proof || []).map(hash32);
    } catch {
        return false;
    }
    for (const h of p) {
        if (sn === 0n) {
            return false;
        }
        if ((fn & 1n) === 1n || fn === sn) {
            r = await nodeHash(h, r);
            if ((fn & 1n) === 0n) {
                while ((fn & 1n) === 0n && fn !== 0n) {
                    fn >>= 1n;
                    sn >>= 1n;
                }
            }
        } else {
            r = await nodeHash(r, h);
        }
        fn >>= 1n;
        sn >>= 1n;
    }
    return sn === 0n && equal(r, rt);
}

/* RFC 9162 §2.1.4.2: true only when `proof` shows that the tree of m leaves with root rootM
 * is a prefix of the tree of n leaves with root rootN. m = 0 is refused (it proves nothing). */
export async function verifyConsistency(m, n, rootM, rootN, proof) {
    let fn, sn, r1, r2, p;
    try {
        const bm = big(m, 'from');
        const bn = big(n, 'to');
        r1 = rootBytes(rootM);
        r2 = rootBytes(rootN);
        p = (proof || []).map(hash32);
        if (bm === 0n || bm > bn) {
            return false;
        }
        if (bm === bn) {
            return p.length === 0 && equal(r1, r2);
        }
        if (p.length === 0) {
            return false;
        }
        if ((bm & (bm - 1n)) === 0n) {
            p.unshift(hash32(r1));
        }
        fn = bm - 1n;
        sn = bn - 1n;
    } catch {
        return false;
    }
    while ((fn & 1n) === 1n) {
        fn >>= 1n;
        sn >>= 1n;
    }
    let fr = p[0];
    let sr = p[0];
    for (const c of p.slice(1)) {
        if (sn === 0n) {
            return false;
        }
        if ((fn & 1n) === 1n || fn === sn) {
            fr = await nodeHash(c, fr);
            sr = await nodeHash(c, sr);
            if ((fn & 1n) === 0n) {
                while ((fn & 1n) === 0n && fn !== 0n) {
                    fn >>= 1n;
                    sn >>= 1n;
                }
            }
        } else {
            sr = await nodeHash(sr, c);
        }
        fn >>= 1n;
        sn >>= 1n;
    }
    return sn === 0n && equal(fr, r1) && equal(sr, r2);
}

/* ---- signed notes and checkpoints (docs/FORMATS-audit-tree.md §5–§7) ---- */

const EM_DASH_LINE = '\u2014 ';
const NOTE_MAX = 65536;

function utf8(s) {
    return new TextEncoder().encode(s);
}

/* A verifier key: NAME+HASH8+base64(0x01 || 32-byte key). The hash must match. The whole
 * text of a vault's audit.pub is accepted too: its `vkey` line is used. */
export async function parseVkey(text) {
    const line = /^vkey[ \t]+(\S+)[ \t]*$/m.exec(String(text || ''));
    const s = line ? line[1] : String(text || '').trim();
    const a = s.indexOf('+');
    const b = a < 0 ? -1 : s.indexOf('+', a + 1);
    const parts = b < 0 ? [] : [s.slice(0, a), s.slice(a + 1, b), s.slice(b + 1)];
    if (parts.length !== 3 || !/^[\x21-\x7e]{1,200}$/.test(parts[0]) || !/^[0-9a-f]{8}$/.test(parts[1])) {
        throw new VerifyError('bad_vkey');
    }
    const raw = b64decode(parts[2]);
    if (raw.length !== 33 || raw[0] !== 1) {
        throw new VerifyError('bad_vkey', 'not an Ed25519 key');
    }
    const publicKey = raw.slice(1);
    const keyHash = await noteKeyHash(parts[0], publicKey);
    if (hex(keyHash) !== parts[1]) {
        throw new VerifyError('bad_vkey', 'the key hash does not match');
    }
    return { name: parts[0], keyHash, publicKey };
}

/* First 4 bytes of SHA-256(name || 0x0A || 0x01 || public key). */
export async function noteKeyHash(name, publicKey) {
    const h = await sha256(concat(utf8(name), Uint8Array.of(0x0a, 0x01), publicKey));
    return h.slice(0, 4);
}

/* Splits and checks a signed note's text (§6 steps 1–4) and its body as a checkpoint (§5).
 * Answers {body (string), origin, size (BigInt), root (Uint8Array), signatures:[{name,
 * keyHash, sig}]}. Signatures are not verified here. */
export function parseCheckpoint(text) {
    if (typeof text !== 'string' || text.length === 0) {
        throw new VerifyError('bad_note', 'empty');
    }
    const bytes = utf8(text);
    if (bytes.length > NOTE_MAX || text.includes('\uFFFD') || /[\u0000-\u0009\u000b-\u001f\u007f]/.test(text)) {
        throw new VerifyError('bad_note', 'size or characters');
    }
    if (!text.endsWith('\n')) {
        throw new VerifyError('bad_note', 'no final newline');
    }
    const cut = text.lastIndexOf('\n\n');
    if (cut < 0) {
        throw new VerifyError('bad_note', 'no signature block');
    }
    const body = text.slice(0, cut + 1);
    const sigText = text.slice(cut + 2);
    if (sigText.length === 0) {
        throw new VerifyError('bad_note', 'no signature');
    }
    const lines = body.slice(0, -1).split('\n');
    if (lines.length < 3 || lines.some((l) => l.length === 0)) {
        throw new VerifyError('bad_checkpoint', 'three non-empty lines expected');
    }
    const [origin, sizeText, rootText] = lines;
    if (utf8(origin).length > 255) {
        throw new VerifyError('bad_checkpoint', 'origin');
    }
    if (!/^(0|[1-9][0-9]{0,19})$/.test(sizeText) || BigInt(sizeText) > U64_MAX) {
        throw new VerifyError('bad_checkpoint', 'size');
    }
    let root;
    try {
        root = hash32(rootText);
    } catch {
        throw new VerifyError('bad_checkpoint', 'root');
    }
    const sigLines = sigText.slice(0, -1).split('\n');
    if (sigLines.length > 100) {
        throw new VerifyError('bad_note', 'too many signatures');
    }
    const seen = new Set();
    const signatures = sigLines.map((l) => {
        if (!l.startsWith(EM_DASH_LINE)) {
            throw new VerifyError('bad_note', 'signature line');
        }
        const rest = l.slice(EM_DASH_LINE.length);
        const sp = rest.indexOf(' ');
        const name = sp > 0 ? rest.slice(0, sp) : '';
        if (!/^[\x21-\x2a\x2c-\x7e]{1,200}$/.test(name)) {
            throw new VerifyError('bad_note', 'key name');
        }
        const raw = b64decode(rest.slice(sp + 1));
        if (raw.length < 5) {
            throw new VerifyError('bad_note', 'signature too short');
        }
        const id = name + ' ' + hex(raw.slice(0, 4));
        if (seen.has(id)) {
            throw new VerifyError('bad_note', 'duplicate signature');
        }
        seen.add(id);
        return { name, keyHash: raw.slice(0, 4), sig: raw.slice(4) };
    });
    return { body, origin, size: BigInt(sizeText), root, signatures };
}

let edSupport;
/* Whether this browser's WebCrypto verifies Ed25519 (Chrome 137+, Firefox 129+, Safari 17+). */
export async function ed25519Supported() {
    if (edSupport === undefined) {
        try {
            // a valid public key (the test key of tests/fuzz/corpus/fuzz_checkpoint/vkey-fuzz-key)
            await subtle().importKey('raw', b64decode('A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg='), { name: 'Ed25519' }, false, ['verify']);
            edSupport = true;
        } catch {
            edSupport = false;
        }
    }
    return edSupport;
}

/* Opens a checkpoint: parses it and, given a vkey, checks its signature (§6 step 5).
 * Answers {checkpoint, signature} where signature is 'valid', 'no_key' (no vkey given) or
 * 'unsupported' (no Ed25519 in this browser); throws VerifyError('bad_signature') when the
 * trusted key's line does not verify or is missing. */
export async function openCheckpoint(text, vkeyText) {
    const cp = parseCheckpoint(text);
    if (!vkeyText || !String(vkeyText).trim()) {
        return { checkpoint: cp, signature: 'no_key' };
    }
    const vk = await parseVkey(vkeyText);
    const mine = cp.signatures.filter((s) => s.name === vk.name && equal(s.keyHash, vk.keyHash));
    if (mine.length === 0) {
        throw new VerifyError('bad_signature', 'no signature by the trusted key');
    }
    if (!(await ed25519Supported())) {
        return { checkpoint: cp, signature: 'unsupported' };
    }
    const key = await subtle().importKey('raw', vk.publicKey, { name: 'Ed25519' }, false, ['verify']);
    for (const s of mine) {
        const ok = s.sig.length === 64 && (await subtle().verify({ name: 'Ed25519' }, key, s.sig, utf8(cp.body)));
        if (!ok) {
            throw new VerifyError('bad_signature', 'the signature does not verify');
        }
    }
    return { checkpoint: cp, signature: 'valid' };
}
