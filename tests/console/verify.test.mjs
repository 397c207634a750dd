// verify.test.mjs - the console's in-browser verifier (console/lib/verify.js), run by node:
//   node --test tests/console/verify.test.mjs
// It must agree with Custos's C implementation: every inclusion and consistency vector of
// transparency-dev/merkle (tests/console/vectors/rfc6962, the vectors tests/unit/merkle_test.c
// checks), every root and proof the C code makes (tests/console/fixtures/merkle-c.json, written
// by tests/console/merkle_fixture.c from src/lib/audit/merkle.c), and the signed notes of the
// C checkpoint tests (tests/fuzz/corpus/fuzz_checkpoint).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as V from '../../console/lib/verify.js';
import { webcrypto } from 'node:crypto';

// Node 18 (Debian 12's) has WebCrypto but not yet as the global the browser offers.
if (!globalThis.crypto) globalThis.crypto = webcrypto;

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const vectors = join(here, 'vectors', 'rfc6962');
const corpus = join(root, 'tests', 'fuzz', 'corpus', 'fuzz_checkpoint');
const fixture = JSON.parse(readFileSync(join(here, 'fixtures', 'merkle-c.json'), 'utf8'));
const read = (p) => readFileSync(p, 'utf8');

function loadVectors(kind) {
    const out = [];
    const walk = (dir, name) => {
        for (const e of readdirSync(dir, { withFileTypes: true })) {
            if (e.isDirectory()) {
                walk(join(dir, e.name), `${name}/${e.name}`);
            } else if (e.name.endsWith('.json')) {
                out.push({ name: `${name}/${e.name}`, ...JSON.parse(read(join(dir, e.name))) });
            }
        }
    };
    walk(join(vectors, kind), kind);
    return out;
}

// Vectors carry opaque byte strings (some not 32 bytes, some placeholders): decode leniently,
// the verifier itself must refuse anything that is not a 32-byte hash.
const raw = (s) => (s == null ? new Uint8Array(0) : new Uint8Array(Buffer.from(s, 'base64')));

