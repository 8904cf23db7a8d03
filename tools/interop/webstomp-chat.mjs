// Compatibility check with the seed's web stack: `sockjs-client` + `webstomp-client`,
// used exactly as the seed's MainPage.vue does (`Stomp.over(new SockJS(url + '/my-chat'))`,
// CONNECT headers `access-token` and `user-id`, SENDs without content-type).
//
//   CHAT_SOCKJS_URL=http://127.0.0.1:18100/my-chat \
//   ALICE_TOKEN=$(chat-server token --user 1 --name alice) \
//   BOB_TOKEN=$(chat-server token --user 2 --name bob) \
//   SOCKJS_TRANSPORTS=xhr-polling node webstomp-chat.mjs
//
// SOCKJS_TRANSPORTS (optional, comma-separated) forces SockJS transports; by default
// sockjs-client picks as a browser would (WebSocket first). In DM room 5 and channel 12
// of community 3: alice posts with the seed's payloads, bob replies, alice edits and
// deletes, bob types; both see the seed-shaped events. Then alice disconnects as the
// seed did (DISCONNECT, then the socket closes at once) and bob hears `disconnect`.
//
// Prints one line per check and a closing `N passed, M failed`; exits non-zero on any
// failure, and stops by itself within OVERALL_TIMEOUT_MS.

import assert from 'node:assert/strict';
import SockJS from 'sockjs-client';
import webstomp from 'webstomp-client';

const WAIT_TIMEOUT_MS = 4000;
// webstomp closes the socket right after queueing DISCONNECT, and on the HTTP
// transports sockjs-client then aborts the unsent xhr_send: the server learns of the
// departure from the missing STOMP heart-beats (twice 10 s).
const PRESENCE_TIMEOUT_MS = 25000;
const OVERALL_TIMEOUT_MS = 60000;
const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}$/;

const url = process.env.CHAT_SOCKJS_URL;
const forced = (process.env.SOCKJS_TRANSPORTS ?? '').split(',').filter(Boolean);
const transports = forced.length > 0 ? forced : undefined;
const label = transports ? transports.join(',') : 'default transports';

let passed = 0;
let failed = 0;
class Abort extends Error {}

function finish(code) {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(code ?? (failed === 0 ? 0 : 1));
}

