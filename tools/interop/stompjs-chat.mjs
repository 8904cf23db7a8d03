// Interoperability check: two users chat through the real chat-server with Node's
// @stomp/stompjs client (STOMP 1.2), the way a browser client of another ecosystem
// would: over a raw WebSocket (the `ws` implementation), or over SockJS (the
// `sockjs-client` library) with one forced SockJS transport.
//
//   CHAT_WS_URL=ws://127.0.0.1:18100/my-chat/websocket \
//   ALICE_TOKEN=$(chat-server token --user 1 --name alice) \
//   BOB_TOKEN=$(chat-server token --user 2 --name bob) \
//   node stompjs-chat.mjs
//
// CHAT_TRANSPORT picks the carrier: `websocket` (the default, CHAT_WS_URL), or
// `sockjs-websocket`, `sockjs-xhr-streaming`, `sockjs-xhr-polling`,
// `sockjs-eventsource` (CHAT_SOCKJS_URL=http://127.0.0.1:18100/my-chat).
//
// In a DM room (/topic/direct/5) and a community channel (/topic/group/12 of community 3),
// alice posts, bob replies to the id he received, alice edits then deletes her message, and
// bob types; both clients must see each event exactly once, in the same order, with the
// seed's JSON and strictly increasing `seq` on the stored events. It also checks the
// refusals on /user/queue/errors (a SEND to a broker topic, an edit by a non-author) and
// the presence events of a user going offline and coming back, and resuming after the
// reconnect: bob posts while alice is away, and alice's SUBSCRIBE with `x-since-seq` (the
// last seq she saw) gets those messages once, in order, before the live ones.
//
// Prints one line per check and a closing `N passed, M failed`; exits non-zero on any
// failure, and stops by itself within OVERALL_TIMEOUT_MS. STOMP_DEBUG=1 logs every frame.

import assert from 'node:assert/strict';
import { Client } from '@stomp/stompjs';
import SockJS from 'sockjs-client';
import WebSocket from 'ws';

const WAIT_TIMEOUT_MS = 4000; // for any one expected frame
const SETTLE_MS = 300; // quiet period before asserting that nothing more arrived
const OVERALL_TIMEOUT_MS = 30000;
const DEBUG = process.env.STOMP_DEBUG === '1';

// The SockJS transport each CHAT_TRANSPORT forces (sockjs-client's names).
const SOCKJS_TRANSPORTS = {
  'sockjs-websocket': 'websocket',
  'sockjs-xhr-streaming': 'xhr-streaming',
  'sockjs-xhr-polling': 'xhr-polling',
  'sockjs-eventsource': 'eventsource',
};
const TRANSPORT = process.env.CHAT_TRANSPORT ?? 'websocket';
const SOCKJS_TRANSPORT = SOCKJS_TRANSPORTS[TRANSPORT];
// What the server offers: no STOMP heart-beats where only polls carry them.
const HEART_BEAT = TRANSPORT === 'sockjs-xhr-polling' ? '0,10000' : '10000,10000';

const ERRORS = '/user/queue/errors';
const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}$/;
const PRESENCE = new Set(['connect', 'disconnect']);
const STORED = new Set(['message', 'reply', 'modify', 'delete']);

const ROOMS = [
  {
    label: 'DM room 5',
    topic: '/topic/direct/5',
    send: '/kafka/send-direct',
    ids: { channelId: '5' },
  },
  {
    label: 'community 3 channel 12',
    topic: '/topic/group/12',
    send: '/kafka/send-channel',
    ids: { communityId: '3', channelId: '12' },
  },
];
const COMMUNITY_TOPIC = '/topic/community/3';

// ---------------------------------------------------------------- results

let passed = 0;
let failed = 0;

class Abort extends Error {}

function finish(code) {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(code ?? (failed === 0 ? 0 : 1));
}

