// daily.mjs - the daily work: customer service, stewards, sales.
import assert from 'node:assert/strict';
import { pollUntil } from '../lib/vault.mjs';
import { signIn, go, waitView, click, fill, actions, navNames, view, row, field } from '../lib/console.mjs';

const digits = (s) => String(s || '').replace(/\D/g, '');

// A fresh Beijing customer made by steward1 through the API, with a phone of its own.
export async function newCustomer(t, extra = {}, vault = t.demo) {
  const st = vault === t.demo ? (t.state.steward1 ||= await t.demo.as('steward1')) : await vault.as('steward1');
  const n = (t.state.seq = (t.state.seq || 0) + 1);
  const phone = `139${String(Date.now() % 1e6).padStart(6, '0')}${String(n).padStart(2, '0')}`;
  const body = { name: `测试客户${n}号`, phone, preferences: ['porcelain'], department: 'beijing', ...extra };
  const r = await st.post('/v1/customers', body);
  assert.equal(r.status, 201, `create customer: ${r.status} ${r.text}`);
  return { id: r.json.id, ...body };
}

// Customers view: search by one field (phone, email, id_number, name), as the form offers it.
export async function search(page, by, value) {
  const v = await waitView(page, 'customers');
  // The view renders its form after its root appears: wait for the form, then choose the path.
  await v.locator(`${field('by')}, ${field(by)}`).first().waitFor({ state: 'visible', timeout: 15000 });
  const selector = v.locator(field('by'));
  if (await selector.count()) {
    await selector.first().selectOption(by);
    await fill(v, { term: value });
    await v.locator(field('term')).first().press('Enter');
  } else {
    await fill(v, { [by]: value });
    await v.locator(field(by)).first().press('Enter');
  }
  return v;
}

// Opens a customer's card from the list: the row, then the card naming the customer.
export async function openCard(page, c) {
  const v = await waitView(page, 'customers');
  const r = v.locator(row(c.id)).first();
  await r.waitFor({ state: 'visible', timeout: 15000 });
  const open = r.locator('[data-action="open"]').first();
  await ((await open.count()) ? open : r).click();
  await pollUntil(async () => page.url().includes(c.id) &&
    (await page.locator('[data-view]').first().innerText()).includes(c.name), { timeout: 15000, what: `the card of ${c.id}` });
  return page.locator('[data-view]').first();
}

// A change request of service1 (phone) on a fresh customer, through the API.
export async function pendingChange(t) {
  const c = await newCustomer(t);
  const sv = await t.demo.as('service1');
  const phone = `137${String(Date.now() % 1e8).padStart(8, '0')}`;
  const r = await sv.patch(`/v1/customers/${c.id}`, { phone });
  assert.equal(r.status, 202, `service1's phone change must wait for a steward: ${r.status} ${r.text}`);
  return { customer: c, phone, request: r.json.request.id };
}

// Approves or rejects one request in its own entry of the list, with a note.
async function decide(entry, verb, note) {
  const n = entry.locator(field('note')).first();
  if (await n.count()) await n.fill(note);
  await click(entry, verb);
  const confirm = entry.locator('[data-action="confirm"]').first();
  if (await confirm.count() && await confirm.isVisible()) await confirm.click();
}

