// The web chat page: log in (a development token, or a pasted one), open a DM room
// or a community channel, read its history over REST (older pages as the user
// scrolls up), then chat live over STOMP: send, reply, edit and delete one's own
// messages, typing, who is online, and the server's refusals from
// /user/queue/errors. A send refused `overloaded` shows "server busy, retrying" and
// is sent again (outbox.js). After a lost connection the room is resumed from the
// last `seq` seen (x-since-seq); a `gap` answer reloads it over REST.

import { HISTORY_PAGE, api } from './api.js';
import { Outbox } from './outbox.js';
import { StompClient } from './stomp.js';
import { $, h, messageItem, toast, upsertMessage } from './view.js';

const TYPING_SHOWN_MS = 3500; // how long "x is typing" stays after the last typing event
const TYPING_EVERY_MS = 2000; // at most one typing event sent per this period
const PRESENCE_REFRESH_MS = 30000;
const SESSION_KEY = 'chat-server.session';
const OLDER_WITHIN_PX = 120; // older history loads when the list is scrolled this close to its top

// A form control by name (form.id and form.name would be the form's own attributes).
const field = (form, name) => form.elements.namedItem(name);

const state = {
  me: null, // { token, userId, name }
  client: null,
  room: null, // { kind: 'direct'|'channel', id, community? }
  unsubscribe: [],
  messages: new Map(), // id -> message model
  people: new Map(), // userId -> { name, online }
  typing: new Map(), // userId -> { name, until }
  replyTo: null,
  lastTypingSent: 0,
  retries: 0,
  lastSeq: 0, // the highest room `seq` seen in the open room (events and history)
  oldestId: null, // the oldest message loaded: the cursor of the next older page
  olderDone: false, // the oldest page has been loaded
  loadingOlder: false,
};

// ------------------------------------------------------------------ models

// The REST API's message (history) as the page's model.
const fromRest = (m) => ({
  id: m.id,
  seq: m.seq,
  authorId: String(m.author.id),
  authorName: m.author.name,
  content: m.content,
  time: m.sentAt,
  editedAt: m.editedAt,
  deleted: m.deleted,
  parent: m.parent && {
    id: m.parent.id, name: m.parent.authorName, content: m.parent.content, deleted: m.parent.deleted,
  },
});

// The seed's `time` is UTC without an offset.
const utc = (time) => (time && !/[zZ]|[+-]\d\d:\d\d$/.test(time) ? `${time}Z` : time);

// A live `message` or `reply` event as the page's model.
const fromEvent = (e) => ({
  id: e.id,
  seq: e.seq,
  authorId: String(e.userId),
  authorName: e.name,
  content: e.message,
  time: utc(e.time),
  editedAt: null,
  deleted: false,
  parent: e.parentId && {
    id: e.parentId, name: e.parentName, content: e.parentContent, deleted: e.parentContent == null,
  },
});

// ------------------------------------------------------------------ rendering

const isMine = (m) => m.authorId === String(state.me.userId);

function render(m) {
  state.messages.set(m.id, m);
  const list = $('#messages');
  const stick = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  upsertMessage(list, messageItem(m, isMine(m)));
  if (stick) list.scrollTop = list.scrollHeight;
}

// Replies show their parent's current text: refresh those that quote `parent`.
function refreshReplies(parent) {
  for (const m of state.messages.values()) {
    if (m.parent?.id === parent.id) {
      m.parent = { ...m.parent, content: parent.deleted ? null : parent.content, deleted: parent.deleted };
      render(m);
    }
  }
}

function renderTyping() {
  const now = Date.now();
  const names = [...state.typing.entries()]
    .filter(([, t]) => t.until > now)
    .map(([, t]) => t.name);
  $('#typing').textContent = names.length === 0 ? ''
    : `${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} typing…`;
}
setInterval(renderTyping, 500);

function renderPeople() {
  const me = String(state.me.userId);
  const people = [...state.people.entries()].sort(([a, x], [b, y]) =>
    (a === me ? -1 : b === me ? 1 : 0) || (y.online - x.online) || x.name.localeCompare(y.name));
  $('#people').replaceChildren(...people.map(([id, p]) => h('li', {
    class: p.online ? 'online' : '', 'data-user': id, title: p.online ? 'online' : 'offline',
  }, id === me ? `${p.name} (you)` : p.name)));
}

