// The server's API (/api/v1) as the web player asks it: `api(path)` fetches and answers the JSON
// body, or throws an ApiError with the HTTP status and the error code of the API's error body
// (status 0, code "offline", when the server cannot be reached at all).

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
  if (!response.ok) {
    throw new ApiError(response.status, body?.error?.code ?? "error", body?.error?.message ?? `HTTP ${response.status}`);
  }
  return body;
}
