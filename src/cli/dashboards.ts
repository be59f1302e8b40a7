// `npm run dashboards [-- --alert-rules JSON] [--dataset NAME]... [--out DIR]`: writes the Grafana dashboard and the
// datasource provisioning file (src/dashboards/) to dashboards/grafana/, or to DIR. The committed copy holds the
// built-in alert thresholds; `--alert-rules` (or ALERT_RULES in the environment) writes a deployment's instead, as
// the threshold variables' defaults. docs/dashboards.md.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { AlertRulesSchema } from "../alerts/rules.ts";
import { isDatasetName } from "../audit/sql-api.ts";
import { datasourceYaml } from "../dashboards/datasource.ts";
import { dashboardJson } from "../dashboards/grafana.ts";

export const DASHBOARD_FILE = "ci-credential-broker.json";
export const DATASOURCE_FILE = "datasource.yaml";
const COMMITTED_DIR = fileURLToPath(new URL("../../dashboards/grafana/", import.meta.url));
const USAGE = "usage: npm run dashboards [-- --alert-rules JSON] [--dataset NAME]... [--out DIR]";

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

const argv = process.argv.slice(2);
let rulesText = process.env.ALERT_RULES?.trim() || "{}";
const datasets: string[] = [];
let out = COMMITTED_DIR;
for (let i = 0; i < argv.length; i += 2) {
  const [flag, value] = [argv[i], argv[i + 1]];
  if (flag === "--help" || flag === "-h") {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (value === undefined) fail(`${flag} needs a value`);
  if (flag === "--alert-rules") rulesText = value;
  else if (flag === "--dataset") datasets.push(value);
  else if (flag === "--out") out = value;
  else fail(`unknown option ${flag}`);
}
let rules;
try {
  rules = AlertRulesSchema.parse(JSON.parse(rulesText));
} catch {
  fail("--alert-rules (or ALERT_RULES) must be the JSON ALERT_RULES takes (docs/alerts.md)");
}
const bad = datasets.find((name) => !isDatasetName(name));
if (bad !== undefined) fail(`--dataset ${JSON.stringify(bad)} is not a dataset name`);
mkdirSync(out, { recursive: true });
writeFileSync(join(out, DASHBOARD_FILE), dashboardJson({ rules, ...(datasets.length > 0 ? { datasets } : {}) }));
writeFileSync(join(out, DATASOURCE_FILE), datasourceYaml());
process.stdout.write(`wrote ${join(out, DASHBOARD_FILE)} and ${join(out, DATASOURCE_FILE)}\n`);