function setStatus(text, stateName) {
  const el = $('#status');
  el.textContent = text;
  el.dataset.state = stateName;
}

// ------------------------------------------------------------------ presence

function know(userId, name, online) {
  const id = String(userId);
  const known = state.people.get(id);
  const fresh = !known;
  state.people.set(id, {
    name: name ?? known?.name ?? `user ${id}`,
    online: online ?? known?.online ?? false,
  });
  renderPeople();
  if (fresh && online === undefined) refreshPresence();
}

let presenceTimer = null;
function refreshPresence() {
  // Coalesce bursts (a history page names many authors at once).
  clearTimeout(presenceTimer);
  presenceTimer = setTimeout(async () => {
    const ids = [...state.people.keys()];
    if (ids.length === 0 || !state.me) return;
    try {
      const { users } = await api.presence(state.me.token, ids);
      for (const u of users) {
        const p = state.people.get(String(u.userId));
        if (p) p.online = u.online;
      }
      renderPeople();
    } catch (error) {
      console.warn('presence', error);
    }
  }, 150);
}
setInterval(() => state.room && refreshPresence(), PRESENCE_REFRESH_MS);

// ------------------------------------------------------------------ events

// Remembers the highest room `seq` seen, where a resume starts from.
function saw(seq) {
  if (Number.isSafeInteger(seq) && seq > state.lastSeq) state.lastSeq = seq;
}

function onRoomEvent(e) {
  if (typeof e !== 'object' || e === null) return;
  saw(e.seq);
  switch (e.type) {
    case 'message':
    case 'reply': {
      const m = fromEvent(e);
      state.typing.delete(m.authorId);
      renderTyping();
      know(m.authorId, m.authorName);
      render(m);
      break;
    }
    case 'modify': {
      const m = state.messages.get(e.id);
      if (!m) break;
      Object.assign(m, { content: e.message, editedAt: utc(e.editedAt) ?? new Date().toISOString(), seq: m.seq });
      render(m);
      refreshReplies(m);
      break;
    }
    case 'delete': {
      const m = state.messages.get(e.id);
      if (!m) break;
      Object.assign(m, { deleted: true, content: null });
      render(m);
      refreshReplies(m);
      break;
    }
    case 'typing':
      if (String(e.userId) !== String(state.me.userId)) {
        state.typing.set(String(e.userId), { name: e.name ?? `user ${e.userId}`, until: Date.now() + TYPING_SHOWN_MS });
        know(e.userId, e.name);
        renderTyping();
      }
      break;
    case 'gap':
      // More was missed than the server replays: read the room again over REST.
      reloadRoom();
      break;
    case 'connect':
    case 'disconnect':
      know(e.userId, undefined, e.type === 'connect');
      if (e.type === 'disconnect') {
        state.typing.delete(String(e.userId));
        renderTyping();
      }
      break;
    default:
      break;
  }
}

function onRefusal(e) {
  if (outbox.refused(e)) return;
  toast(`Refused: ${e.code ?? 'error'}`, e.message ?? JSON.stringify(e));
}

// ------------------------------------------------------------------ rooms

const prefix = () => (state.room.kind === 'direct' ? '/kafka/send-direct' : '/kafka/send-channel');
const ids = () => (state.room.kind === 'direct'
  ? { channelId: String(state.room.id) }
  : { channelId: String(state.room.id), communityId: String(state.room.community) });
const roomLabel = (room) => (room.kind === 'direct' ? `DM room ${room.id}` : `Channel ${room.id}`);
const roomKey = (room) => `${room.kind}:${room.id}`;

// Posts, replies, edits and deletes wait for their RECEIPT, and are sent again while
// the server refuses them as overloaded.
const outbox = new Outbox({
  transmit: (destination, json, headers) => {
    if (!state.client) throw new Error('not connected');
    state.client.send(destination, json, headers);
  },
  onBusy: (busy) => { $('#busy').hidden = !busy; },
  onGiveUp: (e) => toast('Not sent: the server stayed busy', e.message ?? ''),
});

function send(action, body) {
  const destination = `${prefix()}-${action}`;
  const json = { ...ids(), ...body };
  try {
    if (action === 'typing') state.client.send(destination, json);
    else outbox.send(destination, json, { idempotent: action === 'message' || action === 'reply' });
    return true;
  } catch (error) {
    toast('Not sent', error.message);
    return false;
  }
}

