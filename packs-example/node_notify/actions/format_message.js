'use strict';
// node_notify.format_message: severity prefix plus "key: value" lines.

const PREFIX = { info: '[info]', warning: '[WARNING]', critical: '[CRITICAL]' };

function formatMessage(text, severity = 'info', fields = {}) {
  if (!(severity in PREFIX)) {
    throw new Error(`unknown severity: ${severity}`);
  }
  const lines = [`${PREFIX[severity]} ${text}`];
  for (const key of Object.keys(fields).sort()) {
    lines.push(`${key}: ${fields[key]}`);
  }
  return lines.join('\n');
}

module.exports = { formatMessage };

if (require.main === module) {
  const params = JSON.parse(process.argv[2] || '{}');
  const text = formatMessage(params.text, params.severity, params.fields);
  process.stdout.write(JSON.stringify({ text }) + '\n');
}
