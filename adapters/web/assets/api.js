// The server's HTTP side as this page uses it: the page configuration, development
// tokens, and the REST API under /api/v1 (history pages, room lists, presence). Every
// call has a timeout; failures throw an Error carrying the server's message.

const TIMEOUT_MS = 8000;
export const HISTORY_PAGE = 50;

async function call(method, path, { token, body } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
      cache: 'no-store',
    });
  } catch (error) {
    throw new Error(`${method} ${path}: ${error.name === 'TimeoutError' ? 'timed out' : 'network error'}`);
  }
  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (!response.ok) {
    const error = new Error(json?.message ?? `${method} ${path}: HTTP ${response.status}`);
    error.status = response.status;
    error.code = json?.code;
    throw error;
  }
  return json;
}

// The two kinds of room the page chats in.
export const roomPath = (room) =>
  room.kind === 'direct' ? `/api/v1/direct/${room.id}` : `/api/v1/channels/${room.id}`;

export const api = {
  config: () => call('GET', '/web/config.json'),
  devToken: (userId, name) => call('POST', '/dev/token', { body: { userId, name } }),
  rooms: (token) => call('GET', '/api/v1/rooms', { token }),
  // The newest page, or the page before message `before`; newest first.
  history: (token, room, before = null) => {
    const cursor = before ? `&before=${encodeURIComponent(before)}` : '';
    return call('GET', `${roomPath(room)}/messages?limit=${HISTORY_PAGE}&order=newest${cursor}`, { token });
  },
  presence: (token, users) => {
    const query = users.slice(0, 200).map((u) => `user=${encodeURIComponent(u)}`).join('&');
    return call('GET', `/api/v1/presence?${query}`, { token });
  },
};
