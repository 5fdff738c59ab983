// snowd's REST API through the session cookie.  Every change carries the
// session's CSRF token (snowd refuses a session's non-GET without it).
let csrf = '';
export function setCsrf(t) { csrf = t || ''; }

export class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

export async function api(method, path, body) {
  const opt = { method, headers: {}, credentials: 'same-origin' };
  if (method !== 'GET' && csrf) opt.headers['X-Snow-CSRF'] = csrf;
  if (body !== undefined) {
    opt.headers['Content-Type'] = 'application/json';
    opt.body = JSON.stringify(body);
  }
  let r;
  try {
    r = await fetch('/api/v1/' + path, opt);
  } catch (e) {
    throw new ApiError(0, 'snowd is not reachable (' + e.message + ')');
  }
  let j = null;
  try { j = await r.json(); } catch { /* not JSON: keep the status */ }
  if (!r.ok) {
    if (r.status === 401 && path !== 'login' && path !== 'me') window.dispatchEvent(new Event('snow-logged-out'));
    throw new ApiError(r.status, (j && j.error) || r.status + ' ' + r.statusText);
  }
  return j;
}

// A route the lead is still adding answers 404 "no such route": pages say
// "not available" instead of failing.
export function notAvailable(e) { return e instanceof ApiError && (e.status === 404 || e.status === 405 || e.status === 501); }

export const enc = encodeURIComponent;