async function check(label, fn) {
  try {
    await fn();
    passed += 1;
    console.log(`ok   ${label}`);
  } catch (error) {
    failed += 1;
    console.log(`FAIL ${label}`);
    const text = error instanceof Error ? error.message : String(error);
    console.log(text.replace(/^/gm, '     '));
    // Later checks build on earlier ones (message ids, subscriptions): stop here.
    throw new Abort();
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntil(describe, probe, timeout = WAIT_TIMEOUT_MS) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${describe()}`);
    }
    await sleep(10);
  }
}

// ---------------------------------------------------------------- one user

class Party {
  constructor(name, userId, token) {
    this.name = name;
    this.userId = userId;
    this.token = token;
    this.inbox = new Map(); // destination -> [{ headers, body, json }]
    this.receipts = []; // receipt-ids that reached no watcher
    this.stompErrors = []; // ERROR frames
    this.closes = []; // WebSocket close events
    this.unexpected = []; // frames stompjs could not route
    this.subCounter = 0;
    this.receiptCounter = 0;
  }

  connect(url) {
    return new Promise((resolve, reject) => {
      this.client = new Client({
        webSocketFactory: () => {
          this.ws = SOCKJS_TRANSPORT
            ? new SockJS(url, null, { transports: [SOCKJS_TRANSPORT] })
            : new WebSocket(url, ['v12.stomp', 'v11.stomp', 'v10.stomp']);
          return this.ws;
        },
        connectHeaders: { 'access-token': this.token, 'user-id': this.userId },
        heartbeatIncoming: 10000,
        heartbeatOutgoing: 10000,
        reconnectDelay: 0, // a failed connection is a failed check, not a retry
        connectionTimeout: WAIT_TIMEOUT_MS,
        logRawCommunication: DEBUG,
        debug: DEBUG ? (line) => console.error(`[${this.name}] ${line}`) : () => {},
        onConnect: (frame) => resolve(frame),
        onStompError: (frame) => {
          this.stompErrors.push(frame);
          reject(new Error(`ERROR frame: ${frame.headers.message} ${frame.body}`));
        },
        onWebSocketClose: (event) => {
          this.closes.push(event);
          reject(new Error(`WebSocket closed (${event.code} ${event.reason})`));
        },
        onWebSocketError: (event) => reject(new Error(`WebSocket error: ${event.message ?? event}`)),
        onUnhandledMessage: (message) => this.unexpected.push(`MESSAGE ${message.body}`),
        onUnhandledReceipt: (frame) => this.receipts.push(frame.headers['receipt-id']),
        onUnhandledFrame: (frame) => this.unexpected.push(`${frame.command} ${frame.body}`),
      });
      this.client.activate();
    });
  }

  nextReceipt(what) {
    this.receiptCounter += 1;
    return `${this.name}-${what}-${this.receiptCounter}`;
  }

  /**
   * Resolves once the server answered the receipt; rejects at once if the request was
   * refused on /user/queue/errors (when subscribed), or after WAIT_TIMEOUT_MS.
   */
  awaitReceipt(receipt) {
    return new Promise((resolve, reject) => {
      const refused = () => this.received(ERRORS).find((m) => m.json?.['receipt-id'] === receipt);
      const poll = setInterval(() => {
        const refusal = refused();
        if (refusal) done(new Error(`${this.name}: ${receipt} refused: ${refusal.body}`));
      }, 10);
      const timer = setTimeout(
        () => done(new Error(`${this.name}: no RECEIPT for ${receipt} in ${WAIT_TIMEOUT_MS} ms`)),
        WAIT_TIMEOUT_MS,
      );
      const done = (error, frame) => {
        clearInterval(poll);
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(frame);
      };
      this.client.watchForReceipt(receipt, (frame) => done(null, frame));
    });
  }

  /**
   * SUBSCRIBE with a receipt, so that the subscription is live once this resolves;
   * `headers` go on the SUBSCRIBE (e.g. x-since-seq).
   */
  subscribe(destination, headers = {}) {
    this.inbox.set(destination, []);
    this.subCounter += 1;
    const id = `${this.name}-sub-${this.subCounter}`;
    const receipt = this.nextReceipt('subscribe');
    const answered = this.awaitReceipt(receipt);
    this.client.subscribe(
      destination,
      (message) => {
        let json;
        try {
          json = JSON.parse(message.body);
        } catch {
          json = undefined;
        }
        this.inbox.get(destination).push({ headers: message.headers, body: message.body, json, id });
      },
      { ...headers, id, receipt },
    );
    return answered;
  }

  send(destination, payload, headers = {}) {
    this.client.publish({ destination, body: JSON.stringify(payload), headers });
  }

  /** Events received on a destination, in arrival order. */
  received(destination) {
    return this.inbox.get(destination) ?? [];
  }

  /** Waits until an event matching `predicate` arrived on `destination`; returns it. */
  waitFor(destination, what, predicate) {
    return waitUntil(
      () => `${this.name} to receive ${what} on ${destination}; got ${show(this.received(destination))}`,
      () => this.received(destination).find((m) => m.json && predicate(m.json)),
    );
  }

  disconnect() {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.name}: DISCONNECT got no RECEIPT in ${WAIT_TIMEOUT_MS} ms`)),
        WAIT_TIMEOUT_MS,
      );
      this.client.onDisconnect = (frame) => {
        clearTimeout(timer);
        resolve(frame);
      };
      // The close that follows a clean DISCONNECT is expected.
      this.client.onWebSocketClose = () => {};
      this.client.deactivate();
    });
  }
}