// Opens `room`: subscribes, then reads its newest history page. With `resume` (a
// reconnect to the room already shown), subscribes with x-since-seq instead and keeps
// what is shown: the server replays what was missed, or answers `gap`.
async function openRoom(room, { resume = false } = {}) {
  const list = $('#messages');
  const resuming = resume && state.room && roomKey(state.room) === roomKey(room)
    && list.dataset.loaded === roomKey(room);
  for (const stop of state.unsubscribe) stop();
  state.unsubscribe = [];
  state.room = room;
  if (!resuming) {
    state.messages.clear();
    state.typing.clear();
    state.people = new Map([[String(state.me.userId), { name: state.me.name, online: true }]]);
    cancelReply();
    list.replaceChildren();
    delete list.dataset.loaded;
    Object.assign(state, { lastSeq: 0, oldestId: null, olderDone: false, loadingOlder: false });
    delete list.dataset.older;
  }
  $('#room-title').textContent = roomLabel(room);
  $('#room-info').textContent = room.kind === 'channel' ? `community ${room.community}` : '';
  $('#composer [name=content]').placeholder = `Message ${roomLabel(room)}`;
  renderPeople();
  renderRooms();
  if (!state.client) return;

  // Subscribe first, then read history: nothing posted in between is missed, and
  // duplicates are merged by message id.
  const topic = room.kind === 'direct' ? `/topic/direct/${room.id}` : `/topic/group/${room.id}`;
  const since = resuming ? { 'x-since-seq': String(state.lastSeq) } : {};
  state.unsubscribe.push(state.client.subscribe(topic, onRoomEvent, since));
  if (room.kind === 'channel') {
    state.unsubscribe.push(state.client.subscribe(`/topic/community/${room.community}`, onRoomEvent));
  }
  try {
    state.client.send('/kafka/join-channel', {
      channel_id: room.kind === 'direct' ? `r-${room.id}` : `c-${room.id}`, type: 'state',
    });
  } catch { /* only marks the room read */ }
  setComposer(true);
  if (!resuming) await loadNewest(room);
  refreshPresence();
  loadRooms();
}

// Reads the newest history page of `room` into the list (merged by message id).
async function loadNewest(room) {
  const list = $('#messages');
  try {
    const { messages } = await api.history(state.me.token, room);
    if (roomKey(state.room) !== roomKey(room)) return;
    for (const m of [...messages].reverse().map(fromRest)) {
      saw(m.seq);
      if (!state.messages.has(m.id)) render(m);
      know(m.authorId, m.authorName);
    }
    state.oldestId = messages.at(-1)?.id ?? null;
    state.olderDone = messages.length < HISTORY_PAGE;
    list.dataset.older = state.olderDone ? 'done' : 'more';
    list.scrollTop = list.scrollHeight;
    list.dataset.loaded = roomKey(room);
  } catch (error) {
    toast('History not loaded', error.message);
    return;
  }
  loadOlderIfAtTop();
}

// The server answered a resume with `gap`: show the room as the history has it now.
function reloadRoom() {
  const room = state.room;
  if (!room) return;
  const list = $('#messages');
  state.messages.clear();
  list.replaceChildren();
  Object.assign(state, { oldestId: null, olderDone: false });
  delete list.dataset.older;
  loadNewest(room);
}

// Reads the page of history before the oldest message shown, keeping the view still.
async function loadOlder() {
  const room = state.room;
  if (!room || state.loadingOlder || state.olderDone || !state.oldestId) return;
  state.loadingOlder = true;
  const list = $('#messages');
  try {
    const { messages } = await api.history(state.me.token, room, state.oldestId);
    if (roomKey(state.room) !== roomKey(room)) return;
    const fromBottom = list.scrollHeight - list.scrollTop;
    for (const m of messages.map(fromRest)) {
      if (!state.messages.has(m.id)) {
        state.messages.set(m.id, m);
        upsertMessage(list, messageItem(m, isMine(m)));
      }
      know(m.authorId, m.authorName);
    }
    list.scrollTop = list.scrollHeight - fromBottom;
    state.oldestId = messages.at(-1)?.id ?? state.oldestId;
    state.olderDone = messages.length < HISTORY_PAGE;
    list.dataset.older = state.olderDone ? 'done' : 'more';
  } catch (error) {
    toast('Older messages not loaded', error.message);
    return;
  } finally {
    state.loadingOlder = false;
  }
  // A page that did not fill the view leaves nothing to scroll: read on.
  loadOlderIfAtTop();
}

