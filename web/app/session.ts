/**
 * The login session from the page: who is logged in (GET /api/session), NIP-07 login (a challenge from the
 * server, signed by the extension as a kind 27235 event with the u, method and challenge tags, POST
 * /api/session) and logout. The CSRF token of the session goes to the API client for its writes.
 */
import type { LoginChallenge, SessionInfo } from '../api-types.ts';
import { CHALLENGE_TAG } from '../api-types.ts';
import type { Api } from './api.ts';
import type { SessionState } from './context.ts';
import { findNip07, Nip07Signer } from './nip07-signer.ts';

export const LOGIN_KIND = 27235;

export const READ_ONLY_HINT = 'read-only: install a NIP-07 extension to log in';

export class Session extends EventTarget {
  info: SessionInfo = { loggedIn: false, owners: [] };
  error = '';
  busy = false;

  constructor(private readonly api: Api) {
    super();
  }

  get canLogin(): boolean {
    return findNip07() !== undefined;
  }

  /** The state the elements get through sessionContext (a new object on each change). */
  state(): SessionState {
    return {
      info: this.info,
      canLogin: this.canLogin,
      login: () => this.login(),
      logout: () => this.logout(),
    };
  }

  private set(info: SessionInfo): void {
    this.info = info;
    this.api.csrf = info.loggedIn ? info.csrf : undefined;
    this.dispatchEvent(new Event('change'));
  }

  private async run(action: () => Promise<void>): Promise<void> {
    this.busy = true;
    this.error = '';
    this.dispatchEvent(new Event('change'));
    try {
      await action();
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
      throw err;
    } finally {
      this.busy = false;
      this.dispatchEvent(new Event('change'));
    }
  }

  async refresh(): Promise<void> {
    try {
      this.set(await this.api.get<SessionInfo>('/api/session'));
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
      this.dispatchEvent(new Event('change'));
    }
  }

  login(): Promise<void> {
    return this.run(async () => {
      const signer = Nip07Signer.fromWindow();
      if (!signer) throw new Error(READ_ONLY_HINT);
      const challenge = await this.api.post<LoginChallenge>('/api/session/challenge', {});
      const event = await signer.signEvent({
        kind: LOGIN_KIND,
        created_at: Math.floor(Date.now() / 1000),
        tags: [
          ['u', challenge.url],
          ['method', 'POST'],
          [CHALLENGE_TAG, challenge.challenge],
        ],
        content: '',
      });
      this.set(await this.api.post<SessionInfo>('/api/session', { event }));
    });
  }

  logout(): Promise<void> {
    return this.run(async () => {
      this.set(await this.api.post<SessionInfo>('/api/session/logout', {}));
    });
  }
}
