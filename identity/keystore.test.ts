import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decrypt } from 'nostr-tools/nip49';
import { getPublicKey, verifyEvent } from 'nostr-tools/pure';
import { MemoryLogger, silentLogger } from '../core/logger.ts';
import { KeyStore, KeyStoreError, type KeyStoreErrorCode } from './keystore.ts';
import { decodeNip19As, encodeNpub, encodeNsec } from './nip19.ts';

// Test data of NIP-49 (nostr-protocol/nips, 49.md): password "nostr", log_n 16.
const NIP49_NCRYPTSEC =
  'ncryptsec1qgg9947rlpvqu76pj5ecreduf9jxhselq2nae2kghhvd5g7dgjtcxfqtd67p9m0w57lspw8gsq6yphnm8623nsl8xn9j4jdzz84zm3frztj3z7s35vpzmqf6ksu8r89qk5z2zxfmu5gv8th8wclt0h4p';
const NIP49_SECRET = '3501454135014541350145413501453fefb02227e449e57cf4d3a3ce05378683';
// NIP-19 spec vector
const NSEC = 'nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5';
const NSEC_HEX = '67dea2ed018072d675f5415ecfaed7d2597555e202d85b3d65ea4e58d2d92ffa';

const PASS = 'correct horse battery staple';
const posix = process.platform !== 'win32';

let root: string;
let n = 0;
const freshDir = (): string => join(root, `store-${++n}`);
const store = (dir: string, extra: Partial<ConstructorParameters<typeof KeyStore>[0]> = {}): KeyStore =>
  new KeyStore({ dir, passphrase: PASS, logger: silentLogger, logN: 8, ...extra });

