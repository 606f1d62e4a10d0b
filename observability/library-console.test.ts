import assert from 'node:assert/strict';
import { Console } from 'node:console';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { MemoryLogger } from '../core/logger.ts';
import { routeLibraryConsole } from './library-console.ts';

describe('routeLibraryConsole', () => {
  it('sends a library’s console output to the log, at debug or warn, and restores it', () => {
    let written = '';
    const sink = new Writable({
      write(chunk, _enc, done) {
        written += String(chunk);
        done();
      },
    });
    const target = new Console(sink, sink);
    const logger = new MemoryLogger();
    const restore = routeLibraryConsole(logger, target);
    assert.equal(typeof routeLibraryConsole(logger, target), 'function', 'a second call is a no-op');
    target.info('subscribing to %s', 'relays');
    target.error('Failed to request', new Error('boom'));
    assert.equal(written, '', 'nothing reached the console');
    assert.deepEqual(
      logger.records.map((r) => [r.level, r.msg.split('\n')[0], r.fields.source]),
      [
        ['debug', 'subscribing to relays', 'library'],
        ['warn', 'Failed to request Error: boom', 'library'],
      ],
    );
    restore();
    target.log('back');
    assert.equal(written, 'back\n');
  });
});
