// Browser check: two users chat on the server's web page in headless Chromium.
//
//   CHAT_URL=http://127.0.0.1:18100 SCREENSHOT=target/artifacts/web-chat.png node web-chat.mjs
//
// alice and bob log in with development tokens in two pages, open the same DM room,
// and: alice types (bob sees the typing indicator) and posts; bob replies; each sees
// the other online; alice edits her message (bob sees the edit, and his reply's quote
// follows it) and deletes another (bob sees the tombstone); a refusal from the server
// (content too long) is shown to alice; they chat in a community channel too; alice
// reloads and reads the DM room back from the REST history; carol opens a room with
// more than a page of history and loads older pages by scrolling up; her connection
// drops while others post and the page resumes the room with x-since-seq (no REST
// reload), and after missing more than the server replays (`stomp.resume_limit`, set
// to 20 by run.sh) it gets a `gap` and reloads over REST; bob leaves and alice sees
// him go offline. Last, graceful degradation: a reader of this script's own (the `ws`
// library, its socket paused) stops reading a room, another client floods the room with
// large messages until the server refuses one `overloaded`; alice's post there is refused
// too and her page shows "server busy, retrying"; once the reader reads again the page's
// retry is stored, the message appears once and the banner goes away. No page may log an
// error (a Content-Security-Policy violation would). Saves a screenshot of bob's page.
//
// Prints one line per check and a closing `N passed, M failed`; exits non-zero on any
// failure, and stops by itself within OVERALL_TIMEOUT_MS.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium } from 'playwright-core';
import WebSocket from 'ws';

const BASE = process.env.CHAT_URL ?? 'http://127.0.0.1:8080';
const SCREENSHOT = process.env.SCREENSHOT ?? 'web-chat.png';
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const WAIT_MS = 8000; // for any one expected change of a page
const OVERALL_TIMEOUT_MS = 90000;
const ROOM = 5;
const LONG_ROOM = 6; // more than a page of history, for scrolling up and resuming
const RESUME_LIMIT = 20; // run.sh starts the server with CHAT_STOMP__RESUME_LIMIT=20
const BUSY_ROOM = 7; // flooded until the server refuses posts as overloaded
const FLOOD_LIMIT = 2000; // posts before the check gives up on provoking a refusal
// About 16 KB of UTF-8 per message: a paused reader's buffers fill after a few hundred.
const LARGE = '\u{1F600}'.repeat(3990);

let passed = 0;
let failed = 0;

class Abort extends Error {}

async function check(label, fn) {
  try {
    await fn();
    passed += 1;
    console.log(`ok   ${label}`);
  } catch (error) {
    failed += 1;
    console.log(`FAIL ${label}`);
    console.log(String(error?.message ?? error).split('\n').slice(0, 8).join('\n').replace(/^/gm, '     '));
    // Later checks build on earlier ones: stop here.
    throw new Abort();
  }
}

const visible = (locator) => locator.waitFor({ state: 'visible', timeout: WAIT_MS });

// A message item on `page` by (a part of) its text.
const message = (page, text) => page.locator('#messages li.msg', { hasText: text });

