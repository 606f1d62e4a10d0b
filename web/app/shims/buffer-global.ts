/**
 * Injected into the browser bundle (web/app/build-config.ts): every free `Buffer` of the shared modules and
 * their packages (bolt11, safe-buffer) reads the `buffer` package's implementation.
 */
export { Buffer } from 'buffer/';
