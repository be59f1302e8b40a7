// The alert cron Worker's entry point (wrangler.alerts.toml): its exports and nothing else. It holds the SQL API token
// and the webhook URL; the request Worker (src/index.ts) carries none of this code and none of those secrets.
import { createAlertWorker } from "./cron.ts";

export default createAlertWorker({
  // Late-bound so the runtime's fetch is used as it is at call time.
  fetch: (input, init) => fetch(input, init),
  log: (line) => console.log(JSON.stringify(line)),
});