async function waitForText(locator, expected) {
  const deadline = Date.now() + WAIT_MS;
  let actual = '';
  while (Date.now() < deadline) {
    actual = (await locator.textContent({ timeout: WAIT_MS }).catch(() => '')) ?? '';
    if (expected instanceof RegExp ? expected.test(actual) : actual.includes(expected)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`expected ${expected} in ${JSON.stringify(actual)}`);
}

async function openPage(context, who, errors) {
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`${who}: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`${who}: ${e.message}`));
  page.setDefaultTimeout(WAIT_MS);
  return page;
}

async function logIn(page, userId, name) {
  await page.goto(`${BASE}/`);
  await page.locator('body[data-ready="true"]').waitFor({ timeout: WAIT_MS });
  await page.locator('#login-form [name=userId]').fill(String(userId));
  await page.locator('#login-form [name=name]').fill(name);
  await page.locator('#login-form button[type=submit]').click();
  await visible(page.locator('#status[data-state="online"]'));
}

async function openRoom(page, room) {
  await page.locator('#join-form [name=kind]').selectOption('direct');
  await page.locator('#join-form [name=id]').fill(String(room));
  await page.locator('#join-form button[type=submit]').click();
  await page.locator(`#messages[data-loaded="direct:${room}"]`).waitFor({ state: 'attached' });
}

async function post(page, text) {
  const box = page.locator('#composer [name=content]');
  await box.pressSequentially(text, { delay: 15 });
  await box.press('Enter');
}

// Posts `texts` to DM room `room` as the user logged in on `page`, over a STOMP
// connection of its own (not the page's), waiting for the last one's RECEIPT.
async function postAs(page, room, texts) {
  await page.evaluate(async ({ room, texts }) => {
    const { token, userId } = JSON.parse(sessionStorage.getItem('chat-server.session'));
    const ws = new WebSocket(`ws://${location.host}/my-chat/websocket`, ['v12.stomp']);
    await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
    const frame = (command, headers, body = '') =>
      `${command}\n${Object.entries(headers).map(([k, v]) => `${k}:${v}`).join('\n')}\n\n${body}\0`;
    const done = new Promise((resolve, reject) => {
      ws.onmessage = (event) => {
        if (event.data.includes('receipt-id:last')) resolve();
        else if (event.data.startsWith('ERROR')) reject(new Error(event.data));
      };
      ws.onclose = () => reject(new Error('closed before the receipt'));
    });
    ws.send(frame('CONNECT', {
      'accept-version': '1.2', 'access-token': token, 'user-id': userId, host: location.host,
    }));
    texts.forEach((text, i) => {
      const headers = { destination: '/kafka/send-direct-message', 'content-type': 'application/json' };
      if (i === texts.length - 1) headers.receipt = 'last';
      ws.send(frame('SEND', headers, JSON.stringify({ content: text, channelId: String(room) })));
    });
    await done;
    ws.onclose = null;
    ws.send(frame('DISCONNECT', {}));
    ws.close();
  }, { room, texts });
}

const numbered = (prefix, count) =>
  Array.from({ length: count }, (_, i) => `${prefix} ${String(i + 1).padStart(3, '0')}`);

// Routes `page`'s WebSockets through the test, which records what each side sends
// and can drop the connection and refuse new ones, as a lost network would.
async function interceptWebSockets(page) {
  const line = { toServer: [], toPage: [], sockets: [], blocked: false };
  await page.routeWebSocket(/\/my-chat\/websocket/, (ws) => {
    if (line.blocked) {
      ws.close({ code: 4000, reason: 'network down' });
      return;
    }
    const server = ws.connectToServer();
    ws.onMessage((message) => { line.toServer.push(String(message)); server.send(message); });
    server.onMessage((message) => { line.toPage.push(String(message)); ws.send(message); });
    line.sockets.push(ws);
  });
  // Drops the page's connection and keeps it down while `whileDown` runs.
  line.outage = async (whileDown) => {
    line.blocked = true;
    await line.sockets.at(-1).close({ code: 4000, reason: 'network down' });
    await visible(page.locator('#status[data-state="offline"]'));
    try { await whileDown(); } finally { line.blocked = false; }
  };
  return line;
}

// A development token for `userId`, asked for by this script.
async function devToken(userId, name) {
  const response = await fetch(`${BASE}/dev/token`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId, name }),
    signal: AbortSignal.timeout(WAIT_MS),
  });
  if (!response.ok) throw new Error(`POST /dev/token: HTTP ${response.status}`);
  return (await response.json()).token;
}

