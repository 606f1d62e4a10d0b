import type { EventTemplate, NostrEvent } from '../core/nostr.ts';
import type { Signer } from '../core/signer.ts';

/**
 * An agent's kind 0 profile (NIP-01 metadata, NIP-24 extra fields: display_name, website, bot) with its
 * NIP-39 external identities as `i` tags, and the reverse: reading anyone's kind 0 into typed fields.
 * Inputs use camelCase (a persona can be passed as is); empty strings mean "not set" and are left out.
 */

export interface ExternalIdentity {
  /** Provider, e.g. `github`: a-z, 0-9 and `._-/`, never `:`. */
  platform: string;
  /** The identity on that platform, e.g. the user name. */
  identity: string;
  /** Where the proof is (NIP-39: a gist id, a post id...); may be empty. */
  proof: string;
}

export interface ProfileInput {
  name: string;
  displayName?: string;
  about?: string;
  picture?: string;
  banner?: string;
  website?: string;
  /** NIP-05 identifier, `name@domain`. */
  nip05?: string;
  /** Lightning address, `name@domain`. */
  lud16?: string;
  /** NIP-24: the profile is an automated account. Default true: every Timmy agent is a bot. */
  bot?: boolean;
  identities?: readonly ExternalIdentity[];
}

/** A profile read from a kind 0: every field of `ProfileInput` may be missing. */
export interface ParsedProfile extends Omit<ProfileInput, 'name' | 'identities'> {
  name?: string;
  identities: ExternalIdentity[];
  /** Known fields present with the wrong type (ignored), e.g. `["picture"]`. */
  invalidFields: string[];
}

export class ProfileError extends Error {
  constructor(detail: string) {
    super(`profile: ${detail}`);
    this.name = 'ProfileError';
  }
}

const PLATFORM_RE = /^[a-z0-9._\-/]+$/;
const ADDRESS_RE = /^[a-z0-9._+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*(:\d{1,5})?$/i;

/** The kind 0 event template of a profile. Throws ProfileError on a field that cannot be published. */
export function profileTemplate(
  profile: ProfileInput,
  createdAt = Math.floor(Date.now() / 1000),
): EventTemplate {
  if (typeof profile.name !== 'string' || profile.name.trim() === '') {
    throw new ProfileError('name must be a non-empty string');
  }
  const content: Record<string, string | boolean> = { name: profile.name };
  const text = (key: string, value: string | undefined): void => {
    if (value === undefined || value === '') return;
    if (typeof value !== 'string') throw new ProfileError(`${key} must be a string`);
    content[key] = value;
  };
  text('display_name', profile.displayName);
  text('about', profile.about);
  text('picture', checkUrl('picture', profile.picture));
  text('banner', checkUrl('banner', profile.banner));
  text('website', checkUrl('website', profile.website));
  text('nip05', checkAddress('nip05', profile.nip05));
  text('lud16', checkAddress('lud16', profile.lud16));
  content.bot = profile.bot ?? true;

  const tags: string[][] = [];
  for (const id of profile.identities ?? []) {
    if (typeof id.platform !== 'string' || !PLATFORM_RE.test(id.platform)) {
      throw new ProfileError(
        `identity platform ${JSON.stringify(id.platform)} must use only a-z, 0-9 and ._-/`,
      );
    }
    if (typeof id.identity !== 'string' || id.identity === '' || /\s/.test(id.identity)) {
      throw new ProfileError(`identity on ${id.platform} must be a non-empty string without spaces`);
    }
    tags.push(['i', `${id.platform}:${id.identity}`, typeof id.proof === 'string' ? id.proof : '']);
  }
  if (!Number.isSafeInteger(createdAt) || createdAt < 0)
    throw new ProfileError('createdAt must be unix seconds');
  return { kind: 0, created_at: createdAt, tags, content: JSON.stringify(content) };
}

/** The profile as a signed kind 0 event, ready to publish. */
export async function buildProfileEvent(
  signer: Signer,
  profile: ProfileInput,
  options: { createdAt?: number } = {},
): Promise<NostrEvent> {
  return signer.signEvent(profileTemplate(profile, options.createdAt));
}

function checkUrl(key: string, value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ProfileError(`${key} must be an absolute http(s) URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ProfileError(`${key} must be an http(s) URL, not ${url.protocol}`);
  }
  return value;
}

function checkAddress(key: string, value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !ADDRESS_RE.test(value)) {
    throw new ProfileError(`${key} must look like name@domain`);
  }
  return value;
}

/**
 * Reads a kind 0 event (anyone's: the signature is the caller's business). Throws ProfileError when it is
 * not kind 0 or its content is not a JSON object; fields of the wrong type are left out and listed in
 * `invalidFields`. Reads the deprecated `displayName` when `display_name` is absent.
 */
export function parseProfile(event: Pick<NostrEvent, 'kind' | 'content' | 'tags'>): ParsedProfile {
  if (event.kind !== 0) throw new ProfileError(`expected a kind 0 event, got kind ${String(event.kind)}`);
  if (typeof event.content !== 'string') throw new ProfileError('content is not a string');
  let json: unknown;
  try {
    json = JSON.parse(event.content);
  } catch {
    throw new ProfileError('content is not valid JSON');
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ProfileError('content is not a JSON object');
  }
  const c = json as Record<string, unknown>;
  const out: ParsedProfile = { identities: [], invalidFields: [] };
  const str = (jsonKey: string): string | undefined => {
    const v = c[jsonKey];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return v;
    out.invalidFields.push(jsonKey);
    return undefined;
  };
  const set = <K extends keyof ParsedProfile>(key: K, value: ParsedProfile[K] | undefined): void => {
    if (value !== undefined) out[key] = value;
  };
  set('name', str('name'));
  set('displayName', str('display_name') ?? str('displayName'));
  set('about', str('about'));
  set('picture', str('picture'));
  set('banner', str('banner'));
  set('website', str('website'));
  set('nip05', str('nip05'));
  set('lud16', str('lud16'));
  if (typeof c.bot === 'boolean') out.bot = c.bot;
  else if (c.bot !== undefined && c.bot !== null) out.invalidFields.push('bot');

  for (const tag of Array.isArray(event.tags) ? event.tags : []) {
    if (!Array.isArray(tag) || tag[0] !== 'i' || typeof tag[1] !== 'string') continue;
    const sep = tag[1].indexOf(':');
    if (sep <= 0 || sep === tag[1].length - 1) continue;
    out.identities.push({
      platform: tag[1].slice(0, sep),
      identity: tag[1].slice(sep + 1),
      proof: typeof tag[2] === 'string' ? tag[2] : '',
    });
  }
  return out;
}
