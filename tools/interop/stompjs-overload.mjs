// Interoperability check of graceful degradation: a real `overloaded` refusal reaches an
// @stomp/stompjs client, and the client's retry with the same `client-msg-id` is stored
// once the room's reader catches up.
//
//   CHAT_WS_URL=ws://127.0.0.1:18100/my-chat/websocket \
//   ALICE_TOKEN=$(chat-server token --user 1 --name alice) \
//   BOB_TOKEN=$(chat-server token --user 2 --name bob) \
//   node stompjs-overload.mjs
//
// The server must run with small outbound queues and a short wait, and with write limits
// out of the way (run.sh starts a second server for this check):
// CHAT_STOMP__OUTBOUND_QUEUE=4, CHAT_STOMP__OVERLOAD_WAIT_MS=200, CHAT_LIMITS__WRITE_PER_SECOND
// and CHAT_LIMITS__WRITE_BURST large, CHAT_LIMITS__ROOM_WRITE_PER_SECOND=0 (rooms unlimited).
//
// bob subscribes to a DM room and stops reading his socket (the `ws` WebSocket paused: the
// kernel's buffers fill, then his outbound queue on the server). alice posts large messages
// (4000 four-byte characters) to the room, one at a time, until a SEND is refused with
// `overloaded` on /user/queue/errors naming its receipt. bob reads again; alice sends the
// refused frame again with the same client-msg-id, backing off while it is still refused, and
// gets its RECEIPT: the next seq, so the refused SEND stored nothing. A repeat of that key is
// answered with the same message. bob, never disconnected, receives the retried message, and
// every seq the server stored reached him as a message or inside a `gap`.
//
// Prints one line per check and a closing `N passed, M failed`; exits non-zero on any
// failure, and stops by itself within OVERALL_TIMEOUT_MS. STOMP_DEBUG=1 logs every frame.

import assert from 'node:assert/strict';
import { Client } from '@stomp/stompjs';
import WebSocket from 'ws';

const WAIT_TIMEOUT_MS = 4000; // for any one expected frame
const OVERALL_TIMEOUT_MS = 30000;
const FLOOD_LIMIT = 2000; // SENDs before the check gives up on provoking a refusal
const RETRIES = 8; // of the refused SEND, backing off from 100 ms
const DEBUG = process.env.STOMP_DEBUG === '1';