function show(messages) {
  const bodies = messages.map((m) => m.body);
  return bodies.length === 0 ? 'nothing' : bodies.join(' | ');
}

function conversationEvents(party, topic) {
  return party.received(topic).filter((m) => !(m.json && PRESENCE.has(m.json.type)));
}

function presenceEvents(party, topic) {
  return party.received(topic).filter((m) => m.json && PRESENCE.has(m.json.type));
}

function sortedKeys(object) {
  return Object.keys(object).sort();
}

// ---------------------------------------------------------------- the scenario

async function conversation(alice, bob, room) {
  const { label, topic, send, ids } = room;
  const both = [alice, bob];
  const text = `hello from stompjs in ${label}`;
  const channelKeys = ids.communityId === undefined ? [] : ['communityId'];

  // 1. alice posts
  let posted;
  await check(`${label}: alice's message reaches alice and bob`, async () => {
    alice.send(`${send}-message`, { content: text, ...ids });
    const got = [];
    for (const party of both) {
      got.push((await party.waitFor(topic, 'the message', (e) => e.type === 'message' && e.message === text)).json);
    }
    assert.deepEqual(got[0], got[1], 'alice and bob got different bodies');
    posted = got[1];
  });

  await check(`${label}: message event has the seed's JSON`, () => {
    assert.deepEqual(
      sortedKeys(posted),
      ['channelId', ...channelKeys, 'id', 'message', 'name', 'profileImage', 'seq', 'time', 'type', 'userId'].sort(),
    );
    assert.equal(typeof posted.id, 'string');
    assert.ok(posted.id.length > 0, 'empty id');
    assert.equal(posted.userId, '1');
    assert.equal(posted.name, 'alice');
    assert.equal(posted.profileImage, null);
    assert.equal(posted.channelId, ids.channelId);
    if (ids.communityId !== undefined) assert.equal(posted.communityId, ids.communityId);
    assert.match(posted.time, TIME_RE);
    assert.ok(Number.isInteger(posted.seq) && posted.seq > 0, `seq ${posted.seq}`);
  });

  // 2. bob replies to the id he received
  const replyText = `me too (${label})`;
  let reply;
  await check(`${label}: bob's reply to the received id reaches both`, async () => {
    const seen = bob.received(topic).find((m) => m.json?.type === 'message' && m.json.message === text);
    bob.send(`${send}-reply`, { content: replyText, parentId: seen.json.id, type: 'reply', ...ids });
    const got = [];
    for (const party of both) {
      got.push((await party.waitFor(topic, 'the reply', (e) => e.type === 'reply' && e.message === replyText)).json);
    }
    assert.deepEqual(got[0], got[1], 'alice and bob got different bodies');
    reply = got[1];
  });

  await check(`${label}: reply event names its parent`, () => {
    assert.deepEqual(
      sortedKeys(reply),
      [
        'channelId', ...channelKeys, 'id', 'message', 'name', 'parentContent', 'parentId', 'parentName',
        'profileImage', 'seq', 'time', 'type', 'userId',
      ].sort(),
    );
    assert.equal(reply.userId, '2');
    assert.equal(reply.name, 'bob');
    assert.equal(reply.parentId, posted.id);
    assert.equal(reply.parentName, 'alice');
    assert.equal(reply.parentContent, text);
    assert.notEqual(reply.id, posted.id);
    assert.match(reply.time, TIME_RE);
  });

  // 3. alice edits her message
  const edited = `edited (${label})`;
  let modify;
  await check(`${label}: alice's edit reaches both`, async () => {
    alice.send(`${send}-modify`, { id: posted.id, content: edited, type: 'modify', ...ids });
    const got = [];
    for (const party of both) {
      got.push((await party.waitFor(topic, 'the edit', (e) => e.type === 'modify' && e.id === posted.id)).json);
    }
    assert.deepEqual(got[0], got[1], 'alice and bob got different bodies');
    modify = got[1];
    assert.equal(modify.message, edited);
    assert.equal(modify.userId, '1');
    assert.equal(modify.time, posted.time, 'an edit keeps the original send time');
    assert.match(modify.editedAt, TIME_RE);
  });

  // 3b. bob may not edit alice's message: refused to bob only, nothing published
  await check(`${label}: bob editing alice's message is refused with not_the_author`, async () => {
    const receipt = bob.nextReceipt('modify');
    bob.send(`${send}-modify`, { id: posted.id, content: 'hijacked', type: 'modify', ...ids }, { receipt });
    const error = (await bob.waitFor(ERRORS, 'not_the_author', (e) => e['receipt-id'] === receipt)).json;
    assert.equal(error.type, 'error');
    assert.equal(error.code, 'not_the_author');
    assert.equal(error.destination, `${send}-modify`);
    assert.equal(typeof error.message, 'string');
  });

  // 4. alice deletes her message
  let removed;
  await check(`${label}: alice's delete reaches both`, async () => {
    alice.send(`${send}-delete`, { id: posted.id, type: 'delete', ...ids });
    const got = [];
    for (const party of both) {
      got.push((await party.waitFor(topic, 'the delete', (e) => e.type === 'delete' && e.id === posted.id)).json);
    }
    assert.deepEqual(got[0], got[1], 'alice and bob got different bodies');
    removed = got[1];
    assert.deepEqual(sortedKeys(removed), ['id', 'seq', 'type']);
  });

  // 5. bob types
  await check(`${label}: bob's typing reaches both`, async () => {
    bob.send(`${send}-typing`, { content: 'bob', type: 'typing', ...ids });
    const got = [];
    for (const party of both) {
      got.push((await party.waitFor(topic, 'typing', (e) => e.type === 'typing')).json);
    }
    for (const typing of got) assert.deepEqual(typing, { type: 'typing', name: 'bob', userId: '2' });
  });

  // Whole-room view, after a quiet period so that duplicates would have arrived.
  await sleep(SETTLE_MS);

  await check(`${label}: each client got each event exactly once, in order`, () => {
    for (const party of both) {
      const types = conversationEvents(party, topic).map((m) => m.json?.type ?? `unparsable: ${m.body}`);
      assert.deepEqual(types, ['message', 'reply', 'modify', 'delete', 'typing'], `${party.name} got ${types}`);
    }
    const [a, b] = both.map((party) => conversationEvents(party, topic).map((m) => m.body));
    assert.deepEqual(a, b, 'alice and bob saw different event bodies or order');
  });

  await check(`${label}: stored events have strictly increasing seq, one apart`, () => {
    for (const party of both) {
      const seqs = conversationEvents(party, topic)
        .filter((m) => STORED.has(m.json.type))
        .map((m) => m.json.seq);
      assert.equal(seqs.length, 4, `${party.name}: ${seqs}`);
      for (let i = 1; i < seqs.length; i += 1) {
        assert.ok(seqs[i] > seqs[i - 1], `${party.name}: seq not increasing: ${seqs}`);
        assert.equal(seqs[i], seqs[i - 1] + 1, `${party.name}: seq skips: ${seqs}`);
      }
    }
  });

  await check(`${label}: MESSAGE frames carry destination, subscription and unique message-id`, () => {
    for (const party of both) {
      const frames = party.received(topic);
      const messageIds = new Set();
      for (const frame of frames) {
        assert.equal(frame.headers.destination, topic);
        assert.equal(frame.headers.subscription, frame.id);
        assert.ok(frame.headers['message-id'], 'missing message-id');
        messageIds.add(frame.headers['message-id']);
      }
      assert.equal(messageIds.size, frames.length, `${party.name}: repeated message-id`);
    }
  });
}

