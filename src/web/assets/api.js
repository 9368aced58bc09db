// The server's API (/api/v1) as the web player asks it: `api(path)` fetches and answers the JSON
// body, or throws an ApiError with the HTTP status and the error code of the API's error body
// (status 0, code "offline", when the server cannot be reached at all). A 401 anywhere but the
// login itself (no login yet, or a session that ended) is also announced as the
// "anyaudio:unauthenticated" event, which opens the login dialog (account.js).

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    Object.assign(this, { status, code });
  }
}

export async function api(path, options) {
  let response;
  try {
    response = await fetch(path, options);
  } catch {
    throw new ApiError(0, "offline", "the server cannot be reached");
  }
  const body = await response.json().catch(() => null);
  if (response.status === 401 && path !== "/api/v1/login") {
    window.dispatchEvent(new CustomEvent("anyaudio:unauthenticated"));
  }
  if (!response.ok) {
    throw new ApiError(response.status, body?.error?.code ?? "error", body?.error?.message ?? `HTTP ${response.status}`);
  }
  return body;
}
