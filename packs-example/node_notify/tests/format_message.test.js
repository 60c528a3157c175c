'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { formatMessage } = require('../actions/format_message');

test('prefixes the severity', () => {
  assert.strictEqual(formatMessage('disk full', 'critical'), '[CRITICAL] disk full');
});

test('appends sorted fields', () => {
  assert.strictEqual(formatMessage('x', 'info', { b: 2, a: 1 }), '[info] x\na: 1\nb: 2');
});

test('refuses an unknown severity', () => {
  assert.throws(() => formatMessage('x', 'loud'));
});
