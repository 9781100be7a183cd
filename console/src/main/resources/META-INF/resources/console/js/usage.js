// Usage: the key's tokens per day against its daily quota, drawn by hand in SVG, with the month against its quota.
import { call } from './api.js';
import { el, clear, errorBox, field } from './dom.js';
import { t } from './i18n.js';

const SVG = 'http://www.w3.org/2000/svg';

export function render(main, ctx) {
  const days = el('select', { id: 'usage-days' }, [7, 14, 31].map((n) => el('option', { value: n }, t('usage.lastDays', n))));
  const who = ctx.admin ? el('input', { type: 'text', id: 'usage-key', placeholder: t('usage.ownKey') }) : null;
  const out = el('div', { id: 'usage' });

  async function load() {
    const to = new Date();
    const from = new Date(to.getTime() - (Number(days.value) - 1) * 86400000);
    const query = { from: from.toISOString().slice(0, 10), to: to.toISOString().slice(0, 10) };
    if (who && who.value.trim()) query.key = who.value.trim();
    try {
      const usage = await call('GET', '/usage', { query });
      clear(out).append(...usage.data.map(keyUsage));
      if (!usage.data.length) out.append(el('p', { className: 'muted' }, t('usage.none')));
    } catch (e) {
      clear(out).append(errorBox(e));
    }
  }
  main.append(el('h1', {}, t('usage.title')),
    el('form', { className: 'row', onsubmit: (e) => { e.preventDefault(); load(); } },
      field('usage.range', days), who ? field('usage.key', who) : null, el('button', { type: 'submit' }, t('show'))),
    out);
  load();
}

function quotaText(used, quota) {
  return quota == null ? `${used} (${t('usage.noQuota')})` : `${used} / ${quota} (${Math.round((100 * used) / quota)} %)`;
}

function keyUsage(u) {
  const q = u.quotas || {};
  return el('div', { className: 'card key-usage' },
    el('h2', {}, u.key),
    el('p', {}, `${t('usage.today')}: ${quotaText(u.used_today, q.daily_tokens)} · ${t('usage.month')}: ${quotaText(u.used_this_month, q.monthly_tokens)}`),
    el('p', { className: 'muted' }, t('usage.totals', u.total_tokens, u.total_requests)),
    chart(u.days, q.daily_tokens));
}

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text != null) node.textContent = String(text);
  return node;
}

/** One bar per day; the daily quota, when there is one, as a dashed line. */
function chart(days, dailyQuota) {
  const w = 900, h = 240, left = 56, bottom = 28, top = 12;
  const max = Math.max(1, dailyQuota || 0, ...days.map((d) => d.tokens));
  const plotH = h - bottom - top;
  const step = (w - left - 8) / Math.max(1, days.length);
  const root = svg('svg', { class: 'chart', viewBox: `0 0 ${w} ${h}`, role: 'img', 'aria-label': t('usage.chart') });
  root.append(svg('line', { x1: left, y1: top + plotH, x2: w - 4, y2: top + plotH, stroke: '#999' }));
  root.append(svg('text', { x: 4, y: top + 10 }, max), svg('text', { x: 4, y: top + plotH }, 0));
  days.forEach((d, i) => {
    const bh = (d.tokens / max) * plotH;
    const x = left + i * step;
    const bar = svg('rect', { class: 'bar', x: x + 2, y: top + plotH - bh, width: Math.max(2, step - 4), height: bh });
    bar.append(svg('title', {}, `${d.date}: ${d.tokens} tokens, ${d.requests} requests`));
    root.append(bar);
    if (days.length <= 14 || i % 3 === 0) root.append(svg('text', { x: x + 2, y: h - 10 }, d.date.slice(5)));
  });
  if (dailyQuota) {
    const y = top + plotH - (dailyQuota / max) * plotH;
    root.append(svg('line', { class: 'quota', x1: left, y1: y, x2: w - 4, y2: y }), svg('text', { x: w - 150, y: y - 4 }, `${t('usage.dailyQuota')} ${dailyQuota}`));
  }
  return root;
}