async function rejectsCode(p: Promise<unknown>, code: KeyStoreErrorCode, check?: (e: KeyStoreError) => void) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof KeyStoreError, `expected KeyStoreError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    check?.(err);
    return true;
  });
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'timmy-keystore-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('NIP-49 spec vector', () => {
  it('nostr-tools decrypts the spec ncryptsec to the spec secret key', () => {
    assert.equal(Buffer.from(decrypt(NIP49_NCRYPTSEC, 'nostr')).toString('hex'), NIP49_SECRET);
  });

  it('a key file holding the spec ncryptsec opens with passphrase "nostr" and exports the spec key', async () => {
    const dir = freshDir();
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const pubkey = getPublicKey(Uint8Array.from(Buffer.from(NIP49_SECRET, 'hex')));
    const file = {
      version: 1,
      name: 'spec',
      pubkey,
      npub: encodeNpub(pubkey),
      ncryptsec: NIP49_NCRYPTSEC,
      createdAt: 1,
    };
    await writeFile(join(dir, 'spec.json'), JSON.stringify(file), { mode: 0o600 });
    const ks = new KeyStore({ dir, passphrase: 'nostr', logger: silentLogger });
    const key = await ks.get('spec');
    assert.equal(key.pubkey, pubkey);
    const nsec = await ks.exportNsec('spec');
    assert.equal(Buffer.from(decodeNip19As(nsec, 'nsec').secretKey).toString('hex'), NIP49_SECRET);
    await rejectsCode(
      new KeyStore({ dir, passphrase: 'Nostr', logger: silentLogger }).get('spec'),
      'bad-passphrase',
    );
  });
});

describe('KeyStore', () => {
  it('create → get → sign; the file is NIP-49 encrypted, 0600, in a 0700 directory, with no temp file left', async () => {
    const dir = freshDir();
    const ks = store(dir, { now: () => 1_700_000_123 });
    const created = await ks.create('timmy');
    assert.match(created.pubkey, /^[0-9a-f]{64}$/);
    assert.equal(decodeNip19As(created.npub, 'npub').pubkey, created.pubkey);

    const raw = JSON.parse(await readFile(join(dir, 'timmy.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(raw).sort(), [
      'createdAt',
      'name',
      'ncryptsec',
      'npub',
      'pubkey',
      'version',
    ]);
    assert.equal(raw.createdAt, 1_700_000_123);
    const sk = decrypt(raw.ncryptsec as string, PASS);
    assert.equal(getPublicKey(sk), created.pubkey);
    assert.deepEqual(await readdir(dir), ['timmy.json']);
    if (posix) {
      assert.equal((await stat(join(dir, 'timmy.json'))).mode & 0o777, 0o600);
      assert.equal((await stat(dir)).mode & 0o777, 0o700);
    }

    // a second store (another process) decrypts from disk
    const other = store(dir);
    const loaded = await other.get('timmy');
    assert.equal(loaded.pubkey, created.pubkey);
    const ev = await loaded.signer.signEvent({ kind: 1, created_at: 1, tags: [], content: 'x' });
    assert.equal(ev.pubkey, created.pubkey);
    assert.ok(verifyEvent(JSON.parse(JSON.stringify(ev))));
  });

  it('caches decrypted signers (also for concurrent gets)', async () => {
    const dir = freshDir();
    await store(dir).create('a');
    const ks = store(dir);
    const [x, y] = await Promise.all([ks.get('a'), ks.get('a')]);
    assert.equal(x.signer, y.signer);
    assert.equal((await ks.get('a')).signer, x.signer);
  });

  it('list, info and has show public information only, sorted, ignoring other files', async () => {
    const dir = freshDir();
    const ks = store(dir, { now: () => 42 });
    assert.deepEqual(await ks.list(), []); // the directory does not exist yet
    assert.equal(await ks.has('b'), false);
    const b = await ks.create('b');
    const a = await ks.import('a', NSEC);
    await writeFile(join(dir, 'README.txt'), 'not a key');
    await writeFile(join(dir, '.c.123.tmp'), '{');
    await writeFile(join(dir, 'Upper.json'), '{');
    const list = await ks.list();
    assert.deepEqual(list, [
      { name: 'a', pubkey: a.pubkey, npub: a.npub, createdAt: 42 },
      { name: 'b', pubkey: b.pubkey, npub: b.npub, createdAt: 42 },
    ]);
    assert.deepEqual(await ks.info('b'), list[1]);
    assert.equal(await ks.has('b'), true);
  });

  it('import takes an nsec or hex, and exportNsec gives the same key back', async () => {
    const dir = freshDir();
    const ks = store(dir);
    const a = await ks.import('from-nsec', NSEC);
    const b = await ks.import('from-hex', NSEC_HEX);
    assert.equal(a.pubkey, b.pubkey);
    assert.equal(a.pubkey, getPublicKey(Uint8Array.from(Buffer.from(NSEC_HEX, 'hex'))));
    assert.equal(await store(dir).exportNsec('from-hex'), NSEC);
  });

  it('refuses to overwrite: create or import on an existing name is "exists"', async () => {
    const dir = freshDir();
    const ks = store(dir);
    const first = await ks.create('dup');
    await rejectsCode(ks.create('dup'), 'exists');
    await rejectsCode(ks.import('dup', NSEC), 'exists');
    await rejectsCode(store(dir).create('dup'), 'exists');
    assert.equal((await store(dir).get('dup')).pubkey, first.pubkey);
  });

  it('getOrCreate creates once, then returns the same key', async () => {
    const dir = freshDir();
    const first = await store(dir).getOrCreate('w');
    const second = await store(dir).getOrCreate('w');
    assert.equal(first.created, true);
    assert.equal(second.created, false);
    assert.equal(first.pubkey, second.pubkey);
  });

  it('validates names', async () => {
    const ks = store(freshDir());
    for (const bad of ['', 'Timmy', 'a b', '../x', 'a/b', 'x.json', 'é', 'a'.repeat(65)]) {
      await rejectsCode(ks.create(bad), 'invalid-name');
      await rejectsCode(ks.get(bad), 'invalid-name');
      await rejectsCode(ks.has(bad), 'invalid-name');
    }
    await ks.create('a'.repeat(64));
    await ks.create('agent_1-x');
  });

  it('not-found names the missing key', async () => {
    const ks = store(freshDir());
    await rejectsCode(ks.get('ghost'), 'not-found', (e) => assert.match(e.message, /ghost/));
    await rejectsCode(ks.exportNsec('ghost'), 'not-found');
  });

  it('wrong passphrase → bad-passphrase, naming the file; the error and the logs hold no secret', async () => {
    const dir = freshDir();
    const logger = new MemoryLogger();
    const ks = new KeyStore({ dir, passphrase: PASS, logger, logN: 8 });
    await ks.import('alice', NSEC);
    await ks.exportNsec('alice');
    const wrong = new KeyStore({ dir, passphrase: 'wrong', logger, logN: 8 });
    await rejectsCode(wrong.get('alice'), 'bad-passphrase', (e) => {
      assert.ok(e.message.includes(join(dir, 'alice.json')));
      assert.equal(e.file, join(dir, 'alice.json'));
      assert.ok(!e.message.includes(NSEC_HEX) && !e.message.includes(NSEC));
    });
    await rejectsCode(wrong.exportNsec('alice'), 'bad-passphrase');
    // a failed get is not cached: the right passphrase still works afterwards
    assert.equal((await ks.get('alice')).name, 'alice');
    const logged = JSON.stringify(logger.records);
    assert.ok(logger.records.length > 0);
    assert.ok(!logged.includes(NSEC_HEX) && !logged.includes(NSEC) && !logged.includes(PASS));
    assert.ok(!logged.includes('ncryptsec1'));
  });

  it('corrupt files → "corrupt" errors naming the file, for get, info and list', async () => {
    const dir = freshDir();
    const ks = store(dir);
    const good = await ks.create('good');
    const file = (name: string) => join(dir, `${name}.json`);
    const raw = JSON.parse(await readFile(file('good'), 'utf8')) as Record<string, unknown>;
    const other = await ks.create('other');

    const cases: [string, string][] = [
      ['truncated', (await readFile(file('good'), 'utf8')).slice(0, 40)],
      ['empty', ''],
      ['array', '[]'],
      ['no-ncryptsec', JSON.stringify({ ...raw, name: 'no-ncryptsec', ncryptsec: undefined })],
      ['bad-version', JSON.stringify({ ...raw, name: 'bad-version', version: 2 })],
      [
        'bad-bech32',
        // the last bech32 character changed (to one it is not), so the checksum fails
        JSON.stringify({
          ...raw,
          name: 'bad-bech32',
          ncryptsec: `${String(raw.ncryptsec).slice(0, -1)}${String(raw.ncryptsec).endsWith('x') ? 'y' : 'x'}`,
        }),
      ],
      ['not-ncryptsec', JSON.stringify({ ...raw, name: 'not-ncryptsec', ncryptsec: 'ncryptsec1qqqq' })],
      ['wrong-name', JSON.stringify(raw)], // holds "good"
      ['wrong-pubkey', JSON.stringify({ ...raw, name: 'wrong-pubkey', pubkey: other.pubkey })],
    ];
    for (const [name, content] of cases) {
      await writeFile(file(name), content, { mode: 0o600 });
      await rejectsCode(ks.get(name), 'corrupt', (e) => {
        assert.ok(e.message.includes(file(name)), e.message);
        assert.equal(e.file, file(name));
      });
    }
    await rejectsCode(ks.info('truncated'), 'corrupt');
    await rejectsCode(ks.list(), 'corrupt', (e) => assert.ok(e.message.includes(dir)));
    assert.equal((await ks.get('good')).pubkey, good.pubkey);
  });

  it('import refuses what is not a secret key, without repeating it', async () => {
    const ks = store(freshDir());
    const typo = `${NSEC.slice(0, -1)}q`;
    for (const bad of [
      typo,
      NSEC_HEX.slice(1),
      'npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg',
      '0'.repeat(64),
    ]) {
      await rejectsCode(ks.import('x', bad), 'invalid-key', (e) => {
        assert.ok(!e.message.includes(bad), e.message);
      });
    }
    assert.equal(await ks.has('x'), false);
  });

  it('tightens a key directory that others can read', { skip: !posix }, async () => {
    const dir = freshDir();
    await mkdir(dir, { mode: 0o755 });
    await chmod(dir, 0o755);
    const logger = new MemoryLogger();
    await new KeyStore({ dir, passphrase: PASS, logger, logN: 8 }).create('k');
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    assert.ok(logger.records.some((r) => r.level === 'warn'));
  });

  it('reports file system failures as "io" errors naming the path', async () => {
    const blocker = join(root, `blocker-${++n}`);
    await writeFile(blocker, 'a file where the key directory should be');
    const dir = join(blocker, 'keys');
    await rejectsCode(store(dir).create('k'), 'io', (e) => assert.ok(e.message.includes(dir), e.message));
    await rejectsCode(store(dir).get('k'), 'io', (e) => assert.ok(e.message.includes(dir), e.message));
    await rejectsCode(store(dir).list(), 'io');
  });

  it('refuses an empty passphrase and an out-of-range logN', () => {
    assert.throws(
      () => store(freshDir(), { passphrase: '' }),
      (e: unknown) => e instanceof KeyStoreError && e.code === 'invalid-options',
    );
    for (const logN of [0, 23, 1.5]) {
      assert.throws(
        () => store(freshDir(), { logN }),
        (e: unknown) => e instanceof KeyStoreError && e.code === 'invalid-options',
      );
    }
  });

  it('exportNsec is the only way to the secret, and it is logged without the key', async () => {
    const logger = new MemoryLogger();
    const ks = new KeyStore({ dir: freshDir(), passphrase: PASS, logger, logN: 8 });
    const k = await ks.create('k');
    const nsec = await ks.exportNsec('k');
    assert.equal(getPublicKey(decodeNip19As(nsec, 'nsec').secretKey), k.pubkey);
    assert.ok(!JSON.stringify(k).includes(nsec.slice(5)));
    assert.ok(
      !JSON.stringify(k).includes(Buffer.from(decodeNip19As(nsec, 'nsec').secretKey).toString('hex')),
    );
    assert.ok(logger.records.some((r) => /export/.test(r.msg) && r.fields.name === 'k'));
    assert.ok(!JSON.stringify(logger.records).includes(nsec.slice(5)));
    assert.equal(encodeNsec(decodeNip19As(nsec, 'nsec').secretKey), nsec);
  });
});