// A STOMP session of this script's own over the `ws` library, whose socket (unlike a
// page's) can stop being read: `ws.pause()`, as a client that has stopped reading.
// `request` sends a frame with a receipt and resolves with its answer: `{ receipt }`, or
// `{ refusal }` (the JSON on /user/queue/errors naming the receipt), or `{ error }`.
async function stompSession(userId, name) {
  const token = await devToken(userId, name);
  const ws = new WebSocket(`${BASE.replace(/^http/, 'ws')}/my-chat/websocket`, ['v12.stomp']);
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  const frame = (command, headers, body = '') =>
    `${command}\n${Object.entries(headers).map(([k, v]) => `${k}:${v}`).join('\n')}\n\n${body}\0`;
  const waiting = new Map(); // receipt (or 'connected') -> resolve
  const answer = (key, outcome) => waiting.get(key)?.(outcome);
  const answerOf = (key) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: no answer to ${key} in ${WAIT_MS} ms`)), WAIT_MS);
    waiting.set(key, (outcome) => { clearTimeout(timer); waiting.delete(key); resolve(outcome); });
  });
  ws.on('message', (data) => {
    for (const text of String(data).split('\0')) {
      const end = text.indexOf('\n\n');
      const head = text.slice(0, end).replace(/^\n+/, '');
      const command = head.split('\n')[0];
      if (command === 'CONNECTED') answer('connected', {});
      else if (command === 'RECEIPT') answer(/\nreceipt-id:([^\n]+)/.exec(head)?.[1], { receipt: head });
      else if (command === 'ERROR') for (const key of [...waiting.keys()]) answer(key, { error: text });
      else if (command === 'MESSAGE' && head.includes('\ndestination:/user/queue/errors')) {
        const refusal = JSON.parse(text.slice(end + 2));
        answer(refusal['receipt-id'], { refusal });
      }
    }
  });
  let counter = 0;
  const request = (command, headers, body) => {
    counter += 1;
    const receipt = `${name}-${counter}`;
    const answered = answerOf(receipt);
    ws.send(frame(command, { ...headers, receipt }, body));
    return answered;
  };
  const connected = answerOf('connected');
  ws.send(frame('CONNECT', { 'accept-version': '1.2', 'access-token': token, 'user-id': userId, host: 'localhost' }));
  await connected;
  return { ws, request, close: () => ws.terminate() };
}

// Posts large messages to DM room `room` one at a time until the server refuses one as
// overloaded; returns how many were stored first.
async function floodUntilOverloaded(session, room) {
  const subscribed = await session.request('SUBSCRIBE', { id: 'errors', destination: '/user/queue/errors' });
  if (!subscribed.receipt) throw new Error(`not subscribed: ${JSON.stringify(subscribed)}`);
  for (let n = 1; n <= FLOOD_LIMIT; n += 1) {
    const body = JSON.stringify({ content: `${n} ${LARGE}`, channelId: String(room) });
    const headers = { destination: '/kafka/send-direct-message', 'content-type': 'application/json' };
    const answer = await session.request('SEND', headers, body);
    if (answer.refusal?.code === 'overloaded') return n - 1;
    if (!answer.receipt) throw new Error(`post ${n} not stored: ${JSON.stringify(answer)}`);
  }
  throw new Error(`${FLOOD_LIMIT} posts stored, none refused`);
}

async function act(page, text, action) {
  const item = message(page, text).first();
  await item.hover();
  await item.locator(`[data-action=${action}]`).click();
}

async function main() {
  const profile = mkdtempSync(join(tmpdir(), 'chat-browser-'));
  const errors = [];
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync',
    ],
    viewport: { width: 1120, height: 680 },
  });
  try {
    const alice = await openPage(context, 'alice', errors);
    const bob = await openPage(context, 'bob', errors);

    await check('the page is served with a strict Content-Security-Policy', async () => {
      const response = await alice.request.get(`${BASE}/`);
      const policy = response.headers()['content-security-policy'] ?? '';
      if (!policy.startsWith("default-src 'self'")) throw new Error(`policy: ${policy}`);
    });

    await check('alice and bob log in with development tokens and connect', async () => {
      await logIn(alice, 1, 'alice');
      await logIn(bob, 2, 'bob');
      await waitForText(alice.locator('#me'), 'alice');
      await waitForText(bob.locator('#me'), 'bob');
    });

    await check(`both open DM room ${ROOM}`, async () => {
      await openRoom(alice, ROOM);
      await openRoom(bob, ROOM);
      await waitForText(bob.locator('#room-title'), `DM room ${ROOM}`);
    });

    await check('bob sees alice typing, then her message', async () => {
      await alice.locator('#composer [name=content]').pressSequentially('hello bob', { delay: 40 });
      await waitForText(bob.locator('#typing'), 'alice is typing');
      await alice.locator('#composer [name=content]').press('Enter');
      await visible(message(bob, 'hello bob'));
      await visible(alice.locator('#messages li.msg.mine', { hasText: 'hello bob' }));
    });

    await check('bob replies and alice sees the reply quoting her message', async () => {
      await act(bob, 'hello bob', 'reply');
      await visible(bob.locator('#replying'));
      await post(bob, 'hi alice, nice page');
      const reply = message(alice, 'hi alice, nice page');
      await visible(reply);
      await waitForText(reply.locator('.parent'), 'alice: hello bob');
    });

    await check('each sees the other online', async () => {
      await visible(alice.locator('#people li.online[data-user="2"]'));
      await visible(bob.locator('#people li.online[data-user="1"]'));
    });

    await check('alice edits her message and bob sees the edit and the updated quote', async () => {
      await act(alice, 'hello bob', 'edit');
      const input = alice.locator('#messages form.edit input');
      await input.fill('hello bob, edited');
      await input.press('Enter');
      const edited = message(bob, 'hello bob, edited').first();
      await visible(edited);
      await visible(edited.locator('.edited'));
      await waitForText(message(bob, 'hi alice, nice page').locator('.parent'), 'hello bob, edited');
    });

    await check('alice deletes a message and bob sees the tombstone', async () => {
      await post(alice, 'this one goes away');
      const doomed = message(bob, 'this one goes away');
      await visible(doomed);
      const id = await doomed.getAttribute('data-id');
      await act(alice, 'this one goes away', 'delete');
      const tombstone = bob.locator(`#messages li.msg.deleted[data-id="${id}"]`);
      await visible(tombstone);
      await waitForText(tombstone.locator('.text'), 'message deleted');
      if (await message(bob, 'this one goes away').count() !== 0) throw new Error('the text is still shown');
    });

    await check("the server's refusal is shown to alice", async () => {
      // Typing stops at the textarea's maxlength; a script can go past it.
      await alice.locator('#composer [name=content]').evaluate((box) => { box.value = 'x'.repeat(4001); });
      await alice.locator('#composer [name=content]').press('Enter');
      await waitForText(alice.locator('#toasts'), 'content_too_long');
    });

    await check('a screenshot of bob\'s page is saved', async () => {
      await post(bob, 'see you tomorrow!');
      await visible(message(alice, 'see you tomorrow'));
      await alice.locator('#composer [name=content]').pressSequentially('one more thing', { delay: 30 });
      await waitForText(bob.locator('#typing'), 'alice is typing');
      await bob.mouse.move(0, 0);
      mkdirSync(dirname(SCREENSHOT), { recursive: true });
      await bob.screenshot({ path: SCREENSHOT });
      console.log(`     ${SCREENSHOT}`);
    });

    await check('in community 3 channel 12 bob sees alice\'s message', async () => {
      for (const page of [alice, bob]) {
        await page.locator('#join-form [name=kind]').selectOption('channel');
        await page.locator('#join-form [name=id]').fill('12');
        await page.locator('#join-form [name=community]').fill('3');
        await page.locator('#join-form button[type=submit]').click();
        await page.locator('#messages[data-loaded="channel:12"]').waitFor({ state: 'attached' });
      }
      await post(alice, 'hello channel');
      await visible(message(bob, 'hello channel'));
      await waitForText(bob.locator('#room-info'), 'community 3');
    });

    await check('after a reload alice reads the edit, the tombstone and the reply from history', async () => {
      await alice.reload();
      await visible(alice.locator('#status[data-state="online"]'));
      await openRoom(alice, ROOM);
      await visible(message(alice, 'hello bob, edited').first().locator('.edited'));
      await visible(alice.locator('#messages li.msg.deleted'));
      await waitForText(message(alice, 'hi alice, nice page').locator('.parent'), 'alice: hello bob, edited');
      await visible(alice.locator('#rooms li', { hasText: `DM room ${ROOM}` }));
    });

    const carol = await openPage(context, 'carol', errors);
    const line = await interceptWebSockets(carol);
    const historyReads = [];
    carol.on('request', (request) => {
      if (request.url().includes(`/api/v1/direct/${LONG_ROOM}/messages`)) historyReads.push(request.url());
    });

    await check(`carol opens room ${LONG_ROOM} and loads older history as she scrolls up`, async () => {
      await postAs(bob, LONG_ROOM, numbered('older', 70));
      await logIn(carol, 3, 'carol');
      await openRoom(carol, LONG_ROOM);
      await visible(message(carol, 'older 070'));
      if (await message(carol, 'older 001').count() !== 0) throw new Error('more than the newest page at first');
      await carol.locator('#messages[data-older="more"]').waitFor({ state: 'attached' });
      await carol.locator('#messages').evaluate((list) => { list.scrollTop = 0; });
      await carol.locator('#messages[data-older="done"]').waitFor({ state: 'attached' });
      await message(carol, 'older 001').waitFor({ state: 'attached' });
      const shown = await carol.locator('#messages li.msg').count();
      if (shown !== 70) throw new Error(`${shown} messages shown, not 70`);
      const before = historyReads.filter((url) => url.includes('before=')).length;
      if (before !== 1) throw new Error(`${before} older pages read, not 1`);
    });

    await check('after a lost connection carol resumes the room with x-since-seq and sees what she missed', async () => {
      const reads = historyReads.length;
      const sent = line.toServer.length;
      await line.outage(() => postAs(bob, LONG_ROOM, numbered('missed', 3)));
      await visible(carol.locator('#status[data-state="online"]'));
      await visible(message(carol, 'missed 003'));
      for (const text of numbered('missed', 3)) {
        const count = await message(carol, text).count();
        if (count !== 1) throw new Error(`${text} shown ${count} times`);
      }
      const resumed = line.toServer.slice(sent).find((frame) =>
        frame.startsWith('SUBSCRIBE') && frame.includes(`destination:/topic/direct/${LONG_ROOM}`));
      if (!/\nx-since-seq:\d+\n/.test(resumed ?? '')) throw new Error(`subscribed without x-since-seq: ${resumed}`);
      if (historyReads.length !== reads) throw new Error('the history was read again instead of resumed');
    });

    await check(`after missing more than ${RESUME_LIMIT} events carol gets a gap and reloads over REST`, async () => {
      const reads = historyReads.length;
      const received = line.toPage.length;
      await line.outage(() => postAs(bob, LONG_ROOM, numbered('away', RESUME_LIMIT + 5)));
      await visible(carol.locator('#status[data-state="online"]'));
      await visible(message(carol, `away ${String(RESUME_LIMIT + 5).padStart(3, '0')}`));
      if (!line.toPage.slice(received).some((frame) => frame.includes('"type":"gap"'))) {
        throw new Error('no gap event arrived');
      }
      if (historyReads.length === reads) throw new Error('the history was not read again');
      await post(carol, 'live after the gap');
      await visible(message(carol, 'live after the gap'));
    });

    await check('bob leaves and alice sees him go offline', async () => {
      await visible(alice.locator('#people li.online[data-user="2"]'));
      await bob.close();
      await visible(alice.locator('#people li[data-user="2"]:not(.online)'));
    });

    await check(`alice's post to flooded room ${BUSY_ROOM} shows "server busy, retrying" until it is stored`, async () => {
      const reader = await stompSession(5, 'dave');
      const flooder = await stompSession(4, 'erin');
      try {
        const subscribed = await reader.request('SUBSCRIBE', { id: 'room', destination: `/topic/direct/${BUSY_ROOM}` });
        if (!subscribed.receipt) throw new Error(`dave not subscribed: ${JSON.stringify(subscribed)}`);
        reader.ws.pause();
        const stored = await floodUntilOverloaded(flooder, BUSY_ROOM);
        console.log(`     erin's post ${stored + 1} refused overloaded while dave reads nothing`);
        await openRoom(alice, BUSY_ROOM);
        const text = 'sent while the server is busy';
        await post(alice, text);
        const busy = alice.locator('#busy[role=status]');
        await visible(busy);
        await waitForText(busy, 'server busy, retrying');
        if (await message(alice, text).count() !== 0) throw new Error('shown before the reader caught up');
        reader.ws.resume();
        await visible(message(alice, text));
        await busy.waitFor({ state: 'hidden', timeout: WAIT_MS });
        if (await message(alice, text).count() !== 1) throw new Error('the retried post is shown more than once');
      } finally {
        reader.close();
        flooder.close();
      }
    });

    await check('no page logged an error (CSP violations included)', async () => {
      if (errors.length > 0) throw new Error(errors.join('\n'));
    });
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

const timer = setTimeout(() => {
  console.log(`FAIL the check did not finish within ${OVERALL_TIMEOUT_MS} ms`);
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(1);
}, OVERALL_TIMEOUT_MS);

try {
  await main();
} catch (error) {
  if (!(error instanceof Abort)) {
    failed += 1;
    console.log(`FAIL ${error?.stack ?? error}`);
  }
}
clearTimeout(timer);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
