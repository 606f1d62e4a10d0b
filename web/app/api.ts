/**
 * The dashboard's HTTP API from the page (web/api-types.ts): JSON in and out, same origin, the session's
 * CSRF token on every write, and an answer `{ error }` thrown as an `ApiError` carrying the HTTP status.
 */
import { CSRF_HEADER } from '../api-types.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export class Api {
  /** SessionInfo.csrf of the current session, sent on writes. */
  csrf: string | undefined;

  constructor(private readonly base = '') {}

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET' && this.csrf) headers[CSRF_HEADER] = this.csrf;
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
      });
    } catch (err) {
      throw new ApiError(
        0,
        `the server cannot be reached (${err instanceof Error ? err.message : String(err)})`,
      );
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const error =
        json && typeof json === 'object' && typeof (json as { error?: unknown }).error === 'string'
          ? (json as { error: string }).error
          : `${res.status} ${res.statusText}`;
      throw new ApiError(res.status, error);
    }
    if (json === undefined) throw new ApiError(res.status, `${path}: the answer is not JSON`);
    return json as T;
  }
}

/** The page's one API client (the app shell sets its CSRF token when the session changes). */
export const api = new Api();
