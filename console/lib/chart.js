// chart.js - line and bar charts drawn by the page as SVG from the API's numbers: axes with
// ticks and labels, a legend, an accessible title and description (role="img"), and the same
// numbers as a table for screen readers and for anyone who prefers to read. Text goes in with
// textContent only. Colours are dark enough for 3:1 against white (WCAG 1.4.11).

const NS = 'http://www.w3.org/2000/svg';
export const PALETTE = ['#1f4e79', '#a4262c', '#1e6b3a', '#7a4b00', '#5b3f8c', '#006d75', '#4a5565', '#9c2a6b'];

let uid = 0;

function s(tag, attrs, text) {
    const n = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) {
        if (v !== undefined && v !== null) n.setAttribute(k, String(v));
    }
    if (text !== undefined && text !== null) n.textContent = String(text);
    return n;
}

// A "nice" upper bound and tick step for 0..max (1, 2 or 5 times a power of ten).
export function niceScale(max, ticks = 5) {
    if (!(max > 0)) return { top: 1, step: 1 };
    const raw = max / ticks;
    const mag = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 5, 10].map((m) => m * mag).find((x) => x >= raw);
    const st = Math.max(1, step);
    return { top: Math.ceil(max / st) * st, step: st };
}

function frame(opts, w, h) {
    const id = 'chart-' + ++uid;
    const svg = s('svg', {
        viewBox: `0 0 ${w} ${h}`, width: '100%', role: 'img', class: 'chart',
        'aria-labelledby': `${id}-t ${id}-d`, preserveAspectRatio: 'xMidYMid meet',
    });
    svg.appendChild(s('title', { id: `${id}-t` }, opts.title));
    svg.appendChild(s('desc', { id: `${id}-d` }, opts.desc || ''));
    return svg;
}

// Axes: y from 0 to top with ticks, x with (thinned) category labels. Returns the plot box.
function axes(svg, opts, w, h, top, step) {
    const m = { l: 48, r: 12, t: 12, b: 44 };
    const pw = w - m.l - m.r;
    const ph = h - m.t - m.b;
    const g = s('g', { class: 'axes', 'aria-hidden': 'true', 'font-size': 11, fill: '#4a5565' });
    for (let v = 0; v <= top; v += step) {
        const y = m.t + ph - (v / top) * ph;
        g.appendChild(s('line', { x1: m.l, x2: m.l + pw, y1: y, y2: y, stroke: '#d5dbe3' }));
        g.appendChild(s('text', { x: m.l - 6, y: y + 4, 'text-anchor': 'end' }, fmtNum(v)));
    }
    g.appendChild(s('line', { x1: m.l, x2: m.l, y1: m.t, y2: m.t + ph, stroke: '#4a5565' }));
    g.appendChild(s('line', { x1: m.l, x2: m.l + pw, y1: m.t + ph, y2: m.t + ph, stroke: '#4a5565' }));
    const n = opts.labels.length;
    const every = Math.max(1, Math.ceil(n / Math.floor(pw / 56)));
    opts.labels.forEach((lab, i) => {
        if (i % every !== 0 && i !== n - 1) return;
        const x = m.l + (n === 1 ? pw / 2 : ((i + 0.5) / n) * pw);
        g.appendChild(s('text', { x, y: m.t + ph + 16, 'text-anchor': 'middle' }, lab));
    });
    if (opts.yLabel) {
        g.appendChild(s('text', { x: 12, y: m.t + ph / 2, transform: `rotate(-90 12 ${m.t + ph / 2})`, 'text-anchor': 'middle' }, opts.yLabel));
    }
    svg.appendChild(g);
    return { x: m.l, y: m.t, w: pw, h: ph };
}

