// standardwebhooks (the Standard Webhooks reference library) as the sender:
// signs each message as a sender would deliver it. Standard input:
// {"secret": "whsec_...", "messages": [{"id", "timestamp" (Unix seconds),
// "payload" (the exact body)}]}; standard output: the headers of each
// delivery, [{"webhook-id", "webhook-timestamp", "webhook-signature"}].
import { Webhook } from 'standardwebhooks';

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const { secret, messages } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const wh = new Webhook(secret);
const out = messages.map((m) => {
  const ts = new Date(m.timestamp * 1000);
  const headers = {
    'webhook-id': m.id,
    'webhook-timestamp': String(m.timestamp),
    'webhook-signature': wh.sign(m.id, ts, m.payload),
  };
  // what any receiver using this library accepts (within its 5-minute
  // tolerance; a stale message is made on purpose by some tests)
  if (Math.abs(Date.now() / 1000 - m.timestamp) < 300) wh.verify(m.payload, headers);
  return headers;
});
process.stdout.write(JSON.stringify(out));