async function refusedBrokerSend(alice, bob) {
  const topic = ROOMS[0].topic;
  const before = [alice, bob].map((party) => party.received(topic).length);
  const receipt = alice.nextReceipt('forbidden');
  await check(`SEND to ${topic} is refused on ${ERRORS} with forbidden_destination`, async () => {
    alice.send(topic, { content: 'spoofed', channelId: '5', type: 'message' }, { receipt });
    const error = (await alice.waitFor(ERRORS, 'forbidden_destination', (e) => e['receipt-id'] === receipt)).json;
    assert.equal(error.type, 'error');
    assert.equal(error.code, 'forbidden_destination');
    assert.equal(error.destination, topic);
  });
  await sleep(SETTLE_MS);
  await check('the refused SEND published nothing, got no RECEIPT, and only the sender heard of it', () => {
    assert.deepEqual(
      [alice, bob].map((party) => party.received(topic).length),
      before,
      'something was published to the topic',
    );
    assert.ok(!alice.receipts.includes(receipt), 'a RECEIPT followed the refusal');
    assert.equal(alice.received(ERRORS).filter((m) => m.json?.['receipt-id'] === receipt).length, 1);
    assert.ok(
      bob.received(ERRORS).every((m) => m.json?.['receipt-id'] !== receipt),
      'bob received alice\'s refusal',
    );
  });
}