function fmtNum(v) {
    return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

function legend(series) {
    const box = document.createElement('ul');
    box.className = 'chart-legend';
    series.forEach((se, i) => {
        const li = document.createElement('li');
        const sw = document.createElement('span');
        sw.className = 'swatch';
        sw.setAttribute('aria-hidden', 'true');
        sw.style.background = se.color || PALETTE[i % PALETTE.length];
        li.append(sw, document.createTextNode(se.name));
        box.appendChild(li);
    });
    return box;
}

// The numbers behind a chart as a table (inside <details>, closed by default).
export function dataTable(opts, summaryText) {
    const d = document.createElement('details');
    d.className = 'chart-data';
    const sm = document.createElement('summary');
    sm.textContent = summaryText || opts.title;
    const table = document.createElement('table');
    const cap = document.createElement('caption');
    cap.textContent = opts.title;
    table.appendChild(cap);
    const thead = table.createTHead().insertRow();
    for (const h of [opts.xName || '', ...opts.series.map((x) => x.name)]) {
        const th = document.createElement('th');
        th.scope = 'col';
        th.textContent = h;
        thead.appendChild(th);
    }
    const tb = table.createTBody();
    opts.labels.forEach((lab, i) => {
        const r = tb.insertRow();
        const th = document.createElement('th');
        th.scope = 'row';
        th.textContent = lab;
        r.appendChild(th);
        for (const se of opts.series) r.insertCell().textContent = String(se.values[i] ?? 0);
    });
    const wrap = document.createElement('div');
    wrap.className = 'table-wrap';
    wrap.appendChild(table);
    d.append(sm, wrap);
    return d;
}

function figure(opts, svg) {
    const f = document.createElement('figure');
    f.className = 'chart-figure';
    const cap = document.createElement('figcaption');
    cap.textContent = opts.title;
    f.append(cap, svg);
    if (opts.series.length > 1 || opts.legend) f.appendChild(legend(opts.series));
    f.appendChild(dataTable(opts, opts.tableLabel));
    return f;
}

// opts: {title, desc, labels: [x labels], series: [{name, values: [numbers], color?}],
//        yLabel?, xName?, tableLabel?, width?, height?}. Returns a <figure>.
export function lineChart(opts) {
    const w = opts.width || 640;
    const h = opts.height || 240;
    const svg = frame(opts, w, h);
    const max = Math.max(0, ...opts.series.flatMap((x) => x.values));
    const { top, step } = niceScale(max);
    const box = axes(svg, opts, w, h, top, step);
    const n = opts.labels.length;
    opts.series.forEach((se, k) => {
        const color = se.color || PALETTE[k % PALETTE.length];
        const pts = se.values.map((v, i) => [
            box.x + (n === 1 ? box.w / 2 : ((i + 0.5) / n) * box.w),
            box.y + box.h - ((v || 0) / top) * box.h,
        ]);
        const g = s('g', { 'aria-hidden': 'true' });
        g.appendChild(s('polyline', { points: pts.map((p) => p.join(',')).join(' '), fill: 'none', stroke: color, 'stroke-width': 2.5, 'stroke-dasharray': k % 2 ? '6 3' : null }));
        pts.forEach(([x, y], i) => {
            const c = s('circle', { cx: x, cy: y, r: 3.5, fill: color });
            c.appendChild(s('title', {}, `${se.name} · ${opts.labels[i]}: ${se.values[i] || 0}`));
            g.appendChild(c);
        });
        svg.appendChild(g);
    });
    return figure(opts, svg);
}

// Grouped (or, with opts.stacked, stacked) bars per label.
export function barChart(opts) {
    const w = opts.width || 640;
    const h = opts.height || 240;
    const svg = frame(opts, w, h);
    const n = opts.labels.length;
    const totals = opts.labels.map((_, i) => opts.series.reduce((a, x) => a + (x.values[i] || 0), 0));
    const max = opts.stacked ? Math.max(0, ...totals) : Math.max(0, ...opts.series.flatMap((x) => x.values));
    const { top, step } = niceScale(max);
    const box = axes(svg, opts, w, h, top, step);
    const slot = box.w / Math.max(1, n);
    const k = opts.series.length;
    const bw = opts.stacked ? slot * 0.6 : (slot * 0.8) / Math.max(1, k);
    for (let i = 0; i < n; i++) {
        let base = 0;
        opts.series.forEach((se, j) => {
            const v = se.values[i] || 0;
            const bh = (v / top) * box.h;
            const x = opts.stacked ? box.x + i * slot + slot * 0.2 : box.x + i * slot + slot * 0.1 + j * bw;
            const y = box.y + box.h - bh - (opts.stacked ? (base / top) * box.h : 0);
            const r = s('rect', { x, y, width: Math.max(1, bw - 1), height: Math.max(0, bh), fill: se.color || PALETTE[j % PALETTE.length] });
            r.appendChild(s('title', {}, `${se.name} · ${opts.labels[i]}: ${v}`));
            svg.appendChild(r);
            base += v;
        });
    }
    return figure(opts, svg);
}

// Counts of timestamped items per day (the last `days` days, in the given zone's calendar):
// {labels: ['12-01', ...], keys: ['2026-12-01', ...], counts(fn)}.
export function dayBuckets(days, zone, now = Date.now()) {
    const f = new Intl.DateTimeFormat('en-CA', { timeZone: zone || 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' });
    const keys = [];
    for (let i = days - 1; i >= 0; i--) keys.push(f.format(new Date(now - i * 86400000)));
    const index = new Map(keys.map((k, i) => [k, i]));
    return {
        keys,
        labels: keys.map((k) => k.slice(5)),
        dayOf: (t) => {
            const d = new Date(t);
            return isNaN(d.getTime()) ? undefined : index.get(f.format(d));
        },
    };
}
