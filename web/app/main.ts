/** The dashboard's browser entry (/assets/app.js): defines every element; <timmy-app> in the page does the rest. */
import { TimmyAgentPage } from './agent-page.ts';
import { TimmyAgentsPage } from './agents-page.ts';
import { TimmyApp } from './app-shell.ts';
import { TimmyApprovalsPage } from './approvals-page.ts';
import { TimmyChatPage } from './chat-page.ts';
import { TimmyIdenticon } from './identicon.ts';
import { TimmyJobPage } from './job-page.ts';
import { TimmyJobsPage } from './jobs-page.ts';
import { TimmyLlmPage } from './llm-page.ts';
import { TimmyMonitorPage } from './monitor-page.ts';
import { TimmyNpub } from './npub-display.ts';
import { TimmyPeersPage } from './peers-page.ts';
import { TimmyTime } from './relative-time.ts';
import { TimmySats } from './sats-amount.ts';
import { TimmyState } from './state-badge.ts';
import { TimmyTalk } from './talk-button.ts';
import { TimmyWalletPage } from './wallet-page.ts';

const elements: Record<string, CustomElementConstructor> = {
  'timmy-identicon': TimmyIdenticon,
  'timmy-npub': TimmyNpub,
  'timmy-time': TimmyTime,
  'timmy-state': TimmyState,
  'timmy-sats': TimmySats,
  'timmy-talk': TimmyTalk,
  'timmy-chat-page': TimmyChatPage,
  'timmy-jobs-page': TimmyJobsPage,
  'timmy-job-page': TimmyJobPage,
  'timmy-agents-page': TimmyAgentsPage,
  'timmy-agent-page': TimmyAgentPage,
  'timmy-wallet-page': TimmyWalletPage,
  'timmy-approvals-page': TimmyApprovalsPage,
  'timmy-llm-page': TimmyLlmPage,
  'timmy-peers-page': TimmyPeersPage,
  'timmy-monitor-page': TimmyMonitorPage,
  'timmy-app': TimmyApp,
};

for (const [name, element] of Object.entries(elements))
  if (!customElements.get(name)) customElements.define(name, element);
