import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_LIMITS } from './limits.ts';
import { infoDocument, SUPPORTED_NIPS } from './nip11.ts';

test('the document lists the NIPs, software and limits', () => {
  const doc = infoDocument({
    info: { name: 'n', description: 'd', contact: 'mailto:x@y', pubkey: 'a'.repeat(64) },
    limits: { ...DEFAULT_LIMITS, createdAtPastSeconds: 3600 },
    auth: 'write',
    restrictedWrites: false,
  });
  assert.equal(doc.name, 'n');
  assert.equal(doc.description, 'd');
  assert.equal(doc.contact, 'mailto:x@y');
  assert.equal(doc.pubkey, 'a'.repeat(64));
  assert.deepEqual(doc.supported_nips, [1, 9, 11, 40, 42, 45]);
  assert.deepEqual(SUPPORTED_NIPS, [1, 9, 11, 40, 42, 45]);
  assert.equal(doc.software, 'timmy-time');
  assert.equal(typeof doc.version, 'string');
  assert.deepEqual(doc.limitation, {
    max_message_length: DEFAULT_LIMITS.maxMessageBytes,
    max_subscriptions: DEFAULT_LIMITS.maxSubscriptions,
    max_filters: DEFAULT_LIMITS.maxFilters,
    max_limit: DEFAULT_LIMITS.maxLimit,
    max_filter_values: DEFAULT_LIMITS.maxFilterValues,
    max_subid_length: 64,
    max_event_tags: DEFAULT_LIMITS.maxEventTags,
    max_content_length: DEFAULT_LIMITS.maxContentBytes,
    auth_required: true,
    payment_required: false,
    restricted_writes: true,
    created_at_upper_limit: DEFAULT_LIMITS.createdAtFutureSeconds,
    created_at_lower_limit: 3600,
  });
});

test('optional fields are left out, not empty', () => {
  const doc = infoDocument({
    info: { name: 'n', description: 'd', contact: '', software: 'sw', version: '9' },
    limits: DEFAULT_LIMITS,
    auth: 'none',
    restrictedWrites: false,
  });
  assert.equal('contact' in doc, false);
  assert.equal('pubkey' in doc, false);
  assert.equal(doc.software, 'sw');
  assert.equal(doc.version, '9');
  const limitation = doc.limitation as Record<string, unknown>;
  assert.equal(limitation.auth_required, false);
  assert.equal(limitation.restricted_writes, false);
  assert.equal('created_at_lower_limit' in limitation, false);
});
