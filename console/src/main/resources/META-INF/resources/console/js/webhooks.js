// Webhooks: the key's subscriptions (create, with the secret shown once; pause or resume; delete), their
// deliveries with every attempt, replay, ping.
import { call } from './api.js';
import { el, clear, errorBox, field, formatTime, status } from './dom.js';
import { t } from './i18n.js';

const EVENTS = ['document.indexed', 'document.failed', 'document.deleted', 'model.loaded', 'model.unloaded',
  'alert.triggered', 'alert.resolved', 'usage.threshold', 'webhook.exhausted'];

export function render(main) {
  const url = el('input', { type: 'url', id: 'webhook-url', required: true, size: 50, placeholder: 'https://…/webhook' });
  const events = EVENTS.map((e) => el('input', { type: 'checkbox', value: e, checked: e === 'document.indexed' }));
  const created = el('div', { id: 'webhook-created', 'aria-live': 'polite' });
  const list = el('div', { id: 'webhooks' });

  async function load() {
    try {
      const subs = await call('GET', '/webhooks');
      clear(list).append(...(subs.data.length ? subs.data.map((s) => subscription(s, load)) : [el('p', { className: 'muted' }, t('webhooks.none'))]));
    } catch (e) {
      clear(list).append(errorBox(e));
    }
  }

  async function create() {
    clear(created);
    const chosen = events.filter((c) => c.checked).map((c) => c.value);
    try {
      const s = await call('POST', '/webhooks', { json: { url: url.value.trim(), events: chosen } });
      created.append(el('div', { className: 'card' }, el('p', {}, t('webhooks.secretOnce')),
        el('p', { className: 'secret', id: 'webhook-secret' }, s.secret)));
      url.value = '';
      load();
    } catch (e) {
      created.append(errorBox(e));
    }
  }

  main.append(el('h1', {}, t('webhooks.title')),
    el('form', { className: 'card', onsubmit: (e) => { e.preventDefault(); create(); } },
      el('h2', {}, t('webhooks.create')), field('webhooks.url', url),
      el('fieldset', {}, el('legend', {}, t('webhooks.events')), events.map((c) => field(c.value, c, true))),
      el('button', { type: 'submit', className: 'primary', id: 'webhook-create' }, t('webhooks.createButton'))),
    created, list);
  load();
}

function subscription(s, reload) {
  const deliveries = el('div', { className: 'deliveries' });
  const act = async (f, done) => {
    try { await f(); if (done) status(done); } catch (e) { status(`${t('error.generic')} ${e.message}`); }
    reload();
  };
  async function showDeliveries() {
    try {
      const page = await call('GET', `/webhooks/${encodeURIComponent(s.id)}/deliveries`, { query: { limit: 50 } });
      clear(deliveries).append(deliveryTable(s, page.data, showDeliveries));
    } catch (e) {
      clear(deliveries).append(errorBox(e));
    }
  }
  return el('div', { className: 'card subscription', 'data-subscription': s.id },
    el('p', {}, el('strong', {}, s.url), ' ', el('span', { className: s.active ? 'ok' : 'error' },
      s.active ? t('webhooks.active') : t('webhooks.paused')), s.disabled_reason ? ` (${s.disabled_reason})` : ''),
    el('p', { className: 'muted' }, `${s.id} · ${(s.events || []).join(', ')} · ${formatTime(s.created_at)}`),
    el('div', {},
      el('button', { type: 'button', onclick: () => act(() => call('PUT', `/webhooks/${encodeURIComponent(s.id)}`, { json: { active: !s.active } })) },
        s.active ? t('webhooks.pause') : t('webhooks.resume')), ' ',
      el('button', { type: 'button', className: 'ping', onclick: async () => {
        try { await call('POST', `/webhooks/${encodeURIComponent(s.id)}/ping`); status(t('webhooks.pinged')); } catch (e) { status(e.message); }
        setTimeout(showDeliveries, 800);
      } }, t('webhooks.ping')), ' ',
      el('button', { type: 'button', className: 'show-deliveries', onclick: showDeliveries }, t('webhooks.deliveries')), ' ',
      el('button', { type: 'button', className: 'danger', onclick: () => {
        if (window.confirm(t('webhooks.confirmDelete', s.url))) act(() => call('DELETE', `/webhooks/${encodeURIComponent(s.id)}`));
      } }, t('delete'))),
    deliveries);
}

function deliveryTable(s, data, refresh) {
  if (!data.length) return el('p', { className: 'muted' }, t('webhooks.noDeliveries'));
  return el('table', {},
    el('thead', {}, el('tr', {}, ['webhooks.event', 'webhooks.status', 'webhooks.attempts', 'webhooks.created', 'webhooks.history', 'documents.actions']
      .map((k) => el('th', { scope: 'col' }, t(k))))),
    el('tbody', {}, data.map((d) => el('tr', { 'data-delivery': d.id },
      el('td', {}, d.event, el('div', { className: 'muted' }, d.id)),
      el('td', { className: 'delivery-status' }, t('delivery.' + d.status), d.next_attempt_at ? el('div', { className: 'muted' }, `${t('webhooks.next')} ${formatTime(d.next_attempt_at)}`) : null),
      el('td', { className: 'delivery-attempts' }, String(d.attempts)),
      el('td', {}, formatTime(d.created_at)),
      el('td', {}, el('pre', { className: 'small' }, (d.history || []).map((a) =>
        `${formatTime(a.attempted_at)}  ${a.status_code ?? ''} ${a.error ?? ''} ${a.duration_ms} ms`).join('\n'))),
      el('td', {}, el('button', { type: 'button', className: 'replay', onclick: async () => {
        try { await call('POST', `/webhooks/${encodeURIComponent(s.id)}/deliveries/${encodeURIComponent(d.id)}/replay`); status(t('webhooks.replayed')); } catch (e) { status(e.message); }
        setTimeout(refresh, 1000);
      } }, t('webhooks.replay')))))));
}
