// Lets `exports` from "cloudflare:workers" know the main module's exports (used by integration tests).
declare namespace Cloudflare {
  interface GlobalProps {
    mainModule: typeof import("./index.ts");
  }
}
