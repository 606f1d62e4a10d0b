import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { errorMessage } from '../core/errors.ts';

/**
 * A persona file declares an instance's agents: who they are (kind 0 profile, NIP-05 name), their role, and
 * the NIP-90 job kinds each serves with which built-in handler (agents/runtime/handlers/) at which price hint.
 */
const nameRe = /^[a-z0-9][a-z0-9_-]{0,63}$/;

const personaSchema = z.strictObject({
  name: z.string().regex(nameRe, 'must be 1-64 of a-z, 0-9, "-" or "_", starting with a letter or digit'),
  displayName: z.string().min(1).max(100),
  role: z.enum(['coordinator', 'worker']).default('worker'),
  about: z.string().max(2000).default(''),
  picture: z.string().default(''),
  website: z.string().default(''),
  lud16: z.string().default(''),
  /** NIP-39 external identities, e.g. { platform: 'github', identity: 'alice', proof: '<gist id>' }. */
  identities: z
    .array(
      z.strictObject({
        platform: z.string().regex(/^[a-z0-9._-]+$/),
        identity: z.string().min(1),
        proof: z.string().default(''),
      }),
    )
    .default([]),
  /** NIP-90 job kinds this agent serves: the handler that runs them and a price hint for its NIP-89 announcement. */
  serves: z
    .array(
      z.strictObject({
        kind: z.number().int().min(5000).max(5999),
        handler: z.string().min(1),
        priceMsats: z.number().int().min(0).default(0),
      }),
    )
    .default([]),
  /** What a job costs this agent (its sealed bids are its true cost: docs/auctions.md). */
  cost: z
    .strictObject({
      perTokenMsats: z.number().min(0).default(0),
      perSecondMsats: z.number().min(0).default(0),
      loadSurchargePct: z.number().min(0).max(1000).default(10),
    })
    .prefault({}),
  /** System prompt for the language-model handlers of this agent (its voice); empty for the handler's default. */
  systemPrompt: z.string().max(4000).default(''),
});

const personaFileSchema = z
  .strictObject({ agents: z.array(personaSchema).min(1) })
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.agents.forEach((a, i) => {
      if (seen.has(a.name))
        ctx.addIssue({ code: 'custom', path: ['agents', i, 'name'], message: `duplicate name "${a.name}"` });
      seen.add(a.name);
      const kinds = new Set<number>();
      a.serves.forEach((s, j) => {
        if (kinds.has(s.kind))
          ctx.addIssue({
            code: 'custom',
            path: ['agents', i, 'serves', j, 'kind'],
            message: `kind ${s.kind} is listed twice for "${a.name}"`,
          });
        kinds.add(s.kind);
      });
    });
    const coordinators = file.agents.filter((a) => a.role === 'coordinator').length;
    if (coordinators !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['agents'],
        message: `needs exactly one coordinator, found ${coordinators}`,
      });
    }
  });

export type Persona = z.infer<typeof personaSchema>;
export type PersonaFile = z.infer<typeof personaFileSchema>;

export const DEFAULT_PERSONA_FILE = fileURLToPath(new URL('./personas.json', import.meta.url));

export class PersonaFileError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`persona file ${file}: ${detail}`);
    this.name = 'PersonaFileError';
  }
}

export function parsePersonaFile(content: unknown, file = '(inline)'): PersonaFile {
  const r = personaFileSchema.safeParse(content);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new PersonaFileError(file, `${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
  }
  return r.data;
}

/** Reads and validates a persona file (the shipped default when `path` is empty). */
export async function loadPersonaFile(path = ''): Promise<{ file: string; personas: Persona[] }> {
  const file = path || DEFAULT_PERSONA_FILE;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new PersonaFileError(file, `cannot read: ${errorMessage(err)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new PersonaFileError(file, `not valid JSON: ${errorMessage(err)}`);
  }
  return { file, personas: parsePersonaFile(json, file).agents };
}
