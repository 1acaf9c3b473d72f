// A request to a running server as an API client sends it, for the tests that spawn processes.

/** A bearer token, and the body as JSON when there is one. */
export function bearerFetch(
  url: string,
  token: string,
  method: string,
  body?: unknown,
  init: Omit<RequestInit, 'method' | 'headers' | 'body'> = {},
): Promise<Response> {
  return fetch(url, {
    ...init,
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
}

/** The answer's body: parsed when it is JSON, the text otherwise (for messages), undefined when empty. */
export async function answerBody(res: Response): Promise<unknown> {
  const text = await res.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
