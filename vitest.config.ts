import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { generateKeyPairSync } from "node:crypto";
import { defineConfig } from "vitest/config";
import { generateBrokerKeys } from "./sandbox/keys.ts";

// The broker's AWS keys for the test run: generated now, never real. Set in process.env too, where
// wrangler looks for required secrets, so a developer's own AWS_* variables can never leak into tests.
const brokerKeys = generateBrokerKeys();
process.env.AWS_ACCESS_KEY_ID = brokerKeys.accessKeyId;
process.env.AWS_SECRET_ACCESS_KEY = brokerKeys.secretAccessKey;
delete process.env.AWS_SESSION_TOKEN;
// The cron Worker's required secrets (wrangler.alerts.toml), blank: blank is unset to the alert settings, so its tests
// start with alerting off, and a developer's own values can never reach them.
process.env.ANALYTICS_API_TOKEN = "";
process.env.ALERT_WEBHOOK_URL = "";
// The workers pool reads wrangler.toml once per test file, and wrangler logs "Using secrets defined in process.env"
// each
// time ([secrets] makes it load process.env): its own log level, warn, keeps that out of the test report while its
// warnings and errors still show. The end-to-end tests' wrangler processes (npm start, deploy --dry-run) get the
// developer's level back (project e2e `env`): their output is what those tests read.
const developerWranglerLog = process.env.WRANGLER_LOG ?? "log";
process.env.WRANGLER_LOG = "warn";
// The GitHub App of the deployed entry point's tests: a PKCS#1 key as GitHub hands it out, generated now.
const githubApp = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  publicKeyEncoding: { type: "spki", format: "pem" },
  privateKeyEncoding: { type: "pkcs1", format: "pem" },
});

export default defineConfig({
  test: {
    projects: [
      {
        // Unit and integration tests, inside workerd with real local KV and Durable Objects.
        plugins: [
          cloudflareTest({
            // The test policy's Worker, not src/index.ts: the operator's policies/ never reaches the project's tests.
            main: "./test/fixtures/worker.ts",
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              // STS_AUTH pinned: the suite tests both modes explicitly (test/web-identity.test.ts), whatever the
              // deployment uses.
              bindings: {
                AWS_ACCESS_KEY_ID: brokerKeys.accessKeyId,
                AWS_SECRET_ACCESS_KEY: brokerKeys.secretAccessKey,
                STS_AUTH: "sigv4",
                GITHUB_APP_ID: "424243",
                GITHUB_APP_PRIVATE_KEY: githubApp.privateKey,
                // Test-only: lets the fake GitHub API verify the App's JWTs.
                TEST_GITHUB_APP_PUBLIC_KEY: githubApp.publicKey,
              },
            },
          }),
        ],
        test: {
          name: "workers",
          include: ["test/**/*.test.ts"],
          exclude: ["test/e2e/**", "test/alerts/**", "test/**/*.node.test.ts"],
        },
      },
      {
        // The alert cron Worker's tests, inside workerd with its own entry and config: the env (vars, its KV namespace)
        // is the one wrangler.alerts.toml declares, so a test cannot lean on a request Worker binding.
        plugins: [
          cloudflareTest({ main: "./src/alerts/worker.ts", wrangler: { configPath: "./wrangler.alerts.toml" } }),
        ],
        test: { name: "alerts", include: ["test/alerts/**/*.test.ts"], exclude: ["test/**/*.node.test.ts"] },
      },
      {
        // Node-only tests: queries on a real ClickHouse engine (chdb, one per process: forks), the local Analytics
        // Engine, the dashboards. chdb is installed by sandbox/local-analytics/install.ts (docs/development.md).
        test: {
          name: "node",
          include: ["test/**/*.node.test.ts"],
          environment: "node",
          pool: "forks",
          testTimeout: 30_000,
        },
      },
      {
        // End-to-end: `npm start` as a user runs it (wrangler dev + sandbox), driven from Node. One file at a time:
        // each starts its own sandbox on the fixed ports 8787/8788.
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          env: { WRANGLER_LOG: developerWranglerLog },
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
