import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: { AWS_ACCESS_KEY_ID: "AKIATESTBROKER000001", AWS_SECRET_ACCESS_KEY: "x" },
      },
    }),
  ],
  test: { include: ["test/**/*.test.ts"] },
});
