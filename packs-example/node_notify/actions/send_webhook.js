'use strict';
// node_notify.send_webhook: POST {text} as JSON with the fetch built into Node.js 18+.

const { formatMessage } = require('./format_message');

async function sendWebhook(url, text, severity = 'info') {
  if (!/^https?:\/\//.test(url)) {
    throw new Error(`unsupported URL: ${url}`);
  }
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: formatMessage(text, severity) }),
  });
  return { status: response.status, ok: response.ok };
}

module.exports = { sendWebhook };

if (require.main === module) {
  const params = JSON.parse(process.argv[2] || '{}');
  sendWebhook(params.url, params.text, params.severity)
    .then((result) => process.stdout.write(JSON.stringify(result) + '\n'))
    .catch((error) => {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = 1;
    });
}