async function check(what, fn) {
  try {
    await fn();
    passed += 1;
    console.log(`ok   ${what}`);
  } catch (error) {
    failed += 1;
    console.log(`FAIL ${what}`);
    console.log(String(error?.message ?? error).replace(/^/gm, '     '));
    throw new Abort();
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntil(describe, probe, timeout = WAIT_TIMEOUT_MS) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${describe()}`);
    await sleep(10);
  }
}

class Party {
  constructor(name, userId, token) {
    Object.assign(this, { name, userId, token });
    this.inbox = new Map();
    this.receipts = new Set();
    this.errors = [];
  }

  connect() {
    return new Promise((resolve, reject) => {
      this.socket = new SockJS(url, null, transports ? { transports } : {});
      this.client = webstomp.over(this.socket, { debug: false });
      this.client.onreceipt = (frame) => this.receipts.add(frame.headers['receipt-id']);
      this.client.connect(
        { 'access-token': this.token, 'user-id': this.userId },
        (frame) => resolve(frame),
        (error) => {
          this.errors.push(error);
          reject(new Error(`${this.name}: ${error?.headers?.message ?? error?.reason ?? error}`));
        },
      );
    });
  }

  async subscribe(destination) {
    this.inbox.set(destination, []);
    const receipt = `${this.name}-${destination}`;
    this.client.subscribe(
      destination,
      (message) => this.inbox.get(destination).push(JSON.parse(message.body)),
      { receipt },
    );
    await waitUntil(() => `RECEIPT ${receipt}`, () => this.receipts.has(receipt));
  }

  send(destination, payload) {
    // The seed's web client: JSON body, no headers.
    this.client.send(destination, JSON.stringify(payload), {});
  }

  waitFor(destination, what, predicate, timeout) {
    return waitUntil(
      () => `${this.name} to receive ${what} on ${destination}; got ${JSON.stringify(this.inbox.get(destination))}`,
      () => this.inbox.get(destination).find(predicate),
      timeout,
    );
  }
}

const ROOMS = [
  { label: 'DM room 5', topic: '/topic/direct/5', send: '/kafka/send-direct', ids: { channelId: '5' } },
  {
    label: 'community 3 channel 12',
    topic: '/topic/group/12',
    send: '/kafka/send-channel',
    ids: { communityId: '3', channelId: '12' },
  },
];

async function conversation(alice, bob, { label: room, topic, send, ids }) {
  const text = `hello from webstomp over SockJS (${label}) in ${room}`;
  // The seed's payload: identity fields included (the server ignores them).
  const seedFields = { userId: '1', name: 'alice', profileImage: null };
  let posted;
  await check(`${room}: alice's message reaches bob with the seed's keys`, async () => {
    alice.send(`${send}-message`, { ...ids, ...seedFields, content: text, type: 'message' });
    posted = await bob.waitFor(topic, 'the message', (e) => e.type === 'message' && e.message === text);
    const keys = ['channelId', 'id', 'message', 'name', 'profileImage', 'seq', 'time', 'type', 'userId'];
    if (ids.communityId) keys.push('communityId');
    assert.deepEqual(Object.keys(posted).sort(), keys.sort());
    assert.equal(posted.userId, '1');
    assert.equal(posted.name, 'alice');
    assert.match(posted.time, TIME_RE);
    await alice.waitFor(topic, 'her own message', (e) => e.id === posted.id);
  });
  await check(`${room}: bob's reply names alice's message`, async () => {
    bob.send(`${send}-reply`, { ...ids, content: 'me too', parentId: posted.id, type: 'reply' });
    const reply = await alice.waitFor(topic, 'the reply', (e) => e.type === 'reply');
    assert.equal(reply.parentId, posted.id);
    assert.equal(reply.parentName, 'alice');
    assert.equal(reply.parentContent, text);
    assert.equal(reply.userId, '2');
  });
  await check(`${room}: alice edits, then deletes, her message`, async () => {
    alice.send(`${send}-modify`, { ...ids, id: posted.id, content: 'edited', type: 'modify' });
    const modify = await bob.waitFor(topic, 'the edit', (e) => e.type === 'modify');
    assert.equal(modify.message, 'edited');
    assert.equal(modify.id, posted.id);
    alice.send(`${send}-delete`, { ...ids, id: posted.id, type: 'delete' });
    const removed = await bob.waitFor(topic, 'the delete', (e) => e.type === 'delete');
    assert.deepEqual(Object.keys(removed).sort(), ['id', 'seq', 'type']);
  });
  await check(`${room}: bob's typing reaches alice`, async () => {
    bob.send(`${send}-typing`, { ...ids, type: 'typing' });
    const typing = await alice.waitFor(topic, 'typing', (e) => e.type === 'typing');
    assert.deepEqual(typing, { type: 'typing', name: 'bob', userId: '2' });
  });
}

async function main() {
  const alice = new Party('alice', '1', process.env.ALICE_TOKEN);
  const bob = new Party('bob', '2', process.env.BOB_TOKEN);
  await check('CHAT_SOCKJS_URL, ALICE_TOKEN and BOB_TOKEN are set', () => {
    assert.ok(url && alice.token && bob.token);
  });
  for (const party of [alice, bob]) {
    await check(`${party.name} connects with webstomp over SockJS (${label})`, async () => {
      const connected = await party.connect();
      assert.equal(connected.headers.version, '1.2');
      assert.equal(connected.headers['user-name'], party.userId);
      if (transports) assert.equal(party.socket.transport, transports[0]);
    });
  }
  for (const party of [alice, bob]) {
    await check(`${party.name} subscribes to ${ROOMS.map((r) => r.topic).join(' and ')}`, async () => {
      for (const room of ROOMS) await party.subscribe(room.topic);
    });
  }
  for (const room of ROOMS) await conversation(alice, bob, room);

  await check('alice disconnects as the seed did; bob hears her go offline in the DM room', async () => {
    alice.client.disconnect();
    const gone = await bob.waitFor(
      ROOMS[0].topic,
      'disconnect of alice',
      (e) => e.type === 'disconnect' && e.userId === '1',
      PRESENCE_TIMEOUT_MS,
    );
    assert.deepEqual(gone, { type: 'disconnect', userId: '1' });
  });
  await check('no STOMP error on any client', () => {
    assert.deepEqual([...alice.errors, ...bob.errors], []);
  });
  bob.client.disconnect();
}

const watchdog = setTimeout(() => {
  failed += 1;
  console.log(`FAIL the whole check did not finish within ${OVERALL_TIMEOUT_MS} ms`);
  finish(1);
}, OVERALL_TIMEOUT_MS);

main()
  .catch((error) => {
    if (!(error instanceof Abort)) {
      failed += 1;
      console.log(`FAIL unexpected error: ${error?.stack ?? error}`);
    }
  })
  .finally(() => {
    clearTimeout(watchdog);
    finish();
  });
