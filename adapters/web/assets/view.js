// DOM building for the page. Text from the server or other users only ever goes
// through textContent (never innerHTML), so a message cannot inject markup.

export const $ = (selector) => document.querySelector(selector);

// An element with attributes and children (strings become text nodes).
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value == null) continue;
    if (key === 'class') el.className = value;
    else if (key.startsWith('data-')) el.dataset[key.slice(5).replace(/-(\w)/g, (_, c) => c.toUpperCase())] = value;
    else el.setAttribute(key, value === true ? '' : value);
  }
  el.append(...children.filter((c) => c != null && c !== false));
  return el;
}

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const day = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

// One message (or tombstone) as a list item; `mine` adds edit and delete.
export function messageItem(m, mine) {
  const time = m.time ? new Date(m.time) : null;
  const parent = m.parent && h('div', { class: 'parent' },
    `↪ ${m.parent.name ?? 'someone'}: `,
    m.parent.deleted ? h('em', {}, 'message deleted') : (m.parent.content ?? ''));
  const actions = !m.deleted && h('div', { class: 'actions' },
    h('button', { type: 'button', class: 'quiet', 'data-action': 'reply' }, 'Reply'),
    mine && h('button', { type: 'button', class: 'quiet', 'data-action': 'edit' }, 'Edit'),
    mine && h('button', { type: 'button', class: 'quiet', 'data-action': 'delete' }, 'Delete'));
  return h('li', {
    class: `msg${mine ? ' mine' : ''}${m.deleted ? ' deleted' : ''}`,
    'data-id': m.id,
    'data-seq': m.seq,
    'data-author': m.authorId,
  },
  parent,
  h('div', { class: 'meta' },
    h('span', { class: 'author' }, m.authorName ?? `user ${m.authorId}`),
    time && h('time', { datetime: time.toISOString(), title: day.format(time) }, clock.format(time)),
    m.editedAt && !m.deleted && h('span', { class: 'edited', title: day.format(new Date(m.editedAt)) }, '(edited)')),
  h('div', { class: 'text' }, m.deleted ? 'message deleted' : m.content),
  actions);
}

// Inserts or replaces the item of message `m` in `list`, keeping `seq` order.
export function upsertMessage(list, item) {
  const existing = list.querySelector(`li[data-id="${CSS.escape(item.dataset.id)}"]`);
  if (existing) {
    existing.replaceWith(item);
    return;
  }
  const seq = Number(item.dataset.seq);
  const after = [...list.children].find((li) => Number(li.dataset.seq) > seq);
  list.insertBefore(item, after ?? null);
}

// A short-lived notice in the corner (errors from the server, lost connections).
export function toast(title, detail = '') {
  const el = h('div', { class: 'toast', role: 'status' }, h('strong', {}, title), detail);
  $('#toasts').append(el);
  setTimeout(() => el.remove(), 6000);
}
