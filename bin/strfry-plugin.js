#!/usr/bin/env node
// strfry's write-policy plugin (deploy/strfry.conf): loads the TypeScript sources through tsx and runs
// cli/strfry-plugin-main.ts. stdout carries only answers to strfry; logs go to stderr.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/strfry-plugin-main.ts');
process.exitCode = await main();