function loadOlderIfAtTop() {
  if ($('#messages').scrollTop < OLDER_WITHIN_PX) loadOlder();
}

$('#messages').addEventListener('scroll', loadOlderIfAtTop, { passive: true });

let knownRooms = [];
function renderRooms() {
  const current = state.room && roomKey(state.room);
  const rooms = [...knownRooms];
  if (state.room && !rooms.some((r) => roomKey(r) === current)) rooms.unshift(state.room);
  $('#rooms').replaceChildren(...rooms.map((room) => h('li',
    { class: roomKey(room) === current ? 'active' : '', 'data-room': roomKey(room) },
    h('button', { type: 'button' },
      room.kind === 'community' ? `Community ${room.id}…` : roomLabel(room)))));
  $('#rooms').onclick = (event) => {
    const key = event.target.closest('li')?.dataset.room;
    const room = rooms.find((r) => roomKey(r) === key);
    if (!room) return;
    if (room.kind === 'community') {
      // A community's channels are not listed by the API: ask for one.
      const form = $('#join-form');
      field(form, 'kind').value = 'channel';
      field(form, 'community').value = room.id;
      field(form, 'kind').dispatchEvent(new Event('change'));
      field(form, 'id').focus();
    } else {
      openRoom(room);
    }
  };
}

async function loadRooms() {
  try {
    const { rooms } = await api.rooms(state.me.token);
    const channels = knownRooms.filter((r) => r.kind === 'channel');
    knownRooms = [...rooms.map((r) => ({ kind: r.kind, id: r.id })), ...channels];
    renderRooms();
  } catch (error) {
    console.warn('rooms', error);
  }
}

// ------------------------------------------------------------------ composing

function setComposer(enabled) {
  const form = $('#composer');
  field(form, 'content').disabled = !enabled;
  form.querySelector('button').disabled = !enabled;
}

function startReply(m) {
  state.replyTo = m;
  const bar = $('#replying');
  bar.querySelector('span').textContent = `Replying to ${m.authorName}: ${m.content}`;
  bar.hidden = false;
  $('#composer [name=content]').focus();
}

function cancelReply() {
  state.replyTo = null;
  $('#replying').hidden = true;
}

function startEdit(li, m) {
  const input = h('input', { value: m.content, maxlength: 4000, 'aria-label': 'Edit message' });
  const form = h('form', { class: 'edit' }, input,
    h('button', { type: 'submit' }, 'Save'),
    h('button', { type: 'button', class: 'quiet', 'data-action': 'cancel-edit' }, 'Cancel'));
  form.onsubmit = (event) => {
    event.preventDefault();
    const content = input.value.trim();
    if (content && content !== m.content) send('modify', { id: m.id, content });
    render(m);
  };
  form.onkeydown = (event) => {
    if (event.key === 'Escape') render(m);
  };
  form.querySelector('[data-action=cancel-edit]').onclick = () => render(m);
  li.querySelector('.text').replaceWith(form);
  input.focus();
}

$('#messages').addEventListener('click', (event) => {
  const button = event.target.closest('button[data-action]');
  const li = event.target.closest('li.msg');
  const m = li && state.messages.get(li.dataset.id);
  if (!button || !m) return;
  switch (button.dataset.action) {
    case 'reply': startReply(m); break;
    case 'edit': startEdit(li, m); break;
    case 'delete': send('delete', { id: m.id }); break;
    default: break;
  }
});

$('#composer').addEventListener('submit', (event) => {
  event.preventDefault();
  const box = field(event.target, 'content');
  const content = box.value.trim();
  if (!content || !state.room) return;
  const sent = state.replyTo
    ? send('reply', { content, parentId: state.replyTo.id })
    : send('message', { content });
  if (sent) {
    box.value = '';
    cancelReply();
  }
});

$('#composer [name=content]').addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey) {
    event.preventDefault();
    $('#composer').requestSubmit();
  } else if (event.key === 'Escape') {
    cancelReply();
  }
});

$('#composer [name=content]').addEventListener('input', () => {
  const now = Date.now();
  if (state.room && now - state.lastTypingSent > TYPING_EVERY_MS) {
    state.lastTypingSent = now;
    send('typing', {});
  }
});

$('#replying button').addEventListener('click', cancelReply);

