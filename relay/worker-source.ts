/**
 * Source of a worker thread's entry module, for `new Worker(source, { eval: true })`. Workers do not inherit
 * the TypeScript loader (tsx) of the main thread, so when running from .ts sources the worker registers tsx
 * itself before importing its module. `name` is the module's base name beside this file (`verify-worker`).
 */
export function workerSource(name: string): string {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const entry = new URL(`./${name}${ext}`, import.meta.url).href;
  if (ext === '.js') return `import(${JSON.stringify(entry)});`;
  const tsx = import.meta.resolve('tsx/esm/api');
  return `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
}