const ERRORS = '/user/queue/errors';
const ROOM = { topic: '/topic/direct/9', send: '/kafka/send-direct-message', channelId: '9' };
// About 16 KB of UTF-8 per message: the kernel's buffers fill after a few hundred.
const LARGE = '\u{1F600}'.repeat(3990);
// client-msg-ids are alice's for good: a run's own prefix keeps another run's from matching.
const RUN = Math.random().toString(36).slice(2, 10);

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
    // Later checks build on earlier ones: stop here.
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
    Object.assign(this, { name, userId, token });
    this.inbox = new Map(); // destination -> [parsed JSON bodies]
    this.answers = new Map(); // receipt -> callback of the SEND waiting for it
    this.stompErrors = [];
    this.closes = [];
    this.counter = 0;
  }

  connect(url) {
    return new Promise((resolve, reject) => {
      this.client = new Client({
        webSocketFactory: () => {
          this.ws = new WebSocket(url, ['v12.stomp']);
          return this.ws;
        },
        connectHeaders: { 'access-token': this.token, 'user-id': this.userId },
        heartbeatIncoming: 10000,
        heartbeatOutgoing: 10000,
        reconnectDelay: 0, // a failed connection is a failed check, not a retry
        connectionTimeout: WAIT_TIMEOUT_MS,
        logRawCommunication: DEBUG,
        debug: DEBUG ? (line) => console.error(`[${this.name}] ${line.slice(0, 300)}`) : () => {},
        onConnect: (frame) => resolve(frame),
        onStompError: (frame) => {
          this.stompErrors.push(`${frame.headers.message} ${frame.body}`);
          reject(new Error(`ERROR frame: ${frame.headers.message} ${frame.body}`));
        },
        onWebSocketClose: (event) => {
          this.closes.push(event.code);
          reject(new Error(`WebSocket closed (${event.code} ${event.reason})`));
        },
        onUnhandledReceipt: (frame) => this.answer(frame.headers['receipt-id'], { receipt: frame.headers }),
      });
      this.client.activate();
    });
  }

  answer(receipt, outcome) {
    const callback = this.answers.get(receipt);
    this.answers.delete(receipt);
    callback?.(outcome);
  }

  /** SUBSCRIBE with a receipt: the subscription is live once this resolves. */
  async subscribe(destination) {
    this.inbox.set(destination, []);
    this.counter += 1;
    const receipt = `${this.name}-subscribe-${this.counter}`;
    const answered = this.answerOf(receipt);
    this.client.subscribe(destination, (message) => {
      const json = JSON.parse(message.body);
      this.inbox.get(destination).push(json);
      if (destination === ERRORS && json['receipt-id']) this.answer(json['receipt-id'], { refusal: json });
    }, { id: `${this.name}-sub-${this.counter}`, receipt });
    const { receipt: headers } = await answered;
    assert.ok(headers, `${destination}: no RECEIPT`);
  }

  /** Resolves with { receipt: headers } or { refusal: json }; rejects after WAIT_TIMEOUT_MS. */
  answerOf(receipt) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.answers.delete(receipt);
        reject(new Error(`${this.name}: no answer to ${receipt} in ${WAIT_TIMEOUT_MS} ms`));
      }, WAIT_TIMEOUT_MS);
      this.answers.set(receipt, (outcome) => {
        clearTimeout(timer);
        resolve(outcome);
      });
    });
  }

  /** Posts `content` with `key` as its client-msg-id and waits for the answer. */
  post(content, key) {
    this.counter += 1;
    const receipt = `${this.name}-post-${this.counter}`;
    const answered = this.answerOf(receipt).then((outcome) => ({ ...outcome, receiptId: receipt }));
    this.client.publish({
      destination: ROOM.send,
      body: JSON.stringify({ content, channelId: ROOM.channelId }),
      headers: { receipt, 'client-msg-id': key },
    });
    return answered;
  }

  received(destination) {
    return this.inbox.get(destination) ?? [];
  }

  disconnect() {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.name}: DISCONNECT got no RECEIPT in ${WAIT_TIMEOUT_MS} ms`)),
        WAIT_TIMEOUT_MS,
      );
      this.client.onDisconnect = () => {
        clearTimeout(timer);
        resolve();
      };
      this.client.onWebSocketClose = () => {};
      this.client.deactivate();
    });
  }
}

// ---------------------------------------------------------------- the scenario

async function main() {
  const url = process.env.CHAT_WS_URL;
  await check('CHAT_WS_URL, ALICE_TOKEN and BOB_TOKEN are set', () => {
    assert.ok(url, 'CHAT_WS_URL is not set (e.g. ws://127.0.0.1:18100/my-chat/websocket)');
    assert.ok(process.env.ALICE_TOKEN, 'ALICE_TOKEN is not set');
    assert.ok(process.env.BOB_TOKEN, 'BOB_TOKEN is not set');
  });
  const alice = new Party('alice', '1', process.env.ALICE_TOKEN);
  const bob = new Party('bob', '2', process.env.BOB_TOKEN);

  await check(`alice subscribes to ${ERRORS}, bob to ${ROOM.topic}, and bob stops reading`, async () => {
    await Promise.all([alice.connect(url), bob.connect(url)]);
    await alice.subscribe(ERRORS);
    await bob.subscribe(ROOM.topic);
    bob.ws.pause();
  });

  let stored = []; // seqs of alice's stored messages
  let refused; // { receiptId, refusal, key, content }
  await check('alice posts 16 KB messages until a SEND is refused overloaded', async () => {
    for (let n = 1; n <= FLOOD_LIMIT && !refused; n += 1) {
      const key = `${RUN}-flood-${n}`;
      const content = `${n} ${LARGE}`;
      const outcome = await alice.post(content, key);
      if (outcome.receipt) stored.push(Number(outcome.receipt.seq));
      else refused = { ...outcome, key, content };
    }
    assert.ok(refused, `${FLOOD_LIMIT} SENDs stored, none refused`);
    console.log(`     refused after ${stored.length} stored`);
  });

  await check('the refusal is `overloaded`, names the refused SEND\'s receipt and asks for a retry', () => {
    const { refusal, receiptId } = refused;
    assert.equal(refusal.type, 'error');
    assert.equal(refusal.code, 'overloaded', JSON.stringify(refusal));
    assert.equal(refusal['receipt-id'], receiptId);
    assert.equal(refusal.destination, ROOM.send);
    assert.match(refusal.message, /retry in \d+ ms/);
  });

  let retried;
  await check('bob reads again; alice\'s retry with the same client-msg-id is stored as the next seq', async () => {
    bob.ws.resume();
    const refusals = [];
    for (let attempt = 0; attempt < RETRIES && !retried; attempt += 1) {
      const outcome = await alice.post(refused.content, refused.key);
      if (outcome.receipt) retried = outcome.receipt;
      else {
        refusals.push(outcome.refusal.code);
        assert.equal(outcome.refusal.code, 'overloaded', JSON.stringify(outcome.refusal));
        await sleep(100 * 2 ** attempt);
      }
    }
    assert.ok(retried, `still refused after ${RETRIES} retries: ${refusals}`);
    assert.equal(Number(retried.seq), stored.at(-1) + 1, 'the refused SEND stored nothing');
    assert.ok(retried['message-id'], 'the RECEIPT names the message');
  });

  await check('a repeat of that client-msg-id is answered with the same message, stored once', async () => {
    const again = await alice.post(refused.content, refused.key);
    assert.ok(again.receipt, `refused: ${JSON.stringify(again.refusal)}`);
    assert.equal(again.receipt['message-id'], retried['message-id']);
    assert.equal(again.receipt.seq, retried.seq);
  });

  await check('bob receives the retried message; every stored seq reached him, as a message or in a gap', async () => {
    stored = [...stored, Number(retried.seq)];
    const events = () => bob.received(ROOM.topic);
    const covers = (seq) => events().some((e) => (e.type === 'gap' ? e.fromSeq <= seq && seq <= e.toSeq : e.seq === seq));
    await waitUntil(
      () => `seq ${retried.seq}; bob got ${events().length} events`,
      () => events().some((e) => e.id === retried['message-id']),
    );
    const seqs = events().filter((e) => e.type === 'message').map((e) => e.seq);
    assert.ok(seqs.every((seq, i) => i === 0 || seq > seqs[i - 1]), 'messages in seq order');
    const missing = stored.filter((seq) => !covers(seq));
    assert.deepEqual(missing, [], 'stored seqs neither delivered nor in a gap');
    const gaps = events().filter((e) => e.type === 'gap').length;
    console.log(`     ${seqs.length} messages and ${gaps} gaps delivered to bob`);
  });

  await check('no ERROR frame, no close, and both disconnect cleanly', async () => {
    for (const party of [alice, bob]) {
      assert.deepEqual(party.stompErrors, [], `${party.name}: ERROR frames`);
      assert.deepEqual(party.closes, [], `${party.name}: WebSocket closes`);
    }
    await Promise.all([alice.disconnect(), bob.disconnect()]);
  });
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
