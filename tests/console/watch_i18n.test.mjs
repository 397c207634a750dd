// watch_i18n.test.mjs - every string of the watch-and-check views is translated:
//   node --test tests/console/watch_i18n.test.mjs
// Both languages of every dictionary have the same keys, none empty; every key the views
// name (literally, or built from a known prefix and value) exists in both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import dicts from '../../console/i18n/watch_index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const zh = Object.assign({}, ...dicts.map((d) => d['zh-CN']));
const en = Object.assign({}, ...dicts.map((d) => d.en));
const files = ['console/views/alerts.js', 'console/views/violations.js', 'console/views/audit.js', 'console/views/overview.js'];

// Keys the views build at run time: prefix -> the values they can take.
const dynamic = {
    'alerts.severity.': ['low', 'medium', 'high', 'critical'],
    'alerts.status.': ['open', 'acknowledged', 'closed'],
    'alerts.kind.': ['block', 'throttle', 'lock', 'lock-login'],
    'alerts.intro.': ['security', 'hr', 'steward'],
    'alerts.dur.': ['1h', '6h', '1d', '7d'],
    'audit.decision.': ['allow', 'deny'],
    'audit.sig.': ['valid', 'no_key', 'unsupported'],
    'audit.vfy.': ['no_webcrypto', 'bad_base64', 'bad_number', 'bad_hash', 'bad_vkey', 'bad_note', 'bad_checkpoint', 'bad_signature'],
    'audit.step.': ['saved_sig', 'current_sig', 'origin', 'sizes', 'consistency_empty', 'same_size', 'consistency', 'inclusion_range', 'entry', 'leaf', 'inclusion_saved', 'inclusion_current'],
    'overview.intro.': ['sales', 'customer_service', 'data_steward', 'security', 'legal', 'hr', 'auditor', 'admin'],
    'overview.kind.': ['change', 'export', 'apikey', 'account', 'breakglass'],
    'overview.tile.': ['accesses', 'open_alerts', 'violations', 'open_requests', 'training'],
    'violations.kind.': ['denied', 'finding'],
};

test('both languages have the same keys, every string non-empty, zh-CN first', () => {
    for (const d of dicts) {
        assert.deepEqual(Object.keys(d)[0], 'zh-CN');
        assert.deepEqual(Object.keys(d['zh-CN']).sort(), Object.keys(d.en).sort());
        for (const l of ['zh-CN', 'en']) {
            for (const [k, v] of Object.entries(d[l])) assert.ok(typeof v === 'string' && v.trim(), `${l} ${k}`);
        }
        // placeholders agree
        for (const k of Object.keys(d.en)) {
            const ph = (s) => (s.match(/\{\w+\}/g) || []).sort().join();
            assert.equal(ph(d['zh-CN'][k]), ph(d.en[k]), k);
        }
    }
});

test('every key the views use exists in both languages', () => {
    const used = new Set();
    for (const f of files) {
        const src = readFileSync(join(root, f), 'utf8');
        for (const m of src.matchAll(/\bt\(\s*'([a-z_]+\.[a-z0-9_.-]+)'/g)) if (!m[1].endsWith('.')) used.add(m[1]);
        for (const m of src.matchAll(/[?:]\s*'((?:alerts|audit|overview|violations|chart)\.[a-z0-9_.-]+)'/g)) {
            if (!m[1].endsWith('.')) used.add(m[1]);
        }
    }
    for (const [p, vs] of Object.entries(dynamic)) for (const v of vs) used.add(p + v);
    assert.ok(used.size > 150, `only ${used.size} keys found`);
    for (const k of used) {
        assert.ok(k in zh, `zh-CN lacks ${k}`);
        assert.ok(k in en, `en lacks ${k}`);
    }
});