test('SHA-256 leaf and node hashes match the RFC 6962 reference tree', async () => {
    const leaves = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'];
    const h = await V.leafHash(new Uint8Array(0));
    assert.equal(V.hex(h), '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
    const l = await Promise.all(leaves.map((x) => V.leafHash(new Uint8Array(Buffer.from(x, 'hex')))));
    const two = await V.nodeHash(l[0], l[1]);
    assert.equal(V.hex(two), 'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125');
});

test('every transparency-dev inclusion vector: happy paths pass, every mutation fails', async () => {
    const vs = loadVectors('inclusion');
    assert.ok(vs.length > 60, `only ${vs.length} inclusion vectors`);
    let happy = 0;
    for (const v of vs) {
        const ok = await V.verifyInclusion(raw(v.leafHash), v.leafIdx, v.treeSize, (v.proof || []).map(raw), raw(v.root));
        assert.equal(ok, !v.wantErr, v.name);
        happy += ok ? 1 : 0;
    }
    assert.ok(happy >= 5);
});

test('every transparency-dev consistency vector: happy paths pass, every mutation fails', async () => {
    const vs = loadVectors('consistency');
    assert.ok(vs.length > 50, `only ${vs.length} consistency vectors`);
    let happy = 0;
    for (const v of vs) {
        const ok = await V.verifyConsistency(v.size1, v.size2, raw(v.root1), raw(v.root2), (v.proof || []).map(raw));
        assert.equal(ok, !v.wantErr, v.name);
        happy += ok ? 1 : 0;
    }
    assert.ok(happy >= 5);
});

test('leaf hashes of entries equal the C code\'s', async () => {
    for (const e of fixture.entries) {
        const h = await V.leafHash(new TextEncoder().encode(e.text));
        assert.equal(V.b64encode(h), e.leaf, e.text);
    }
});

test('every inclusion proof made by the C code verifies against the C root, and fails when altered', async () => {
    assert.ok(fixture.inclusion.length > 150);
    for (const p of fixture.inclusion) {
        const rootN = fixture.roots[String(p.size)];
        const proof = p.proof.map(V.b64decode);
        assert.ok(await V.verifyInclusion(p.leaf, p.index, p.size, proof, rootN), `${p.index}/${p.size}`);
        // a wrong index, a wrong size, a flipped bit, a truncated or extended proof: refused
        if (p.size > 1) {
            assert.equal(await V.verifyInclusion(p.leaf, (p.index + 1) % p.size, p.size, proof, rootN), false);
            const bad = proof.map((x) => x.slice());
            bad[bad.length - 1][7] ^= 1;
            assert.equal(await V.verifyInclusion(p.leaf, p.index, p.size, bad, rootN), false);
            assert.equal(await V.verifyInclusion(p.leaf, p.index, p.size, proof.slice(1), rootN), false);
        }
        assert.equal(await V.verifyInclusion(p.leaf, p.index, p.size, [...proof, proof[0] || V.b64decode(rootN)], rootN), false);
        // the root of another size (a checkpoint of another tree) does not match
        const other = fixture.roots[String(p.size === 1000 ? 999 : p.size + 1)] || fixture.roots['1000'];
        assert.equal(await V.verifyInclusion(p.leaf, p.index, p.size, proof, other), false);
    }
});

test('every consistency proof made by the C code verifies between the C roots, and fails against a forged root', async () => {
    assert.ok(fixture.consistency.length > 200);
    const forged = new Uint8Array(32).fill(7);
    for (const p of fixture.consistency) {
        const r1 = fixture.roots[String(p.from)];
        const r2 = fixture.roots[String(p.to)];
        const proof = p.proof.map(V.b64decode);
        assert.ok(await V.verifyConsistency(p.from, p.to, r1, r2, proof), `${p.from}->${p.to}`);
        assert.equal(await V.verifyConsistency(p.from, p.to, forged, r2, proof), false);
        if (p.from !== p.to) {
            assert.equal(await V.verifyConsistency(p.from, p.to, r1, forged, proof), false);
            assert.equal(await V.verifyConsistency(p.from, p.to, r1, r2, proof.slice(0, -1)), false);
        }
    }
    // from the empty tree nothing is proven
    assert.equal(await V.verifyConsistency(0, 5, fixture.roots['1'], fixture.roots['5'], []), false);
});

test('sizes beyond 2^32 are handled exactly (BigInt arithmetic)', async () => {
    const leaf = new Uint8Array(32);
    // index 2^32 in a tree of 2^32+1 leaves: the proof is one hash (the left subtree's root)
    const left = new Uint8Array(32).fill(9);
    const rootN = await V.nodeHash(left, leaf);
    assert.ok(await V.verifyInclusion(leaf, 2 ** 32, 2 ** 32 + 1, [left], rootN));
    assert.equal(await V.verifyInclusion(leaf, 0, 2 ** 32 + 1, [left], rootN), false);
});

test('the C-signed checkpoint opens with its vkey; the Go note package example too', async () => {
    const r = await V.openCheckpoint(read(join(corpus, 'signed-1234')), read(join(corpus, 'vkey-fuzz-key')));
    assert.equal(r.signature, 'valid');
    assert.equal(r.checkpoint.origin, 'custos.audit.fuzz');
    assert.equal(r.checkpoint.size, 1234n);
    assert.equal(V.b64encode(r.checkpoint.root), 'AAcOFRwjKjE4P0ZNVFtiaXB3foWMk5qhqK+2vcTL0tk=');
    // cosigned by a witness: the trusted key's line decides, the other is ignored
    const c = await V.openCheckpoint(read(join(corpus, 'cosigned')), read(join(corpus, 'vkey-fuzz-key')));
    assert.equal(c.signature, 'valid');
    // the whole of a vault's audit.pub is accepted: its vkey line is used
    const pub = `ed25519 00\nkey_name custos.audit.fuzz\nvkey ${read(join(corpus, 'vkey-fuzz-key')).trim()}\n`;
    assert.equal((await V.openCheckpoint(read(join(corpus, 'signed-1234')), pub)).signature, 'valid');
    const vk = await V.parseVkey(read(join(corpus, 'vkey-go-example')));
    assert.equal(vk.name, 'PeterNeumann');
    assert.equal(V.hex(vk.keyHash), 'c74f20a3');
});

test('a forged checkpoint fails: altered root, altered size, forged signature, wrong key', async () => {
    const note = read(join(corpus, 'signed-1234'));
    const vkey = read(join(corpus, 'vkey-fuzz-key'));
    const code = async (text, key) => {
        try {
            await V.openCheckpoint(text, key);
            return 'accepted';
        } catch (e) {
            assert.ok(e instanceof V.VerifyError, String(e));
            return e.code;
        }
    };
    assert.equal(await code(read(join(corpus, 'forged')), vkey), 'bad_signature');
    assert.equal(await code(note.replace('1234', '1235'), vkey), 'bad_signature');
    assert.equal(await code(note.replace('AAcOFRwj', 'AAcOFRwk'), vkey), 'bad_signature');
    assert.equal(await code(note, read(join(corpus, 'vkey-go-example'))), 'bad_signature');
    assert.equal(await code(read(join(corpus, 'no-signature')), vkey), 'bad_note');
    assert.equal(await code(read(join(corpus, 'hyphen-not-em-dash')), vkey), 'bad_note');
    assert.equal(await code(note.replace('custos.audit.fuzz+', 'x'), vkey.replace('caeaac3c', 'caeaac3d')), 'bad_vkey');
    assert.equal(await code(note.replace('\n\n', '\n'), vkey), 'bad_note');
    // without a key, the note is only parsed, and the page says the signature was not checked
    assert.equal((await V.openCheckpoint(note, '')).signature, 'no_key');
});

test('base64 is strict and canonical', () => {
    assert.throws(() => V.b64decode('AAE'), V.VerifyError);
    assert.throws(() => V.b64decode('AAF='), V.VerifyError); // non-zero unused bits
    assert.throws(() => V.b64decode('A-A='), V.VerifyError);
    assert.deepEqual([...V.b64decode('AAE=')], [0, 1]);
    assert.equal(V.b64encode(Uint8Array.of(0, 1)), 'AAE=');
});