export const scenarios = [
  {
    name: 'service1 finds a customer by phone, adds a communication and requests a phone correction',
    async run(t) {
      const c = await newCustomer(t);
      const page = await t.page();
      await signIn(page, t.demo.url, 'service1');
      await go(page, 'customers');
      // The phone as people type it: spaces and a country code.
      await search(page, 'phone', `+86 ${c.phone.slice(0, 3)} ${c.phone.slice(3, 7)} ${c.phone.slice(7)}`);
      const card = await openCard(page, c);
      await pollUntil(async () => digits(await card.innerText()).includes(c.phone),
        { what: 'the card shows the phone customer service may read' });

      const summary = `电话回访：客户询问清代青花瓷拍卖预展 ${Date.now()}`;
      await fill(card, { channel: 'phone', summary });
      await click(card, 'add-communication');
      const sv = await t.demo.as('service1');
      await pollUntil(async () => {
        const r = await sv.get(`/v1/customers/${c.id}/communications`);
        return r.json?.communications?.some((m) => m.summary === summary);
      }, { what: 'the communication in the API' });
      await pollUntil(async () => (await card.innerText()).includes(summary), { what: 'the communication on the card' });

      const newPhone = `136${String(Date.now() % 1e8).padStart(8, '0')}`;
      await click(card, 'request-correction');
      await fill(card, { phone: newPhone });
      await click(card, 'submit-request');
      const req = await pollUntil(async () => {
        const r = await sv.get('/v1/requests?status=pending');
        return (r.json?.requests || []).find((q) => JSON.stringify(q).includes(c.id));
      }, { what: 'the change request in the API' });
      // Nothing changed yet: a steward must approve.
      const now = await (t.state.steward1 ||= await t.demo.as('steward1')).get(`/v1/customers/${c.id}`);
      assert.equal(now.json.phone, c.phone, 'the phone is unchanged until a steward approves');
      t.state.change = { customer: c, phone: newPhone, request: req.id };
    },
  },
  {
    name: 'steward1 sees the diff and approves; service1 then sees the new number',
    async run(t) {
      const ch = t.state.change || await pendingChange(t);
      const page = await t.page();
      await signIn(page, t.demo.url, 'steward1');
      const v = await go(page, 'requests');
      const r = v.locator(row(ch.request)).first();
      await r.waitFor({ state: 'visible', timeout: 15000 });
      // The diff, in the request's own entry: the number before and the number after.
      await pollUntil(async () => {
        const txt = digits(await r.innerText());
        return txt.includes(ch.customer.phone) && txt.includes(ch.phone);
      }, { what: 'the before/after diff of the phone' });
      await decide(r, 'approve', '核对身份证后同意');
      const st = t.state.steward1 ||= await t.demo.as('steward1');
      await pollUntil(async () => (await st.get(`/v1/requests/${ch.request}`)).json?.status === 'applied',
        { what: 'the request applied' });

      const p2 = await t.page();
      await signIn(p2, t.demo.url, 'service1');
      await go(p2, 'customers');
      await search(p2, 'phone', ch.phone);
      const card = await openCard(p2, ch.customer);
      await pollUntil(async () => digits(await card.innerText()).includes(ch.phone),
        { what: 'service1 sees the new number' });
    },
  },
  {
    name: 'steward3 rejects a change request',
    async run(t) {
      const ch = await pendingChange(t);
      const page = await t.page();
      await signIn(page, t.demo.url, 'steward3');
      const v = await go(page, 'requests');
      const r = v.locator(row(ch.request)).first();
      await r.waitFor({ state: 'visible', timeout: 15000 });
      await decide(r, 'reject', '号码与登记不符');
      const st = await t.demo.as('steward3');
      await pollUntil(async () => (await st.get(`/v1/requests/${ch.request}`)).json?.status === 'rejected',
        { what: 'the request rejected' });
      const c = await st.get(`/v1/customers/${ch.customer.id}`);
      assert.equal(c.json.phone, ch.customer.phone, 'a rejected change changes nothing');
    },
  },
  {
    name: 'sales1 sees only names, preferences and transactions, and no other control',
    async run(t) {
      const c = await newCustomer(t, {
        id_number: '110101199003074258', email: `c${Date.now()}@example.cn`, address: '北京市东城区东四十条 88 号',
        wechat: `wx_${Date.now()}`, notes: `只给客服看的备注 ${Date.now()}`, salesperson: 'sales1',
      });
      const st = t.state.steward1 ||= await t.demo.as('steward1');
      // A transaction made by sales1, so the card has one to show.
      const sa = await t.demo.as('sales1');
      const tx = await sa.post(`/v1/customers/${c.id}/transactions`, {
        date: '2026-03-01', description: '清乾隆 粉彩花卉纹碗', price: 12800000, currency: 'CNY' });
      assert.equal(tx.status, 201, `sales1's transaction: ${tx.status} ${tx.text}`);
      const page = await t.page();
      await signIn(page, t.demo.url, 'sales1');
      const nav = await navNames(page);
      const allowed = new Set(['customers', 'overview', 'training', 'account']); // training: their own
      assert.deepEqual(nav.filter((n) => !allowed.has(n)), [], `sales1's navigation offers only customers (and overview): ${nav}`);
      await go(page, 'customers');
      await search(page, 'name', c.name);
      const card = await openCard(page, c);
      await pollUntil(async () => (await card.innerText()).includes('清乾隆 粉彩花卉纹碗'), { what: 'the transaction on the card' });
      const text = await card.innerText();
      const html = await page.content();
      for (const [k, val] of Object.entries({ phone: c.phone, id_number: c.id_number, email: c.email,
        address: c.address, wechat: c.wechat, notes: c.notes })) {
        assert.ok(!text.includes(val) && !html.includes(val), `sales1 must not see ${k}`);
      }
      // The card's fields, where the console marks them (dd[data-field]): names and preferences.
      const shown = await card.locator('[data-field]').evaluateAll((els) => els.map((e) => e.getAttribute('data-field')));
      if (shown.length) {
        const extra = shown.filter((f) => !['name', 'preferences', 'department'].includes(f));
        assert.deepEqual(extra, [], `sales1's card shows only name and preferences (fields: ${shown})`);
        assert.ok(shown.includes('preferences'), `sales1 sees the preferences (fields: ${shown})`);
      }
      const acts = await actions(page);
      const forbidden = acts.filter((a) =>
        /(^|-)(erase|delete|export|import|request|correction|communication|approve|reject|edit|new|create|account|apikey|key|block|ack|close|policy|break|seal|unseal|honeytoken|plant|lift)($|-)/i.test(a) &&
        a !== 'add-transaction');
      assert.deepEqual(forbidden, [], `sales1 sees no control for anything else (actions: ${acts})`);
      const full = await st.get(`/v1/customers/${c.id}`);
      assert.equal(full.json.phone, c.phone); // the data is there; the console only shows what sales may read
    },
  },
  {
    name: 'the first customer-card time (Performance API), for make bench',
    async run(t) {
      const c = await newCustomer(t);
      const page = await t.page();
      await signIn(page, t.demo.url, 'service1');
      await go(page, 'customers');
      const samples = [];
      for (let i = 0; i < 5; i++) {
        await search(page, 'phone', c.phone);
        const v = await waitView(page, 'customers');
        const r = v.locator(row(c.id)).first();
        await r.waitFor({ state: 'visible', timeout: 15000 });
        // In the page: the click's time and the first frame where the card names the customer.
        await page.evaluate(({ id, name }) => {
          window.__card = { id, name, click: null, shown: null };
          const check = () => {
            const w = window.__card;
            if (!w || w.click === null || w.shown !== null) return;
            const root = document.querySelector('[data-view]');
            if (location.hash.includes(w.id) && root && root.textContent.includes(w.name)) w.shown = performance.now();
          };
          new MutationObserver(check).observe(document.body, { subtree: true, childList: true, characterData: true });
          document.addEventListener('click', () => { if (window.__card.click === null) window.__card.click = performance.now(); }, { capture: true, once: true });
        }, { id: c.id, name: c.name });
        const open = r.locator('[data-action="open"]').first();
        await ((await open.count()) ? open : r).click();
        const m = await pollUntil(() => page.evaluate(() => window.__card.shown !== null && window.__card), { what: 'the card' });
        const api = await page.evaluate((id) => performance.getEntriesByType('resource')
          .filter((e) => e.name.includes(`/v1/customers/${id}`)).map((e) => e.duration), c.id);
        samples.push({ card_ms: +(m.shown - m.click).toFixed(1), api_ms: api.length ? +api[api.length - 1].toFixed(1) : null });
        await go(page, 'customers');
      }
      const sorted = samples.map((s) => s.card_ms).sort((a, b) => a - b);
      t.timings.first_customer_card_ms = samples[0].card_ms;
      t.timings.customer_card_median_ms = sorted[Math.floor(sorted.length / 2)];
      t.timings.customer_card_samples = samples;
      t.log(`customer card: first ${samples[0].card_ms} ms, median ${t.timings.customer_card_median_ms} ms (click to card, Performance API)`);
      assert.ok(samples.every((s) => s.card_ms >= 0));
    },
  },
];
