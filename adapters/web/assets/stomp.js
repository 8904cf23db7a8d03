// A minimal STOMP 1.2 client over the browser's WebSocket: CONNECT with headers,
// SUBSCRIBE, SEND (with any headers, e.g. receipt), RECEIPT, heart-beats both ways,
// DISCONNECT. Enough for this page; it keeps no queue while disconnected (the page
// reconnects and resumes its room).

const NUL = '\0';
const OFFER_MS = 10000; // the heart-beat period offered both ways

// STOMP 1.2 header escaping (CONNECT and CONNECTED frames are never escaped).
const unescape = (v) =>
  v.replace(/\\([rnc\\])/g, (_, c) => ({ r: '\r', n: '\n', c: ':', '\\': '\\' })[c]);
const escape = (v) =>
  String(v).replace(/[\\\r\n:]/g, (c) => ({ '\\': '\\\\', '\r': '\\r', '\n': '\\n', ':': '\\c' })[c]);

function encode(command, headers, body = '') {
  const raw = command === 'CONNECT';
  const lines = Object.entries(headers).map(([k, v]) =>
    raw ? `${k}:${v}` : `${escape(k)}:${escape(v)}`);
  return `${command}\n${lines.join('\n')}\n\n${body}${NUL}`;
}

// Splits one WebSocket message into frames (a message may carry several, or only
// a heart-beat end-of-line).
function decode(data) {
  const frames = [];
  for (const chunk of data.split(NUL)) {
    const text = chunk.replace(/^[\r\n]+/, '');
    if (!text) continue;
    const end = /\r?\n\r?\n/.exec(text);
    const head = (end ? text.slice(0, end.index) : text).split(/\r?\n/);
    const command = head.shift();
    const headers = {};
    for (const line of head) {
      const i = line.indexOf(':');
      const key = unescape(line.slice(0, i));
      // The first occurrence of a repeated header wins (STOMP 1.2).
      if (i > 0 && !(key in headers)) headers[key] = unescape(line.slice(i + 1));
    }
    frames.push({ command, headers, body: end ? text.slice(end.index + end[0].length) : '' });
  }
  return frames;
}

export class StompClient {
  // url: ws://host/my-chat/websocket; headers: extra CONNECT headers (access-token).
  constructor(url, headers) {
    this.url = url;
    this.connectHeaders = headers;
    this.handlers = new Map();
    this.nextId = 1;
    this.onclose = () => {};
    this.onerror = () => {};
    this.onreceipt = () => {}; // called with the receipt-id of each RECEIPT
  }

  // Resolves with the CONNECTED frame; rejects on ERROR or a closed socket.
  connect() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url, ['v12.stomp', 'v11.stomp', 'v10.stomp']);
      this.ws = ws;
      let connected = false;
      ws.onopen = () => ws.send(encode('CONNECT', {
        'accept-version': '1.2,1.1',
        'heart-beat': `${OFFER_MS},${OFFER_MS}`,
        host: location.host,
        ...this.connectHeaders,
      }));
      ws.onmessage = (event) => {
        this.lastSeen = Date.now();
        for (const frame of decode(event.data)) {
          if (frame.command === 'CONNECTED') {
            connected = true;
            this.startHeartBeats(frame.headers['heart-beat']);
            resolve(frame);
          } else if (frame.command === 'MESSAGE') {
            this.handlers.get(frame.headers.subscription)?.(frame);
          } else if (frame.command === 'RECEIPT') {
            this.onreceipt(frame.headers['receipt-id'], frame);
          } else if (frame.command === 'ERROR') {
            const reason = `${frame.headers.message ?? 'error'}${frame.body ? `: ${frame.body}` : ''}`;
            if (connected) this.onerror(reason); else reject(new Error(reason));
          }
        }
      };
      ws.onclose = (event) => {
        this.stopHeartBeats();
        if (connected) this.onclose(event);
        else reject(new Error(`connection closed (${event.code})`));
      };
    });
  }

  // Sends a heart-beat as often as the server wants one, and gives up on a
  // server that stayed silent for three of its periods.
  startHeartBeats(negotiated = '0,0') {
    const [serverSends, serverWants] = negotiated.split(',').map(Number);
    if (serverWants > 0) {
      const every = Math.max(OFFER_MS, serverWants);
      this.sendTimer = setInterval(() => this.ws.readyState === 1 && this.ws.send('\n'), every);
    }
    if (serverSends > 0) {
      const every = Math.max(OFFER_MS, serverSends);
      this.watchTimer = setInterval(() => {
        if (Date.now() - this.lastSeen > every * 3) this.ws.close(4000, 'server silent');
      }, every);
    }
  }

  stopHeartBeats() {
    clearInterval(this.sendTimer);
    clearInterval(this.watchTimer);
  }

  // Calls onMessage(json, frame) for each MESSAGE; returns a function that unsubscribes.
  // `headers` go on the SUBSCRIBE (e.g. x-since-seq to resume a room).
  subscribe(destination, onMessage, headers = {}) {
    const id = `sub-${this.nextId++}`;
    this.handlers.set(id, (frame) => {
      let body;
      try { body = JSON.parse(frame.body); } catch { body = frame.body; }
      onMessage(body, frame);
    });
    this.ws.send(encode('SUBSCRIBE', { ...headers, id, destination, ack: 'auto' }));
    return () => {
      this.handlers.delete(id);
      if (this.ws.readyState === 1) this.ws.send(encode('UNSUBSCRIBE', { id }));
    };
  }

  // `headers` go on the SEND (receipt, client-msg-id); throws when not connected.
  send(destination, json, headers = {}) {
    if (this.ws?.readyState !== 1) throw new Error('not connected');
    const body = JSON.stringify(json);
    this.ws.send(encode('SEND', { ...headers, destination, 'content-type': 'application/json' }, body));
  }

  disconnect() {
    this.onclose = () => {};
    this.stopHeartBeats();
    if (this.ws?.readyState === 1) this.ws.send(encode('DISCONNECT', {}));
    this.ws?.close(1000);
  }
}