$('#join-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.target;
  const id = Number(field(form, 'id').value);
  const community = Number(field(form, 'community').value);
  if (field(form, 'kind').value === 'channel') {
    if (!community) { field(form, 'community').focus(); return; }
    const room = { kind: 'channel', id, community };
    if (!knownRooms.some((r) => roomKey(r) === roomKey(room))) knownRooms.push(room);
    openRoom(room);
  } else {
    openRoom({ kind: 'direct', id });
  }
  field(form, 'id').value = '';
});

$('#join-form [name=kind]').addEventListener('change', (event) => {
  const channel = event.target.value === 'channel';
  const form = $('#join-form');
  field(form, 'community').hidden = !channel;
  field(form, 'community').required = channel;
});

// ------------------------------------------------------------------ connection

async function connect() {
  setStatus('connecting…', 'connecting');
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const client = new StompClient(`${scheme}://${location.host}/my-chat/websocket`, {
    'access-token': state.me.token,
    'user-id': String(state.me.userId),
  });
  try {
    await client.connect();
  } catch (error) {
    if (/connect refused/.test(error.message)) {
      logout(`The server refused the token: ${error.message}`);
      return;
    }
    scheduleReconnect(error.message);
    return;
  }
  state.client = client;
  state.retries = 0;
  setStatus('online', 'online');
  client.subscribe('/user/queue/errors', onRefusal);
  client.onerror = (reason) => toast('Server error', reason);
  client.onreceipt = (receipt) => outbox.receipted(receipt);
  client.onclose = () => {
    state.client = null;
    outbox.connectionLost();
    setComposer(false);
    scheduleReconnect('connection lost');
  };
  if (state.room) openRoom(state.room, { resume: true });
}

function scheduleReconnect(reason) {
  setStatus(`offline: ${reason}; retrying`, 'offline');
  const delay = Math.min(15000, 1000 * 2 ** state.retries++);
  setTimeout(() => state.me && !state.client && connect(), delay);
}

function enter(me) {
  state.me = me;
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(me));
  $('#login').hidden = true;
  $('#chat').hidden = false;
  $('#logout').hidden = false;
  $('#me').textContent = `${me.name} · #${me.userId}`;
  state.people = new Map([[String(me.userId), { name: me.name, online: true }]]);
  renderPeople();
  renderRooms();
  loadRooms();
  connect();
}

function logout(message = '') {
  sessionStorage.removeItem(SESSION_KEY);
  state.client?.disconnect();
  outbox.clear();
  Object.assign(state, { me: null, client: null, room: null, unsubscribe: [], lastSeq: 0 });
  knownRooms = [];
  $('#chat').hidden = true;
  $('#login').hidden = false;
  $('#logout').hidden = true;
  $('#me').textContent = '';
  $('#login-error').textContent = message;
  setStatus('offline', 'offline');
}

// The claims of a pasted token (not verified here: the server verifies it).
function claims(token) {
  const part = token.split('.')[1] ?? '';
  const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))));
}

let developmentTokens = false;

$('#login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  $('#login-error').textContent = '';
  try {
    if (developmentTokens) {
      const { token, userId, name } = await api.devToken(Number(field(form, 'userId').value), field(form, 'name').value);
      enter({ token, userId: String(userId), name });
    } else {
      const token = field(form, 'token').value.trim();
      const c = claims(token);
      if (c.id == null) throw new Error('the token has no id claim');
      enter({ token, userId: String(c.id), name: c.name ?? `user ${c.id}` });
    }
  } catch (error) {
    $('#login-error').textContent = error instanceof SyntaxError ? 'That is not a JWT.' : error.message;
  }
});

$('#logout').addEventListener('click', () => logout());
window.addEventListener('pagehide', () => state.client?.disconnect());

async function start() {
  try {
    ({ developmentTokens } = await api.config());
  } catch {
    developmentTokens = false;
  }
  $('#dev-fields').hidden = !developmentTokens;
  $('#token-fields').hidden = developmentTokens;
  for (const input of $('#dev-fields').querySelectorAll('input')) input.required = developmentTokens;
  const saved = sessionStorage.getItem(SESSION_KEY);
  if (saved) {
    try { enter(JSON.parse(saved)); return; } catch { sessionStorage.removeItem(SESSION_KEY); }
  }
  document.body.dataset.ready = 'true';
}

start().finally(() => { document.body.dataset.ready = 'true'; });
