// views.test.mjs - the parts of the watch-and-check views that need no browser:
//   node --test tests/console/views.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sanctionLift } from '../../console/views/alerts.js';
import { niceScale } from '../../console/lib/chart.js';
import alerts from '../../console/views/alerts.js';
import violations from '../../console/views/violations.js';
import audit from '../../console/views/audit.js';
import overview from '../../console/views/overview.js';
import watch from '../../console/views/watch_index.js';

test('each sanction in the form the guard lists it is lifted by the right route and body', () => {
    // subjects as src/lib/guard/respond.c writes them
    assert.deepEqual(sanctionLift({ kind: 'block', subject: 'address:192.0.2.7' }), ['/v1/guard/unblock', { address: '192.0.2.7' }]);
    assert.deepEqual(sanctionLift({ kind: 'block', subject: 'address:2001:db8:1:2::/64' }), ['/v1/guard/unblock', { address: '2001:db8:1:2::' }]);
    assert.deepEqual(sanctionLift({ kind: 'throttle', subject: 'address:10.0.0.9' }), ['/v1/guard/unthrottle', { address: '10.0.0.9' }]);
    assert.deepEqual(sanctionLift({ kind: 'throttle', subject: 'account:sales1' }), ['/v1/guard/unthrottle', { account: 'sales1' }]);
    assert.deepEqual(sanctionLift({ kind: 'lock', subject: 'account:steward3' }), ['/v1/guard/unlock', { account: 'steward3' }]);
    assert.deepEqual(sanctionLift({ kind: 'lock-login', subject: 'account:hr1' }), ['/v1/guard/unlock', { account: 'hr1' }]);
    assert.equal(sanctionLift({ kind: 'lock', subject: 'address:1.2.3.4' }), null);
    assert.equal(sanctionLift({ kind: 'seal', subject: 'vault' }), null);
});

test('what a role cannot use it never sees', () => {
    const roles = ['sales', 'customer_service', 'data_steward', 'security', 'legal', 'hr', 'auditor', 'admin'];
    const sees = (v) => roles.filter((r) => v.visible({ role: r, username: 'x' }));
    assert.deepEqual(sees(alerts), ['data_steward', 'security', 'hr']);
    assert.deepEqual(sees(violations), ['security', 'hr']);
    assert.deepEqual(sees(audit), ['security', 'legal', 'auditor']);
    assert.deepEqual(sees(overview), roles);
    assert.equal(alerts.visible(null), false);
    assert.deepEqual(watch.map((v) => v.name), ['alerts', 'violations', 'audit', 'overview']);
    for (const v of watch) assert.ok(v.titleKey && typeof v.render === 'function');
});

test('chart scales end on a round number at or above the largest value', () => {
    for (const [max, top] of [[0, 1], [1, 1], [7, 8], [9, 10], [23, 25], [101, 150], [999, 1000], [4321, 5000]]) {
        const s = niceScale(max);
        assert.equal(s.top, top, String(max));
        assert.ok(s.top >= max && Number.isInteger(s.top / s.step));
    }
});
