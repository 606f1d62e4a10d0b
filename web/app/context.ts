/**
 * What the dashboard's elements share through @lit/context (provided by <timmy-app>, consumed anywhere
 * below it): the relay connection (the instance's relay through this origin's /relay bridge, speaking
 * NIP-01 like any client) and the login session.
 */
import { createContext } from '@lit/context';
import type { Publish, Subscribe } from '../../core/transport.ts';
import type { SessionInfo } from '../api-types.ts';

/** The instance's relay as the page sees it. */
export type RelayConnection = Publish & Subscribe;

export const relayContext = createContext<RelayConnection | undefined>(Symbol('timmy-relay'));

/** The session (who is logged in, whether an owner) and the calls that change it. */
export interface SessionState {
  info: SessionInfo;
  /** The NIP-07 extension is present (window.nostr). */
  canLogin: boolean;
  login(): Promise<void>;
  logout(): Promise<void>;
}

export const sessionContext = createContext<SessionState | undefined>(Symbol('timmy-session'));