async function presence(url, alice, bob, aliceToken) {
  const topics = [ROOMS[0].topic, COMMUNITY_TOPIC];
  const count = (type) => topics.map((t) => presenceEvents(bob, t).filter((m) => m.json.type === type && m.json.userId === '1').length);
  const disconnectsBefore = count('disconnect');
  const connectsBefore = count('connect');

  await check('alice DISCONNECTs cleanly (RECEIPT, then close)', () => alice.disconnect());

  await check(`bob hears alice go offline once on ${topics.join(' and ')}`, async () => {
    await waitUntil(
      () => `disconnect of alice on ${topics}; bob got ${topics.map((t) => show(bob.received(t))).join(' / ')}`,
      () => count('disconnect').every((n, i) => n > disconnectsBefore[i]),
    );
    await sleep(SETTLE_MS);
    assert.deepEqual(count('disconnect'), disconnectsBefore.map((n) => n + 1));
    for (const t of topics) {
      const last = presenceEvents(bob, t).at(-1).json;
      assert.deepEqual(last, { type: 'disconnect', userId: '1' });
    }
  });

  const again = new Party('alice2', '1', aliceToken);
  await check('alice connects again', () => again.connect(url));

  await check(`bob hears alice come back online once on ${topics.join(' and ')}`, async () => {
    await waitUntil(
      () => `connect of alice on ${topics}; bob got ${topics.map((t) => show(bob.received(t))).join(' / ')}`,
      () => count('connect').every((n, i) => n > connectsBefore[i]),
    );
    await sleep(SETTLE_MS);
    assert.deepEqual(count('connect'), connectsBefore.map((n) => n + 1));
    for (const t of topics) {
      const last = presenceEvents(bob, t).at(-1).json;
      assert.deepEqual(last, { type: 'connect', userId: '1' });
    }
  });
  return again;
}

/** Posts `content` to `room` as `party` and waits for its RECEIPT. */
function post(party, room, content) {
  const receipt = party.nextReceipt('post');
  const answered = party.awaitReceipt(receipt);
  party.send(`${room.send}-message`, { content, ...room.ids }, { receipt });
  return answered;
}

async function resume(alice, alice2, bob) {
  const room = ROOMS[0];
  const seqs = (party) => conversationEvents(party, room.topic)
    .filter((m) => m.json && STORED.has(m.json.type))
    .map((m) => m.json.seq);
  const lastSeen = Math.max(...seqs(alice));
  const missed = ['while alice was away 1', 'while alice was away 2', 'while alice was away 3'];

  await check(`bob posts ${missed.length} messages in ${room.label} while alice is away`, async () => {
    for (const content of missed) await post(bob, room, content);
  });

  await check(`alice subscribes again with x-since-seq:${lastSeen} and gets them before the RECEIPT`, async () => {
    await alice2.subscribe(room.topic, { 'x-since-seq': String(lastSeen) });
    const replayed = conversationEvents(alice2, room.topic).map((m) => m.json?.message);
    assert.deepEqual(replayed, missed);
  });

  await check('then live events follow, each once, seq strictly increasing above what she saw', async () => {
    await post(bob, room, 'after alice is back');
    await alice2.waitFor(room.topic, 'the live message', (e) => e.message === 'after alice is back');
    await sleep(SETTLE_MS);
    const events = conversationEvents(alice2, room.topic).map((m) => m.json);
    assert.deepEqual(events.map((e) => e.message), [...missed, 'after alice is back']);
    const got = events.map((e) => e.seq);
    assert.ok(got[0] > lastSeen, `first seq ${got[0]} above ${lastSeen}`);
    assert.ok(got.every((seq, i) => i === 0 || seq > got[i - 1]), `seqs ${got} strictly increasing`);
    const ids = new Set(events.map((e) => e.id));
    assert.equal(ids.size, events.length, 'no message twice');
  });
}

