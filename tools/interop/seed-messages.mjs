// Puts a small conversation into a fresh server over STOMP (@stomp/stompjs), so
// that API fuzzing (scripts/schemathesis) meets real messages, replies, edits and
// tombstones: DM room 1 and text channel 1 of community 1, as alice.
//
//   CHAT_WS_URL=ws://127.0.0.1:PORT/my-chat/websocket ALICE_TOKEN=... node seed-messages.mjs
import { Client } from '@stomp/stompjs';
import WebSocket from 'ws';

const url = process.env.CHAT_WS_URL;
const token = process.env.ALICE_TOKEN;
if (!url || !token) {
  console.error('CHAT_WS_URL and ALICE_TOKEN are required');
  process.exit(2);
}
const watchdog = setTimeout(() => {
  console.error('seeding timed out');
  process.exit(1);
}, 15000);

const client = new Client({
  webSocketFactory: () => new WebSocket(url, ['v12.stomp', 'v11.stomp', 'v10.stomp']),
  connectHeaders: { 'access-token': token, 'user-id': '1' },
  reconnectDelay: 0,
  heartbeatIncoming: 0,
  heartbeatOutgoing: 0,
});

const events = [];
let waiting = null;
const nextEvent = () =>
  new Promise((resolve) => {
    if (events.length) resolve(events.shift());
    else waiting = resolve;
  });

let receipts = 0;
const send = (destination, body) =>
  new Promise((resolve) => {
    const receipt = `seed-${++receipts}`;
    client.watchForReceipt(receipt, resolve);
    client.publish({ destination, body: JSON.stringify(body), headers: { receipt } });
  });

async function conversation(kind, room, topic) {
  const received = [];
  const sub = client.subscribe(topic, (frame) => {
    const event = JSON.parse(frame.body);
    if (waiting) {
      const resolve = waiting;
      waiting = null;
      resolve(event);
    } else events.push(event);
  });
  await send(`/kafka/send-${kind}-message`, { ...room, content: 'first' });
  const first = await nextEvent();
  await send(`/kafka/send-${kind}-reply`, { ...room, content: 'a reply', parentId: first.id });
  received.push(await nextEvent());
  await send(`/kafka/send-${kind}-message`, { ...room, content: 'second' });
  const second = await nextEvent();
  await send(`/kafka/send-${kind}-modify`, { ...room, id: second.id, content: 'second, edited' });
  received.push(await nextEvent());
  await send(`/kafka/send-${kind}-delete`, { ...room, id: first.id });
  received.push(await nextEvent());
  sub.unsubscribe();
  return received.length + 2;
}

client.onConnect = async () => {
  const dm = await conversation('direct', { channelId: '1' }, '/topic/direct/1');
  const channel = await conversation('channel', { communityId: '1', channelId: '1' }, '/topic/group/1');
  console.log(`seeded ${dm} events in DM room 1 and ${channel} in channel 1`);
  clearTimeout(watchdog);
  await client.deactivate();
  process.exit(0);
};
client.onStompError = (frame) => {
  console.error(`ERROR frame: ${frame.headers.message} ${frame.body}`);
  process.exit(1);
};
client.activate();
