// The `create-hash` package (bolt11's) for the browser bundle (web/app/build-config.ts): the same
// Node-style hash objects as shims/node-crypto.ts, exported the CommonJS way `require('create-hash')` expects.
const { sha256, sha512 } = require('@noble/hashes/sha2');
const { sha1 } = require('@noble/hashes/sha1');
const { ripemd160 } = require('@noble/hashes/ripemd160');
const { Buffer } = require('buffer/');

const algorithms = { sha256, sha512, sha1, ripemd160, rmd160: ripemd160 };

module.exports = function createHash(name) {
  const algorithm = algorithms[String(name).toLowerCase().replace('-', '')];
  if (!algorithm) throw new Error(`digest ${name} is not available in the browser`);
  const inner = algorithm.create();
  const self = {
    update(data, encoding) {
      inner.update(typeof data === 'string' ? Buffer.from(data, encoding || 'utf8') : data);
      return self;
    },
    digest(encoding) {
      const out = Buffer.from(inner.digest());
      return encoding ? out.toString(encoding) : out;
    },
  };
  return self;
};
