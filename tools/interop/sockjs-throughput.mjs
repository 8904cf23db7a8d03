// Side-by-side delivery rate of one room's messages to subscribers on each transport:
// a raw WebSocket, and SockJS over websocket, xhr-streaming and xhr-polling.
// Not part of the test command (it measures, it does not check).
//
//   CHAT_LIMITS__WRITE_PER_SECOND=1000000 CHAT_LIMITS__WRITE_BURST=1000000 chat-server &
//   CHAT_WS_URL=ws://127.0.0.1:8080/my-chat/websocket CHAT_SOCKJS_URL=http://127.0.0.1:8080/my-chat \
//   ALICE_TOKEN=... BOB_TOKEN=... node sockjs-throughput.mjs 2000
import { Client } from '@stomp/stompjs';
import SockJS from 'sockjs-client';
import WebSocket from 'ws';

const COUNT = Number(process.argv[2] ?? 2000);
const TOPIC = '/topic/direct/77';
const transports = ['websocket', 'sockjs-websocket', 'sockjs-xhr-streaming', 'sockjs-xhr-polling'];
setTimeout(() => { console.error('timed out'); process.exit(1); }, 120000);

function connect(transport, token, userId) {
  return new Promise((resolve, reject) => {
    const client = new Client({
      webSocketFactory: () => transport === 'websocket'
        ? new WebSocket(process.env.CHAT_WS_URL, ['v12.stomp'])
        : new SockJS(process.env.CHAT_SOCKJS_URL, null, { transports: [transport.replace('sockjs-', '')] }),
      connectHeaders: { 'access-token': token, 'user-id': userId },
      heartbeatIncoming: 0, heartbeatOutgoing: 0, reconnectDelay: 0,
      onConnect: () => resolve(client),
      onStompError: (frame) => reject(new Error(frame.body)),
    });
    client.activate();
  });
}

const subscribers = [];
for (const transport of transports) {
  const client = await connect(transport, process.env.BOB_TOKEN, '2');
  const sub = { transport, received: 0, done: null };
  sub.finished = new Promise((resolve) => { sub.resolve = resolve; });
  await new Promise((resolve) => {
    client.watchForReceipt(`sub-${transport}`, resolve);
    client.subscribe(TOPIC, (m) => {
      if (JSON.parse(m.body).type !== 'message') return;
      sub.received += 1;
      if (sub.received === COUNT) { sub.done = performance.now(); sub.resolve(); }
    }, { receipt: `sub-${transport}` });
  });
  subscribers.push(sub);
}
const publisher = await connect('websocket', process.env.ALICE_TOKEN, '1');
const started = performance.now();
for (let i = 0; i < COUNT; i += 1) {
  publisher.publish({ destination: '/kafka/send-direct-message', body: JSON.stringify({ content: `m${i}`, channelId: '77' }) });
}
await Promise.all(subscribers.map((s) => s.finished));
for (const s of subscribers) {
  const seconds = (s.done - started) / 1000;
  console.log(`${s.transport.padEnd(22)} ${COUNT} messages in ${seconds.toFixed(2)} s = ${Math.round(COUNT / seconds)} msg/s`);
}
process.exit(0);
