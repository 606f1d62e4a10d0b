/**
 * Kind 5700 (a project-defined test kind): the result is the input. It is the benchmark's job, so it does
 * nothing but join the inputs' text.
 */
import { type HandlerOutput, type JobHandler, type JobInput, JobInputError } from '../../../dvm/handler.ts';

export const echo: JobHandler = {
  name: 'echo',
  kinds: [5700],
  needsLlm: false,
  async run(job: JobInput): Promise<HandlerOutput> {
    const { inputs } = job;
    if (inputs.length === 0) throw new JobInputError('an echo job needs at least one input');
    if (inputs.length === 1) return { content: inputs[0]?.text ?? '' };
    return { content: inputs.map((i) => i.text).join('\n') };
  },
};