async function main() {
  const url = SOCKJS_TRANSPORT ? process.env.CHAT_SOCKJS_URL : process.env.CHAT_WS_URL;
  const aliceToken = process.env.ALICE_TOKEN;
  const bobToken = process.env.BOB_TOKEN;

  await check(`the server URL, ALICE_TOKEN and BOB_TOKEN are set (${TRANSPORT})`, () => {
    assert.ok(TRANSPORT === 'websocket' || SOCKJS_TRANSPORT, `unknown CHAT_TRANSPORT ${TRANSPORT}`);
    assert.ok(url, SOCKJS_TRANSPORT
      ? 'CHAT_SOCKJS_URL is not set (e.g. http://127.0.0.1:18100/my-chat)'
      : 'CHAT_WS_URL is not set (e.g. ws://127.0.0.1:18100/my-chat/websocket)');
    assert.ok(aliceToken, 'ALICE_TOKEN is not set (chat-server token --user 1 --name alice)');
    assert.ok(bobToken, 'BOB_TOKEN is not set (chat-server token --user 2 --name bob)');
  });

  const alice = new Party('alice', '1', aliceToken);
  const bob = new Party('bob', '2', bobToken);

  for (const [party, id] of [[alice, '1'], [bob, '2']]) {
    await check(`${party.name} connects over ${TRANSPORT}: STOMP 1.2, heart-beats ${HEART_BEAT}`, async () => {
      const connected = await party.connect(url);
      party.session = connected.headers.session;
      if (SOCKJS_TRANSPORT) {
        assert.equal(party.ws.transport, SOCKJS_TRANSPORT, 'the SockJS transport in use');
      } else {
        assert.equal(party.ws.protocol, 'v12.stomp', 'negotiated WebSocket sub-protocol');
      }
      assert.equal(connected.headers.version, '1.2');
      assert.equal(connected.headers['heart-beat'], HEART_BEAT);
      assert.equal(connected.headers['user-name'], id);
      assert.ok(connected.headers.session, 'CONNECTED has no session header');
    });
  }
  await check('the two sessions have distinct session ids', () => {
    assert.notEqual(alice.session, bob.session);
  });

  const destinations = [ROOMS[0].topic, ROOMS[1].topic, ERRORS];
  for (const party of [alice, bob]) {
    const extra = party === bob ? [COMMUNITY_TOPIC] : [];
    await check(`${party.name} subscribes to ${[...destinations, ...extra].join(', ')} (RECEIPTs)`, () =>
      Promise.all([...destinations, ...extra].map((d) => party.subscribe(d))),
    );
  }

  for (const room of ROOMS) {
    await conversation(alice, bob, room);
  }

  await check('no event leaked between the DM room and the channel', () => {
    for (const party of [alice, bob]) {
      for (const room of ROOMS) {
        for (const m of conversationEvents(party, room.topic)) {
          if (m.json.channelId !== undefined) assert.equal(m.json.channelId, room.ids.channelId);
        }
      }
    }
  });

  await refusedBrokerSend(alice, bob);

  const alice2 = await presence(url, alice, bob, aliceToken);

  await resume(alice, alice2, bob);

  await check('no ERROR frame, no unexpected close, no unroutable frame on any client', () => {
    for (const party of [alice, bob, alice2]) {
      assert.deepEqual(party.stompErrors.map((f) => f.body), [], `${party.name}: ERROR frames`);
      assert.deepEqual(party.closes.map((e) => e.code), [], `${party.name}: WebSocket closes`);
      assert.deepEqual(party.unexpected, [], `${party.name}: unroutable frames`);
    }
    const refusals = (party) => party.received(ERRORS).map((m) => m.json?.code ?? m.body);
    assert.deepEqual(refusals(alice), ['forbidden_destination'], 'alice: refusals');
    assert.deepEqual(refusals(bob), ['not_the_author', 'not_the_author'], 'bob: refusals');
  });

  await check('bob and alice disconnect cleanly', () => Promise.all([bob.disconnect(), alice2.disconnect()]));
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
